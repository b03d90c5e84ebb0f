"""Engines and sessions. Nothing connects at import; callers pass the URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, update
from sqlalchemy.orm import Session, sessionmaker

from service.store.tables import DataVersion


def make_engine(url: str, **kwargs: object) -> Engine:
    """Create an engine; for SQLite, make the parent folder and switch on foreign keys and WAL."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
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


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session whose work is committed on success and rolled back on any error."""
    with make_sessionmaker(engine)() as session, session.begin():
        yield session


def bump_data_version(session: Session) -> None:
    """Mark that matching-relevant data changed (see :class:`DataVersion`)."""
    result = session.execute(
        update(DataVersion).where(DataVersion.id == 1).values(counter=DataVersion.counter + 1)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        session.add(DataVersion(id=1, counter=1))


def data_version(session: Session) -> int:
    row = session.get(DataVersion, 1)
    return row.counter if row else 0
