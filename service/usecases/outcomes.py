"""HR records an outcome (shortlisted, interviewed, offered, hired, rejected) for a candidate of a vacancy.

The one place the API's feedback route and the candidates page record one. HR may record only for graduates
who are candidates of the vacancy (they pass its hard filters: seeking, at least its minimum education) or
who already interacted with it; any other graduate id gets exactly the answer an unknown id gets (404
``graduate_not_found``), so the answer tells nothing of a graduate HR may not see.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.store import vacancies as store
from service.store.tables import Interaction, Vacancy
from service.usecases.context import HR_ROLES, Context
from service.usecases.inputs import FeedbackCreate


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
    Writers of one vacancy are serialised, so hires never exceed its headcount. Audited (``record_outcome``,
    with the graduate's pseudonymous id), committed.
    """
    ctx.require(HR_ROLES)
    store.lock_vacancy(session=ctx.session, vacancy_id=vacancy_id)
    vacancy = store.get_vacancy(
        session=ctx.session, vacancy_id=vacancy_id, enterprise_id=ctx.enterprise_scope
    )
    interaction, created = store.record_feedback(
        session=ctx.session, vacancy=vacancy, graduate_id=outcome.graduate_id, event=outcome.event
    )
    ctx.audit(
        "record_outcome",
        f"vacancy:{vacancy.vacancy_id}",
        {"graduate": interaction.graduate_id, "event": interaction.event, "created": created},
    )
    ctx.session.commit()
    hired = store.hires(session=ctx.session, vacancy_ids=[vacancy.vacancy_id])[vacancy.vacancy_id]
    return Outcome(interaction, created, vacancy, hired)
