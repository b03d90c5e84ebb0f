"""HR records an outcome (shortlisted, interviewed, offered, hired, rejected) for a candidate of a vacancy.

The one place the API's feedback route and the candidates page record one. HR may record only for graduates
who are candidates of the vacancy (they pass its hard filters: seeking, at least its minimum education) or
who already interacted with it; any other graduate id gets exactly the answer an unknown id gets (404
``graduate_not_found``), so the answer tells nothing of a graduate HR may not see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from service.store import outcomes as recorded_store
from service.store import vacancies as store
from service.store.outcomes import Placement, RecordedOutcome, UndoExpired, Undone, UnknownOutcome
from service.store.tables import Interaction, Vacancy
from service.usecases.accountability import shown, stamp
from service.usecases.context import HR_ROLES, Context
from service.usecases.inputs import FeedbackCreate
from service.usecases.programs import find_program, shown_id

__all__ = [
    "Outcome",
    "Pipeline",
    "ProgramPlacements",
    "UndoExpired",
    "UndoResult",
    "UnknownOutcome",
    "placed_graduates",
    "record_outcome",
    "undo_outcome",
    "vacancy_outcomes",
]


@dataclass(frozen=True)
class Outcome:
    """A recorded outcome and the vacancy's state after it."""

    interaction: Interaction
    created: bool  # False when the same event had been recorded before (nothing written)
    vacancy: Vacancy
    hires: int

    @property
    def remaining_headcount(self) -> int:
        return max(0, self.vacancy.headcount - self.hires)


def record_outcome(ctx: Context, vacancy_id: str, outcome: FeedbackCreate) -> Outcome:
    """Record ``outcome`` on one of the caller's vacancies (404 for another enterprise's).

    Idempotent per graduate, vacancy and event; ``hired`` places the graduate and may fill the vacancy.
    Writers of one vacancy are serialised, so hires never exceed its headcount. A new outcome keeps the key
    that recorded it and the model version and score the service gives the pair now
    (:mod:`service.usecases.accountability`). Audited (``record_outcome``, with the graduate's pseudonymous
    id), committed.
    """
    ctx.require(HR_ROLES)
    seen = shown(ctx, vacancy_id, outcome.graduate_id)  # before the lock: scoring may build a snapshot
    store.lock_vacancy(session=ctx.session, vacancy_id=vacancy_id)
    vacancy = store.get_vacancy(
        session=ctx.session, vacancy_id=vacancy_id, enterprise_id=ctx.enterprise_scope
    )
    interaction, created = store.record_feedback(
        session=ctx.session, vacancy=vacancy, graduate_id=outcome.graduate_id, event=outcome.event
    )
    if created:
        stamp(ctx, interaction, seen)
    ctx.audit(
        "record_outcome",
        f"vacancy:{vacancy.vacancy_id}",
        {
            "graduate": interaction.graduate_id,
            "event": interaction.event,
            "created": created,
            "model_version": interaction.model_version,
            "shown_score": interaction.shown_score,
        },
    )
    ctx.commit()
    hired = store.hires(session=ctx.session, vacancy_ids=[vacancy.vacancy_id])[vacancy.vacancy_id]
    return Outcome(interaction, created, vacancy, hired)


@dataclass(frozen=True)
class UndoResult:
    """An outcome undone and the vacancy's state after it."""

    undone: Undone
    vacancy: Vacancy
    hires: int

    @property
    def remaining_headcount(self) -> int:
        return max(0, self.vacancy.headcount - self.hires)


def undo_window(ctx: Context) -> timedelta:
    """How long after recording an outcome HR may undo it (``TALENTMATCH_UNDO_SECONDS``)."""
    return timedelta(seconds=ctx.settings.undo_seconds)


def undo_outcome(ctx: Context, vacancy_id: str, outcome: FeedbackCreate) -> UndoResult:
    """Undo ``outcome`` on one of the caller's vacancies within :func:`undo_window` of recording it: the
    record goes; a hire undone gives the seat back and the graduate seeks again.

    :class:`~service.store.outcomes.UnknownOutcome` (404) when nothing of the kind is recorded,
    :class:`~service.store.outcomes.UndoExpired` (409) past the window. Audited (``undo_outcome``, with the
    graduate's pseudonymous id, the event and when it had been recorded), committed.
    """
    ctx.require(HR_ROLES)
    store.lock_vacancy(session=ctx.session, vacancy_id=vacancy_id)
    vacancy = store.get_vacancy(
        session=ctx.session, vacancy_id=vacancy_id, enterprise_id=ctx.enterprise_scope
    )
    status_before = vacancy.status
    undone = recorded_store.undo_outcome(
        session=ctx.session,
        vacancy=vacancy,
        graduate_id=outcome.graduate_id,
        event=outcome.event,
        window=undo_window(ctx),
    )
    ctx.audit(
        "undo_outcome",
        f"vacancy:{vacancy.vacancy_id}",
        {
            "graduate": undone.graduate_id,
            "event": undone.event,
            "recorded_at": undone.recorded_at.isoformat(timespec="seconds"),
            "vacancy_status_before": status_before,
            "vacancy_status": vacancy.status,
        },
    )
    ctx.commit()
    hired = store.hires(session=ctx.session, vacancy_ids=[vacancy.vacancy_id])[vacancy.vacancy_id]
    return UndoResult(undone, vacancy, hired)


@dataclass(frozen=True)
class Pipeline:
    """The outcomes recorded on a vacancy, newest first, and until when each may be undone."""

    vacancy_id: str
    items: list[RecordedOutcome]
    window: timedelta
    now: datetime

    def undoable(self, item: RecordedOutcome) -> bool:
        return self.window.total_seconds() > 0 and item.occurred_at >= self.now - self.window

    @property
    def any_undoable(self) -> bool:
        return any(self.undoable(item) for item in self.items)

    @property
    def hired(self) -> list[RecordedOutcome]:
        return [i for i in self.items if i.event == store.HIRED]

    def by_graduate(self) -> dict[str, list[RecordedOutcome]]:
        """Each graduate's outcomes, oldest first; graduates by their latest outcome, newest first."""
        grouped: dict[str, list[RecordedOutcome]] = {}
        for item in self.items:
            grouped.setdefault(item.graduate_id, []).insert(0, item)
        return grouped


def vacancy_outcomes(ctx: Context, vacancy_id: str) -> Pipeline:
    """The outcomes recorded on one of the caller's vacancies (open, closed or filled), newest first."""
    ctx.require(HR_ROLES)
    vacancy = store.get_vacancy(
        session=ctx.session, vacancy_id=vacancy_id, enterprise_id=ctx.enterprise_scope, with_skills=False
    )
    items = recorded_store.recorded(session=ctx.session, vacancy_id=vacancy.vacancy_id)
    shown = sorted({i.graduate_id for i in items})
    ctx.audit_read("list_outcomes", f"vacancy:{vacancy.vacancy_id}", {"graduates": shown})
    ctx.commit()
    return Pipeline(vacancy.vacancy_id, items, undo_window(ctx), store.utcnow())


@dataclass(frozen=True)
class PlacedGraduate:
    """A programme's graduate hired through the service, by the id the caller knows them by."""

    graduate_id: str
    placement: Placement


@dataclass(frozen=True)
class ProgramPlacements:
    program_id: str
    items: list[PlacedGraduate]
    total: int
    limit: int
    offset: int


def placed_graduates(ctx: Context, program_id: str, *, limit: int = 50, offset: int = 0) -> ProgramPlacements:
    """The caller's school's programme's graduates hired on a vacancy and where (the vacancy, its
    enterprise and district), latest first. Audited as a read with the graduates shown."""
    program = find_program(ctx, program_id)
    items, total = recorded_store.program_placements(
        session=ctx.session, program_id=program.program_id, limit=limit, offset=offset
    )
    ctx.audit_read(
        "list_placed_graduates",
        f"program:{program.program_id}",
        {
            "graduates": [p.graduate.graduate_id for p in items],
            "total": total,
            "limit": limit,
            "offset": offset,
        },
    )
    ctx.commit()
    placed = [PlacedGraduate(shown_id(ctx, p.graduate), p) for p in items]
    return ProgramPlacements(program.program_id, placed, total, limit, offset)
