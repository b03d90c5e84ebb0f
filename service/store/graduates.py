"""Graduate queries and writes for schools: read one, erase one, import a programme's graduates from CSV.

Functions take keyword-only arguments and work in the caller's transaction (they flush, never commit).
``school_id`` restricts a lookup to one school; a graduate of another school is reported exactly like a
missing one (:class:`UnknownGraduate`, 404).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, selectinload

from models.bundle import KnownIds, Problem, ProblemList, parse_entity_csv, read_table
from models.columns import Columns as C
from models.data import MarketData
from models.ids import is_valid_id
from service.store.changes import forget_graduates, record_changes
from service.store.market import import_market
from service.store.tables import (
    AuditEntry,
    Graduate,
    GraduateDistrict,
    GraduateSkill,
    Interaction,
    Program,
    Skill,
)
from service.store.vacancies import UnknownGraduate, keep_seats_of

ERASED_ID = "[erased]"
ERASED = f"graduate:{ERASED_ID}"
# Every table holding a row per graduate; erasure empties them all for that graduate.
GRADUATE_TABLES: tuple[type[Any], ...] = (Interaction, GraduateSkill, GraduateDistrict, Graduate)


class GraduateImportError(ValueError):
    """A graduates upload failed validation; nothing was stored.

    ``problems`` are ``models.bundle.Problem`` objects; ``details`` is the API's list of
    ``{"line", "column", "message"}`` (the header is line 1).
    """

    def __init__(self, problems: list[Any]) -> None:
        self.problems = problems
        self.details = [
            {"line": p.line, "column": p.column, "message": p.message, "text": str(p)} for p in problems
        ]
        shown = "; ".join(f"{p.line}: {p.column}: {p.message}" for p in problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        super().__init__(f"{len(problems)} problem(s) in the upload, nothing imported: {shown}{more}")


@dataclass(frozen=True)
class GraduateImport:
    added: int
    updated: int
    unchanged: int


def get_graduate(*, session: Session, graduate_id: str, school_id: str | None = None) -> Graduate:
    """The graduate, restricted to ``school_id`` (via its programme) when given."""
    graduate = session.get(
        Graduate, graduate_id, options=[selectinload(Graduate.skills), selectinload(Graduate.districts)]
    )
    if graduate is None:
        raise UnknownGraduate(graduate_id)
    if school_id is not None:
        program = session.get(Program, graduate.program_id)
        if program is None or program.school_id != school_id:
            raise UnknownGraduate(graduate_id)
    return graduate


def graduate_record(graduate: Graduate) -> dict[str, Any]:
    """The graduate as the matcher takes a graduate given as data (MarketData graduate columns)."""
    return {
        C.graduate: graduate.graduate_id,
        C.program: graduate.program_id,
        C.education: graduate.education,
        C.major: graduate.major or "",
        C.skills: [s.skill_id for s in graduate.skills],
        C.preferred_districts: [d.district for d in graduate.districts],
        C.available_from: pd.Timestamp(graduate.available_from) if graduate.available_from else pd.NaT,
        C.status: graduate.status,
    }


def erase_graduate(*, session: Session, graduate: Graduate) -> dict[str, int]:
    """Erase a graduate: their interactions, skills, districts and the graduate row.

    Audit entries that named the graduate keep the fact of access but lose the id. The erasure is logged
    for the candidate index by a 16-bit digest of the id, not the id (:mod:`service.store.changes`), so
    they leave matching answers at once; training reads the store, so the next model never sees them.
    Hires recorded for the graduate go too, but their seats stay taken (``Vacancy.erased_hires``).
    Returns the rows deleted per table.
    """
    graduate_id = graduate.graduate_id
    session.expunge(graduate)  # the rows go by SQL below; keep the ORM from flushing the stale object
    keep_seats_of(session=session, graduate_ids=[graduate_id])
    deleted: dict[str, int] = {}
    for table in GRADUATE_TABLES:
        result = session.execute(delete(table).where(table.graduate_id == graduate_id))
        deleted[table.__tablename__] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    result = session.execute(
        update(AuditEntry).where(AuditEntry.resource == f"graduate:{graduate_id}").values(resource=ERASED)
    )
    redacted = int(result.rowcount or 0)  # type: ignore[attr-defined]
    # Lists that showed the graduate (candidates, plans) keep the entry, with the id blanked out.
    needle = json.dumps(graduate_id, ensure_ascii=False)
    result = session.execute(
        update(AuditEntry)
        .where(AuditEntry.detail.contains(needle))
        .values(detail=func.replace(AuditEntry.detail, needle, json.dumps(ERASED_ID)))
    )
    deleted["audit_log (redacted)"] = redacted + int(result.rowcount or 0)  # type: ignore[attr-defined]
    forget_graduates(session=session, graduate_ids=[graduate_id])
    record_changes(session=session, erased=[graduate_id])
    return deleted


def _known_ids(session: Session) -> Any:
    # Programmes are checked below against the one programme of the upload, not against the store.
    return KnownIds(skills=set(session.scalars(select(Skill.skill_id))))


def _row_lines(content: bytes, n_rows: int) -> list[int]:
    """Spreadsheet line of each parsed row (the header is line 1; blank rows are skipped)."""
    table = read_table(content, "graduates.csv", ProblemList())
    if table is not None and len(table[1]) == n_rows:
        return [int(i) for i in table[1].index]
    return list(range(2, n_rows + 2))


def school_graduate(*, session: Session, school_id: str, student_id: str) -> Graduate:
    """The graduate a school knows as ``student_id`` (its own id for them); :class:`UnknownGraduate` when
    the school has none by that id, whether or not another school has one."""
    graduate = session.scalars(
        select(Graduate)
        .join(Program, Program.program_id == Graduate.program_id)
        .where(Program.school_id == school_id, _known_as() == student_id)
        .options(selectinload(Graduate.skills), selectinload(Graduate.districts))
        .limit(1)
    ).first()
    if graduate is None:
        raise UnknownGraduate(student_id)
    return graduate


def _known_as() -> Any:
    """The id a graduate's school knows them by (``student_id``, else ``graduate_id``)."""
    return func.coalesce(Graduate.student_id, Graduate.graduate_id)


def school_graduates(*, session: Session, school_id: str, student_ids: list[str]) -> dict[str, Graduate]:
    """The school's graduates known by ``student_ids`` (its own ids), with skills and districts: what an
    upload's preview compares its rows with."""
    found: dict[str, Graduate] = {}
    wanted = sorted(set(student_ids))
    for start in range(0, len(wanted), 500):
        rows = session.scalars(
            select(Graduate)
            .join(Program, Program.program_id == Graduate.program_id)
            .where(Program.school_id == school_id, _known_as().in_(wanted[start : start + 500]))
            .options(selectinload(Graduate.skills), selectinload(Graduate.districts))
        )
        found.update({student_id_of(g): g for g in rows})
    return found


def student_id_of(graduate: Graduate) -> str:
    """The school's own id for ``graduate``."""
    return graduate.student_id or graduate.graduate_id


def student_ids(*, session: Session, graduate_ids: list[str]) -> dict[str, str]:
    """The school's own id of each of ``graduate_ids`` (service ids), for answers to a school."""
    if not graduate_ids:
        return {}
    rows = session.execute(
        select(Graduate.graduate_id, _known_as()).where(Graduate.graduate_id.in_(graduate_ids))
    ).all()
    return {str(g): str(s) for g, s in rows}


class ProgramFull(ValueError):
    """An upload would take a programme past ``TALENTMATCH_MAX_PROGRAM_GRADUATES``; nothing was stored."""

    def __init__(self, program_id: str, would_have: int, limit: int) -> None:
        self.limit = limit
        self.details = [{"field": "file", "limit": limit, "would_have": would_have}]
        super().__init__(
            f"programme {program_id!r} would have {would_have} graduates; a programme holds at most {limit} "
            "(TALENTMATCH_MAX_PROGRAM_GRADUATES), nothing imported"
        )


def _new_graduate_id(session: Session, wanted: str, taken: set[str]) -> str:
    """The service's id for a graduate new to the store: the school's own id when no graduate has it,
    else a fresh random one. Schools never see it (they see their own ids), so it tells them nothing."""
    candidate = wanted
    while candidate in taken or session.get(Graduate, candidate) is not None:
        candidate = f"g{secrets.token_hex(8)}"
    taken.add(candidate)
    return candidate


def import_graduates(
    *, session: Session, program: Program, content: bytes, max_graduates: int | None = None
) -> GraduateImport:
    """Validate a graduates CSV for one programme and upsert it, all or nothing.

    The file's ``graduate_id`` is the school's own id for the graduate (its student number): ids are
    scoped per school, so a school may use an id another school uses, and nothing about other schools'
    graduates changes any answer. A row whose id the school already uses updates that graduate (in this
    programme; one in another programme of the school is a problem); any other row adds a graduate.

    Same rules as the bundle import (``models.bundle.parse_entity_csv`` with the store's skill ids; every
    id matches :data:`models.ids.ID_PATTERN`), plus: every row's ``program_id`` is this programme, and the
    programme stays within ``max_graduates``. Raises :class:`GraduateImportError` listing every
    problem, or :class:`ProgramFull`.
    """
    file = "graduates.csv"
    program_id = program.program_id
    frame, problems = parse_entity_csv("graduates", content, known=_known_ids(session))
    problems = list(problems)
    existing: dict[str, tuple[str, str]] = {}  # the school's own id -> (graduate_id, program_id)
    if len(frame):
        lines = _row_lines(content, len(frame))
        for line, value in zip(lines, frame[C.program].tolist(), strict=True):
            if isinstance(value, str) and value and value != program_id:
                problems.append(
                    Problem(file, line, C.program, f"must be {program_id!r}, the programme of this upload")
                )
        ids = [g for g in frame[C.graduate].tolist() if is_valid_id(g)]
        if ids:
            rows = session.execute(
                select(_known_as(), Graduate.graduate_id, Graduate.program_id)
                .join(Program, Program.program_id == Graduate.program_id)
                .where(Program.school_id == program.school_id, _known_as().in_(ids))
            ).all()
            existing = {str(own): (str(g), str(p)) for own, g, p in rows}
        for line, value in zip(lines, frame[C.graduate].tolist(), strict=True):
            if value in existing and existing[value][1] != program_id:
                problems.append(
                    Problem(
                        file,
                        line,
                        C.graduate,
                        f"is a graduate of your programme {existing[value][1]!r}; upload them there",
                    )
                )
    if not len(frame) and not problems:
        problems.append(Problem(file, 2, "-", "the file has a header but no graduates"))
    if problems:
        problems.sort(key=lambda p: (p.line, p.column))
        raise GraduateImportError(problems)
    own_ids = [str(g) for g in frame[C.graduate].tolist()]
    new = [g for g in own_ids if g not in existing]
    if max_graduates is not None and new:
        held = session.scalar(
            select(func.count()).select_from(Graduate).where(Graduate.program_id == program_id)
        )
        if int(held or 0) + len(new) > max_graduates:
            raise ProgramFull(program_id, int(held or 0) + len(new), max_graduates)
    taken: set[str] = set()
    service_ids = {
        g: existing[g][0] if g in existing else _new_graduate_id(session, g, taken) for g in own_ids
    }
    frame = frame.assign(**{C.graduate: [service_ids[g] for g in own_ids]})
    report = import_market(session=session, data=MarketData(graduates=frame))
    session.execute(
        update(Graduate),
        [{"graduate_id": service_ids[g], "student_id": g} for g in own_ids],
    )
    return GraduateImport(
        added=report.added["graduates"],
        updated=report.updated["graduates"],
        unchanged=report.unchanged["graduates"],
    )
