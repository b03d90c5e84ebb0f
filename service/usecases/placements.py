"""Plan where a programme's seeking graduates should go: the one place the API and the placement page ask.

The plan itself is :func:`service.schools.plan_program`; this action owns the access rule, the programme
size cap's consequence (a plan covers at most ``TALENTMATCH_MAX_PROGRAM_GRADUATES`` graduates per
programme), the pages of its two lists, the ids shown (a school sees its own) and the audit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from models.columns import Columns as C
from models.placement import DEFAULT_MIN_SCORE, PlanMetrics
from service.matching import VacancyInfo
from service.schools import AssignmentRow, UnassignedRow, plan_program
from service.store.graduates import student_ids
from service.store.programs import list_programs, program_graduates, program_names
from service.store.tables import Graduate, Program
from service.store.vacancies import hires
from service.usecases.context import ROLE_SCHOOL, Context
from service.usecases.programs import find_program

__all__ = ["DEFAULT_MIN_SCORE", "PlacementPlan", "SeatUse", "plan_placements"]

Scope = Literal["program", "school"]
Order = Literal["graduate", "score"]


@dataclass(frozen=True)
class SeatUse:
    """How many of a vacancy's remaining seats the plan fills."""

    vacancy_id: str
    title: str
    enterprise_name: str
    used: int
    capacity: int


@dataclass(frozen=True)
class PlacementPlan:
    """One page of a programme's plan: ``assignments`` and ``unassigned`` are pages (``limit``/``offset``)
    of the whole lists, whose lengths are ``assignments_total`` and ``unassigned_total``. Graduate ids are
    the ones the caller knows (a school's own)."""

    program: Program
    model_version: str
    min_score: float
    scope: Scope
    assignments: list[AssignmentRow]
    unassigned: list[UnassignedRow]
    assignments_total: int
    unassigned_total: int
    limit: int
    offset: int
    metrics: PlanMetrics
    seats: list[SeatUse]  # every vacancy the plan uses (the whole plan's, not the page's)
    vacancies: dict[str, VacancyInfo]  # details of the vacancies on this page
    program_names: dict[str, str]  # names of the training programmes the page's hints name


def school_cohorts(
    ctx: Context, program: Program, graduates: list[Graduate]
) -> list[tuple[Program, list[Graduate]]]:
    """Every programme of ``program``'s school (by id) with its seeking graduates, for a school-wide plan;
    ``graduates`` are ``program``'s own, already read."""
    programs, _ = list_programs(session=ctx.session, school_id=program.school_id, limit=10_000)
    return [
        (
            other,
            graduates
            if other.program_id == program.program_id
            else program_graduates(
                session=ctx.session, program_id=other.program_id, status="seeking", limit=None
            )[0],
        )
        for other in sorted(programs, key=lambda p: p.program_id)
    ]


def _seats(ctx: Context, rows: list[AssignmentRow]) -> list[SeatUse]:
    snapshot = ctx.services.matching.snapshot(session=ctx.session)
    used: dict[str, int] = {}
    for row in rows:
        used[row.vacancy_id] = used.get(row.vacancy_id, 0) + 1
    hired = hires(session=ctx.session, vacancy_ids=sorted(used))
    headcount = snapshot.vacancy_frame.set_index(C.vacancy)[C.headcount]
    seats = []
    for vacancy_id, n in used.items():
        info = snapshot.vacancies.get(vacancy_id)
        seats.append(
            SeatUse(
                vacancy_id=vacancy_id,
                title=info.title if info else vacancy_id,
                enterprise_name=info.enterprise_name if info else "",
                used=n,
                capacity=max(0, int(headcount.get(vacancy_id, 0)) - hired[vacancy_id]),
            )
        )
    return sorted(seats, key=lambda s: (-s.used, s.vacancy_id))


def plan_placements(
    ctx: Context,
    program_id: str,
    *,
    min_score: float = DEFAULT_MIN_SCORE,
    top_k: int = 20,
    scope: Scope = "program",
    order: Order = "graduate",
    limit: int = 50,
    offset: int = 0,
) -> PlacementPlan:
    """A placement plan for one of the caller's school's programmes under the vacancies' remaining
    headcounts (``scope="school"``: planned with every programme of its school, this programme's part
    shown); ``order`` sorts both lists by graduate or best score first. Audited with the graduates shown,
    committed."""
    program = find_program(ctx, program_id)
    graduates, _ = program_graduates(
        session=ctx.session, program_id=program.program_id, status="seeking", limit=None
    )
    cohorts = school_cohorts(ctx, program, graduates) if scope == "school" else None
    planned = plan_program(
        session=ctx.session,
        matching=ctx.services.matching,
        program=program,
        graduates=graduates,
        min_score=min_score,
        top_k=top_k,
        school_cohorts=cohorts,
    )
    every_assignment = planned.assignment_rows()
    every_unassigned = planned.unassigned_rows()
    if order == "score":
        every_assignment.sort(key=lambda a: (-a.score, a.graduate_id))
        every_unassigned.sort(
            key=lambda u: (-max((a.score for a in u.alternatives), default=0.0), u.graduate_id)
        )
    assignments = every_assignment[offset : offset + limit]
    unassigned = every_unassigned[offset : offset + limit]
    shown = [a.graduate_id for a in assignments] + [u.graduate_id for u in unassigned]
    ctx.audit_read(
        "plan_placements",
        f"program:{program.program_id}",
        {
            "graduates": shown,
            "count": len(planned.program_graduates),
            "assigned": len(every_assignment),
            "min_score": min_score,
            "scope": scope,
            "planned_with": len(planned.graduate_ids),
            "limit": limit,
            "offset": offset,
            "model_version": planned.model_version,
        },
    )
    ctx.commit()
    if ctx.principal.role == ROLE_SCHOOL:  # a school sees its own ids for its graduates
        known = student_ids(session=ctx.session, graduate_ids=shown)
        assignments = [replace(a, graduate_id=known.get(a.graduate_id, a.graduate_id)) for a in assignments]
        unassigned = [replace(u, graduate_id=known.get(u.graduate_id, u.graduate_id)) for u in unassigned]
    snapshot = ctx.services.matching.snapshot(session=ctx.session)
    on_page = {a.vacancy_id for a in assignments} | {
        alt.vacancy_id for u in unassigned for alt in u.alternatives
    }
    teaching = sorted({p for u in unassigned for hint in u.training for p in hint.taught_by})
    names = program_names(session=ctx.session, program_ids=teaching)
    return PlacementPlan(
        program=program,
        model_version=planned.model_version,
        min_score=min_score,
        scope=scope,
        assignments=assignments,
        unassigned=unassigned,
        assignments_total=len(every_assignment),
        unassigned_total=len(every_unassigned),
        limit=limit,
        offset=offset,
        metrics=planned.metrics(),
        seats=_seats(ctx, every_assignment),
        vacancies={v: snapshot.vacancies[v] for v in on_page if v in snapshot.vacancies},
        program_names=names,
    )
