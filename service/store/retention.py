"""Retention of graduates' personal data (China's PIPL: keep it no longer than needed).

A graduate who is ``placed`` or ``withdrawn`` is no longer looking for a job; ``retention_days`` after their
status last changed (``status_changed_at``; for rows without it, their latest interaction) they are erased
with their skills, districts and interactions, exactly as an erasure request would
(:func:`service.store.graduates.erase_graduate`). Graduates still ``seeking`` are never purged. A
placed/withdrawn graduate with neither date counts as changed long ago and is purged too (counted as
``undated``): data whose age cannot be shown is not kept. Imports stamp ``status_changed_at`` on new rows,
so this only concerns rows written before that.

Outcomes HR recorded (who recorded them, the model version and score shown) are kept for an audit at least
``outcome_retention_days`` (``TALENTMATCH_OUTCOME_RETENTION_DAYS``, 183 by default): a graduate past retention
who has a recorded outcome younger than that is kept until it ages out (counted as ``held``).

Training reads the store, so the next ``talentmatch train`` never sees a purged graduate; the change log
that keeps the service's candidate index up to date forgets them too (:mod:`service.store.changes`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from service.store import audit
from service.store.api_keys import utcnow
from service.store.changes import forget_graduates, record_changes
from service.store.graduates import ERASED, GRADUATE_TABLES
from service.store.tables import AuditEntry, Graduate, Interaction
from service.store.vacancies import keep_seats_of

RETAINED_STATUSES = ("placed", "withdrawn")
BATCH = 500


@dataclass
class PurgeReport:
    """What a purge deleted (or, for a dry run, would delete). Counts only: no personal data."""

    cutoff: datetime
    retention_days: int
    dry_run: bool
    graduates: dict[str, int] = field(default_factory=dict)  # per status
    undated: int = 0  # of the graduates above, those with no date at all
    held: int = 0  # past retention, but kept: an outcome recorded within outcome_retention_days
    outcome_retention_days: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # per table
    graduate_ids: list[str] = field(default_factory=list, repr=False)

    @property
    def total(self) -> int:
        return sum(self.graduates.values())

    def lines(self) -> list[str]:
        verb = "would erase" if self.dry_run else "erased"
        by_status = ", ".join(f"{n} {status}" for status, n in sorted(self.graduates.items())) or "none"
        lines = [
            f"{verb} {self.total} placed/withdrawn graduate(s) whose status changed before "
            f"{self.cutoff:%Y-%m-%d} (retention {self.retention_days} days): {by_status}",
        ]
        if self.rows:
            lines.append("rows: " + ", ".join(f"{t} {n}" for t, n in self.rows.items()))
        if self.undated:
            lines.append(f"{self.undated} of them had no status date and no interaction to age them by")
        if self.held:
            lines.append(
                f"kept {self.held} more past retention: an outcome recorded for them is younger than "
                f"{self.outcome_retention_days} days (TALENTMATCH_OUTCOME_RETENTION_DAYS)"
            )
        return lines


def _chunks(items: Sequence[str], size: int = BATCH) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def expired_graduates(
    *, session: Session, retention_days: int, now: datetime | None = None
) -> tuple[dict[str, str], int, datetime]:
    """Graduates past retention as ``{graduate_id: status}``, how many of them had no date, the cutoff."""
    if retention_days < 0:
        raise ValueError("retention_days must be 0 or more")
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    latest = (
        select(Interaction.graduate_id, func.max(Interaction.occurred_at).label("latest"))
        .group_by(Interaction.graduate_id)
        .subquery()
    )
    rows = session.execute(
        select(Graduate.graduate_id, Graduate.status, Graduate.status_changed_at, latest.c.latest)
        .outerjoin(latest, latest.c.graduate_id == Graduate.graduate_id)
        .where(Graduate.status.in_(RETAINED_STATUSES))
        .order_by(Graduate.graduate_id)
    ).all()
    expired: dict[str, str] = {}
    undated = 0
    for graduate_id, status, changed_at, latest_event in rows:
        reference = changed_at if changed_at is not None else latest_event
        if reference is None:
            undated += 1
            expired[graduate_id] = status
        elif reference < cutoff:
            expired[graduate_id] = status
    return expired, undated, cutoff


def held_for_accountability(
    *, session: Session, graduate_ids: Sequence[str], outcome_retention_days: int, now: datetime | None = None
) -> set[str]:
    """Of ``graduate_ids``, those with an outcome recorded by a person within ``outcome_retention_days``."""
    if outcome_retention_days <= 0 or not graduate_ids:
        return set()
    since = (now or utcnow()) - timedelta(days=outcome_retention_days)
    held: set[str] = set()
    for chunk in _chunks(list(graduate_ids)):
        held.update(
            session.scalars(
                select(Interaction.graduate_id)
                .where(
                    Interaction.graduate_id.in_(chunk),
                    Interaction.recorded_by.is_not(None),
                    Interaction.occurred_at >= since,
                )
                .distinct()
            )
        )
    return held


def purge_expired(
    *,
    session: Session,
    retention_days: int,
    now: datetime | None = None,
    dry_run: bool = False,
    outcome_retention_days: int = 0,
) -> PurgeReport:
    """Erase every graduate past retention in the caller's transaction (nothing when ``dry_run``), except
    those with an outcome recorded within ``outcome_retention_days`` (kept for an audit of the decisions).

    Audit entries naming a purged graduate keep the fact of access but lose the id; the purge itself is
    audited (counts only).
    """
    expired, undated, cutoff = expired_graduates(session=session, retention_days=retention_days, now=now)
    held = held_for_accountability(
        session=session, graduate_ids=list(expired), outcome_retention_days=outcome_retention_days, now=now
    )
    expired = {g: status for g, status in expired.items() if g not in held}
    report = PurgeReport(
        cutoff=cutoff,
        retention_days=retention_days,
        dry_run=dry_run,
        undated=undated,
        held=len(held),
        outcome_retention_days=outcome_retention_days,
    )
    for status in expired.values():
        report.graduates[status] = report.graduates.get(status, 0) + 1
    ids = list(expired)
    report.graduate_ids = ids
    if not dry_run:
        for chunk in _chunks(ids):
            keep_seats_of(session=session, graduate_ids=chunk)
    for table in GRADUATE_TABLES:
        name = table.__tablename__
        count = 0
        for chunk in _chunks(ids):
            if dry_run:
                count += int(
                    session.scalar(
                        select(func.count()).select_from(table).where(table.graduate_id.in_(chunk))
                    )
                    or 0
                )
            else:
                result = session.execute(delete(table).where(table.graduate_id.in_(chunk)))
                count += int(result.rowcount or 0)  # type: ignore[attr-defined]
        report.rows[name] = count
    if dry_run or not ids:
        return report
    redacted = 0
    for chunk in _chunks(ids):
        result = session.execute(
            update(AuditEntry)
            .where(AuditEntry.resource.in_([f"graduate:{g}" for g in chunk]))
            .values(resource=ERASED)
        )
        redacted += int(result.rowcount or 0)  # type: ignore[attr-defined]
    report.rows["audit_log (redacted)"] = redacted
    forget_graduates(session=session, graduate_ids=ids)
    record_changes(session=session, erased=ids)
    audit.record(
        session=session,
        key_id=None,
        action="purge_graduates",
        resource="retention",
        detail={
            "erased": report.total,
            "retention_days": retention_days,
            "by_status": report.graduates,
            "held_for_accountability": report.held,
        },
    )
    return report
