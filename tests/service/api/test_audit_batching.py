"""Reads' audit entries leave the request path (service.store.audit_buffer) and are never lost.

In process (TestClient, the writer's interval set to an hour so only what the test does can write them): a
read's entry is not in the table when the request returns, but ``GET /api/v1/admin/audit`` shows it (the
route writes the batch first); a write's entry commits with the write; erasing a graduate redacts the
buffered entries naming them. Then a real uvicorn process (tests/live_server.py) answers N audited reads, is
killed with SIGKILL before writing any, and after a restart all N are in the audit exactly once.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, select

from service.store.session import make_sessionmaker
from service.store.tables import AuditEntry
from tests.live_server import running_server
from tests.service.api.conftest import Api, make_api, seed
from tests.serving import tiny_model

HOUR = 3600.0
LISTING = "/api/v1/programs/P1/graduates"


@pytest.fixture
def api(sqlite_engine: Engine, tmp_path: Path) -> Iterator[Api]:
    yield from make_api(sqlite_engine, tmp_path, model=tiny_model(), audit_flush_seconds=HOUR)


def in_table(engine: Engine, action: str) -> list[AuditEntry]:
    """The entries of ``action`` in the table as it is (no flush)."""
    with make_sessionmaker(engine)() as session:
        query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        return list(session.scalars(query))


def test_a_read_is_audited_off_the_request_path_and_the_audit_route_shows_it(api: Api) -> None:
    school = api.headers["school_s1"]
    for _ in range(3):
        assert api.client.get(LISTING, headers=school).status_code == 200
    assert in_table(api.engine, "list_graduates") == []
    assert api.client.app.state.services.audit_buffer.pending == 3  # type: ignore[attr-defined]
    audit = api.client.get("/api/v1/admin/audit?action=list_graduates", headers=api.headers["admin"])
    assert audit.status_code == 200 and audit.json()["total"] == 3
    item = audit.json()["items"][0]
    assert item["key_id"] == api.key_ids["school_s1"] and item["resource"] == "program:P1"
    assert json.loads(item["detail"])["graduates"] == ["G01", "G02", "G03", "G04"]
    assert len(in_table(api.engine, "list_graduates")) == 3


def test_a_write_keeps_its_entry_in_its_own_transaction(api: Api) -> None:
    vacancy = {"title": "测试岗位", "district": "越城区", "required_skills": ["spc"]}
    assert api.client.post("/api/v1/vacancies", json=vacancy, headers=api.headers["hr_e1"]).status_code == 201
    (entry,) = in_table(api.engine, "post_vacancy")
    assert entry.key_id == api.key_ids["hr_e1"]


def test_erasure_redacts_the_buffered_entries_naming_the_graduate(api: Api) -> None:
    school = api.headers["school_s1"]
    assert api.client.get("/api/v1/graduates/G02", headers=school).status_code == 200
    assert api.client.get(LISTING, headers=school).status_code == 200
    assert in_table(api.engine, "view_graduate") == []  # both still buffered
    assert api.client.delete("/api/v1/graduates/G02", headers=school).status_code == 204
    audit = api.client.get("/api/v1/admin/audit?limit=100", headers=api.headers["admin"]).json()["items"]
    viewed = next(e for e in audit if e["action"] == "view_graduate")
    listed = next(e for e in audit if e["action"] == "list_graduates")
    assert viewed["resource"] == "graduate:[erased]"
    assert json.loads(listed["detail"])["graduates"] == ["G01", "[erased]", "G03", "G04"]
    assert not any("G02" in e["resource"] or '"G02"' in e["detail"] for e in audit)


@pytest.mark.slow
def test_reads_answered_before_a_kill_9_are_in_the_audit_after_the_restart(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    _, headers = seed(sqlite_engine)
    env = {
        "TALENTMATCH_DATABASE_URL": sqlite_engine.url.render_as_string(hide_password=False),
        "TALENTMATCH_ARTIFACTS_DIR": str(tmp_path / "artifacts"),
        "TALENTMATCH_AUDIT_FLUSH_SECONDS": str(HOUR),  # nothing is written before the kill
        "TALENTMATCH_RATE_LIMIT_PER_MINUTE": "0",
    }
    reads = 25
    journal = tmp_path / "audit-journal"
    with running_server(env, tmp_path / "first.log") as (base, process):
        for _ in range(reads):
            response = httpx.get(f"{base}{LISTING}", headers=headers["school_s1"], timeout=10)
            assert response.status_code == 200
        assert in_table(sqlite_engine, "list_graduates") == []  # answered, journaled, not yet written
        (file,) = journal.glob("*.jsonl")
        assert len(file.read_text().splitlines()) == reads
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    assert in_table(sqlite_engine, "list_graduates") == []
    with running_server(env, tmp_path / "second.log") as (base, _):
        replayed = in_table(sqlite_engine, "list_graduates")  # replayed during start-up, before serving
        assert len(replayed) == reads
        assert {e.resource for e in replayed} == {"program:P1"}
        assert list(journal.glob("*.jsonl")) == []
        audit = httpx.get(
            f"{base}/api/v1/admin/audit?action=list_graduates", headers=headers["admin"], timeout=10
        )
        assert audit.json()["total"] == reads
    with make_sessionmaker(sqlite_engine)() as session:  # and the graceful stop wrote nothing twice
        count = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "list_graduates")
        assert session.scalar(count) == reads
