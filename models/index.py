"""The precomputed arrays a matcher serves from: one block of graduates, one of vacancies.

Built once per (model, data version) by the service and reused by every request; everything a request needs
is an array lookup, a sparse mat-vec or one dense matrix product. A vacancy or graduate given as data (not yet
in the store) becomes a one-row block built with the same code, so it is treated exactly like a stored one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from typing import Any, Protocol, TypeVar

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
    graduate_frame,
    market_frames,
    vacancy_frame,
)
from models.ids import IdMap, Splice

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


def list_matrix(values: pd.Series, vocab: IdMap) -> sp.csr_matrix:
    """Binary CSR (rows x vocab) of a list-valued column; unknown values are dropped."""
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


def _education(values: pd.Series) -> np.ndarray:
    return values.map(EDUCATION_RANK).fillna(-1).to_numpy(dtype=np.int8)


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

    def __len__(self) -> int:
        return len(self.ids)

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
        if "skills_by_skill" in vars(self):
            vars(out)["skills_by_skill"] = self.skills_by_skill  # the same rows: the same matrix
        return out

    @cached_property
    def skills_by_skill(self) -> sp.csc_matrix:
        """``skills`` stored by column (built on first use)."""
        return sp.csc_matrix(self.skills)

    def skill_scores(self, wanted: np.ndarray) -> np.ndarray:
        """``skills @ wanted`` for dense ``wanted`` (skills x queries), reading only the wanted columns.

        A vacancy names a handful of the ~120 skills, so this touches a few percent of the matrix: 5-6x
        faster than the full product at 170k-1M graduates, with the same numbers (each row still sums its
        terms in column order).
        """
        columns = np.flatnonzero(np.any(wanted != 0, axis=1))
        return np.asarray(self.skills_by_skill[:, columns] @ wanted[columns])


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
        n_skills=frame[C.skills].map(len).to_numpy(dtype=np.float32),
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
    salary = frame[[C.salary_min, C.salary_max]].mean(axis=1, skipna=True)
    block = VacancyBlock(
        ids=IdMap(frame[C.vacancy].astype(str)),
        required_lists=np.asarray(frame[C.required_skills].tolist() + [None], dtype=object)[:-1],
        preferred_lists=np.asarray(frame[C.preferred_skills].tolist() + [None], dtype=object)[:-1],
        required=list_matrix(frame[C.required_skills], vocab.skills),
        preferred=list_matrix(frame[C.preferred_skills], vocab.skills),
        n_required=frame[C.required_skills].map(len).to_numpy(dtype=np.float32),
        n_preferred=frame[C.preferred_skills].map(len).to_numpy(dtype=np.float32),
        min_education=_education(frame[C.min_education]),
        open=(frame[C.status] == "open").to_numpy(),
        closes_at=closes_ns.astype(np.int64),
        enterprise=vocab.enterprises.rows(frame[C.enterprise].to_numpy()).astype(np.int32),
        segment=vocab.segments.rows(frame[SEGMENT].to_numpy()).astype(np.int32),
        district=vocab.districts.rows(frame[C.district].to_numpy()).astype(np.int32),
        role=vocab.roles.rows(frame[C.role].to_numpy()).astype(np.int32),
        family=vocab.families.rows(frame[JOB_FAMILY].to_numpy()).astype(np.int32),
        salary=salary.to_numpy(dtype=np.float32),
        headcount=pd.to_numeric(frame[C.headcount], errors="coerce").fillna(1).to_numpy(dtype=np.float32),
    )
    if encoder is not None:
        block.arrays.update(encoder.encode_vacancies(frame, block))
    return block


@dataclass
class MatchIndex:
    """Everything a matcher needs at query time for one snapshot of the market.

    ``tables`` holds model-specific lookups in this index's codes (history lift matrices...);
    ``programs``/``enterprises`` keep the entity tables so a graduate or vacancy given as data can be joined.
    """

    vocab: Vocabularies
    graduates: GraduateBlock
    vacancies: VacancyBlock
    programs: pd.DataFrame
    schools: pd.DataFrame
    enterprises: pd.DataFrame
    tables: dict[str, np.ndarray] = field(default_factory=dict)
    owner: str = ""

    @classmethod
    def build(cls, data: MarketData, encoder: Encoder | None = None, *, owner: str = "") -> MatchIndex:
        graduates, vacancies = market_frames(data)
        vocab = Vocabularies.from_frames(data, graduates, vacancies)
        return cls(
            vocab=vocab,
            graduates=build_graduate_block(graduates, vocab, encoder),
            vacancies=build_vacancy_block(vacancies, vocab, encoder),
            programs=data.programs.copy(),
            schools=data.schools.copy(),
            enterprises=data.enterprises.copy(),
            owner=owner,
        )

    def updated(
        self,
        data: MarketData,
        *,
        removed_graduates: Iterable[str] = (),
        removed_vacancies: Iterable[str] = (),
        encoder: Encoder | None = None,
    ) -> MatchIndex:
        """A new index: this one with the graduates and vacancies of ``data`` added or replaced (by id) and
        the ``removed_*`` ids gone (unknown ones are ignored). This index is left as it is.

        Costs O(changed rows) plus one copy of each array of a block that changed (a block nothing
        touched is shared). Each new row is encoded alone with the same code as in :meth:`build`; its
        other rows keep their place, so rows in id order (as the store loads them) stay in id order and
        rank exactly as a fresh :meth:`build` would. A value first seen here (a district, role or skill)
        is appended to the vocabularies, existing codes unchanged; ``tables`` is then empty and the
        caller recomputes it (``tables`` depend on the vocabularies only). ``programs``, ``schools``
        and ``enterprises`` are not changed.
        """
        graduates = (
            graduate_frame(data.graduates, self.programs, self.schools) if len(data.graduates) else None
        )
        vacancies = vacancy_frame(data.vacancies, self.enterprises) if len(data.vacancies) else None
        vocab = self.vocab.grown(graduates, vacancies)
        skills, districts = len(vocab.skills), len(vocab.districts)
        if (
            graduates is None
            and vocab.skills is self.vocab.skills
            and vocab.districts is self.vocab.districts
        ):
            # The common change (a hire, an erasure): rows marked gone, no array copied.
            graduate_block = self.graduates.without(map(str, removed_graduates))
        else:
            graduate_block = _updated_block(
                self.graduates,
                graduates,
                C.graduate,
                removed_graduates,
                lambda frame: build_graduate_block(frame, vocab, encoder),
                {"skills": skills, "districts": districts},
            )
        if graduate_block is not self.graduates and "skills_by_skill" in vars(self.graduates):
            graduate_block.skills_by_skill  # noqa: B018 - built here once, not by the next request
        vacancy_block = _updated_block(
            self.vacancies,
            vacancies,
            C.vacancy,
            removed_vacancies,
            lambda frame: build_vacancy_block(frame, vocab, encoder),
            {"required": skills, "preferred": skills},
        )
        return replace(
            self,
            vocab=vocab,
            graduates=graduate_block,
            vacancies=vacancy_block,
            tables=self.tables if vocab is self.vocab else {},
        )


Block = TypeVar("Block", GraduateBlock, VacancyBlock)


def _updated_block(
    block: Block,
    frame: pd.DataFrame | None,
    id_column: str,
    removed: Iterable[str],
    build: Callable[[pd.DataFrame], Block],
    widths: Mapping[str, int],
) -> Block:
    """``block`` with the rows of ``frame`` upserted (each where its id sorts) and the ``removed`` ids
    gone; its sparse matrices ``widths`` columns wide (a grown vocabulary). ``block`` itself when nothing
    changes."""
    removed = [str(r) for r in removed]
    same_widths = all(getattr(block, name).shape[1] == width for name, width in widths.items())
    if frame is None:
        frame = pd.DataFrame({id_column: pd.Series(dtype=object)})
    if not len(frame) and same_widths and not (block.ids.rows(removed) >= 0).any():
        return block
    frame = frame.drop_duplicates(id_column, keep="last")
    given = [str(i) for i in frame[id_column]]
    order = sorted(range(len(given)), key=given.__getitem__)
    new_ids: list[str] = [given[i] for i in order]
    rows = block.ids.rows([*removed, *new_ids])
    live = getattr(block, "live", None)  # a graduate block's dead rows go with any splice
    dead = np.zeros(0, dtype=np.int64) if live is None else np.flatnonzero(~live)
    drop = np.union1d(rows[rows >= 0], dead).astype(np.int64)
    if len(new_ids):
        at = np.searchsorted(block.ids.ids, np.asarray(new_ids, dtype=object))
    else:
        at = np.zeros(0, dtype=np.int64)
    splice = Splice(len(block), drop, at)
    if splice.changes_nothing and same_widths:
        return block
    new = build(frame.iloc[order].reset_index(drop=True)) if new_ids else None
    values: dict[str, Any] = {}
    for column in fields(block):
        old = getattr(block, column.name)
        fresh = None if new is None else getattr(new, column.name)
        if isinstance(old, IdMap):
            values[column.name] = old.spliced(splice, new_ids)
        elif isinstance(old, sp.csr_matrix):
            values[column.name] = _take_csr(splice, old, fresh, widths[column.name])
        elif isinstance(old, dict):
            values[column.name] = {
                name: splice.take(array, None if fresh is None else fresh[name])
                for name, array in old.items()
            }
        else:
            values[column.name] = splice.take(old, fresh)
    return type(block)(**values)


def _take_csr(splice: Splice, old: sp.csr_matrix, new: sp.csr_matrix | None, width: int) -> sp.csr_matrix:
    """:meth:`Splice.take` for CSR rows (no conversion: slices of ``data``/``indices`` and row lengths)."""
    data, indices, lengths = [], [], []
    for from_new, start, stop in splice.pieces:
        matrix = new if from_new and new is not None else old
        low, high = matrix.indptr[start], matrix.indptr[stop]
        data.append(matrix.data[low:high])
        indices.append(matrix.indices[low:high])
        lengths.append(np.diff(matrix.indptr[start : stop + 1]))
    if not lengths:
        return sp.csr_matrix((0, width), dtype=old.dtype)
    counts = np.concatenate(lengths)
    indptr = np.zeros(len(counts) + 1, dtype=old.indptr.dtype)
    np.cumsum(counts, out=indptr[1:])
    return sp.csr_matrix((np.concatenate(data), np.concatenate(indices), indptr), shape=(len(counts), width))


def time_ns(moment: pd.Timestamp | None) -> int:
    """Nanoseconds of a naive-UTC timestamp (now when ``None``)."""
    if moment is None:
        moment = pd.Timestamp.now(tz="UTC").tz_localize(None)
    ts = pd.Timestamp(moment)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return int(ts.value)
