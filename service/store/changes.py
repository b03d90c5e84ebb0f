"""What each write changed, for the service's candidate index: the data version and the change log.

Every write that changes what matching sees moves the data version (the one ``data_version`` counter) and,
in the same transaction, logs one ``data_changes`` row per graduate and vacancy it touched, stamped with the
counter's new value (:func:`record_changes`). The counter's row is locked from the bump to the commit (a
row lock on PostgreSQL, the database's write lock on SQLite), so versions commit in order: whoever reads
version V also sees every row of every version up to V. A service holding an index of version v re-reads
only the graduates and vacancies named after v (:func:`changes_since`) instead of the whole store.

A write that cannot name what it touched (an import of skills, schools, programmes or enterprises, more rows
than :data:`MAX_ROWS`, or a plain :func:`~service.store.session.bump_data_version`) logs one row for
everything (entity ``*``): the reader rebuilds its index. Rows older than :data:`RETENTION` are pruned as
writes go on; a ``*`` row at the newest pruned version makes a reader that far behind rebuild.

This process also counts its own commits that moved the version (:func:`local_commits`): a reader that
keeps the version it last read for a moment (:class:`service.matching.VersionWatch`) reads it again at once
after a write made here, and within its interval after one made elsewhere.

An erasure may not leave the graduate's id behind, here either: it deletes every row naming them
(:func:`forget_graduates`) and logs an ``erased`` row holding only a 16-bit digest of the id
(:func:`erasure_digest`). A digest names no one: every possible id falls into one of 65,536 buckets, and
only someone who already holds the id can tell it is one of those of its bucket, which the id's absence
from the store tells them anyway (and the row goes with the rest of the log after :data:`RETENTION`). A
reader re-reads the graduates of its pool in those buckets (~3 per bucket at 170k graduates), so an
erasure costs it O(graduates erased) instead of a list of the whole pool. A row without a digest (an
older log) makes the reader list the ids of the seeking graduates, as it did before digests.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, event, func, insert, select, update
from sqlalchemy.orm import Session

from service.store.tables import DataChange, DataVersion

GRADUATE = "graduate"
VACANCY = "vacancy"
EVERYTHING = "*"
ERASED = "erased"
UNKNOWN_DIGEST = ""  # an erased row logged without a digest (before digests): the reader lists the pool
# A write touching more rows logs "everything": re-reading that many rows costs about a rebuild anyway.
MAX_ROWS = 10_000
RETENTION = timedelta(days=1)
PRUNE_EVERY = 1_000  # versions between two prunes
_MOVED = "talentmatch.data_version_moved"  # Session.info: this transaction moved the data version
_local_commits = itertools.count(1)
_local_committed = 0  # how many commits of this process moved the data version


@dataclass(frozen=True)
class Changes:
    """What changed after some data version, as :func:`changes_since` found it.

    Attributes
    ----------
    version
        The newest version among the rows read (the version asked about when there were none).
    graduates, vacancies
        Ids to read again: each may have been added, edited, or removed (or left the candidate pool).
    erased
        The digests of the graduates erased (:func:`erasure_digest`; :data:`UNKNOWN_DIGEST`: an erasure
        logged without one).
    everything
        A change that names no rows, a gap left by pruning, or more rows than asked for: rebuild.
    """

    version: int
    graduates: frozenset[str] = frozenset()
    vacancies: frozenset[str] = frozenset()
    erased: frozenset[str] = frozenset()
    everything: bool = False

    def __len__(self) -> int:
        return len(self.graduates) + len(self.vacancies)


def erasure_digest(graduate_id: str) -> str:
    """The 16 bits of the id's CRC-32 an erasure is logged by, as 4 hex digits (stable across processes
    and Python versions, unlike ``hash``; not a secret, nor meant to be: see the module docstring)."""
    return f"{zlib.crc32(str(graduate_id).encode()) & 0xFFFF:04x}"


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _bump(session: Session) -> int:
    """Add one to the data version (creating its row at 1) and return the new value."""
    result = session.execute(
        update(DataVersion).where(DataVersion.id == 1).values(counter=DataVersion.counter + 1)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        session.add(DataVersion(id=1, counter=1))
        session.flush()
        return 1
    return int(session.scalar(select(DataVersion.counter).where(DataVersion.id == 1)) or 0)


def record_changes(
    *,
    session: Session,
    graduates: Iterable[str] = (),
    vacancies: Iterable[str] = (),
    erased: Iterable[str] = (),
    everything: bool = False,
) -> int:
    """Move the data version in the caller's transaction and log what moved it; returns the new version.

    ``erased``: the ids of graduates erased (after :func:`forget_graduates`), logged as their digests
    only. With no ids and no flag: nothing the candidate pool holds changed (an outcome other than a
    hire: interactions are history, read by training, not by the index).
    """
    version = _bump(session)
    session.info[_MOVED] = True
    now = _utcnow()
    rows = [(GRADUATE, g) for g in dict.fromkeys(graduates)] + [
        (VACANCY, v) for v in dict.fromkeys(vacancies)
    ]
    rows += [(ERASED, d) for d in sorted({erasure_digest(g) for g in erased})]
    if everything or len(rows) > MAX_ROWS:
        rows = [(EVERYTHING, "")]
    if rows:
        session.execute(
            insert(DataChange),
            [{"version": version, "entity": e, "entity_id": i, "at": now} for e, i in rows],
        )
    if version % PRUNE_EVERY == 0:
        prune_changes(session=session, now=now)
    return version


def local_commits() -> int:
    """How many commits of this process (any session, any engine) have moved the data version so far."""
    return _local_committed


@event.listens_for(Session, "after_commit")
def _count_commit(session: Session) -> None:
    global _local_committed
    if session.info.pop(_MOVED, False):
        _local_committed = next(_local_commits)  # itertools.count: atomic under the GIL


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_MOVED, None)


def forget_graduates(*, session: Session, graduate_ids: Iterable[str]) -> None:
    """Delete every row naming these graduates (before they are erased: no id may outlive an erasure)."""
    ids = list(graduate_ids)
    for start in range(0, len(ids), 500):
        session.execute(
            delete(DataChange).where(
                DataChange.entity == GRADUATE, DataChange.entity_id.in_(ids[start : start + 500])
            )
        )


def prune_changes(*, session: Session, now: datetime | None = None) -> int:
    """Delete the rows older than :data:`RETENTION`; a ``*`` row at the newest deleted version stands in
    for them. Returns the newest deleted version (0: none)."""
    cutoff = (now or _utcnow()) - RETENTION
    newest = session.scalar(select(func.max(DataChange.version)).where(DataChange.at < cutoff))
    if newest is None:
        return 0
    session.execute(delete(DataChange).where(DataChange.version <= newest))
    session.execute(
        insert(DataChange),
        [{"version": int(newest), "entity": EVERYTHING, "entity_id": "", "at": now or _utcnow()}],
    )
    return int(newest)


def changes_since(*, session: Session, version: int, limit: int) -> Changes:
    """The graduates and vacancies changed after ``version`` (one indexed query, at most ``limit`` rows:
    beyond that, ``everything``)."""
    rows = session.execute(
        select(DataChange.version, DataChange.entity, DataChange.entity_id)
        .where(DataChange.version > version)
        .order_by(DataChange.seq)
        .limit(limit + 1)
    ).all()
    if not rows:
        return Changes(version=version)
    newest = max(int(r[0]) for r in rows)
    if len(rows) > limit or any(r[1] == EVERYTHING for r in rows):
        return Changes(version=newest, everything=True)
    return Changes(
        version=newest,
        graduates=frozenset(str(r[2]) for r in rows if r[1] == GRADUATE),
        vacancies=frozenset(str(r[2]) for r in rows if r[1] == VACANCY),
        erased=frozenset(str(r[2]) for r in rows if r[1] == ERASED),
    )
