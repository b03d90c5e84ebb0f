"""Matching for the service: a cached candidate index per (model version, data version).

The index is the matcher's precomputed view of the store's seeking graduates and vacancies. It is
rebuilt when the model or the data version changes, so a vacancy posted a second ago gets candidates
without retraining. A request takes the model once (:class:`Snapshot`) and answers wholly from it,
so a model swap never mixes two versions in one answer.

Recommendations have a floor (``TALENTMATCH_MIN_RECOMMEND_SCORE``): ``recommended_candidates`` and
``recommended_vacancies`` split a page of the ranking into the ranks at or above it and the ranks below it,
for the API and the web pages alike (:class:`RankedPage`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from models.columns import Columns as C
from models.data import MarketData
from models.index import MatchIndex
from models.protocol import GraduateQuery, Matcher, VacancyQuery
from models.results import CandidateFilters, Match, MatchResult, VacancyFilters
from service.store.market import load_market
from service.store.session import data_version
from service.store.vacancies import get_vacancy, open_vacancy_ids, seeking_graduate_ids, vacancy_record
from training.registry import LoadedModel

log = logging.getLogger(__name__)


class ModelNotReady(RuntimeError):
    """No trained model is being served yet (run ``talentmatch train``)."""

    def __init__(
        self, message: str = "no trained model is being served yet; run `talentmatch train`"
    ) -> None:
        super().__init__(message)


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


@dataclass
class Snapshot:
    """One model and the index built from one data version; everything a request answers from."""

    model_version: str
    data_version: int
    model: LoadedModel
    index: MatchIndex
    data: MarketData
    graduates: dict[str, GraduateInfo] = field(default_factory=dict)
    vacancies: dict[str, VacancyInfo] = field(default_factory=dict)
    vacancy_rows: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    built_seconds: float = 0.0

    @property
    def matcher(self) -> Matcher:
        return self.model.matcher


@dataclass(frozen=True)
class RankedPage:
    """One page of a ranking (graduates for a vacancy, or vacancies for a graduate), split at the floor.

    ``items`` are the page's ranks best first. Those scoring at least ``floor`` are recommendations; those
    below are not presented as such (the API leaves them out unless asked, the pages fold them away). The
    matcher ranks best first by score, so the ranks below the floor come after all the ranks at or above
    it: a page with ranks below the floor is the last page with recommendations.
    """

    snapshot: Snapshot
    items: list[Match]
    total: int  # how many passed the hard filters
    offset: int
    floor: float

    @classmethod
    def split(cls, snapshot: Snapshot, result: MatchResult, *, offset: int, floor: float) -> RankedPage:
        return cls(snapshot, list(result.items), int(result.total), offset, floor)

    @property
    def recommended(self) -> list[Match]:
        """The page's ranks scoring at least the floor, best first."""
        return [m for m in self.items if m.score >= self.floor]

    @property
    def below(self) -> list[Match]:
        """The page's ranks scoring below the floor, best first."""
        return [m for m in self.items if m.score < self.floor]

    @property
    def below_floor(self) -> int:
        """How many of the page's ranks score below the floor."""
        return len(self.below)

    @property
    def ends_here(self) -> bool:
        """The recommendations end on this page (it has ranks below the floor, or it is the last page)."""
        return bool(self.below) or self.offset + len(self.items) >= self.total

    @property
    def below_from_here(self) -> int:
        """When the recommendations end on this page: how many ranks from here on score below the floor
        (this page's and every later page's; exact because the ranking is by score). Else 0."""
        if not self.ends_here:
            return 0
        return max(0, self.total - self.offset - len(self.recommended))

    def shown(self, *, include_below: bool = False) -> list[Match]:
        """What to list as the answer: the recommendations, or every rank of the page."""
        return list(self.items) if include_below else self.recommended


def _graduate_infos(data: MarketData) -> dict[str, GraduateInfo]:
    schools = dict(zip(data.schools[C.school], data.schools[C.name], strict=True))
    programs = {
        row[0]: (row[1], row[2], row[3])
        for row in data.programs[[C.program, C.name, C.kind, C.school]].itertuples(index=False, name=None)
    }
    infos = {}
    for graduate_id, program_id, education, skills in data.graduates[
        [C.graduate, C.program, C.education, C.skills]
    ].itertuples(index=False, name=None):
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


def _vacancy_infos(data: MarketData) -> dict[str, VacancyInfo]:
    enterprises = dict(zip(data.enterprises[C.enterprise], data.enterprises[C.name], strict=True))
    return {
        vacancy_id: VacancyInfo(
            title=title,
            enterprise_id=enterprise_id,
            enterprise_name=enterprises.get(enterprise_id, ""),
            district=district,
            status=status,
        )
        for vacancy_id, enterprise_id, title, district, status in data.vacancies[
            [C.vacancy, C.enterprise, C.title, C.district, C.status]
        ].itertuples(index=False, name=None)
    }


class MatchingService:
    """Answers candidates, recommendations and pair scores from a cached :class:`Snapshot`.

    The first snapshot is built while the caller waits (one build, however many requests arrive).
    After that, when the data version or the model moves, :meth:`candidates` and
    :meth:`recommendations` keep answering from the last snapshot while a background thread builds
    the new one, corrected so that the answer is right at once where it matters: the vacancy is read
    fresh from the store (a vacancy posted or edited a second ago is ranked as it is now), graduates
    who stopped seeking or were erased are left out, and vacancies no longer open are not suggested.
    New graduates and new vacancies join the pools when the background build lands (seconds).
    Each answer comes wholly from one snapshot, so from one model version.

    Parameters
    ----------
    model_source
        Returns the model to serve now (``ModelHolder.get``), or None before the first model.
    sessionmaker
        Opens sessions for background builds; without it every change is rebuilt while the caller waits.
    load
        Reads the store as a :class:`MarketData`; defaults to ``service.store.market.load_market``
        with seeking graduates only and no interactions.
    min_recommend_score
        The recommendation floor of :meth:`recommended_candidates` and :meth:`recommended_vacancies`
        (``Settings.min_recommend_score``).
    """

    def __init__(
        self,
        model_source: Callable[[], LoadedModel | None],
        *,
        sessionmaker: Callable[[], Session] | None = None,
        load: Callable[[Session], MarketData] | None = None,
        min_recommend_score: float = 0.0,
    ) -> None:
        self.model_source = model_source
        self.min_recommend_score = float(min_recommend_score)
        self.sessionmaker = sessionmaker
        self._load = load or _load_candidate_pool
        self._snapshot: Snapshot | None = None
        self._build_lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._refresher: threading.Thread | None = None
        self._stale_cache: tuple[Snapshot, int, frozenset[str], frozenset[str]] | None = None
        self.builds = 0  # how many indexes were built (tests check concurrent requests build one)

    def current_model(self) -> LoadedModel:
        model = self.model_source()
        if model is None:
            raise ModelNotReady()
        return model

    # ------------------------------------------------------------------ snapshots
    def snapshot(self, *, session: Session, model: LoadedModel | None = None) -> Snapshot:
        """The snapshot for the served model and the store's current data version.

        Built while the caller waits when it does not exist yet (at most one build at a time).
        """
        model = model if model is not None else self.current_model()
        version = data_version(session)
        cached = self._snapshot
        if cached is not None and cached.model is model and cached.data_version == version:
            return cached
        with self._build_lock:
            cached = self._snapshot
            if cached is not None and cached.model is model and cached.data_version == version:
                return cached
            return self._build(session, model, version)

    def _build(self, session: Session, model: LoadedModel, version: int) -> Snapshot:
        started = time.perf_counter()
        data = self._load(session)
        index = model.matcher.index(data)
        snapshot = Snapshot(
            model_version=model.version,
            data_version=version,
            model=model,
            index=index,
            data=data,
            graduates=_graduate_infos(data),
            vacancies=_vacancy_infos(data),
            vacancy_rows={row[C.vacancy]: row for row in data.vacancies.to_dict("records")},
        )
        snapshot.built_seconds = time.perf_counter() - started
        self.builds += 1
        log.info(
            "built candidate index for model %s, data version %d in %.2fs (%d graduates, %d vacancies)",
            model.version,
            version,
            snapshot.built_seconds,
            len(data.graduates),
            len(data.vacancies),
        )
        self._snapshot = snapshot
        return snapshot

    def _latest(self, *, session: Session) -> tuple[Snapshot, int | None]:
        """The newest snapshot there is and, when it is stale, the store's data version (else None).

        A stale answer starts a background refresh.
        """
        model = self.current_model()
        cached = self._snapshot
        if cached is None or self.sessionmaker is None:
            return self.snapshot(session=session, model=model), None
        version = data_version(session)
        if cached.model is model and cached.data_version == version:
            return cached, None
        self.refresh_in_background()
        return cached, version

    def _gone(
        self, session: Session, snapshot: Snapshot, version: int
    ) -> tuple[frozenset[str], frozenset[str]]:
        """Graduates of a stale snapshot no longer seeking, and its open vacancies no longer open.

        Computed once per (snapshot, data version): two id selects, not one per request.
        """
        cached = self._stale_cache
        if cached is not None and cached[0] is snapshot and cached[1] == version:
            return cached[2], cached[3]
        graduates = frozenset(set(snapshot.graduates) - seeking_graduate_ids(session=session))
        was_open = {v for v, info in snapshot.vacancies.items() if info.status == "open"}
        vacancies = frozenset(was_open - open_vacancy_ids(session=session))
        self._stale_cache = (snapshot, version, graduates, vacancies)
        return graduates, vacancies

    def refresh_in_background(self) -> None:
        """Build the snapshot for the current model and data version in a daemon thread (one at a time)."""
        if self.sessionmaker is None:
            return
        with self._refresh_lock:
            if self._refresher is not None and self._refresher.is_alive():
                return
            self._refresher = threading.Thread(target=self._refresh, name="matching-refresh", daemon=True)
            self._refresher.start()

    def _refresh(self) -> None:
        assert self.sessionmaker is not None
        try:
            for _ in range(3):  # catch up with writes that landed during a build, but never spin
                model = self.model_source()
                if model is None:
                    return
                with self.sessionmaker() as session:
                    version = data_version(session)
                    cached = self._snapshot
                    if cached is not None and cached.model is model and cached.data_version == version:
                        return
                    with self._build_lock:
                        self._build(session, model, version)
        except Exception:  # noqa: BLE001 - the next request retries; the old snapshot keeps serving
            log.exception("background rebuild of the candidate index failed")

    def wait_for_refresh(self, timeout: float = 30.0) -> None:
        """Block until a running background refresh finishes (tests, benchmarks, warm-up)."""
        refresher = self._refresher
        if refresher is not None:
            refresher.join(timeout)

    # ------------------------------------------------------------------ answers
    def candidates(
        self,
        *,
        session: Session,
        vacancy: VacancyQuery,
        limit: int = 20,
        offset: int = 0,
        filters: CandidateFilters | None = None,
    ) -> tuple[Snapshot, MatchResult]:
        """Ranked graduates for a vacancy (an id in the store, or the vacancy as data)."""
        snapshot, stale_version = self._latest(session=session)
        filters = filters or CandidateFilters()
        if stale_version is not None:
            if isinstance(vacancy, str):
                record = _vacancy_from_store(session, vacancy)
                # Unchanged since the index was built: rank it by id (cheaper than as data).
                if not _same_record(record, snapshot.vacancy_rows.get(vacancy)):
                    vacancy = record
            gone, _ = self._gone(session, snapshot, stale_version)
            if gone:
                filters = replace(
                    filters, exclude_graduates=tuple(filters.exclude_graduates) + tuple(sorted(gone))
                )
        result = snapshot.matcher.candidates_for(
            vacancy, index=snapshot.index, limit=limit, offset=offset, filters=filters
        )
        return snapshot, result

    def recommendations(
        self,
        *,
        session: Session,
        graduate: GraduateQuery,
        limit: int = 10,
        offset: int = 0,
        filters: VacancyFilters | None = None,
    ) -> tuple[Snapshot, MatchResult]:
        """Ranked vacancies for a graduate (an id of a seeking graduate, or the graduate as data)."""
        snapshot, stale_version = self._latest(session=session)
        filters = filters or VacancyFilters()
        if stale_version is not None:
            if isinstance(graduate, str) and graduate not in snapshot.graduates:
                snapshot = self.snapshot(session=session)  # a graduate new to the pool: wait for the build
            else:
                _, closed = self._gone(session, snapshot, stale_version)
                if closed:
                    filters = replace(
                        filters, exclude_vacancies=tuple(filters.exclude_vacancies) + tuple(sorted(closed))
                    )
        result = snapshot.matcher.vacancies_for(
            graduate, index=snapshot.index, limit=limit, offset=offset, filters=filters
        )
        return snapshot, result

    def recommended_candidates(
        self,
        *,
        session: Session,
        vacancy: VacancyQuery,
        limit: int = 20,
        offset: int = 0,
        filters: CandidateFilters | None = None,
    ) -> RankedPage:
        """A page of :meth:`candidates` split at the recommendation floor (API and web pages)."""
        snapshot, result = self.candidates(
            session=session, vacancy=vacancy, limit=limit, offset=offset, filters=filters
        )
        return RankedPage.split(snapshot, result, offset=offset, floor=self.min_recommend_score)

    def recommended_vacancies(
        self,
        *,
        session: Session,
        graduate: GraduateQuery,
        limit: int = 10,
        offset: int = 0,
        filters: VacancyFilters | None = None,
    ) -> RankedPage:
        """A page of :meth:`recommendations` split at the recommendation floor (API and web pages)."""
        snapshot, result = self.recommendations(
            session=session, graduate=graduate, limit=limit, offset=offset, filters=filters
        )
        return RankedPage.split(snapshot, result, offset=offset, floor=self.min_recommend_score)

    def score_pairs(
        self, *, session: Session, graduate_ids: Sequence[str], vacancy_ids: Sequence[str]
    ) -> tuple[Snapshot, np.ndarray]:
        """Match probabilities of each (graduate, vacancy) pair, elementwise (current snapshot)."""
        snapshot = self.snapshot(session=session)
        scores = snapshot.matcher.score_pairs(list(graduate_ids), list(vacancy_ids), index=snapshot.index)
        return snapshot, np.asarray(scores, dtype=float)


def _same_record(fresh: Mapping[str, Any], indexed: Mapping[str, Any] | None) -> bool:
    if indexed is None:
        return False
    for key, value in fresh.items():
        other = indexed.get(key)
        if isinstance(value, list) or isinstance(other, list):
            if list(value or []) != list(other or []):
                return False
        elif _missing(value) and _missing(other):
            continue
        elif value != other:
            return False
    return True


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _vacancy_from_store(session: Session, vacancy_id: str) -> Mapping[str, Any]:
    return vacancy_record(get_vacancy(session=session, vacancy_id=vacancy_id))


def _load_candidate_pool(session: Session) -> MarketData:
    return load_market(session=session, seeking_only=True, with_interactions=False)
