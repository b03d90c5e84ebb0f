"""Audit entries of reads, written off the request path in batches and never lost.

What goes where:

- **Writes** (a vacancy posted, an outcome recorded, a graduate erased, a key revoked…) keep their audit entry
  in the request's own transaction (:meth:`service.usecases.context.Context.audit`): the entry commits with
  the change or not at all, as before.
- **Reads** (candidates listed, a graduate viewed, a plan shown…) commit nothing else, so their entry goes to
  this process's :class:`AuditBuffer` (:meth:`~service.usecases.context.Context.audit_read`). The request
  appends it as one line to a local **journal** file and to a list in memory, and answers; a background thread
  writes the list to ``audit_log`` every ``TALENTMATCH_AUDIT_FLUSH_SECONDS`` (0.5) or every
  :data:`MAX_BATCH` entries, in one INSERT statement, then deletes the journal file that held them. The app's
  shutdown flushes what is left.

Never lost: the journal line is written (``os.write`` on an ``O_APPEND`` file) before the request answers, so
an entry survives the process being killed (``kill -9``: the kernel holds the write). At start-up the app
replays every journal file left by a process that is gone and deletes it. Each file is ``flock``-ed by the
process writing it for as long as it lives, so a worker starting next to live ones replays only the dead
ones' files; a replayed entry already in the table (the process died between its INSERT's commit and the
file's deletion) is recognised by its time, key and action and not inserted twice. The journal folder
(``TALENTMATCH_AUDIT_JOURNAL_DIR``, by default ``audit-journal`` beside the artifacts folder) is 0700 and its
files 0600, named after the database they belong to, so two stores never replay into each other. Not
covered: a power cut may lose the entries of the last interval that the disk had not yet written (the
journal is not fsync-ed per request; that would cost a disk flush per read).

Erasure: an entry naming a graduate (``graduate:<id>`` as its resource, or in its detail's ``graduates``)
who is gone by the time the entry is written — erased or purged after the read, in this process or another —
is redacted exactly as erasure redacts the entries already in the table (the id becomes ``[erased]``). The
check runs in the INSERT's transaction after the rows are written, holding the database's write lock
(SQLite) or an advisory lock that erasures and purges take exclusively (PostgreSQL,
:func:`lock_out_audit_writes`), so an erasure either sees the new rows or has deleted its graduate before
the check: no interleaving leaves an id behind. Journal files live at most one interval, and a replayed
file goes through the same check.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session

from service.store.graduates import ERASED, ERASED_ID
from service.store.tables import AuditEntry, Graduate

log = logging.getLogger(__name__)

MAX_BATCH = 500  # entries waiting that wake the writer before its interval
SUFFIX = ".jsonl"
_IN_CHUNK = 500  # ids per IN (...) when checking which graduates still exist
# The PostgreSQL advisory lock an erasure holds exclusively and a batch of audit entries shares.
ERASURE_LOCK = 0x7461_6C65_6E74  # "talent"
_AUDIT = AuditEntry.metadata.tables[AuditEntry.__tablename__]
_GRADUATES = Graduate.metadata.tables[Graduate.__tablename__]


@dataclass(frozen=True)
class AuditRecord:
    """One audit entry as the table holds it (``detail`` already JSON text)."""

    at: datetime
    key_id: str | None
    action: str
    resource: str
    detail: str

    @classmethod
    def of(
        cls, *, key_id: str | None, action: str, resource: str, detail: Mapping[str, Any] | None
    ) -> AuditRecord:
        text = json.dumps(dict(detail or {}), ensure_ascii=False)
        at = datetime.now(UTC).replace(tzinfo=None)
        return cls(at=at, key_id=key_id, action=action, resource=resource, detail=text)

    def line(self) -> bytes:
        fields = {**self.row(), "at": self.at.isoformat()}
        return (json.dumps(fields, ensure_ascii=False) + "\n").encode("utf-8")

    @classmethod
    def parse(cls, line: str) -> AuditRecord:
        fields = json.loads(line)
        return cls(
            at=datetime.fromisoformat(fields["at"]),
            key_id=fields["key_id"],
            action=fields["action"],
            resource=fields["resource"],
            detail=fields["detail"],
        )

    def row(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "key_id": self.key_id,
            "action": self.action,
            "resource": self.resource,
            "detail": self.detail,
        }

    def named_graduates(self) -> set[str]:
        """The graduate ids this entry names (its resource, its detail's ``graduates``)."""
        named: set[str] = set()
        if self.resource.startswith("graduate:"):
            named.add(self.resource.removeprefix("graduate:"))
        if '"graduates"' in self.detail:
            listed = json.loads(self.detail).get("graduates")
            if isinstance(listed, list):
                named.update(g for g in listed if isinstance(g, str))
        return named - {ERASED_ID}


def write_records(session: Session, records: list[AuditRecord]) -> None:
    """Insert ``records`` in the caller's transaction (one INSERT statement executed for every row), then
    redact every entry naming one of their graduates who no longer exists (see the module docstring for why
    in this order and under which lock)."""
    if not records:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock_shared(ERASURE_LOCK)))
    connection.execute(insert(_AUDIT), [r.row() for r in records])
    named = set().union(*(r.named_graduates() for r in records))
    if named:
        for graduate_id in sorted(named - _existing_graduates(connection, sorted(named))):
            redact_graduate(session, graduate_id)


def lock_out_audit_writes(session: Session) -> None:
    """Called by an erasure (or a purge) before it deletes graduates: on PostgreSQL it waits for batches being
    written and holds new ones until its commit, so a batch naming an erased graduate is either seen by the
    erasure's redaction or sees the graduate gone. On SQLite the database's one writer already orders them."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(ERASURE_LOCK)))


def redact_graduate(session: Session, graduate_id: str) -> None:
    """Blank ``graduate_id`` out of the audit as ``service.store.graduates.erase_graduate`` does."""
    session.execute(
        update(AuditEntry).where(AuditEntry.resource == f"graduate:{graduate_id}").values(resource=ERASED)
    )
    needle = json.dumps(graduate_id, ensure_ascii=False)
    session.execute(
        update(AuditEntry)
        .where(AuditEntry.detail.contains(needle))
        .values(detail=func.replace(AuditEntry.detail, needle, json.dumps(ERASED_ID)))
    )


def _existing_graduates(connection: Connection, graduate_ids: list[str]) -> set[str]:
    found: set[str] = set()
    column = _GRADUATES.c.graduate_id
    for start in range(0, len(graduate_ids), _IN_CHUNK):
        chunk = graduate_ids[start : start + _IN_CHUNK]
        found.update(connection.scalars(select(column).where(column.in_(chunk))))
    return found


def database_tag(database_url: str) -> str:
    """A short name for the store (its URL without the password, hashed) that journal files carry."""
    plain = make_url(database_url).render_as_string(hide_password=True)
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()[:12]


class _Segment:
    """One journal file this process writes, ``flock``-ed from creation until it is deleted."""

    def __init__(self, folder: Path, prefix: str) -> None:
        name = f"{prefix}{os.getpid()}-{secrets.token_hex(6)}"
        # Created and locked under a name replay ignores, then renamed: no other process can see it unlocked.
        temporary = folder / f".{name}.tmp"
        self.fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.path = folder / f"{name}{SUFFIX}"
        os.rename(temporary, self.path)
        self.records: list[AuditRecord] = []

    def append(self, record: AuditRecord, line: bytes) -> None:
        """Write ``record``'s journal line (``record.line()``, encoded by the caller outside the lock)."""
        written = os.write(self.fd, line)
        if written != len(line):  # a short write to a local file means the disk is full
            raise OSError(f"audit journal {self.path}: wrote {written} of {len(line)} bytes")
        self.records.append(record)

    def delete(self) -> None:
        self.path.unlink(missing_ok=True)
        os.close(self.fd)  # releases the lock


class AuditBuffer:
    """This process's audit entries of reads: journaled at once, written to the table in batches.

    Until :meth:`start` (the app's lifespan) it is not running and :meth:`record` is not to be used: the
    command line and tests without an app write their entries in the action's transaction instead
    (:meth:`service.usecases.context.Context.audit_read`).
    """

    def __init__(
        self,
        *,
        sessionmaker: Callable[[], Session],
        journal_dir: Path,
        database_url: str,
        interval: float,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.journal_dir = journal_dir
        self.prefix = f"audit-{database_tag(database_url)}-"
        self.interval = interval
        self._lock = threading.Lock()  # the open segment and the sealed ones
        self._flushing = threading.Lock()  # one flush at a time
        self._current: _Segment | None = None
        self._sealed: list[_Segment] = []
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> int:
        """Replay the journal files of processes that are gone, then start the writer thread; returns how
        many entries were replayed."""
        self.journal_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.journal_dir, 0o700)
        try:
            replayed = self.replay()
        except Exception:  # noqa: BLE001 - the files stay; the next start replays them
            log.exception("audit: replaying the journal failed; its files are kept for the next start")
            replayed = 0
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
        self._thread.start()
        return replayed

    def stop(self) -> None:
        """Stop the writer and flush what is left (the app's shutdown). Entries that cannot be written now
        stay in the journal for the next start."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping.set()
            self._wake.set()
            thread.join(timeout=30)
        try:
            self.flush()
        except Exception:  # noqa: BLE001 - the journal keeps them; the next start replays them
            log.exception("audit: %d entries not written at shutdown; they stay in the journal", self.pending)

    def record(self, *, key_id: str | None, action: str, resource: str, detail: Mapping[str, Any]) -> None:
        """Journal one entry and queue it for the writer (returns once the journal line is written)."""
        entry = AuditRecord.of(key_id=key_id, action=action, resource=resource, detail=detail)
        line = entry.line()  # encoded before the lock: every request thread queues on it
        with self._lock:
            if self._current is None:
                self._current = _Segment(self.journal_dir, self.prefix)
            self._current.append(entry, line)
            full = len(self._current.records) >= MAX_BATCH
        if full:
            self._wake.set()

    @property
    def pending(self) -> int:
        """Entries journaled but not yet in the table."""
        with self._lock:
            segments = [*self._sealed, *([self._current] if self._current else [])]
            return sum(len(s.records) for s in segments)

    def flush(self) -> int:
        """Write every entry journaled so far to the table (in this thread); returns how many. Raises when the
        database refuses them (they stay queued and journaled)."""
        with self._flushing:
            with self._lock:
                if self._current is not None:
                    self._sealed.append(self._current)
                    self._current = None
                sealed = list(self._sealed)
            if not sealed:
                return 0
            records = [r for segment in sealed for r in segment.records]
            with self.sessionmaker() as session:
                write_records(session, records)
                session.commit()
            with self._lock:
                self._sealed = [s for s in self._sealed if s not in sealed]
            for segment in sealed:
                segment.delete()
            return len(records)

    def replay(self) -> int:
        """Write the entries of journal files whose process is gone (not already in the table), then delete
        the files; files of live processes (locked) are left alone."""
        replayed = 0
        for path in sorted(self.journal_dir.glob(f"{self.prefix}*{SUFFIX}")):
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue  # another starting worker replayed it
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # its process is alive
                if not path.exists() or os.stat(path).st_ino != os.fstat(fd).st_ino:
                    continue  # replayed and deleted while we waited
                records = _read_journal(path)
                fresh = self._not_in_table(records)
                with self.sessionmaker() as session:
                    write_records(session, fresh)
                    session.commit()
                path.unlink(missing_ok=True)
                replayed += len(fresh)
                log.warning(
                    "audit: replayed %d entries left by a stopped process (%s)", len(fresh), path.name
                )
            finally:
                os.close(fd)
        return replayed

    def _not_in_table(self, records: list[AuditRecord]) -> list[AuditRecord]:
        if not records:
            return []
        with self.sessionmaker() as session:
            query = select(AuditEntry.at, AuditEntry.key_id, AuditEntry.action).where(
                AuditEntry.at >= min(r.at for r in records), AuditEntry.at <= max(r.at for r in records)
            )
            present = {tuple(row) for row in session.execute(query)}
        return [r for r in records if (r.at, r.key_id, r.action) not in present]

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - retried next interval; the journal keeps the entries
                log.exception("audit: writing %d entries failed; retrying", self.pending)


def _read_journal(path: Path) -> list[AuditRecord]:
    records = []
    for number, line in enumerate(_lines(path.read_text(encoding="utf-8", errors="replace")), start=1):
        try:
            records.append(AuditRecord.parse(line))
        except (ValueError, KeyError, TypeError):
            log.error("audit: %s line %d is not an entry (a write cut short?); skipped", path.name, number)
    return records


def _lines(text: str) -> Iterable[str]:
    return (line for line in text.splitlines() if line.strip())
