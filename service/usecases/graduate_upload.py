"""A school's upload of a programme's graduates (.xlsx or CSV, Chinese values), its preview, its template.

:func:`upload_graduates` reads the file with :mod:`service.usecases.tabular`, checks every row against the
store (the programme, the school's other programmes, the programme's cap) and says for each row whether it
adds, updates or leaves a graduate unchanged. With ``preview=True`` that is the answer and nothing is written;
otherwise the rows are written all or nothing (through the store's graduates import, which checks them again
by the bundle's rules). Problems are :class:`~service.usecases.upload_text.UploadInvalid`, in the caller's
language, each by row and column as the spreadsheet shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models.columns import Columns as C
from models.data import ENTITY_COLUMNS
from service.store import graduates as store
from service.store.programs import graduate_counts
from service.store.skills import taxonomy
from service.store.tables import Graduate
from service.usecases.context import Context
from service.usecases.graduates import MAX_UPLOAD_BYTES, EmptyUpload, UploadTooLarge
from service.usecases.programs import find_program
from service.usecases.tabular import Column, Table, Vocabulary, canonical_csv, read_upload
from service.usecases.upload_text import UploadInvalid, UploadProblem, normalise_language, say
from service.usecases.workbooks import template_workbook

GRADUATE_COLUMNS: tuple[Column, ...] = (
    Column(C.graduate, "id", "学号", "Student id", required=True, example="2026001"),
    Column(C.program, "id", "培养项目编号", "Programme id"),
    Column(C.education, "choice", "学历", "Education", required=True, choices="education", example="大专"),
    Column(C.major, "text", "专业", "Major", max_length=200, example="微电子技术"),
    Column(C.skills, "skills", "技能", "Skills", example="引线键合；SPC"),
    Column(
        C.preferred_districts,
        "districts",
        "意向地区",
        "Preferred districts",
        max_length=100,
        example="越城区、柯桥区",
    ),
    Column(C.available_from, "date", "可入职日期", "Available from", example="2026/07/01"),
    Column(C.status, "choice", "状态", "Status", required=True, choices="status", example="求职中"),
)
ADD, UPDATE, UNCHANGED = "add", "update", "unchanged"


@dataclass(frozen=True)
class UploadRow:
    """One row of an upload: its row in the sheet, the record it names, what writing it does and its
    values in canonical form (ids, lists, dates)."""

    row: int
    key: str
    action: str  # add, update or unchanged
    values: dict[str, Any]


@dataclass(frozen=True)
class Upload:
    program_id: str
    added: int
    updated: int
    unchanged: int
    preview: bool = False  # True: nothing was written
    rows: tuple[UploadRow, ...] = ()


def vocabulary(ctx: Context) -> Vocabulary:
    return Vocabulary.build(taxonomy(session=ctx.session))


def _check_size(content: bytes, lang: str) -> None:
    if not content:
        raise EmptyUpload(lang=lang)
    if len(content) > MAX_UPLOAD_BYTES:
        raise UploadTooLarge(lang=lang)


def _same(graduate: Graduate, values: dict[str, Any], program_id: str) -> bool:
    return (
        graduate.program_id == program_id
        and graduate.education == values[C.education]
        and (graduate.major or "") == (values[C.major] or "")
        and [s.skill_id for s in graduate.skills] == values[C.skills]
        and [d.district for d in graduate.districts] == values[C.preferred_districts]
        and graduate.available_from == values[C.available_from]
        and graduate.status == values[C.status]
    )


def _plan(ctx: Context, program_id: str, school_id: str, table: Table) -> list[UploadRow]:
    """Each row's action; problems (another programme named, a graduate of another programme) added to
    ``table``."""
    own_ids = [str(r.values[C.graduate]) for r in table.rows if r.values[C.graduate]]
    existing = store.school_graduates(session=ctx.session, school_id=school_id, student_ids=own_ids)
    planned = []
    for row in table.rows:
        values = row.values
        named = values.get(C.program)
        if named and named != program_id:
            table.problem(row.number, C.program, "other_program", program=program_id)
        values[C.program] = program_id
        own = values[C.graduate]
        if not own:
            continue
        graduate = existing.get(own)
        if graduate is None:
            action = ADD
        elif graduate.program_id != program_id:
            table.problem(row.number, C.graduate, "graduate_elsewhere", program=graduate.program_id)
            continue
        else:
            action = UNCHANGED if _same(graduate, values, program_id) else UPDATE
        planned.append(UploadRow(row.number, own, action, values))
    return planned


def canonical_file(upload: Upload) -> bytes:
    """A previewed upload's rows as a canonical CSV: what the page carries from the preview to the confirm."""
    return canonical_csv(ENTITY_COLUMNS["graduates"], [(r.row, r.values) for r in upload.rows])


def upload_graduates(
    ctx: Context, program_id: str, content: bytes, *, lang: str = "zh", preview: bool = False
) -> Upload:
    """Add or update the programme's graduates from an .xlsx or CSV file, all rows or none.

    The file's ``graduate_id`` is the school's own id (ids are scoped per school); ``program_id`` may be left
    out or empty. Refused: an empty file (:class:`~service.usecases.graduates.EmptyUpload`), one over
    :data:`~service.usecases.graduates.MAX_UPLOAD_BYTES` (:class:`~service.usecases.graduates.UploadTooLarge`
    ),
    any problem in any row (:class:`UploadInvalid`, in ``lang``), an upload taking the programme past
    ``TALENTMATCH_MAX_PROGRAM_GRADUATES`` (:class:`~service.store.graduates.ProgramFull`). ``preview``: the
    answer with each row's action, nothing written. A write is audited with counts only and committed."""
    lang = normalise_language(lang)
    program = find_program(ctx, program_id)
    _check_size(content, lang)
    try:
        table = read_upload(content, GRADUATE_COLUMNS, vocabulary(ctx))
    except UploadInvalid as error:
        raise UploadInvalid(error.problems, lang) from None
    planned = _plan(ctx, program.program_id, program.school_id, table)
    if table.problems:
        raise UploadInvalid(table.problems, lang)
    added = sum(r.action == ADD for r in planned)
    updated = sum(r.action == UPDATE for r in planned)
    unchanged = len(planned) - added - updated
    limit = ctx.settings.max_program_graduates
    held = sum(
        graduate_counts(session=ctx.session, program_ids=[program.program_id])[program.program_id].values()
    )
    if added and held + added > limit:
        full = store.ProgramFull(program.program_id, held + added, limit)
        full.args = (say("program_full", lang, would_have=held + added, limit=limit),)
        raise full
    if preview:
        ctx.audit_read(
            "preview_import_graduates",
            f"program:{program.program_id}",
            {"added": added, "updated": updated, "unchanged": unchanged},
        )
        ctx.commit()
        return Upload(program.program_id, added, updated, unchanged, True, tuple(planned))
    try:
        result = store.import_graduates(
            session=ctx.session,
            program=program,
            content=canonical_csv(ENTITY_COLUMNS["graduates"], [(r.number, r.values) for r in table.rows]),
            max_graduates=limit,
        )
    except store.GraduateImportError as error:  # the bundle's rules found what the reader did not
        ctx.session.rollback()
        positions = table.positions
        raise UploadInvalid(
            [
                UploadProblem(
                    p.line,
                    positions.get(p.column),
                    p.column,
                    "raw",
                    {"message": p.message},
                )
                for p in error.problems
            ],
            lang,
        ) from None
    except store.ProgramFull:
        ctx.session.rollback()
        raise
    ctx.audit(
        "import_graduates",
        f"program:{program.program_id}",
        {"added": result.added, "updated": result.updated, "unchanged": result.unchanged},
    )
    ctx.commit()
    return Upload(program.program_id, result.added, result.updated, result.unchanged, False, tuple(planned))


def graduates_template(ctx: Context, program_id: str) -> bytes:
    """The .xlsx template of the programme's graduates upload: the columns, an example row with the
    programme's id, drop-down lists for education, status and districts, notes and the skills."""
    program = find_program(ctx, program_id)
    columns = tuple(
        Column(**{**vars(c), "example": program.program_id}) if c.name == C.program else c
        for c in GRADUATE_COLUMNS
    )
    skills = sorted((sid, names[0], names[1] or "") for sid, names, _ in taxonomy(session=ctx.session))
    return template_workbook(columns, sheet_title="毕业生 graduates", skills=skills)
