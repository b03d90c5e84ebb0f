"""Erasure and retention (PIPL): an erased or purged graduate leaves no row, no trace in the audit log, no
trace in the answers, and none in the next trained model's files."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session
from threadpoolctl import threadpool_limits

from models.columns import Columns as C
from service.cli import main
from service.retrain import train
from service.settings import Settings, get_settings
from service.store.graduates import erase_graduate, get_graduate
from service.store.market import import_market
from service.store.migrate import upgrade
from service.store.retention import expired_graduates, purge_expired
from service.store.session import make_engine, make_sessionmaker
from service.store.tables import AuditEntry, Base, Graduate, Interaction
from service.store.vacancies import hires
from tests.factories import make_graduate, make_program, make_skill, make_vacancy
from tests.service.api.conftest import Api
from tests.training.small_world import SMALL, small_market
from training.registry import Registry


def store_cells(session: Session) -> list[tuple[str, str]]:
    """(table, cell) of every text cell of every table."""
    cells = []
    for table in Base.metadata.sorted_tables:
        for row in session.execute(table.select()):
            cells.extend((table.name, str(value)) for value in row if isinstance(value, str))
    return cells


def traces(session: Session, graduate_id: str) -> list[tuple[str, str]]:
    """Cells that are the id or name it (e.g. ``graduate:G01`` in the audit log)."""
    return [
        (table, cell)
        for table, cell in store_cells(session)
        if cell == graduate_id or f":{graduate_id}" in cell or f'"{graduate_id}"' in cell
    ]


def test_erasure_leaves_no_row_and_no_trace(api_with_model: Api) -> None:
    api = api_with_model
    school = api.headers["school_s1"]
    # Leave traces first: recommendations are audited under the graduate, feedback adds an interaction.
    assert api.client.get("/api/v1/graduates/G05/recommendations", headers=school).status_code == 200
    feedback = {"graduate_id": "G05", "event": "interviewed"}
    assert (
        api.client.post(
            "/api/v1/vacancies/V3/feedback", json=feedback, headers=api.headers["hr_e2"]
        ).status_code
        == 201
    )
    with api.session() as session:
        assert traces(session, "G05")
    before = api.client.get("/api/v1/vacancies/V3/candidates?limit=100", headers=api.headers["hr_e2"]).json()

    assert api.client.delete("/api/v1/graduates/G05", headers=school).status_code == 204

    with api.session() as session:
        assert traces(session, "G05") == []
        assert session.scalar(select(func.count()).select_from(AuditEntry)) >= 2  # the fact of access stays
    assert api.client.get("/api/v1/graduates/G05", headers=school).status_code == 404
    assert api.client.delete("/api/v1/graduates/G05", headers=school).status_code == 404
    after = api.client.get("/api/v1/vacancies/V3/candidates?limit=100", headers=api.headers["hr_e2"]).json()
    assert "G05" in {i["graduate_id"] for i in before["items"]}
    assert "G05" not in {i["graduate_id"] for i in after["items"]}
    # The erasure itself is audited without the id.
    audit = api.client.get("/api/v1/admin/audit?action=erase_graduate", headers=api.headers["admin"]).json()
    assert audit["total"] == 1 and "G05" not in str(audit)


def test_retention_ages_by_status_change_else_latest_interaction(sqlite_engine: Engine) -> None:
    now = datetime(2027, 6, 1)
    old, recent = now - timedelta(days=400), now - timedelta(days=10)
    with make_sessionmaker(sqlite_engine)() as session, session.begin():
        skill = make_skill(session).skill_id
        program = make_program(session).program_id
        vacancy = make_vacancy(session, required_skills=[skill]).vacancy_id
        rows = [
            ("R_OLD_PLACED", "placed", old, None),
            ("R_NEW_PLACED", "placed", recent, None),
            ("R_UNSET_OLD_EVENT", "withdrawn", None, old),
            ("R_UNSET_NEW_EVENT", "withdrawn", None, recent),
            ("R_UNSET_NO_EVENT", "placed", None, None),
            ("R_SEEKING_OLD", "seeking", old, old),
            ("R_NEW_STATUS_OLD_EVENT", "placed", recent, old),
        ]
        for graduate_id, status, changed, event in rows:
            make_graduate(
                session, graduate_id=graduate_id, program_id=program, status=status, status_changed_at=changed
            )
            if event is not None:
                session.add(
                    Interaction(
                        graduate_id=graduate_id, vacancy_id=vacancy, event="applied", occurred_at=event
                    )
                )
    with make_sessionmaker(sqlite_engine)() as session, session.begin():
        expired, undated, cutoff = expired_graduates(session=session, retention_days=365, now=now)
        assert sorted(expired) == ["R_OLD_PLACED", "R_UNSET_NO_EVENT", "R_UNSET_OLD_EVENT"]
        assert undated == 1 and cutoff == now - timedelta(days=365)
        dry = purge_expired(session=session, retention_days=365, now=now, dry_run=True)
        assert dry.total == 3 and dry.rows["interactions"] == 1
        assert session.scalar(select(func.count()).select_from(Graduate)) == len(rows)
        report = purge_expired(session=session, retention_days=365, now=now)
        assert report.total == 3 and report.graduates == {"placed": 2, "withdrawn": 1}
        assert "R_OLD_PLACED" not in "\n".join(report.lines())  # counts, never ids
    with make_sessionmaker(sqlite_engine)() as session:
        left = sorted(session.scalars(select(Graduate.graduate_id)))
        assert left == ["R_NEW_PLACED", "R_NEW_STATUS_OLD_EVENT", "R_SEEKING_OLD", "R_UNSET_NEW_EVENT"]
        assert all(not traces(session, g) for g in expired)


def test_erased_and_purged_hires_keep_their_seats(engine: Engine) -> None:
    """Erasing a hired graduate deletes their rows but not the seat they took (headcount stays used)."""
    now = datetime(2027, 6, 1)
    with make_sessionmaker(engine)() as session, session.begin():
        program = make_program(session).program_id
        vacancy = make_vacancy(session, headcount=3).vacancy_id
        for graduate_id, changed in (
            ("H_ERASED", now),
            ("H_PURGED", now - timedelta(days=400)),
            ("H_KEPT", now),
        ):
            make_graduate(
                session,
                graduate_id=graduate_id,
                program_id=program,
                status="placed",
                status_changed_at=changed,
            )
            session.add(
                Interaction(graduate_id=graduate_id, vacancy_id=vacancy, event="hired", occurred_at=now)
            )
    with make_sessionmaker(engine)() as session, session.begin():
        assert hires(session=session, vacancy_ids=[vacancy]) == {vacancy: 3}
        erase_graduate(session=session, graduate=get_graduate(session=session, graduate_id="H_ERASED"))
    with make_sessionmaker(engine)() as session, session.begin():
        report = purge_expired(session=session, retention_days=365, now=now)
        assert report.total == 1
    with make_sessionmaker(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Interaction)) == 1  # only H_KEPT's hire
        assert hires(session=session, vacancy_ids=[vacancy]) == {vacancy: 3}
        assert not traces(session, "H_ERASED") and not traces(session, "H_PURGED")


def artifact_bytes(settings: Settings, version: str) -> bytes:
    directory = Registry(settings.artifacts_dir).version_dir(version)
    return b"\n".join(p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file())


@pytest.mark.slow
def test_erased_and_purged_graduates_leave_the_next_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    settings = Settings(database_url=url, artifacts_dir=tmp_path / "artifacts")
    monkeypatch.setenv("TALENTMATCH_DATABASE_URL", url)
    monkeypatch.setenv("TALENTMATCH_ARTIFACTS_DIR", str(settings.artifacts_dir))
    get_settings.cache_clear()
    market = small_market(0.25)
    engine = make_engine(url)
    upgrade(engine)
    with make_sessionmaker(engine)() as session, session.begin():
        import_market(session=session, data=market)
    with threadpool_limits(1):
        first = train(settings, quiet=True, config=SMALL, force=True)  # quality is not the point here
    assert first.promoted, first.summary()
    old = artifact_bytes(settings, first.version)

    # Graduates the first model knows by id: those with interactions.
    events = market.interactions
    known = [g for g in events[C.graduate].value_counts().index if g.encode() in old]
    assert len(known) >= 6, "the artifact keeps no graduate ids: nothing to check"
    graduates = market.graduates.set_index(C.graduate)
    leaving = [g for g in known if graduates.loc[g, C.status] in ("placed", "withdrawn")][:3]
    erased = [g for g in known if g not in leaving][:2]
    kept = [g for g in known if g not in leaving and g not in erased]
    assert leaving and erased and kept

    with make_sessionmaker(engine)() as session, session.begin():
        for graduate_id in erased:  # what DELETE /api/v1/graduates/{id} does
            erase_graduate(session=session, graduate=get_graduate(session=session, graduate_id=graduate_id))
        session.execute(
            update(Graduate)
            .where(Graduate.graduate_id.in_(leaving))
            .values(status_changed_at=datetime(2020, 1, 1))
        )
    assert main(["purge", "--dry-run"]) == 0
    with make_sessionmaker(engine)() as session:
        assert all(session.get(Graduate, g) is not None for g in leaving)  # a dry run changes nothing
    assert main(["purge"]) == 0
    with make_sessionmaker(engine)() as session:
        gone = [g for g in leaving + erased if session.get(Graduate, g) is not None]
        assert gone == []
        assert (
            session.scalar(
                select(func.count())
                .select_from(Interaction)
                .where(Interaction.graduate_id.in_(leaving + erased))
            )
            == 0
        )
    engine.dispose()

    with threadpool_limits(1):
        second = train(settings, quiet=True, config=SMALL, force=True)
    assert second.version != first.version
    new = artifact_bytes(settings, second.version)
    for graduate_id in leaving + erased:
        assert graduate_id.encode() in old
        assert graduate_id.encode() not in new, f"{graduate_id} is still in model {second.version}"
    assert any(g.encode() in new for g in kept)  # the check can see ids: kept graduates are there
    get_settings.cache_clear()
