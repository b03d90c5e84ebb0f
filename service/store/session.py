"""Engines and sessions. Nothing connects at import; callers pass the URL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from service.store.changes import record_changes
from service.store.tables import DataVersion


def make_engine(url: str, **kwargs: object) -> Engine:
    """Create an engine; for SQLite, create the file for its owner only (folder 0700, file 0600) and switch
    on foreign keys and WAL."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1].split("?", 1)[0]
        if path and path != ":memory:" and not path.startswith("file:"):
            _create_private_file(Path(path))
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)  # type: ignore[arg-type]

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)  # type: ignore[arg-type]


def _create_private_file(path: Path) -> None:
    """Create an empty database file readable by its owner only, unless it exists. SQLite gives the
    journal and WAL files the database file's permissions."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session whose work is committed on success and rolled back on any error."""
    with make_sessionmaker(engine)() as session, session.begin():
        yield session


def bump_data_version(session: Session) -> None:
    """Mark that matching-relevant data changed, without saying which rows: the service rebuilds its
    candidate index. Writes that know what they touched call
    :func:`service.store.changes.record_changes` instead."""
    record_changes(session=session, everything=True)


def data_version(session: Session) -> int:
    row = session.get(DataVersion, 1)
    return row.counter if row else 0
