"""Programme queries for schools: list and read programmes, page through their graduates.

Functions take keyword-only arguments and work in the caller's transaction. ``school_id`` restricts a query
to one school (a school key); None means every school (admin). A programme of another school is reported
exactly like a missing one (:class:`UnknownProgram`), so existence never leaks across schools.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from models.columns import Columns as C
from models.data import ENTITY_COLUMNS, MarketData
from service.store.tables import (
    Enterprise,
    Graduate,
    GraduateSkill,
    Interaction,
    Program,
    ProgramSkill,
    School,
    Skill,
    Vacancy,
    VacancySkill,
)


class UnknownProgram(LookupError):
    """No such programme, or one of another school (the two are not told apart)."""

    def __init__(self, program_id: str) -> None:
        self.program_id = program_id
        super().__init__(f"programme {program_id!r} not found")


def get_program(*, session: Session, program_id: str, school_id: str | None = None) -> Program:
    """The programme, restricted to ``school_id`` when given; :class:`UnknownProgram` otherwise."""
    program = session.get(Program, program_id, options=[selectinload(Program.skills)])
    if program is None or (school_id is not None and program.school_id != school_id):
        raise UnknownProgram(program_id)
    return program


def list_programs(
    *, session: Session, school_id: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[Program], int]:
    """A page of programmes (newest cohort first, then by id) and the total."""
    query = select(Program)
    if school_id is not None:
        query = query.where(Program.school_id == school_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = session.scalars(
        query.options(selectinload(Program.skills))
        .order_by(Program.cohort_year.desc(), Program.program_id)
        .limit(limit)
        .offset(offset)
    )
    return list(page), int(total)


def program_names(*, session: Session, program_ids: Iterable[str]) -> dict[str, str]:
    """The names of ``program_ids`` (any school's: training programmes are suggested across schools)."""
    ids = sorted(set(program_ids))
    if not ids:
        return {}
    rows = session.execute(select(Program.program_id, Program.name).where(Program.program_id.in_(ids))).all()
    return {str(k): str(v) for k, v in rows}


def school_names(*, session: Session, school_ids: Iterable[str]) -> dict[str, str]:
    ids = sorted(set(school_ids))
    if not ids:
        return {}
    return dict(session.execute(select(School.school_id, School.name).where(School.school_id.in_(ids))).all())


def graduate_counts(*, session: Session, program_ids: Iterable[str]) -> dict[str, dict[str, int]]:
    """Graduates per status for each programme (``{"seeking": 3, "placed": 1}``; {} for none)."""
    ids = sorted(set(program_ids))
    counts: dict[str, dict[str, int]] = {pid: {} for pid in ids}
    if ids:
        rows = session.execute(
            select(Graduate.program_id, Graduate.status, func.count())
            .where(Graduate.program_id.in_(ids))
            .group_by(Graduate.program_id, Graduate.status)
        )
        for program_id, status, n in rows:
            counts[program_id][status] = int(n)
    return counts


def program_graduates(
    *,
    session: Session,
    program_id: str,
    status: str | None = None,
    limit: int | None = 50,
    offset: int = 0,
) -> tuple[list[Graduate], int]:
    """A page of a programme's graduates (by id), optionally of one status, and the total."""
    query = select(Graduate).where(Graduate.program_id == program_id)
    if status is not None:
        query = query.where(Graduate.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    query = (
        query.options(selectinload(Graduate.skills), selectinload(Graduate.districts))
        .order_by(Graduate.graduate_id)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query)), int(total)


def program_market(*, session: Session, program_id: str) -> MarketData:
    """What :func:`models.skill_gaps.skill_gaps` needs for one programme, without reading the whole store.

    A partial :class:`MarketData`: only the columns ``skill_gaps`` reads.

    Every skill, enterprise and programme (with curricula); the open vacancies (with required skills);
    the programme's graduates (with skills); their interactions. Other graduates, closed vacancies and
    other interactions are left out.
    """
    skills = pd.DataFrame(
        session.execute(select(Skill.skill_id, Skill.name_zh, Skill.name_en, Skill.category)).all(),
        columns=[C.skill, C.name_zh, C.name_en, C.category],
    )
    skills[C.aliases] = [[] for _ in range(len(skills))]
    enterprises = pd.DataFrame(
        session.execute(
            select(Enterprise.enterprise_id, Enterprise.name, Enterprise.segment, Enterprise.district)
        ).all(),
        columns=[C.enterprise, C.name, C.segment, C.district],
    )
    curricula = _lists(
        session.execute(
            select(ProgramSkill.program_id, ProgramSkill.skill_id).order_by(
                ProgramSkill.program_id, ProgramSkill.position
            )
        )
    )
    program_rows = session.execute(
        select(
            Program.program_id,
            Program.school_id,
            Program.name,
            Program.kind,
            Program.sponsor_enterprise_id,
            Program.cohort_year,
        )
    ).all()
    programs = pd.DataFrame(
        [(*row, curricula.get(row[0], [])) for row in program_rows],
        columns=list(ENTITY_COLUMNS["programs"]),
    )
    open_rows = session.execute(
        select(
            Vacancy.vacancy_id,
            Vacancy.enterprise_id,
            Vacancy.min_education,
            Vacancy.closes_at,
            Vacancy.status,
        ).where(Vacancy.status == "open")
    ).all()
    required = _lists(
        session.execute(
            select(VacancySkill.vacancy_id, VacancySkill.skill_id)
            .join(Vacancy, Vacancy.vacancy_id == VacancySkill.vacancy_id)
            .where(Vacancy.status == "open", VacancySkill.required.is_(True))
            .order_by(VacancySkill.vacancy_id, VacancySkill.position)
        )
    )
    vacancies = pd.DataFrame(
        [
            {
                C.vacancy: v,
                C.enterprise: e,
                C.required_skills: required.get(v, []),
                C.preferred_skills: [],
                C.min_education: m,
                C.closes_at: pd.Timestamp(c) if c is not None else pd.NaT,
                C.status: s,
            }
            for v, e, m, c, s in open_rows
        ],
        columns=[
            C.vacancy,
            C.enterprise,
            C.required_skills,
            C.preferred_skills,
            C.min_education,
            C.closes_at,
            C.status,
        ],
    )
    graduate_rows = session.execute(
        select(Graduate.graduate_id, Graduate.education, Graduate.status).where(
            Graduate.program_id == program_id
        )
    ).all()
    held = _lists(
        session.execute(
            select(GraduateSkill.graduate_id, GraduateSkill.skill_id)
            .join(Graduate, Graduate.graduate_id == GraduateSkill.graduate_id)
            .where(Graduate.program_id == program_id)
            .order_by(GraduateSkill.graduate_id, GraduateSkill.position)
        )
    )
    graduates = pd.DataFrame(
        [
            {C.graduate: g, C.program: program_id, C.education: e, C.skills: held.get(g, []), C.status: s}
            for g, e, s in graduate_rows
        ],
        columns=[C.graduate, C.program, C.education, C.skills, C.status],
    )
    interactions = pd.DataFrame(
        session.execute(
            select(Interaction.graduate_id, Interaction.vacancy_id, Interaction.event)
            .join(Graduate, Graduate.graduate_id == Interaction.graduate_id)
            .where(Graduate.program_id == program_id)
        ).all(),
        columns=[C.graduate, C.vacancy, C.event],
    )
    # The interactions point at vacancies of any status; their enterprises give the history segments.
    history = session.execute(
        select(Vacancy.vacancy_id, Vacancy.enterprise_id).where(
            Vacancy.vacancy_id.in_(_interacted_vacancies(program_id))
        )
    ).all()
    seen = set(vacancies[C.vacancy])
    extra = pd.DataFrame(
        [
            {
                C.vacancy: v,
                C.enterprise: e,
                C.required_skills: [],
                C.preferred_skills: [],
                C.min_education: "secondary",
                C.closes_at: pd.NaT,
                C.status: "closed",
            }
            for v, e in history
            if v not in seen
        ],
        columns=vacancies.columns,
    )
    return MarketData(
        skills=skills,
        enterprises=enterprises,
        programs=programs,
        graduates=graduates,
        vacancies=pd.concat([vacancies, extra], ignore_index=True) if len(extra) else vacancies,
        interactions=interactions,
    )


def _interacted_vacancies(program_id: str) -> Any:
    return (
        select(Interaction.vacancy_id)
        .join(Graduate, Graduate.graduate_id == Interaction.graduate_id)
        .where(Graduate.program_id == program_id)
        .distinct()
    )


def _lists(rows: Iterable[Any]) -> dict[str, list[str]]:
    lists: dict[str, list[str]] = {}
    for key, value in rows:
        lists.setdefault(key, []).append(value)
    return lists
