"""Programme queries for schools: list and read programmes, page through their graduates.

Functions take keyword-only arguments and work in the caller's transaction. ``school_id`` restricts a query
to one school (a school key); None means every school (admin). A programme of another school is reported
exactly like a missing one (:class:`UnknownProgram`), so existence never leaks across schools.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from service.store.tables import Graduate, Program, School


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
