"""A school's programmes and their graduates: what the API and the school pages both list.

A school key sees its own school's programmes and graduates only (another school's answer 404, exactly like
a missing one); admin sees every school's. Graduates are shown by the id their school knows them by
(:func:`shown_id`); listing them is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from models.ids import is_valid_id
from service.store import programs as store
from service.store.graduates import student_id_of
from service.store.tables import Graduate, Program
from service.usecases.context import ROLE_SCHOOL, SCHOOL_ROLES, Context


@dataclass(frozen=True)
class ProgramDetails:
    """A programme with its school's name and its graduates per status."""

    program: Program
    school_name: str
    graduates: dict[str, int]  # status -> count


@dataclass(frozen=True)
class ProgramList:
    items: list[ProgramDetails]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class GraduateDetails:
    """One graduate as a school sees them: ``graduate_id`` is the id the caller knows them by."""

    graduate_id: str
    program_id: str
    education: str
    major: str
    skills: list[str]
    preferred_districts: list[str]
    available_from: date | None
    status: str


@dataclass(frozen=True)
class GraduateList:
    program: Program
    items: list[GraduateDetails]
    total: int
    status: str | None
    limit: int
    offset: int


def shown_id(ctx: Context, graduate: Graduate) -> str:
    """The id ``ctx``'s principal knows ``graduate`` by: the school's own id for a school key (ids are
    scoped per school), the service's ``graduate_id`` for admin."""
    return student_id_of(graduate) if ctx.principal.role == ROLE_SCHOOL else graduate.graduate_id


def graduate_details(ctx: Context, graduate: Graduate) -> GraduateDetails:
    return GraduateDetails(
        graduate_id=shown_id(ctx, graduate),
        program_id=graduate.program_id,
        education=graduate.education,
        major=graduate.major or "",
        skills=[s.skill_id for s in graduate.skills],
        preferred_districts=[d.district for d in graduate.districts],
        available_from=graduate.available_from,
        status=graduate.status,
    )


def find_program(ctx: Context, program_id: str) -> Program:
    """One of the caller's school's programmes; a malformed id is
    :class:`~service.store.programs.UnknownProgram` (404) like a missing one or another school's."""
    ctx.require(SCHOOL_ROLES)
    if not is_valid_id(program_id):
        raise store.UnknownProgram(program_id)
    return store.get_program(session=ctx.session, program_id=program_id, school_id=ctx.school_scope)


def _details(ctx: Context, programs: list[Program]) -> list[ProgramDetails]:
    names = store.school_names(session=ctx.session, school_ids=[p.school_id for p in programs])
    counts = store.graduate_counts(session=ctx.session, program_ids=[p.program_id for p in programs])
    return [ProgramDetails(p, names.get(p.school_id, ""), counts[p.program_id]) for p in programs]


def list_programs(ctx: Context, *, limit: int = 50, offset: int = 0) -> ProgramList:
    """The caller's school's programmes (every school's for admin), newest cohort first."""
    ctx.require(SCHOOL_ROLES)
    items, total = store.list_programs(
        session=ctx.session, school_id=ctx.school_scope, limit=limit, offset=offset
    )
    return ProgramList(_details(ctx, items), total, limit, offset)


def get_program(ctx: Context, program_id: str) -> ProgramDetails:
    """One programme of the caller's school."""
    return _details(ctx, [find_program(ctx, program_id)])[0]


def list_graduates(
    ctx: Context, program_id: str, *, status: str | None = None, limit: int = 50, offset: int = 0
) -> GraduateList:
    """A page of the programme's graduates (by id), audited with the graduates shown, committed."""
    program = find_program(ctx, program_id)
    items, total = store.program_graduates(
        session=ctx.session, program_id=program.program_id, status=status, limit=limit, offset=offset
    )
    ctx.audit_read(
        "list_graduates",
        f"program:{program.program_id}",
        {
            "graduates": [g.graduate_id for g in items],
            "count": len(items),
            "total": total,
            "status": status,
            "limit": limit,
            "offset": offset,
        },
    )
    ctx.commit()
    return GraduateList(program, [graduate_details(ctx, g) for g in items], total, status, limit, offset)
