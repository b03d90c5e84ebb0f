"""MatchingService follows the store's writes by updating its snapshot, reading only the rows a write
touched; a full build happens for a new model or a change the log cannot name, in the background."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine, select, update

import service.matching as matching_module
from models.columns import Columns as C
from models.data import MarketData
from service.matching import MatchingService, PoolLoader
from service.settings import Settings
from service.store.changes import ERASED, PRUNE_EVERY, UNKNOWN_DIGEST, erasure_digest, prune_changes
from service.store.graduates import erase_graduate, get_graduate
from service.store.market import import_market
from service.store.session import make_sessionmaker
from service.store.tables import DataChange, DataVersion, Graduate, Vacancy
from service.store.vacancies import (
    NewVacancy,
    VacancyChanges,
    close_vacancy,
    create_vacancy,
    get_vacancy,
    record_feedback,
    update_vacancy,
)
from tests.bundles import tiny_market
from tests.service.api.conftest import Api
from training.registry import LoadedModel


@dataclass
class CountingLoader(PoolLoader):
    """The real loader, counting what it reads; ``gate`` (when set) holds full builds until it opens,
    ``hold`` (when set) holds updates' reads of rows until it opens, and ``entered`` tells one began."""

    full: int = 0
    scans: int = 0
    reads: list[tuple[list[str], list[str], int, int]] = field(default_factory=list)
    gate: threading.Event | None = None
    hold: threading.Event | None = None
    entered: threading.Event = field(default_factory=threading.Event)
    held: threading.Event = field(default_factory=threading.Event)  # a full build is waiting at the gate

    def everything(self, session: Any) -> MarketData:
        if self.gate is not None and self.full >= 1:
            self.held.set()
            assert self.gate.wait(30), "the gate never opened"
        self.full += 1
        return super().everything(session)

    def seeking_ids(self, session: Any) -> set[str]:
        self.scans += 1
        return super().seeking_ids(session)

    def rows(self, session: Any, *, graduate_ids: list[str], vacancy_ids: list[str]) -> MarketData:
        self.entered.set()
        if self.hold is not None:
            assert self.hold.wait(30), "the hold never opened"
        data = super().rows(session, graduate_ids=graduate_ids, vacancy_ids=vacancy_ids)
        self.reads.append((graduate_ids, vacancy_ids, len(data.graduates), len(data.vacancies)))
        return data


def _candidates(matching: MatchingService, sessions: Any, vacancy: str) -> list[str]:
    with sessions() as session:
        _, result = matching.candidates(session=session, vacancy=vacancy, limit=100)
    return [m.graduate_id for m in result.items]


def _post_vacancy(sessions: Any) -> str:
    """A flip-chip vacancy posted for E2 through the store, committed; its id."""
    with sessions() as session, session.begin():
        return create_vacancy(
            session=session,
            data=NewVacancy(title="倒装焊技术员", district="滨海新区", required_skills=["flip_chip"]),
            enterprise_id="E2",
        ).vacancy_id


def test_each_write_reads_only_the_rows_it_touched(seeded_sqlite: Engine, tiny_model: LoadedModel) -> None:
    sessions = make_sessionmaker(seeded_sqlite)
    loader = CountingLoader()
    matching = MatchingService(lambda: tiny_model, sessionmaker=sessions, loader=loader)
    first = _candidates(matching, sessions, "V3")
    assert loader.full == 1 and loader.reads == []

    posted = _post_vacancy(sessions)
    assert _candidates(matching, sessions, posted)
    assert loader.reads[-1] == ([], [posted], 0, 1)  # one vacancy read, not the pool

    with sessions() as session, session.begin():  # an outcome that is only history: nothing to read
        record_feedback(
            session=session,
            vacancy=get_vacancy(session=session, vacancy_id="V3"),
            graduate_id=first[1],
            event="applied",
        )
    assert _candidates(matching, sessions, "V3") == first and len(loader.reads) == 1

    with sessions() as session, session.begin():  # hired: the graduate leaves the pool
        record_feedback(
            session=session,
            vacancy=get_vacancy(session=session, vacancy_id="V3"),
            graduate_id=first[0],
            event="hired",
        )
    assert first[0] not in _candidates(matching, sessions, "V3")
    assert loader.reads[-1] == ([first[0]], ["V3"], 0, 1)

    with sessions() as session, session.begin():  # an upload: one graduate added, one edited
        graduates = tiny_market().graduates
        added = graduates[graduates[C.graduate] == "G05"].assign(**{C.graduate: "G50"})
        edited = graduates[graduates[C.graduate] == "G06"].assign(
            **{C.skills: [["wire_bonding", "flip_chip"]]}
        )
        import_market(session=session, data=MarketData(graduates=pd.concat([added, edited])))
    assert {"G50", "G06"} <= set(_candidates(matching, sessions, "V3"))
    assert loader.reads[-1] == (["G06", "G50"], [], 2, 0)

    with sessions() as session, session.begin():  # an erasure is logged by a digest of the id, not the id
        erase_graduate(session=session, graduate=get_graduate(session=session, graduate_id="G50"))
    with sessions() as session:
        logged = session.execute(select(DataChange.entity, DataChange.entity_id)).all()
    assert (ERASED, erasure_digest("G50")) in logged and not [r for r in logged if "G50" in r[1]]
    assert "G50" not in _candidates(matching, sessions, "V3")
    # The graduates of that digest are read again (G50 alone among these few), the pool is not listed.
    assert loader.scans == 0 and loader.reads[-1] == (["G50"], [], 0, 0)

    with sessions() as session, session.begin():  # an erasure logged without a digest: one id scan
        erase_graduate(session=session, graduate=get_graduate(session=session, graduate_id="G06"))
        session.execute(
            update(DataChange).where(DataChange.entity == ERASED).values(entity_id=UNKNOWN_DIGEST)
        )
    assert "G06" not in _candidates(matching, sessions, "V3")
    assert loader.scans == 1 and loader.reads[-1] == (["G06"], [], 0, 0)
    assert loader.full == 1 and matching.builds == 1


def test_an_erasure_reads_again_the_graduates_of_its_digest(
    seeded_sqlite: Engine, tiny_model: LoadedModel
) -> None:
    """Graduates sharing the erased one's digest are read again and stay (the digest does not say which of
    them went); a graduate uploaded after the build is found by its digest too."""
    sessions = make_sessionmaker(seeded_sqlite)
    loader = CountingLoader()
    matching = MatchingService(lambda: tiny_model, sessionmaker=sessions, loader=loader)
    _candidates(matching, sessions, "V3")
    digest = erasure_digest("G05")
    twin = next(f"G{i}" for i in range(100, 10**6) if erasure_digest(f"G{i}") == digest)
    with sessions() as session, session.begin():
        graduates = tiny_market().graduates
        import_market(
            session=session,
            data=MarketData(graduates=graduates[graduates[C.graduate] == "G07"].assign(**{C.graduate: twin})),
        )
    with sessions() as session:
        assert twin in matching.latest(session=session).graduates
    with sessions() as session, session.begin():
        erase_graduate(session=session, graduate=get_graduate(session=session, graduate_id="G05"))
    with sessions() as session:
        snapshot = matching.latest(session=session)
    assert "G05" not in snapshot.graduates and twin in snapshot.graduates
    assert loader.scans == 0 and sorted(loader.reads[-1][0]) == sorted(["G05", twin])
    assert loader.reads[-1][2] == 1  # the twin, read again; G05 is gone


def test_a_read_answers_at_once_while_a_write_updates_the_snapshot(
    seeded_sqlite: Engine, tiny_model: LoadedModel
) -> None:
    """Reads never wait for a write: while the writer's thread brings the snapshot up to date
    (``catch_up``, held here inside its read of the changed rows), a read answers from the snapshot as it
    is; a ``fresh`` read waits for the update, and the next read finds it done without updating again."""
    sessions = make_sessionmaker(seeded_sqlite)
    loader = CountingLoader()
    matching = MatchingService(lambda: tiny_model, sessionmaker=sessions, loader=loader)
    with sessions() as session:
        before = matching.snapshot(session=session)
    posted = _post_vacancy(sessions)
    loader.hold = threading.Event()

    def read(fresh: bool) -> Any:
        with sessions() as session:
            return matching.latest(session=session, fresh=fresh)

    with ThreadPoolExecutor(max_workers=3) as pool:
        writer = pool.submit(matching.catch_up)
        try:
            assert loader.entered.wait(30), "the writer's update never began"
            assert pool.submit(read, False).result(timeout=10) is before  # not waiting for the writer
            waiting = pool.submit(read, True)
            assert not waiting.done() and matching.updates == 0
        finally:
            loader.hold.set()
        writer.result(timeout=30)
        assert posted in waiting.result(timeout=30).vacancies
    with sessions() as session:
        snapshot, result = matching.candidates(session=session, vacancy=posted)
    assert posted in snapshot.vacancies and result.items
    assert matching.updates == 1 and matching.builds == 1 and len(loader.reads) == 1


def test_answers_follow_writes_while_a_new_model_is_built(
    seeded_sqlite: Engine, tiny_model: LoadedModel
) -> None:
    sessions = make_sessionmaker(seeded_sqlite)
    served = {"model": tiny_model}
    gate = threading.Event()
    loader = CountingLoader(gate=gate)
    matching = MatchingService(lambda: served["model"], sessionmaker=sessions, loader=loader)
    hired = _candidates(matching, sessions, "V3")[0]
    with sessions() as session:
        old = matching.snapshot(session=session)
    served["model"] = LoadedModel(version="tiny-2", matcher=tiny_model.matcher, manifest={})
    with sessions() as session, session.begin():
        posted = create_vacancy(
            session=session,
            data=NewVacancy(title="倒装焊技术员", district="滨海新区", required_skills=["flip_chip"]),
            enterprise_id="E2",
        ).vacancy_id
        record_feedback(
            session=session,
            vacancy=get_vacancy(session=session, vacancy_id="V3"),
            graduate_id=hired,
            event="hired",
        )
        close_vacancy(session=session, vacancy=get_vacancy(session=session, vacancy_id="V5"))
        update_vacancy(
            session=session,
            vacancy=get_vacancy(session=session, vacancy_id="V2"),
            changes=VacancyChanges(required_skills=["ate_test"]),
        )
    try:
        with sessions() as session:  # the new model's build hangs: the old model answers, up to date
            snapshot, result = matching.candidates(session=session, vacancy=posted, limit=100)
            assert snapshot.model is tiny_model and snapshot is not old and matching.builds == 1
            assert result.items and hired not in {m.graduate_id for m in result.items}
            _, again = matching.candidates(session=session, vacancy="V3", limit=100)
            assert hired not in {m.graduate_id for m in again.items}
            _, edited = matching.candidates(session=session, vacancy="V2", limit=100)
            assert edited.items and all(set(m.matched_skills) <= {"ate_test"} for m in edited.items)
            assert any(m.matched_skills == ["ate_test"] for m in edited.items)
            _, suggestions = matching.recommendations(session=session, graduate="G09", limit=100)
            assert "V5" not in {m.vacancy_id for m in suggestions.items}
            assert session.get(Vacancy, "V5").status == "closed"  # type: ignore[union-attr]
            assert session.get(Graduate, hired).status == "placed"  # type: ignore[union-attr]
    finally:
        gate.set()
    matching.wait_for_refresh()
    assert matching.builds == 2
    with sessions() as session:
        fresh, result = matching.candidates(session=session, vacancy=posted, limit=100)
        assert fresh.model is served["model"] and posted in fresh.vacancies
        assert hired not in {m.graduate_id for m in result.items}


def test_a_model_promoted_during_a_background_build_is_built_next(
    seeded_sqlite: Engine, tiny_model: LoadedModel
) -> None:
    """A build asked for while the background thread is busy is not dropped: the thread goes round once
    more. (The app's start-up build was still running when a test promoted a model: the request that
    asked for the new model's build found the thread alive, and nothing built it.)"""
    sessions = make_sessionmaker(seeded_sqlite)
    served = {"model": tiny_model}
    gate = threading.Event()
    loader = CountingLoader(gate=gate)
    matching = MatchingService(lambda: served["model"], sessionmaker=sessions, loader=loader)
    with sessions() as session:
        matching.snapshot(session=session)
    second = LoadedModel(version="tiny-2", matcher=tiny_model.matcher, manifest={})
    third = LoadedModel(version="tiny-3", matcher=tiny_model.matcher, manifest={})
    served["model"] = second
    matching.refresh_in_background()
    try:
        assert loader.held.wait(30), "the build of tiny-2 never began"
        served["model"] = third  # promoted while tiny-2 is being built
        matching.refresh_in_background()  # asked while the thread is busy
    finally:
        gate.set()
    matching.wait_for_refresh()
    with sessions() as session:
        assert matching.latest(session=session).model is third
    assert matching.builds == 3 and loader.full == 3


def test_a_change_the_log_cannot_name_is_built_in_the_background(
    seeded_sqlite: Engine, tiny_model: LoadedModel
) -> None:
    sessions = make_sessionmaker(seeded_sqlite)
    matching = MatchingService(lambda: tiny_model, sessionmaker=sessions)
    with sessions() as session:
        before = matching.snapshot(session=session)
    enterprises = tiny_market().enterprises
    with sessions() as session, session.begin():  # an import that renames an enterprise
        import_market(session=session, data=MarketData(enterprises=enterprises.assign(**{C.name: "新名字"})))
    with sessions() as session:
        stale, _ = matching.candidates(session=session, vacancy="V3")
        assert stale is before  # answered at once, from the snapshot as it was
    matching.wait_for_refresh()
    with sessions() as session:
        fresh, _ = matching.candidates(session=session, vacancy="V3")
    assert matching.builds == 2 and fresh.vacancies["V3"].enterprise_name == "新名字"


def test_a_snapshot_older_than_the_pruned_log_is_rebuilt(
    seeded_sqlite: Engine, tiny_model: LoadedModel
) -> None:
    sessions = make_sessionmaker(seeded_sqlite)
    matching = MatchingService(lambda: tiny_model, sessionmaker=sessions)
    with sessions() as session:
        matching.snapshot(session=session)
    with sessions() as session, session.begin():
        posted = create_vacancy(
            session=session, data=NewVacancy(title="技术员", district="滨海新区"), enterprise_id="E2"
        ).vacancy_id
        session.execute(update(DataChange).values(at=DataChange.at - timedelta(days=2)))
        assert prune_changes(session=session) > 0
        assert session.get(DataVersion, 1).counter % PRUNE_EVERY != 0  # type: ignore[union-attr]
    with sessions() as session:
        matching.candidates(session=session, vacancy="V3")
    matching.wait_for_refresh()
    with sessions() as session:
        snapshot, _ = matching.candidates(session=session, vacancy=posted)
    assert matching.builds == 2 and posted in snapshot.vacancies


def test_more_changes_than_a_quarter_of_the_pool_are_built_in_full(
    seeded_sqlite: Engine, tiny_model: LoadedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(matching_module, "MIN_UPDATE_LIMIT", 1)  # the tiny pool: a quarter is 4 rows
    sessions = make_sessionmaker(seeded_sqlite)
    loader = CountingLoader()
    matching = MatchingService(lambda: tiny_model, sessionmaker=sessions, loader=loader)
    with sessions() as session:
        before = matching.snapshot(session=session)
    graduates = tiny_market().graduates
    uploaded = pd.concat(
        [graduates.iloc[[0]].assign(**{C.graduate: f"G6{i}", C.status: "seeking"}) for i in range(6)]
    )
    with sessions() as session, session.begin():
        import_market(session=session, data=MarketData(graduates=uploaded))
    with sessions() as session:
        stale, _ = matching.candidates(session=session, vacancy="V1")
    assert stale is before and loader.reads == []  # answered from the snapshot as it was
    matching.wait_for_refresh()
    with sessions() as session:
        fresh, _ = matching.candidates(session=session, vacancy="V1")
    assert matching.builds == 2 and {f"G6{i}" for i in range(6)} <= set(fresh.graduates)


@pytest.mark.parametrize(("threshold", "approximate"), [(None, False), (1, True), (0, False)])
def test_the_operator_switches_approximate_retrieval_without_retraining(
    seeded_sqlite: Engine,
    tiny_model: LoadedModel,
    monkeypatch: pytest.MonkeyPatch,
    threshold: int | None,
    approximate: bool,
) -> None:
    pytest.importorskip("hnswlib")
    if threshold is None:
        monkeypatch.delenv("TALENTMATCH_ANN_MIN_POOL", raising=False)
    else:
        monkeypatch.setenv("TALENTMATCH_ANN_MIN_POOL", str(threshold))
    settings = Settings(database_url="sqlite://")
    assert settings.ann_min_pool == threshold
    trained = tiny_model.matcher.config.ann_min_pool
    sessions = make_sessionmaker(seeded_sqlite)
    matching = MatchingService(lambda: tiny_model, sessionmaker=sessions, ann_min_pool=settings.ann_min_pool)
    with sessions() as session:
        snapshot, result = matching.candidates(session=session, vacancy="V1", limit=5)
        exact = tiny_model.matcher.candidates_for(
            "V1", index=tiny_model.matcher.index(matching.loader.everything(session)), limit=5
        )
    assert (snapshot.index.ann is not None) is approximate
    assert snapshot.model is tiny_model and tiny_model.matcher.config.ann_min_pool == trained  # not changed
    assert [m.graduate_id for m in result.items] == [m.graduate_id for m in exact.items]
    with sessions() as session, session.begin():  # a write still updates the index, approximate part too
        posted = create_vacancy(
            session=session, data=NewVacancy(title="技术员", district="滨海新区"), enterprise_id="E2"
        ).vacancy_id
    with sessions() as session:
        fresh, _ = matching.candidates(session=session, vacancy=posted)
    assert matching.builds == 1 and (fresh.index.ann is not None) is approximate


def test_a_write_brings_the_snapshot_up_to_date_before_it_answers(api_with_model: Api) -> None:
    """The write pays for its update (``Context.commit`` -> ``catch_up``): once the API has answered a
    post or an outcome, the snapshot has it, and the reads after it update nothing."""
    api = api_with_model
    matching = api.client.app.state.services.matching  # type: ignore[attr-defined]
    hr = api.headers["hr_e2"]
    first = api.client.get("/api/v1/vacancies/V3/candidates?limit=50", headers=api.headers["admin"])
    assert first.status_code == 200, first.text
    assert matching.builds == 1 and matching.updates == 0
    refused = api.client.post("/api/v1/vacancies", json={"title": ""}, headers=hr)
    assert refused.status_code == 422 and matching.updates == 0  # nothing committed, nothing to update
    posted = api.client.post(
        "/api/v1/vacancies",
        json={"title": "倒装焊技术员", "district": "滨海新区", "required_skills": ["flip_chip"]},
        headers=hr,
    )
    assert posted.status_code == 201, posted.text
    assert matching.updates == 1  # before the answer
    vacancy = posted.json()["vacancy_id"]
    candidates = api.client.get(f"/api/v1/vacancies/{vacancy}/candidates?limit=50", headers=hr)
    assert candidates.status_code == 200 and candidates.json()["items"], candidates.text
    hired = candidates.json()["items"][0]["graduate_id"]
    outcome = api.client.post(
        f"/api/v1/vacancies/{vacancy}/feedback", json={"graduate_id": hired, "event": "hired"}, headers=hr
    )
    assert outcome.status_code in (200, 201), outcome.text
    assert matching.updates == 2
    again = api.client.get("/api/v1/vacancies/V3/candidates?limit=50", headers=api.headers["admin"])
    assert hired not in {m["graduate_id"] for m in again.json()["items"]}
    assert matching.updates == 2 and matching.builds == 1
