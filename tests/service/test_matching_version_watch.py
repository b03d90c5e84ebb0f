"""The data version a request checks (service.matching.VersionWatch): read from the store at most once per
interval, and again at once after a commit of this process moved it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from service.matching import VersionWatch
from service.store.changes import local_commits, record_changes
from service.store.session import make_sessionmaker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _version_reads(engine: Engine) -> list[str]:
    """The reads of the version's row (``data_version``), not a write's own read after its bump."""
    seen: list[str] = []

    def listen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("SELECT data_version.id, data_version.counter"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", listen)
    return seen


def test_a_write_here_is_seen_at_once_and_one_elsewhere_within_the_interval(sqlite_engine: Engine) -> None:
    sessions = make_sessionmaker(sqlite_engine)
    with sessions() as session, session.begin():
        record_changes(session=session, vacancies=["V1"])
    clock = Clock()
    watch = VersionWatch(0.5, clock=clock)
    reads = _version_reads(sqlite_engine)
    with sessions() as session:
        first = watch.version(session)
        assert [watch.version(session) for _ in range(3)] == [first] * 3
    assert len(reads) == 1

    # A write through this process (any session): the next check reads the store again.
    with sessions() as session, session.begin():
        record_changes(session=session, vacancies=["V2"])
    with sessions() as session:
        assert watch.version(session) == first + 1
    assert len(reads) == 2

    # A write this process did not make (another worker, a replica, the command line): seen when the
    # interval has passed.
    with sqlite_engine.begin() as connection:
        connection.execute(text("UPDATE data_version SET counter = counter + 1 WHERE id = 1"))
    with sessions() as session:
        clock.now += 0.49
        assert watch.version(session) == first + 1
        clock.now += 0.01
        assert watch.version(session) == first + 2


def test_a_rolled_back_write_is_not_counted(sqlite_engine: Engine) -> None:
    sessions = make_sessionmaker(sqlite_engine)
    before = local_commits()
    with sessions() as session:
        record_changes(session=session, graduates=["G1"])
        session.rollback()
        session.commit()  # nothing left to commit
    assert local_commits() == before
    with sessions() as session, session.begin():
        record_changes(session=session, graduates=["G1"])
    assert local_commits() == before + 1


@pytest.mark.parametrize("max_age", [0.0, -1.0])
def test_no_interval_reads_every_time(sqlite_engine: Engine, max_age: float) -> None:
    watch = VersionWatch(max_age, clock=Clock())
    reads = _version_reads(sqlite_engine)
    with make_sessionmaker(sqlite_engine)() as session:
        for _ in range(3):
            watch.version(session)
    assert len(reads) == 3
