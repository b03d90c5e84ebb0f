"""Snapshots of the candidate pool: one model, the index it built over the store's seeking graduates and
vacancies, and what the answers show of them (:class:`Snapshot`).

A snapshot is built once from the whole pool (:func:`build_snapshot`); after that, each write to the store
gives a new snapshot that differs only in the rows the write touched (:meth:`Snapshot.updated`: the
matcher's :meth:`~models.protocol.Matcher.update_index` and a few dictionary entries), at a cost of
O(changed rows). A snapshot is never changed once made, so a request keeps answering from the one it
started with while a newer one is swapped in.
"""

from __future__ import annotations

import copy
import time
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, TypeVar

import pandas as pd
from sqlalchemy.orm import Session

from models.columns import Columns as C
from models.data import ENTITY_COLUMNS, MarketData
from models.index import MatchIndex
from models.matcher import Matcher as TrainedMatcher
from models.protocol import Matcher
from service.store.changes import erasure_digest
from service.store.market import load_market, load_pool_rows
from service.store.vacancies import seeking_graduate_ids
from training.registry import LoadedModel


@dataclass(frozen=True)
class GraduateInfo:
    program_id: str
    program_name: str
    program_kind: str
    school_id: str
    school_name: str
    education: str
    skills: list[str]


@dataclass(frozen=True)
class VacancyInfo:
    title: str
    enterprise_id: str
    enterprise_name: str
    district: str
    status: str


class ErasureBuckets:
    """The ids of a pool's graduates by their erasure digest (:func:`~service.store.changes.erasure_digest`):
    whom an erasure logged by digest may have removed, found without listing the pool.

    Made with a full build and shared by every snapshot updated from it; it only grows (a graduate written
    is added; one who left stays, and is found gone when read again), under the service's update lock.
    """

    def __init__(self, graduate_ids: Iterable[str] = ()) -> None:
        self._ids: defaultdict[str, list[str]] = defaultdict(list)
        self.add(graduate_ids)

    def add(self, graduate_ids: Iterable[str]) -> None:
        for graduate_id in graduate_ids:
            self._ids[erasure_digest(graduate_id)].append(graduate_id)

    def ids(self, digests: Iterable[str]) -> set[str]:
        """The graduates of these digests (a superset of the pool's)."""
        return {g for d in digests for g in self._ids.get(d, ())}


@dataclass
class Snapshot:
    """One model and the index of one data version of the pool; everything a request answers from.

    ``graduates``, ``vacancies`` and ``vacancy_rows`` are keyed by id, for the pool's rows only (seeking
    graduates; every vacancy, open or not). Treat a snapshot as read-only: others share its parts.
    """

    model_version: str
    data_version: int
    model: LoadedModel
    index: MatchIndex
    graduates: Mapping[str, GraduateInfo] = field(default_factory=dict)
    vacancies: Mapping[str, VacancyInfo] = field(default_factory=dict)
    vacancy_rows: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, repr=False)
    built_seconds: float = 0.0  # of the full build this snapshot descends from
    erasure_buckets: ErasureBuckets = field(default_factory=ErasureBuckets, repr=False)

    @property
    def matcher(self) -> Matcher:
        return self.model.matcher

    @property
    def programs(self) -> pd.DataFrame:
        """Every programme (``MarketData.programs`` columns) as of the last full build."""
        return self.index.programs

    def graduate_ids(self) -> list[str]:
        """The ids of the pool's graduates in id order (the keys of ``graduates``, read off the index:
        faster)."""
        block = self.index.graduates
        return [str(g) for g in block.ids.ids[block.in_order(block.live)].tolist()]

    @cached_property
    def vacancy_frame(self) -> pd.DataFrame:
        """The pool's vacancies as a frame (``MarketData.vacancies`` columns, id order), made on first use."""
        rows = [self.vacancy_rows[v] for v in self.index.vacancies.ids.ids.tolist()]
        return pd.DataFrame.from_records(rows, columns=list(ENTITY_COLUMNS["vacancies"]))

    def updated(
        self,
        rows: MarketData,
        *,
        graduate_ids: Collection[str],
        vacancy_ids: Collection[str],
        data_version: int,
    ) -> Snapshot:
        """A new snapshot of ``data_version``: the graduates and vacancies of ``graduate_ids`` and
        ``vacancy_ids`` read again, as ``rows`` (what the pool now holds of them: an id missing from
        ``rows`` has left the pool). O(changed rows), plus a copy of the per-id dictionaries it changes."""
        if not graduate_ids and not vacancy_ids:
            return replace(self, data_version=data_version)
        present_g = set(rows.graduates[C.graduate].astype(str))
        present_v = set(rows.vacancies[C.vacancy].astype(str))
        gone_g = sorted(set(graduate_ids) - present_g)
        gone_v = sorted(set(vacancy_ids) - present_v)
        index = self.matcher.update_index(
            self.index, rows, removed_graduates=gone_g, removed_vacancies=gone_v
        )
        graduates, vacancies, vacancy_rows = self.graduates, self.vacancies, self.vacancy_rows
        if graduate_ids:
            fresh = graduate_infos(rows.graduates, index) if len(rows.graduates) else {}
            graduates = _patched(graduates, gone_g, fresh)
            self.erasure_buckets.add(g for g in fresh if g not in self.graduates)
        if vacancy_ids:
            vacancies = _patched(vacancies, gone_v, vacancy_infos(rows.vacancies, index))
            vacancy_rows = _patched(vacancy_rows, gone_v, _records(rows.vacancies))
        return replace(
            self,
            data_version=data_version,
            index=index,
            graduates=graduates,
            vacancies=vacancies,
            vacancy_rows=vacancy_rows,
        )


def build_snapshot(
    model: LoadedModel, data: MarketData, *, data_version: int, ann_min_pool: int | None = None
) -> Snapshot:
    """The snapshot of a whole pool (``data``: the seeking graduates, every vacancy and the entity tables);
    ``ann_min_pool`` overrides the model's threshold of approximate retrieval (``None``: the model's)."""
    started = time.perf_counter()
    index = indexing_matcher(model.matcher, ann_min_pool).index(data)
    snapshot = Snapshot(
        model_version=model.version,
        data_version=data_version,
        model=model,
        index=index,
        graduates=graduate_infos(data.graduates, index),
        vacancies=vacancy_infos(data.vacancies, index),
        vacancy_rows=_records(data.vacancies),
    )
    snapshot.erasure_buckets.add(snapshot.graduates)
    snapshot.built_seconds = time.perf_counter() - started
    return snapshot


def indexing_matcher(matcher: Matcher, ann_min_pool: int | None) -> Matcher:
    """``matcher``, or a shallow copy of it with the operator's threshold of approximate retrieval
    (``TALENTMATCH_ANN_MIN_POOL``) when that differs from the one it was trained with: the index decides
    once, at its full build, whether it has an approximate part; updates and queries follow the index."""
    if ann_min_pool is None or not isinstance(matcher, TrainedMatcher):
        return matcher
    if matcher.config.ann_min_pool == ann_min_pool:
        return matcher
    copied = copy.copy(matcher)
    copied.config = replace(matcher.config, ann_min_pool=ann_min_pool)
    return copied


class PoolLoader:
    """Reads the candidate pool from the store: all of it (a full build) or the rows of some graduates and
    vacancies (an update). Tests count what it reads by overriding it."""

    def everything(self, session: Session) -> MarketData:
        """Seeking graduates, every vacancy and the entity tables; no interactions."""
        return load_market(session=session, seeking_only=True, with_interactions=False)

    def seeking_ids(self, session: Session) -> set[str]:
        """The ids of every seeking graduate (after an erasure logged without a digest)."""
        return seeking_graduate_ids(session=session)

    def rows(self, session: Session, *, graduate_ids: list[str], vacancy_ids: list[str]) -> MarketData:
        """The pool's rows of ``graduate_ids`` and ``vacancy_ids`` (an id left out has left the pool)."""
        return load_pool_rows(session=session, graduate_ids=graduate_ids, vacancy_ids=vacancy_ids)


V = TypeVar("V")


class Patched(Mapping[str, V]):
    """A dictionary with some entries replaced, added or removed, without copying it: an update costs
    O(changed entries), not a copy of 170,000. Folded into a plain dictionary once the changes pass
    1/16 of it (so each entry is copied O(1) times on average)."""

    def __init__(self, base: Mapping[str, V], changed: dict[str, V], removed: frozenset[str]) -> None:
        self._base, self._changed, self._removed = base, changed, removed
        self._len = len(base) + sum(k not in base for k in changed) - sum(k in base for k in removed)

    def __getitem__(self, key: str) -> V:
        if key in self._changed:
            return self._changed[key]
        if key in self._removed:
            raise KeyError(key)
        return self._base[key]

    def __iter__(self) -> Iterator[str]:
        yield from (k for k in self._base if k not in self._removed and k not in self._changed)
        yield from self._changed

    def __len__(self) -> int:
        return self._len


def _patched(mapping: Mapping[str, V], gone: Collection[str], fresh: Mapping[str, V]) -> Mapping[str, V]:
    """``mapping`` without the keys ``gone`` and with the entries of ``fresh``."""
    if isinstance(mapping, Patched):
        base, changed, removed = mapping._base, dict(mapping._changed), set(mapping._removed)
    else:
        base, changed, removed = mapping, {}, set()
    for key in gone:
        changed.pop(key, None)
        if key in base:
            removed.add(key)
    for key, value in fresh.items():
        changed[key] = value
        removed.discard(key)
    if len(changed) + len(removed) > max(64, len(base) // 16):
        folded = {k: v for k, v in base.items() if k not in removed and k not in changed}
        folded.update(changed)
        return folded
    return Patched(base, changed, frozenset(removed))


def _records(vacancies: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Each vacancy's row as a dictionary of plain values (``DataFrame.to_dict("records")``'s, from the
    columns' ``tolist``: ~0.5 ms less for a written row)."""
    columns = list(vacancies.columns)
    values = zip(*(vacancies[c].tolist() for c in columns), strict=True)
    rows = [dict(zip(columns, row, strict=True)) for row in values]
    return {row[C.vacancy]: row for row in rows}


def graduate_infos(graduates: pd.DataFrame, index: MatchIndex) -> dict[str, GraduateInfo]:
    """What answers show of each graduate, joined with the index's programmes and schools."""
    schools = dict(zip(index.schools[C.school].tolist(), index.schools[C.name].tolist(), strict=True))
    programs = _rows_of(index.programs, C.program, graduates[C.program].tolist(), [C.name, C.kind, C.school])
    infos = {}
    for graduate_id, program_id, education, skills in zip(
        *(graduates[c].tolist() for c in (C.graduate, C.program, C.education, C.skills)), strict=True
    ):
        name, kind, school_id = programs.get(program_id, ("", "", ""))
        infos[graduate_id] = GraduateInfo(
            program_id=program_id,
            program_name=name,
            program_kind=kind,
            school_id=school_id,
            school_name=schools.get(school_id, ""),
            education=education,
            skills=list(skills),
        )
    return infos


def vacancy_infos(vacancies: pd.DataFrame, index: MatchIndex) -> dict[str, VacancyInfo]:
    """What answers show of each vacancy, joined with the index's enterprises."""
    names = _rows_of(index.enterprises, C.enterprise, vacancies[C.enterprise].tolist(), [C.name])
    return {
        vacancy_id: VacancyInfo(
            title=title,
            enterprise_id=enterprise_id,
            enterprise_name=names[enterprise_id][0] if enterprise_id in names else "",
            district=district,
            status=status,
        )
        for vacancy_id, enterprise_id, title, district, status in zip(
            *(vacancies[c].tolist() for c in (C.vacancy, C.enterprise, C.title, C.district, C.status)),
            strict=True,
        )
    }


def _rows_of(
    table: pd.DataFrame, key: str, wanted: list[Any], columns: list[str]
) -> dict[Any, tuple[Any, ...]]:
    """``{key: (columns...)}`` of the rows of ``table`` whose ``key`` is among ``wanted`` (the last row of a
    repeated key wins): an update asks for a row or two of thousands, read as plain lists, not a pandas
    selection (~1 ms a write)."""
    asked = set(wanted)
    found = [i for i, value in enumerate(table[key].tolist()) if value in asked]
    if not found:
        return {}
    picked = table.iloc[found]
    keys = picked[key].tolist()
    values = zip(*(picked[c].tolist() for c in columns), strict=True)
    return dict(zip(keys, values, strict=True))
