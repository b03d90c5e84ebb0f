"""``talentmatch purge``: retention of placed and withdrawn graduates."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from service.cli import main
from service.settings import get_settings
from service.store.session import data_version, make_sessionmaker
from service.store.tables import AuditEntry, Graduate, GraduateSkill, Interaction
from tests.factories import make_graduate, make_program, make_skill


@pytest.fixture
def store(sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("TALENTMATCH_DATABASE_URL", sqlite_engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("TALENTMATCH_RETENTION_DAYS", "30")
    get_settings.cache_clear()
    now = datetime.now()
    with make_sessionmaker(sqlite_engine)() as session, session.begin():
        skill = make_skill(session).skill_id
        program = make_program(session).program_id
        for graduate_id, status, days_ago in [
            ("OLD_PLACED", "placed", 40),
            ("OLD_WITHDRAWN", "withdrawn", 400),
            ("NEW_PLACED", "placed", 5),
            ("OLD_SEEKING", "seeking", 400),
            ("NO_DATE", "withdrawn", None),
        ]:
            changed = None if days_ago is None else now - timedelta(days=days_ago)
            make_graduate(
                session,
                graduate_id=graduate_id,
                program_id=program,
                status=status,
                status_changed_at=changed,
                skills=[skill],
            )
    yield sqlite_engine
    get_settings.cache_clear()


def _ids(engine: Engine) -> list[str]:
    with make_sessionmaker(engine)() as session:
        return sorted(session.scalars(select(Graduate.graduate_id)))


def test_purge_erases_only_expired_placed_and_withdrawn(
    store: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["purge", "--dry-run"]) == 0
    assert "would erase 3" in capsys.readouterr().out
    assert len(_ids(store)) == 5
    with make_sessionmaker(store)() as session:
        version = data_version(session)
    assert main(["purge"]) == 0
    assert "erased 3" in capsys.readouterr().out
    assert _ids(store) == ["NEW_PLACED", "OLD_SEEKING"]
    with make_sessionmaker(store)() as session:
        assert session.scalar(select(func.count()).select_from(GraduateSkill)) == 2
        assert session.scalar(select(func.count()).select_from(Interaction)) == 0
        assert data_version(session) > version
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "purge_graduates")).one()
        assert '"erased": 3' in entry.detail
    assert main(["purge", "--days", "1"]) == 0
    assert _ids(store) == ["OLD_SEEKING"]
    assert main(["purge", "--days", "-1"]) == 2
