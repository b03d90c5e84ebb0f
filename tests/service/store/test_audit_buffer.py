"""The batched audit of reads (service.store.audit_buffer): journaled at once, written in one INSERT per
batch, replayed after a crash without duplicates, never replaying a live process's file, and redacted when the
graduate it names was erased meanwhile. Real SQLite and PostgreSQL stores; the "other process" of a replay
is a second buffer whose journal files were left unlocked, as a killed process leaves them (the real
``kill -9`` of a server is in tests/service/api/test_audit_batching.py)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from service.store import audit_buffer
from service.store.audit_buffer import AuditBuffer, AuditRecord, lock_out_audit_writes, write_records
from service.store.graduates import erase_graduate
from service.store.session import make_sessionmaker, transaction
from service.store.tables import AuditEntry, Graduate
from tests.factories import make_graduate


def buffer_for(engine: Engine, folder: Path, *, interval: float = 3600.0) -> AuditBuffer:
    return AuditBuffer(
        sessionmaker=make_sessionmaker(engine),
        journal_dir=folder,
        database_url=engine.url.render_as_string(hide_password=False),
        interval=interval,
    )


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    return tmp_path / "audit-journal"


@pytest.fixture
def buffer(engine: Engine, journal: Path) -> Iterator[AuditBuffer]:
    made = buffer_for(engine, journal)
    made.start()
    yield made
    made.stop()


def entries(engine: Engine, action: str | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id)
    if action:
        query = query.where(AuditEntry.action == action)
    with make_sessionmaker(engine)() as session:
        return list(session.scalars(query))


def read(buffer: AuditBuffer, n: int, *, action: str = "list_candidates", **detail: Any) -> None:
    for i in range(n):
        buffer.record(key_id="k1", action=action, resource=f"vacancy:V{i}", detail={"i": i, **detail})


def journal_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.jsonl"))


def leave_as_killed(buffer: AuditBuffer) -> None:
    """What ``kill -9`` leaves: the journal files, unlocked (the kernel drops a dead process's locks)."""
    with buffer._lock:
        segments = [*buffer._sealed, *([buffer._current] if buffer._current else [])]
        buffer._sealed, buffer._current = [], None
    for segment in segments:
        os.close(segment.fd)


def test_reads_are_journaled_at_once_and_written_in_one_insert_per_batch(
    engine: Engine, buffer: AuditBuffer, journal: Path
) -> None:
    read(buffer, 40)
    assert entries(engine) == []  # not on the request path
    (file,) = journal_files(journal)
    assert len(file.read_text().splitlines()) == 40
    assert stat.S_IMODE(file.stat().st_mode) == 0o600 and stat.S_IMODE(journal.stat().st_mode) == 0o700
    inserts: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_LOG"):
            inserts.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        assert buffer.flush() == 40
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert len(inserts) == 1
    written = entries(engine)
    assert [json.loads(e.detail)["i"] for e in written] == list(range(40))
    assert {e.key_id for e in written} == {"k1"} and written[3].resource == "vacancy:V3"
    assert journal_files(journal) == [] and buffer.pending == 0
    assert buffer.flush() == 0


def test_the_writer_thread_flushes_every_interval_and_early_when_a_batch_is_full(
    engine: Engine, journal: Path
) -> None:
    quick = buffer_for(engine, journal, interval=0.2)
    quick.start()
    try:
        read(quick, 3)
        deadline = time.monotonic() + 5
        while len(entries(engine)) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(entries(engine)) == 3
    finally:
        quick.stop()
    slow = buffer_for(engine, journal)  # an hour's interval: only a full batch wakes it
    slow.start()
    try:
        read(slow, audit_buffer.MAX_BATCH, action="full_batch")
        deadline = time.monotonic() + 10
        while len(entries(engine, "full_batch")) < audit_buffer.MAX_BATCH and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(entries(engine, "full_batch")) == audit_buffer.MAX_BATCH
    finally:
        slow.stop()


def test_stop_flushes_what_is_left(engine: Engine, journal: Path) -> None:
    made = buffer_for(engine, journal)
    made.start()
    read(made, 7)
    made.stop()
    assert len(entries(engine)) == 7 and journal_files(journal) == []


def test_a_killed_process_journal_is_replayed_once_at_the_next_start(engine: Engine, journal: Path) -> None:
    killed = buffer_for(engine, journal)
    killed.start()
    read(killed, 12)
    leave_as_killed(killed)
    assert entries(engine) == [] and len(journal_files(journal)) == 1
    restarted = buffer_for(engine, journal)
    assert restarted.start() == 12
    restarted.stop()
    assert [json.loads(e.detail)["i"] for e in entries(engine)] == list(range(12))
    assert journal_files(journal) == []


def test_an_entry_already_written_is_not_replayed_twice(
    engine: Engine, journal: Path, tmp_path: Path
) -> None:
    """The process died after its INSERT committed but before it deleted the journal file."""
    first = buffer_for(engine, journal)
    first.start()
    read(first, 5)
    (file,) = journal_files(journal)
    kept = tmp_path / "copy"
    shutil.copyfile(file, kept)
    first.stop()
    shutil.copyfile(kept, file)  # the file the dead process did not get to delete
    second = buffer_for(engine, journal)
    assert second.start() == 0
    second.stop()
    assert len(entries(engine)) == 5 and journal_files(journal) == []


def test_a_live_process_journal_and_another_store_s_are_left_alone(
    engine: Engine, journal: Path, tmp_path: Path
) -> None:
    live = buffer_for(engine, journal)
    live.start()
    read(live, 4)
    starting = buffer_for(engine, journal)
    assert starting.start() == 0  # another worker starting: the live one's file is locked
    assert entries(engine) == [] and len(journal_files(journal)) == 1
    other_store = AuditBuffer(
        sessionmaker=make_sessionmaker(engine),
        journal_dir=journal,
        database_url=f"sqlite:///{tmp_path / 'elsewhere.db'}",
        interval=3600.0,
    )
    leave_as_killed(live)
    assert other_store.start() == 0  # the dead file belongs to another database
    other_store.stop()
    assert len(journal_files(journal)) == 1
    starting.stop()
    assert buffer_for(engine, journal).replay() == 4


def test_a_line_cut_short_by_the_kill_is_skipped_and_the_rest_replayed(engine: Engine, journal: Path) -> None:
    killed = buffer_for(engine, journal)
    killed.start()
    read(killed, 3)
    leave_as_killed(killed)
    (file,) = journal_files(journal)
    with file.open("ab") as handle:
        handle.write(b'{"at": "2026-01-01T00:00:00", "key_id": "k1", "act')
    assert buffer_for(engine, journal).replay() == 3


def test_entries_naming_a_graduate_erased_meanwhile_are_redacted_when_written(
    engine: Engine, journal: Path
) -> None:
    """The erasure ran (in any process) after the reads were journaled and before they were written."""
    with transaction(engine) as session:
        erased = make_graduate(session).graduate_id
        kept = make_graduate(session).graduate_id
    for replayed in (False, True):
        made = buffer_for(engine, journal)
        made.start()
        made.record(key_id="k1", action="view_graduate", resource=f"graduate:{erased}", detail={"via": "api"})
        made.record(
            key_id="k1", action="list_candidates", resource="vacancy:V1", detail={"graduates": [kept, erased]}
        )
        made.record(key_id="k1", action="view_graduate", resource=f"graduate:{kept}", detail={})
        if not replayed:
            with transaction(engine) as session:
                graduate = session.get(Graduate, erased)
                assert graduate is not None
                erase_graduate(session=session, graduate=graduate)
            made.stop()
        else:
            leave_as_killed(made)
            assert buffer_for(engine, journal).replay() == 3
        viewed, listed, other = entries(engine)[-3:]
        assert viewed.resource == "graduate:[erased]"
        assert json.loads(listed.detail)["graduates"] == [kept, "[erased]"]
        assert other.resource == f"graduate:{kept}"
        with make_sessionmaker(engine)() as session:
            named = select(func.count()).select_from(AuditEntry).where(AuditEntry.detail.contains(erased))
            assert session.scalar(named) == 0
            assert session.scalar(select(func.count()).where(AuditEntry.resource.contains(erased))) == 0


def test_a_record_round_trips_through_its_journal_line() -> None:
    record = AuditRecord.of(
        key_id=None, action="a", resource="graduate:G1", detail={"graduates": ["G2"], "x": "中"}
    )
    assert AuditRecord.parse(record.line().decode()) == record
    assert record.named_graduates() == {"G1", "G2"}


def _erase(engine: Engine, graduate_id: str, *, commit: bool = True) -> Session:
    """Erase ``graduate_id`` as the use case does (lock, delete, redact); the session is returned uncommitted
    unless ``commit``."""
    session = make_sessionmaker(engine)()
    lock_out_audit_writes(session)
    graduate = session.get(Graduate, graduate_id)
    assert graduate is not None
    erase_graduate(session=session, graduate=graduate)
    if commit:
        session.commit()
        session.close()
    return session


def test_a_batch_written_while_an_erasure_runs_waits_for_it_and_is_redacted(
    engine: Engine, journal: Path
) -> None:
    with transaction(engine) as session:
        graduate_id = make_graduate(session).graduate_id
    made = buffer_for(engine, journal)
    made.start()
    made.record(key_id="k1", action="view_graduate", resource=f"graduate:{graduate_id}", detail={})
    erasing = _erase(engine, graduate_id, commit=False)
    flushing = threading.Thread(target=made.flush)
    try:
        flushing.start()
        flushing.join(timeout=1.0)
        waited = flushing.is_alive()  # for the erasure to finish
        erasing.commit()
    finally:
        erasing.close()
        flushing.join(timeout=30)
        made.stop()
    assert waited and not flushing.is_alive()
    (entry,) = entries(engine, "view_graduate")
    assert entry.resource == "graduate:[erased]"


def test_an_erasure_started_while_a_batch_is_written_waits_and_redacts_it(engine: Engine) -> None:
    with transaction(engine) as session:
        graduate_id = make_graduate(session).graduate_id
    record = AuditRecord.of(key_id="k1", action="list_candidates", resource="vacancy:V1", detail={})
    listed = AuditRecord.of(
        key_id="k1", action="list_candidates", resource="vacancy:V1", detail={"graduates": [graduate_id]}
    )
    writing = make_sessionmaker(engine)()
    erasure = threading.Thread(target=_erase, args=(engine, graduate_id))
    try:
        write_records(writing, [record, listed])  # not committed yet
        erasure.start()
        erasure.join(timeout=1.0)
        waited = erasure.is_alive()  # for the batch
        writing.commit()
    finally:
        writing.close()
        erasure.join(timeout=30)
    assert waited and not erasure.is_alive()
    assert [json.loads(e.detail) for e in entries(engine)] == [{}, {"graduates": ["[erased]"]}]
