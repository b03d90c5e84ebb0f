"""The precomputed arrays a matcher serves from: one block of graduates, one of vacancies.

Built once per (model, data version) by the service and reused by every request; everything a request needs
is an array lookup, a sparse mat-vec or one dense matrix product. A vacancy or graduate given as data (not yet
in the store) becomes a one-row block built with the same code, so it is treated exactly like a stored one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd
import scipy.sparse as sp

from models.columns import EDUCATION_RANK, PROGRAM_KINDS, SEGMENTS
from models.columns import Columns as C
from models.data import MarketData
from models.features import (
    GRADUATE_KIND,
    JOB_FAMILY,
    SCHOOL_DISTRICT,
    SEGMENT,
    market_frames,
    salary_mid,
)
from models.growth import reserved, reserved_csr
from models.ids import IdMap
from models.skill_bits import SkillBits, split_rows

if TYPE_CHECKING:
    from models.ann import GraduateAnn

NOT_A_TIME = np.iinfo(np.int64).max


class Encoder(Protocol):
    """What a model adds to a block: per-entity arrays (e.g. LightFM representations)."""

    def encode_graduates(self, frame: pd.DataFrame, block: GraduateBlock) -> dict[str, np.ndarray]: ...

    def encode_vacancies(self, frame: pd.DataFrame, block: VacancyBlock) -> dict[str, np.ndarray]: ...


@dataclass
class Vocabularies:
    """Codes of the categorical values in one index (``-1`` = unknown)."""

    skills: IdMap
    districts: IdMap
    programs: IdMap
    schools: IdMap
    enterprises: IdMap
    roles: IdMap
    families: IdMap
    segments: IdMap = field(default_factory=lambda: IdMap(SEGMENTS))
    kinds: IdMap = field(default_factory=lambda: IdMap(PROGRAM_KINDS))

    @classmethod
    def from_frames(cls, data: MarketData, graduates: pd.DataFrame, vacancies: pd.DataFrame) -> Vocabularies:
        skills = [
            *data.skills[C.skill].tolist(),
            *graduates[C.skills].explode().dropna().tolist(),
            *vacancies[C.required_skills].explode().dropna().tolist(),
            *vacancies[C.preferred_skills].explode().dropna().tolist(),
        ]
        districts = [
            *data.enterprises[C.district].dropna().tolist(),
            *data.schools[C.district].dropna().tolist(),
            *vacancies[C.district].tolist(),
            *graduates[C.preferred_districts].explode().dropna().tolist(),
        ]
        return cls(
            skills=IdMap(sorted(set(map(str, skills)))),
            districts=IdMap(sorted({str(d) for d in districts if d})),
            programs=IdMap(data.programs[C.program].astype(str)),
            schools=IdMap(data.schools[C.school].astype(str)),
            enterprises=IdMap(data.enterprises[C.enterprise].astype(str)),
            roles=IdMap(sorted({r for r in vacancies[C.role] if r})),
            families=IdMap(sorted(set(vacancies[JOB_FAMILY]))),
        )

    def grown(self, graduates: pd.DataFrame | None, vacancies: pd.DataFrame | None) -> Vocabularies:
        """These vocabularies with the values of the joined ``graduates`` and ``vacancies`` frames they lack
        appended in sorted order (every existing code keeps its meaning); ``self`` when nothing is new."""
        wanted: dict[str, set[str]] = {"skills": set(), "districts": set(), "roles": set(), "families": set()}
        if graduates is not None:
            wanted["skills"] |= _values(graduates[C.skills])
            wanted["districts"] |= _values(graduates[C.preferred_districts])
        if vacancies is not None:
            wanted["skills"] |= _values(vacancies[C.required_skills], vacancies[C.preferred_skills])
            wanted["districts"] |= set(map(str, vacancies[C.district]))
            wanted["roles"] |= set(map(str, vacancies[C.role]))
            wanted["families"] |= set(map(str, vacancies[JOB_FAMILY]))
        grown = {}
        for name, values in wanted.items():
            vocab: IdMap = getattr(self, name)
            candidates = sorted(v for v in values if v or name in ("skills", "families"))
            new = [v for v, row in zip(candidates, vocab.rows(candidates), strict=True) if row < 0]
            if new:
                grown[name] = vocab.extended(new)
        return replace(self, **grown) if grown else self


def _values(*columns: pd.Series) -> set[str]:
    """The distinct values of list-valued columns, as strings."""
    return {str(v) for column in columns for values in column.tolist() for v in values or () if v is not None}


# Up to this many rows, :func:`list_matrix` reads the lists in Python: a written row is one or a few, and
# pandas' explode costs ~1 ms whatever the size.
SMALL_FRAME = 32


def list_matrix(values: pd.Series, vocab: IdMap) -> sp.csr_matrix:
    """Binary CSR (rows x vocab) of a list-valued column; unknown values are dropped."""
    if len(values) <= SMALL_FRAME:
        return _small_list_matrix(values.tolist(), vocab)
    exploded = values.reset_index(drop=True).explode()
    exploded = exploded[exploded.notna()]
    cols = vocab.rows(exploded.astype(str).to_numpy())
    rows = exploded.index.to_numpy(dtype=np.int64)
    keep = cols >= 0
    matrix = sp.csr_matrix(
        (np.ones(int(keep.sum()), dtype=np.float32), (rows[keep], cols[keep])),
        shape=(len(values), len(vocab)),
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def _small_list_matrix(lists: list[object], vocab: IdMap) -> sp.csr_matrix:
    """:func:`list_matrix` of a few rows: the same matrix (sorted columns, ones) without pandas."""
    per_row = []
    for value in lists:
        items = value if isinstance(value, list | tuple | np.ndarray) else [value]
        per_row.append([str(v) for v in items if not _missing(v)])
    codes = vocab.rows([v for items in per_row for v in items]) if any(per_row) else np.zeros(0, np.int64)
    indices, lengths, at = [], [], 0
    for items in per_row:
        row = np.unique(codes[at : at + len(items)])
        at += len(items)
        row = row[row >= 0]
        indices.append(row)
        lengths.append(len(row))
    indptr = np.zeros(len(per_row) + 1, dtype=np.int32)
    np.cumsum(lengths, out=indptr[1:])
    flat = np.concatenate(indices).astype(np.int32) if indices else np.zeros(0, dtype=np.int32)
    ones = np.ones(len(flat), dtype=np.float32)
    return sp.csr_matrix((ones, flat, indptr), shape=(len(per_row), len(vocab)))


def _missing(value: object) -> bool:
    """What ``Series.explode`` then ``notna`` drops: ``None`` and NaN."""
    return value is None or (isinstance(value, float) and value != value)


def _education(values: pd.Series) -> np.ndarray:
    """Education ranks (``-1``: missing or unknown), by dictionary lookups (``Series.map`` costs ~0.2 ms
    whatever the size: most of it for a written row)."""
    ranks = (EDUCATION_RANK.get(v, -1) if isinstance(v, str) else -1 for v in values.tolist())
    return np.fromiter(ranks, dtype=np.int8, count=len(values))


def _lengths(values: pd.Series) -> np.ndarray:
    """``len`` of each list of a list column, as float32."""
    return np.fromiter((len(v) for v in values.tolist()), dtype=np.float32, count=len(values))


# GraduateBlock fields that are not one value per row.
NOT_ROW_FIELDS = ("order", "sorted_rows", "buffers")


@dataclass
class GraduateBlock:
    ids: IdMap
    skill_lists: np.ndarray  # object array of lists, for explanations
    skills: sp.csr_matrix
    n_skills: np.ndarray
    education: np.ndarray
    seeking: np.ndarray
    program: np.ndarray
    kind: np.ndarray
    school: np.ndarray
    sponsor: np.ndarray
    school_district: np.ndarray
    districts: sp.csr_matrix
    has_preference: np.ndarray
    # False: a graduate gone since the row was written (:meth:`without`): no id finds it, no ranking has it.
    live: np.ndarray
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    # The rows in id order (every row, dead ones too) once an update appended rows at the end
    # (``models.index_update``); ``None``: the rows are in id order (a full build, a splice).
    order: np.ndarray | None = None
    # The rows before the first appended one (``-1``: all of them).
    sorted_rows: int = -1
    # The storage with spare rows behind the arrays, by field (``models.index_update``); not row data.
    buffers: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.ids)

    def in_order(self, mask: np.ndarray) -> np.ndarray:
        """The rows where ``mask`` holds, in id order: the order a full build of these graduates has them
        in, so a ranking breaks ties as it would there."""
        if self.order is None:
            return np.flatnonzero(mask)
        return self.order[mask[self.order]]

    def passing_rows(self, *, seeking_only: bool, min_education: int) -> np.ndarray:
        """The live rows (seeking ones, with ``seeking_only``) with at least ``min_education`` (``-1``:
        any), in id order; read-only. Kept per block (a block never changes: an update makes a new one),
        as these filters are those of nearly every query: at a million graduates listing the rows costs
        ~4 ms, the rest of an approximate query ~15 ms."""
        key = (seeking_only, min_education)
        cached = self._passing.get(key)
        if cached is None:
            mask = self.live & self.seeking if seeking_only else self.live.copy()
            if min_education >= 0:
                mask &= self.education >= min_education
            cached = self.in_order(mask)
            cached.flags.writeable = False
            self._passing[key] = cached
        return cached

    @cached_property
    def _passing(self) -> dict[tuple[bool, int], np.ndarray]:
        """:meth:`passing_rows` by filters (not copied by ``replace``: a new block starts empty)."""
        return {}

    def rows_bits(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``rows`` as bits over the rows :attr:`skill_bits` covers and those of ``rows`` past them
        (:func:`models.skill_bits.split_rows`); kept for the arrays :meth:`passing_rows` gives."""
        kept = self._rows_bits.get(id(rows))
        if kept is not None and kept[0] is rows:
            return kept[1], kept[2]
        bits = self.skill_bits
        assert bits is not None
        head, tail = split_rows(rows, len(self), bits.covered)
        if any(rows is passing for passing in self._passing.values()):
            self._rows_bits[id(rows)] = (rows, head, tail)
        return head, tail

    @cached_property
    def _rows_bits(self) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        return {}

    @cached_property
    def rank(self) -> np.ndarray | None:
        """Each row's place in id order (``None``: its row number)."""
        if self.order is None:
            return None
        rank = np.empty(len(self.order), dtype=np.int64)
        rank[self.order] = np.arange(len(self.order), dtype=np.int64)
        return rank

    def order_key(self, rows: np.ndarray) -> np.ndarray:
        """A sort key of ``rows`` that orders them by id (ties of a ranking go to the lower key)."""
        rank = self.rank
        return rows if rank is None else np.take(rank, rows)

    def rows_keys(self, rows: np.ndarray) -> np.ndarray:
        """:meth:`order_key` of all of ``rows`` (ascending when ``rows`` are in id order), kept for the
        arrays :meth:`passing_rows` gives: once an update has appended rows, ~2 ms a query at 1M."""
        if self.rank is None:
            return rows
        kept = self._rows_keys.get(id(rows))
        if kept is not None and kept[0] is rows:
            return kept[1]
        keys = self.order_key(rows)
        if any(rows is passing for passing in self._passing.values()):
            keys.flags.writeable = False
            self._rows_keys[id(rows)] = (rows, keys)
        return keys

    @cached_property
    def _rows_keys(self) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        return {}

    def positions(self, rows: np.ndarray, wanted: np.ndarray) -> np.ndarray:
        """The positions in ``rows`` (in id order) of the rows ``wanted`` that ``rows`` holds, ascending and
        each once (``wanted`` may repeat rows, and holds ``-1`` for ids not found).

        For the arrays :meth:`passing_rows` gives, one read each of a kept map from row to position, made
        on first use (~3 ms at a million graduates, once per block and filter); otherwise binary searches
        in the rows' id order. A query asks this of its shortlist (~1,000 rows) and of its sponsor's
        order-class graduates (thousands at a million): the binary searches, cold in cache after the
        query's gathers, cost ~0.3-0.7 ms there."""
        wanted = wanted[wanted >= 0]
        if not len(rows) or not len(wanted):
            return np.zeros(0, dtype=np.int64)
        kept = self._positions.get(id(rows))
        if (kept is None or kept[0] is not rows) and any(rows is p for p in self._passing.values()):
            position = np.full(len(self), -1, dtype=np.int32 if len(self) < 2**31 else np.int64)
            position[rows] = np.arange(len(rows), dtype=position.dtype)
            position.flags.writeable = False
            kept = self._positions[id(rows)] = (rows, position)
        if kept is not None and kept[0] is rows:
            at = np.take(kept[1], wanted)
            return np.unique(at[at >= 0]).astype(np.int64)
        keys, found = self.rows_keys(rows), np.unique(self.order_key(wanted))
        at = np.minimum(np.searchsorted(keys, found), len(rows) - 1)
        return at[keys[at] == found]

    @cached_property
    def _positions(self) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        return {}

    def without(self, graduate_ids: Iterable[str]) -> GraduateBlock:
        """This block with ``graduate_ids`` gone, without copying its arrays: their rows stay, dead (found
        by no id, passing no filter), until the next splice drops them. O(len) booleans and integers."""
        gone = [g for g in graduate_ids]
        rows = self.ids.rows(gone)
        if not (rows >= 0).any():
            return self
        live = self.live.copy()
        live[rows[rows >= 0]] = False
        out = replace(self, ids=self.ids.without(gone), live=live)
        for name in ("skills_by_skill", "skill_bits", "by_sponsor", "rank"):
            if name in vars(self):
                vars(out)[name] = vars(self)[name]  # the same rows: the same matrix, the same order
        return out

    def with_spare_rows(self) -> GraduateBlock:
        """This block over buffers with spare rows (``models.growth``): the first graduates an update
        appends are written there instead of copying the block. The same rows and values."""
        buffers: dict[str, Any] = {}
        values: dict[str, Any] = {}
        for column in fields(self):
            value = getattr(self, column.name)
            if column.name in NOT_ROW_FIELDS:
                continue
            if isinstance(value, IdMap):
                ids = IdMap.__new__(IdMap)
                vars(ids).update(vars(value))
                ids.ids, buffers["ids"] = reserved(value.ids)
                values[column.name] = ids
            elif isinstance(value, sp.csr_matrix):
                values[column.name] = reserved_csr(column.name, value, buffers)
            elif isinstance(value, dict):
                values[column.name] = {}
                for name, array in value.items():
                    values[column.name][name], buffers[f"arrays.{name}"] = reserved(array)
            else:
                values[column.name], buffers[column.name] = reserved(value)
        return replace(self, **values, buffers=buffers)

    @cached_property
    def skills_by_skill(self) -> tuple[sp.csc_matrix, int]:
        """``skills`` stored by column (built on first use) and how many rows it covers: the first ones,
        rows appended since it was built are read from ``skills`` (``models.index_update``)."""
        return sp.csc_matrix(self.skills), len(self)

    @cached_property
    def skill_bits(self) -> SkillBits | None:
        """Which of the rows :attr:`skills_by_skill` covers hold each skill, as bits (``None`` when the
        skill matrix is not 0/1); carried over by updates as that is."""
        return SkillBits.of(*self.skills_by_skill)

    @cached_property
    def by_sponsor(self) -> tuple[np.ndarray, np.ndarray, int]:
        """The block's rows by sponsor, as of first use: the sponsor codes in ascending order, the rows in
        that order (ascending within a sponsor) and how many rows that covers (rows appended since are
        read from ``sponsor``); carried over by updates as :attr:`skills_by_skill` is."""
        order = np.argsort(self.sponsor, kind="stable")
        return self.sponsor[order], order, len(self)

    def sponsored_rows(self, code: int) -> np.ndarray:
        """The rows (dead ones too) of sponsor ``code``, ascending: two binary searches and a look at the
        rows appended since :attr:`by_sponsor`, instead of comparing every row (~0.3 ms at 1M)."""
        codes, order, covered = self.by_sponsor
        # Searched with the codes' own dtype: another one would make numpy convert the whole array first.
        low, high = np.searchsorted(codes, np.array([code, code + 1], dtype=codes.dtype))
        appended = np.flatnonzero(self.sponsor[covered:] == code)
        return np.concatenate([order[low:high], appended + covered]) if len(appended) else order[low:high]

    def skill_scores(self, wanted: np.ndarray) -> np.ndarray:
        """``skills @ wanted`` for dense ``wanted`` (skills x queries), reading only the wanted columns.

        A vacancy names a handful of the ~120 skills, so this touches a few percent of the matrix: 5-6x
        faster than the full product at 170k-1M graduates, with the same numbers (each row still sums its
        terms in column order, whether it is read by column or, appended since, by row).
        """
        columns = np.flatnonzero(np.any(wanted != 0, axis=1))
        by_skill, covered = self.skills_by_skill
        scores = np.asarray(by_skill[:, columns] @ wanted[columns])
        if covered < len(self):
            appended = self.skills[covered:][:, columns]
            scores = np.vstack([scores, np.asarray(appended @ wanted[columns])])
        return scores


@dataclass
class VacancyBlock:
    ids: IdMap
    required_lists: np.ndarray
    preferred_lists: np.ndarray
    required: sp.csr_matrix
    preferred: sp.csr_matrix
    n_required: np.ndarray
    n_preferred: np.ndarray
    min_education: np.ndarray
    open: np.ndarray
    closes_at: np.ndarray
    enterprise: np.ndarray
    segment: np.ndarray
    district: np.ndarray
    role: np.ndarray
    family: np.ndarray
    salary: np.ndarray
    headcount: np.ndarray
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)


def build_graduate_block(
    frame: pd.DataFrame, vocab: Vocabularies, encoder: Encoder | None = None
) -> GraduateBlock:
    """Arrays of the joined graduate ``frame`` (see :func:`models.features.graduate_frame`)."""
    skills = list_matrix(frame[C.skills], vocab.skills)
    districts = list_matrix(frame[C.preferred_districts], vocab.districts)
    block = GraduateBlock(
        ids=IdMap(frame[C.graduate].astype(str)),
        skill_lists=np.asarray(frame[C.skills].tolist() + [None], dtype=object)[:-1],
        skills=skills,
        n_skills=_lengths(frame[C.skills]),
        education=_education(frame[C.education]),
        seeking=(frame[C.status] == "seeking").to_numpy(),
        program=vocab.programs.rows(frame[C.program].to_numpy()).astype(np.int32),
        kind=vocab.kinds.rows(frame[GRADUATE_KIND].to_numpy()).astype(np.int32),
        school=vocab.schools.rows(frame[C.school].to_numpy()).astype(np.int32),
        sponsor=vocab.enterprises.rows(frame[C.sponsor].to_numpy()).astype(np.int32),
        school_district=vocab.districts.rows(frame[SCHOOL_DISTRICT].to_numpy()).astype(np.int32),
        districts=districts,
        has_preference=np.diff(districts.indptr) > 0,
        live=np.ones(len(frame), dtype=bool),
    )
    if encoder is not None:
        block.arrays.update(encoder.encode_graduates(frame, block))
    return block


# Nanosecond times span 1677-2262; a stored time outside (a vacancy closing in year 429 or 9999: any date the
# API takes) is clipped to a microsecond inside, which orders it the same against any real "now".
_US_RANGE = (np.iinfo(np.int64).min // 1000 + 1, np.iinfo(np.int64).max // 1000 - 1)


def time_ns_array(times: pd.Series) -> np.ndarray:
    """Naive UTC ``times`` as int64 nanoseconds since the epoch, missing ones as :data:`NOT_A_TIME`."""
    missing = times.isna().to_numpy()
    us = pd.to_datetime(times).to_numpy(dtype="datetime64[us]").astype(np.int64)
    return np.where(missing, NOT_A_TIME, np.clip(us, *_US_RANGE) * 1000)


def build_vacancy_block(
    frame: pd.DataFrame, vocab: Vocabularies, encoder: Encoder | None = None
) -> VacancyBlock:
    """Arrays of the joined vacancy ``frame`` (see :func:`models.features.vacancy_frame`)."""
    closes_ns = time_ns_array(frame[C.closes_at])
    salary = salary_mid(frame[C.salary_min], frame[C.salary_max])
    block = VacancyBlock(
        ids=IdMap(frame[C.vacancy].astype(str)),
        required_lists=np.asarray(frame[C.required_skills].tolist() + [None], dtype=object)[:-1],
        preferred_lists=np.asarray(frame[C.preferred_skills].tolist() + [None], dtype=object)[:-1],
        required=list_matrix(frame[C.required_skills], vocab.skills),
        preferred=list_matrix(frame[C.preferred_skills], vocab.skills),
        n_required=_lengths(frame[C.required_skills]),
        n_preferred=_lengths(frame[C.preferred_skills]),
        min_education=_education(frame[C.min_education]),
        open=(frame[C.status] == "open").to_numpy(),
        closes_at=closes_ns.astype(np.int64),
        enterprise=vocab.enterprises.rows(frame[C.enterprise].to_numpy()).astype(np.int32),
        segment=vocab.segments.rows(frame[SEGMENT].to_numpy()).astype(np.int32),
        district=vocab.districts.rows(frame[C.district].to_numpy()).astype(np.int32),
        role=vocab.roles.rows(frame[C.role].to_numpy()).astype(np.int32),
        family=vocab.families.rows(frame[JOB_FAMILY].to_numpy()).astype(np.int32),
        salary=salary.astype(np.float32),
        headcount=pd.to_numeric(frame[C.headcount], errors="coerce").fillna(1).to_numpy(dtype=np.float32),
    )
    if encoder is not None:
        block.arrays.update(encoder.encode_vacancies(frame, block))
    return block


@dataclass
class MatchIndex:
    """Everything a matcher needs at query time for one snapshot of the market.

    ``tables`` holds model-specific lookups in this index's codes (history lift matrices...);
    ``programs``/``enterprises`` keep the entity tables so a graduate or vacancy given as data can be joined;
    ``ann`` is shared (and updated in place) by the indexes an update derives from this one.
    """

    vocab: Vocabularies
    graduates: GraduateBlock
    vacancies: VacancyBlock
    programs: pd.DataFrame
    schools: pd.DataFrame
    enterprises: pd.DataFrame
    tables: dict[str, np.ndarray] = field(default_factory=dict)
    owner: str = ""
    # The approximate index of the graduates' retrieval vectors (``models.ann``) when the matcher built one
    # (a large pool, hnswlib installed); ``None``: retrieval is exact.
    ann: GraduateAnn | None = None

    @classmethod
    def build(cls, data: MarketData, encoder: Encoder | None = None, *, owner: str = "") -> MatchIndex:
        graduates, vacancies = market_frames(data)
        vocab = Vocabularies.from_frames(data, graduates, vacancies)
        return cls(
            vocab=vocab,
            graduates=build_graduate_block(graduates, vocab, encoder).with_spare_rows(),
            vacancies=build_vacancy_block(vacancies, vocab, encoder),
            programs=data.programs.copy(),
            schools=data.schools.copy(),
            enterprises=data.enterprises.copy(),
            owner=owner,
        )


def time_ns(moment: pd.Timestamp | None) -> int:
    """Nanoseconds of a naive-UTC timestamp (now when ``None``)."""
    if moment is None:
        moment = pd.Timestamp.now(tz="UTC").tz_localize(None)
    ts = pd.Timestamp(moment)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return int(ts.value)
