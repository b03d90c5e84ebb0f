"""``talentmatch outcomes export``: the record of outcomes people recorded, as CSV or JSON, audited."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from service.cli import main
from service.settings import get_settings
from service.store.market import import_market
from service.store.session import make_sessionmaker
from service.store.tables import AuditEntry, Interaction
from tests.bundles import tiny_market
from tests.service.cli.test_data_cli import use_store


@pytest.fixture
def store(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    use_store(monkeypatch, engine)
    with make_sessionmaker(engine)() as session, session.begin():
        import_market(session=session, data=tiny_market())
        session.add(
            Interaction(
                graduate_id="G10",
                vacancy_id="V1",
                event="rejected",
                occurred_at=datetime(2026, 11, 30, 9, 0),
                recorded_by="k_hr1",
                recorded_via="web",
                model_version="20261130-abc",
                shown_score=0.031,
            )
        )
    yield engine
    get_settings.cache_clear()


def test_export_csv_and_json(store: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["outcomes", "export", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("occurred_at,vacancy_id,enterprise_id,graduate_id,event,recorded_by")
    assert lines[1:] == ["2026-11-30T09:00:00,V1,E1,G10,rejected,k_hr1,web,20261130-abc,0.031"]
    out = tmp_path / "outcomes.json"
    assert main(["outcomes", "export", "--since", "2026-11-01", "--out", str(out)]) == 0
    body = json.loads(out.read_text(encoding="utf-8"))
    assert body["count"] == 1 and body["items"][0]["shown_score"] == 0.031
    assert main(["outcomes", "export", "--until", "2026-11-01"]) == 0
    assert json.loads(capsys.readouterr().out)["count"] == 0
    with make_sessionmaker(store)() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "export_outcomes")).all()
        assert [e.key_id for e in entries] == ["cli", "cli", "cli"]
