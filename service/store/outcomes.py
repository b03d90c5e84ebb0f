"""Recorded outcomes: a vacancy's pipeline as recorded, undoing an outcome, a programme's hires.

Functions take keyword-only arguments and work in the caller's transaction (they flush, never commit). The
application layer (:mod:`service.usecases.outcomes`) owns tenancy, the undo window's setting, audit and the
commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.store.changes import record_changes
from service.store.tables import Enterprise, Graduate, Interaction, Vacancy
from service.store.vacancies import HIRED, hires, utcnow


class UnknownOutcome(LookupError):
    """No such outcome recorded for this graduate on this vacancy (404 ``outcome_not_found``)."""

    def __init__(self, graduate_id: str, event: str) -> None:
        self.graduate_id, self.event = graduate_id, event
        super().__init__(f"no {event!r} recorded for graduate {graduate_id!r} on this vacancy")


class UndoExpired(Exception):
    """The outcome was recorded longer ago than the undo window (409 ``undo_window_passed``)."""

    def __init__(self, graduate_id: str, event: str, recorded_at: datetime, window: timedelta) -> None:
        self.graduate_id, self.event, self.recorded_at, self.window = graduate_id, event, recorded_at, window
        minutes = int(window.total_seconds() // 60)
        at = recorded_at.isoformat(timespec="seconds")
        super().__init__(
            f"{event!r} for graduate {graduate_id!r} was recorded at {at} UTC; an outcome can be undone "
            f"for {minutes} minute(s) after it is recorded"
        )


@dataclass(frozen=True)
class RecordedOutcome:
    """One outcome recorded on a vacancy."""

    graduate_id: str
    event: str
    occurred_at: datetime


@dataclass(frozen=True)
class Undone:
    """What an undo changed: the outcome removed and, for a hire, the graduate's and vacancy's status."""

    graduate_id: str
    event: str
    recorded_at: datetime
    graduate_status: str | None  # the graduate's status after the undo (None: erased meanwhile)
    vacancy_status: str


@dataclass(frozen=True)
class Placement:
    """A graduate of a programme hired on a vacancy."""

    graduate: Graduate
    vacancy_id: str
    title: str
    enterprise_name: str
    district: str
    hired_at: datetime


def recorded(*, session: Session, vacancy_id: str, limit: int = 500) -> list[RecordedOutcome]:
    """The outcomes recorded on the vacancy, newest first (at most ``limit``)."""
    rows = session.execute(
        select(Interaction.graduate_id, Interaction.event, Interaction.occurred_at)
        .where(Interaction.vacancy_id == vacancy_id)
        .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
        .limit(limit)
    )
    return [RecordedOutcome(g, e, at) for g, e, at in rows]


def undo_outcome(
    *,
    session: Session,
    vacancy: Vacancy,
    graduate_id: str,
    event: str,
    window: timedelta,
    now: datetime | None = None,
) -> Undone:
    """Remove the outcome ``event`` recorded for ``graduate_id`` on ``vacancy`` (the latest, if several).

    A hire undone gives the seat back (a filled vacancy opens again, or stays closed once its closing date
    has passed) and the graduate, still placed by it, seeks again.

    Raises
    ------
    UnknownOutcome
        Nothing of the kind is recorded (also for a graduate the caller may not see).
    UndoExpired
        It was recorded more than ``window`` ago.
    """
    now = now or utcnow()
    interaction = session.scalars(
        select(Interaction)
        .where(
            Interaction.vacancy_id == vacancy.vacancy_id,
            Interaction.graduate_id == graduate_id,
            Interaction.event == event,
        )
        .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
        .limit(1)
    ).first()
    if interaction is None:
        raise UnknownOutcome(graduate_id, event)
    if interaction.occurred_at < now - window:
        raise UndoExpired(graduate_id, event, interaction.occurred_at, window)
    recorded_at = interaction.occurred_at
    session.delete(interaction)
    session.flush()
    graduate = session.get(Graduate, graduate_id)
    if event != HIRED:
        record_changes(session=session)  # history only, as when it was recorded
        return Undone(graduate_id, event, recorded_at, graduate.status if graduate else None, vacancy.status)
    still_hired = session.scalar(
        select(Interaction.id)
        .where(Interaction.graduate_id == graduate_id, Interaction.event == HIRED)
        .limit(1)
    )
    if graduate is not None and graduate.status == "placed" and still_hired is None:
        graduate.status = "seeking"
        graduate.status_changed_at = now
    hired = hires(session=session, vacancy_ids=[vacancy.vacancy_id])[vacancy.vacancy_id]
    if vacancy.status == "filled" and hired < vacancy.headcount:
        past = vacancy.closes_at is not None and vacancy.closes_at <= now
        vacancy.status = "closed" if past else "open"
    session.flush()
    record_changes(session=session, graduates=[graduate_id], vacancies=[vacancy.vacancy_id])
    return Undone(graduate_id, event, recorded_at, graduate.status if graduate else None, vacancy.status)


def program_placements(
    *, session: Session, program_id: str, limit: int = 50, offset: int = 0
) -> tuple[list[Placement], int]:
    """The programme's graduates hired on a vacancy, latest hire first, and how many there are."""
    query = (
        select(Graduate, Vacancy, Enterprise.name, Interaction.occurred_at)
        .join(Interaction, Interaction.graduate_id == Graduate.graduate_id)
        .join(Vacancy, Vacancy.vacancy_id == Interaction.vacancy_id)
        .join(Enterprise, Enterprise.enterprise_id == Vacancy.enterprise_id)
        .where(Graduate.program_id == program_id, Interaction.event == HIRED)
    )
    counted = query.with_only_columns(Interaction.id).subquery()
    total = int(session.scalar(select(func.count()).select_from(counted)) or 0)
    rows = session.execute(
        query.order_by(Interaction.occurred_at.desc(), Interaction.id.desc()).limit(limit).offset(offset)
    ).all()
    items = [
        Placement(graduate, vacancy.vacancy_id, vacancy.title, name, vacancy.district, at)
        for graduate, vacancy, name, at in rows
    ]
    return items, total
