"""Matching for the service: answers from a snapshot of the candidate pool that follows every write.

The snapshot (:class:`~service.snapshot.Snapshot`) holds the matcher's index of the store's seeking graduates
and vacancies. It is built in full once per model; after that, a write made through this process (right after
its commit: :meth:`MatchingService.catch_up`), or a request that finds the data version moved by another
process (read from the store at most every ``TALENTMATCH_DATA_VERSION_CHECK_SECONDS``: :class:`VersionWatch`),
reads the store's change log after the snapshot's version (one indexed query), reads just the graduates and
vacancies named there, and swaps in a snapshot updated in O(changed rows): a vacancy posted a moment ago has
candidates, a graduate hired or erased is gone, without rebuilding and without retraining. A new model is
indexed in full in the background while the previous one keeps answering (kept up to date meanwhile). A
request takes one snapshot and answers wholly from it, so no answer mixes two models or two versions.

Recommendations have a floor (``TALENTMATCH_MIN_RECOMMEND_SCORE``): ``recommended_candidates`` and
``recommended_vacancies`` split a page of the ranking into the ranks at or above it and the ranks below it,
for the API and the web pages alike (:class:`RankedPage`).
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from models.data import MarketData
from models.protocol import GraduateQuery, VacancyQuery
from models.results import CandidateFilters, Match, MatchResult, VacancyFilters
from service.snapshot import GraduateInfo, PoolLoader, Snapshot, VacancyInfo, build_snapshot
from service.store.changes import UNKNOWN_DIGEST, changes_since, local_commits
from service.store.session import data_version
from training.registry import LoadedModel

__all__ = [
    "GraduateInfo",
    "MatchingService",
    "ModelNotReady",
    "PoolLoader",
    "RankedPage",
    "Snapshot",
    "VacancyInfo",
    "VersionWatch",
]

log = logging.getLogger(__name__)

# Changes applied in place up to this many rows, or a quarter of the pool if more; beyond, a full build
# (in the background) costs about the same.
MIN_UPDATE_LIMIT = 2_000
# A full build of a pool this big freezes the heap for the garbage collector (see ``_freeze_heap``).
FREEZE_FROM = 10_000


class ModelNotReady(RuntimeError):
    """No trained model is being served yet (run ``talentmatch train``)."""

    def __init__(
        self, message: str = "no trained model is being served yet; run `talentmatch train`"
    ) -> None:
        super().__init__(message)


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


class VersionWatch:
    """The store's data version as this process last read it, read again when that is older than
    ``max_age`` seconds or when a commit of this process has moved the version since (see
    :func:`~service.store.changes.local_commits`).

    So a request does not read the version's row each time: a write made through this process is seen by
    the next request, one made by another process (another worker, a replica, the command line) within
    ``max_age`` seconds. ``max_age <= 0`` reads it every time.
    """

    def __init__(self, max_age: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_age = max_age
        self.clock = clock
        self._known: tuple[int, int, float] | None = None  # (version, local commits before the read, when)

    def version(self, session: Session, *, fresh: bool = False) -> int:
        """The data version; ``fresh``: read from the store whatever the interval (a caller that knows of a
        row its snapshot lacks)."""
        known, now = self._known, self.clock()
        if (
            not fresh
            and known is not None
            and self.max_age > 0
            and known[1] == local_commits()
            and now - known[2] < self.max_age
        ):
            return known[0]
        local = local_commits()  # before the read: a commit landing during it makes the next call read again
        version = data_version(session)
        self._known = (version, local, now)
        return version


class MatchingService:
    """Answers candidates, recommendations and pair scores from a :class:`Snapshot` kept up to date.

    The first snapshot is built while the caller waits (one build, however many requests arrive). After
    that, a write made through this process brings the snapshot up to date from the change log in the
    writer's own thread, right after its commit (:meth:`catch_up`, from
    :meth:`~service.usecases.context.Context.commit`), and a request that finds the store's data version
    moved (a write made elsewhere) does so before answering (:meth:`_up_to_date`: a few milliseconds, under a
    lock so that one thread does it). A read never waits for another thread's update: while one is under
    way it answers from the snapshot as it is (a write is visible to reads once it has returned to the
    writer, or, made elsewhere, within the version check's interval); only ``fresh`` reads and the writer
    itself wait for it. A change the log cannot describe row by row (an import of skills,
    schools, programmes or enterprises, a log pruned past the snapshot, more rows than
    :func:`_update_limit`) and a new model are built in full in a background thread, while the current
    snapshot keeps answering: for a new model, still updated by each write; otherwise as it was, until
    the build lands (seconds). Each answer comes wholly from one snapshot, so from one model version.

    Parameters
    ----------
    model_source
        Returns the model to serve now (``ModelHolder.get``), or None before the first model.
    sessionmaker
        Opens the sessions the snapshots are read with (committed data only, whatever the caller's session
        holds) and those of background builds; without it, the caller's session is used and every full
        build happens while the caller waits.
    loader
        Reads the store (:class:`~service.snapshot.PoolLoader`, the default).
    min_recommend_score
        The recommendation floor of :meth:`recommended_candidates` and :meth:`recommended_vacancies`
        (``Settings.min_recommend_score``).
    ann_min_pool
        Approximate retrieval above this many seeking graduates, 0 never (``Settings.ann_min_pool``);
        ``None``: the model's own threshold.
    version_check_seconds
        How long a read of the store's data version answers for requests (:class:`VersionWatch`;
        ``Settings.data_version_check_seconds``); 0 reads it for every request.
    """

    def __init__(
        self,
        model_source: Callable[[], LoadedModel | None],
        *,
        sessionmaker: Callable[[], Session] | None = None,
        loader: PoolLoader | None = None,
        min_recommend_score: float = 0.0,
        ann_min_pool: int | None = None,
        version_check_seconds: float = 0.0,
    ) -> None:
        self.model_source = model_source
        self.versions = VersionWatch(version_check_seconds)
        self.ann_min_pool = ann_min_pool
        self.min_recommend_score = float(min_recommend_score)
        self.sessionmaker = sessionmaker
        self.loader = loader or PoolLoader()
        self._snapshot: Snapshot | None = None
        self._build_lock = threading.Lock()  # one full build at a time
        self._update_lock = threading.Lock()  # one thread at a time moves ``_snapshot`` on
        self._refresh_lock = threading.Lock()
        self._refresher: threading.Thread | None = None  # the running background build, until it stops
        self._refresh_wanted = False  # asked for since the running one began its last round
        # The newest data version whose changes only a full build takes in (None: none pending).
        self._rebuild_for: int | None = None
        self.builds = 0  # full builds (tests check concurrent requests build one)
        self.updates = 0  # snapshots updated from the change log

    def current_model(self) -> LoadedModel:
        model = self.model_source()
        if model is None:
            raise ModelNotReady()
        return model

    # ------------------------------------------------------------------ snapshots
    def snapshot(
        self, *, session: Session, model: LoadedModel | None = None, fresh: bool = False
    ) -> Snapshot:
        """The snapshot of ``model`` (the served one by default), up to date with the store (``fresh``: as
        :meth:`latest`).

        Built while the caller waits when there is none of that model yet (at most one build at a time).
        """
        model = model if model is not None else self.current_model()
        version = self.versions.version(session, fresh=fresh)
        cached = self._snapshot
        if cached is None or cached.model is not model:
            cached = self._build_now(model, session)
        return self._up_to_date(cached, version, session)

    def latest(self, *, session: Session, fresh: bool = False) -> Snapshot:
        """The snapshot to answer from: the served model's when it exists, else (while the served model's
        is built in the background) the previous model's; up to date with the store either way (as of
        :class:`VersionWatch`'s last read, or as of now when ``fresh``: for a row the store holds and the
        snapshot does not, written a moment ago by another process)."""
        model = self.current_model()
        cached = self._snapshot
        if cached is None or self.sessionmaker is None:
            return self.snapshot(session=session, model=model, fresh=fresh)
        if cached.model is not model:
            self.refresh_in_background()
        return self._up_to_date(cached, self.versions.version(session, fresh=fresh), session, wait=fresh)

    def catch_up(self) -> None:
        """Bring the snapshot up to the store's data version now: a write's own thread, right after its
        commit (:meth:`~service.usecases.context.Context.commit`), so that the update is paid by the write
        and its reads find it done. Nothing when there is no snapshot yet (the first read builds it). A
        failure here is logged, never raised: the write has committed, and the next read retries."""
        cached = self._snapshot
        if cached is None or self.sessionmaker is None:
            return
        try:
            with self._reading() as session:
                self._up_to_date(cached, self.versions.version(session, fresh=True))
        except Exception:  # noqa: BLE001 - the write stands; a read brings the snapshot up to date
            log.exception("bringing the candidate index up to date after a write failed")

    @contextmanager
    def _reading(self, session: Session | None = None) -> Iterator[Session]:
        """A session of its own when there is a sessionmaker (committed data only), else ``session``."""
        if self.sessionmaker is None:
            assert session is not None, "a MatchingService without a sessionmaker reads the caller's session"
            yield session
        else:
            with self.sessionmaker() as own:
                yield own

    def _build_now(self, model: LoadedModel, session: Session | None = None) -> Snapshot:
        with self._build_lock:
            cached = self._snapshot
            if cached is not None and cached.model is model and self._rebuild_for is None:
                return cached
            with self._reading(session) as reading:
                snapshot = self._build(reading, model)
            with self._update_lock:
                if self._rebuild_for is not None and self._rebuild_for <= snapshot.data_version:
                    self._rebuild_for = None  # the build took in every change up to its version
                self._snapshot = snapshot
            if len(snapshot.index.graduates) >= FREEZE_FROM:
                _freeze_heap()
            return snapshot

    def _build(self, session: Session, model: LoadedModel) -> Snapshot:
        version = data_version(session)
        data = self.loader.everything(session)
        snapshot = build_snapshot(model, data, data_version=version, ann_min_pool=self.ann_min_pool)
        self.builds += 1
        log.info(
            "built candidate index for model %s, data version %d in %.2fs (%d graduates, %d vacancies)",
            model.version,
            version,
            snapshot.built_seconds,
            len(data.graduates),
            len(data.vacancies),
        )
        return snapshot

    def _up_to_date(
        self, snapshot: Snapshot, version: int, session: Session | None = None, *, wait: bool = True
    ) -> Snapshot:
        """``snapshot``, or the newest of its model, brought up to ``version`` or later from the change
        log (and made the current one when it is the current model's). Unless ``wait``, a thread that finds
        another one updating takes ``snapshot`` as it is rather than wait for it."""
        if snapshot.data_version >= version:
            return snapshot
        if self._rebuild_for is not None and self.sessionmaker is not None:
            self.refresh_in_background()  # answers come from the snapshot as it is until the build lands
            return snapshot
        if not self._update_lock.acquire(blocking=wait):
            return snapshot  # another thread is updating it: this read answers from the snapshot as it is
        try:
            current = self._snapshot
            if current is not None and current.model is snapshot.model:
                snapshot = current if current.data_version > snapshot.data_version else snapshot
            if snapshot.data_version >= version:
                return snapshot
            with self._reading(session) as reading:
                updated = self._apply_changes(reading, snapshot)
            if current is None or current.model is snapshot.model:
                self._snapshot = updated
        finally:
            self._update_lock.release()
        if self._rebuild_for is not None:
            if self.sessionmaker is not None:
                self.refresh_in_background()
            else:
                return self._build_now(snapshot.model, session)
        return updated

    def _apply_changes(self, session: Session, snapshot: Snapshot) -> Snapshot:
        """``snapshot`` updated with the changes logged after its version (update lock held)."""
        version = data_version(session)
        changes = changes_since(session=session, version=snapshot.data_version, limit=_update_limit(snapshot))
        if changes.everything:
            self._rebuild_for = max(self._rebuild_for or 0, changes.version)
            return snapshot
        graduates = set(changes.graduates)
        if UNKNOWN_DIGEST in changes.erased:  # an erasure logged by no digest: whoever is not seeking left
            seeking = self.loader.seeking_ids(session)
            graduates.update(g for g in snapshot.graduate_ids() if g not in seeking)
        elif changes.erased:  # by digest: the pool's graduates of those digests are read again
            graduates.update(snapshot.erasure_buckets.ids(changes.erased))
        graduate_ids, vacancy_ids = sorted(graduates), sorted(changes.vacancies)
        rows = MarketData()
        if graduate_ids or vacancy_ids:
            rows = self.loader.rows(session, graduate_ids=graduate_ids, vacancy_ids=vacancy_ids)
        updated = snapshot.updated(
            rows,
            graduate_ids=graduate_ids,
            vacancy_ids=vacancy_ids,
            data_version=max(version, changes.version),
        )
        self.updates += 1
        return updated

    def refresh_in_background(self) -> None:
        """Build the snapshot of the current model in a daemon thread when it is missing, or when a change
        needs a full build (one thread at a time). Asked while one runs, that one goes round once more
        (a model promoted during its build is built next, not left for some later request)."""
        if self.sessionmaker is None:
            return
        with self._refresh_lock:
            self._refresh_wanted = True
            if self._refresher is not None:
                return
            self._refresher = threading.Thread(target=self._refresh, name="matching-refresh", daemon=True)
            self._refresher.start()

    def _refresh(self) -> None:
        try:
            for _ in range(3):  # catch up with what landed during a build, but never spin
                with self._refresh_lock:
                    self._refresh_wanted = False
                model = self.model_source()
                if model is None:
                    return
                cached = self._snapshot
                if cached is None or cached.model is not model or self._rebuild_for is not None:
                    cached = self._build_now(model)
                with self._reading() as session:
                    self._up_to_date(cached, data_version(session))
                with self._refresh_lock:
                    # Stopping is decided under the lock that asks: no request falls between the two.
                    if not self._refresh_wanted and self._rebuild_for is None:
                        self._refresher = None
                        return
        except Exception:  # noqa: BLE001 - the next request retries; the current snapshot keeps serving
            log.exception("background build of the candidate index failed")
        finally:
            with self._refresh_lock:
                if self._refresher is threading.current_thread():
                    self._refresher = None

    def wait_for_refresh(self, timeout: float = 30.0) -> None:
        """Block until a running background build finishes (tests, benchmarks, warm-up)."""
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
        snapshot = self.latest(session=session)
        return snapshot, _candidates(snapshot, vacancy, limit=limit, offset=offset, filters=filters)

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
        snapshot = self.latest(session=session)
        return snapshot, _vacancies(snapshot, graduate, limit=limit, offset=offset, filters=filters)

    def recommended_candidates(
        self,
        snapshot: Snapshot,
        *,
        vacancy: VacancyQuery,
        limit: int = 20,
        offset: int = 0,
        filters: CandidateFilters | None = None,
    ) -> RankedPage:
        """A page of ranked graduates from ``snapshot`` (:meth:`latest`) split at the recommendation floor
        (API and web pages)."""
        result = _candidates(snapshot, vacancy, limit=limit, offset=offset, filters=filters)
        return RankedPage.split(snapshot, result, offset=offset, floor=self.min_recommend_score)

    def recommended_vacancies(
        self,
        snapshot: Snapshot,
        *,
        graduate: GraduateQuery,
        limit: int = 10,
        offset: int = 0,
        filters: VacancyFilters | None = None,
    ) -> RankedPage:
        """A page of ranked vacancies from ``snapshot`` (:meth:`latest`) split at the recommendation floor
        (API and web pages)."""
        result = _vacancies(snapshot, graduate, limit=limit, offset=offset, filters=filters)
        return RankedPage.split(snapshot, result, offset=offset, floor=self.min_recommend_score)

    def score_pairs(
        self, *, session: Session, graduate_ids: Sequence[str], vacancy_ids: Sequence[str]
    ) -> tuple[Snapshot, np.ndarray]:
        """Match probabilities of each (graduate, vacancy) pair, elementwise (current snapshot)."""
        snapshot = self.snapshot(session=session)
        scores = snapshot.matcher.score_pairs(list(graduate_ids), list(vacancy_ids), index=snapshot.index)
        return snapshot, np.asarray(scores, dtype=float)


def _candidates(
    snapshot: Snapshot, vacancy: VacancyQuery, *, limit: int, offset: int, filters: CandidateFilters | None
) -> MatchResult:
    return snapshot.matcher.candidates_for(
        vacancy, index=snapshot.index, limit=limit, offset=offset, filters=filters
    )


def _vacancies(
    snapshot: Snapshot, graduate: GraduateQuery, *, limit: int, offset: int, filters: VacancyFilters | None
) -> MatchResult:
    return snapshot.matcher.vacancies_for(
        graduate, index=snapshot.index, limit=limit, offset=offset, filters=filters
    )


def _freeze_heap() -> None:
    """Keep the cyclic garbage collector off the objects alive now (the snapshot's: a big pool holds
    hundreds of thousands), which live until the next full build: otherwise every full collection walks
    them all, and one lands inside a request now and then (it doubled the cost of an update at medium).
    The previous build's objects are unfrozen first, so whatever of them is garbage is collected."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def _update_limit(snapshot: Snapshot) -> int:
    """How many changed rows a snapshot takes in place (more: a full build)."""
    index = snapshot.index
    return max(MIN_UPDATE_LIMIT, (len(index.graduates) + len(index.vacancies)) // 4)
