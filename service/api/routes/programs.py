"""School routes on programmes: list, read, graduates, placement plan, skill gaps, graduates upload
(:mod:`service.usecases.programs`, :mod:`service.usecases.placements`, :mod:`service.usecases.skill_gaps`,
:func:`service.usecases.graduate_upload.upload_graduates`, :mod:`service.usecases.exports`).

A school key sees its own school's programmes only (another school's answers 404); admin sees all;
hr keys get 403. Listings of graduates and plans are written to the audit log.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Path, Query, Response, UploadFile

from models.columns import GRADUATE_STATUSES
from models.ids import ID_PATTERN, ID_RULE
from service.api.deps import SchoolContext
from service.api.errors import register_error
from service.api.routes.common import (
    API_PREFIX,
    AUTH_ERRORS,
    BODY_ERRORS,
    MODEL_NOT_READY,
    NOT_FOUND,
    XLSX,
    XLSX_RESPONSE,
    Language,
    Limit,
    Offset,
    Preview,
    responses,
)
from service.api.schemas import (
    AlternativePublic,
    AssignmentPublic,
    GraduateImportPublic,
    GraduatePublic,
    Page,
    PlacedGraduatePublic,
    PlacementPlanPublic,
    PlanMetricsPublic,
    ProgramPublic,
    ReasonPublic,
    SkillGapPublic,
    SkillGapsPublic,
    TrainingHintPublic,
    UnassignedPublic,
    UploadRowPublic,
)
from service.schools import AssignmentRow, UnassignedRow
from service.store.graduates import GraduateImportError, ProgramFull
from service.store.programs import UnknownProgram
from service.usecases import exports, graduate_upload, outcomes, placements, programs, skill_gaps
from service.usecases.graduates import MAX_UPLOAD_BYTES, EmptyUpload, UploadTooLarge
from service.usecases.placements import DEFAULT_MIN_SCORE
from service.usecases.programs import GraduateDetails, ProgramDetails
from service.usecases.upload_text import UploadInvalid

register_error(UnknownProgram, 404, "program_not_found")
register_error(GraduateImportError, 422, "invalid_upload")
register_error(UploadInvalid, 422, "invalid_upload")
register_error(EmptyUpload, 422, "invalid_upload")
register_error(ProgramFull, 422, "program_full")
register_error(UploadTooLarge, 413, "payload_too_large")

router = APIRouter(prefix=f"{API_PREFIX}/programs", tags=["schools"], responses=AUTH_ERRORS)

GraduateStatus = Literal[GRADUATE_STATUSES]  # type: ignore[valid-type]
ProgramId = Annotated[
    str, Path(pattern=ID_PATTERN, description=f"A programme id ({ID_RULE}); anything else is 422.")
]


def program_public(details: ProgramDetails) -> ProgramPublic:
    program = details.program
    return ProgramPublic(
        program_id=program.program_id,
        school_id=program.school_id,
        school_name=details.school_name,
        name=program.name,
        kind=program.kind,
        sponsor_enterprise_id=program.sponsor_enterprise_id,
        cohort_year=program.cohort_year,
        skills=[s.skill_id for s in program.skills],
        graduates=details.graduates,
    )


def graduate_public(graduate: GraduateDetails) -> GraduatePublic:
    return GraduatePublic(**vars(graduate))


@router.get("", response_model=Page[ProgramPublic])
def list_programs(ctx: SchoolContext, limit: Limit = 50, offset: Offset = 0) -> Page[ProgramPublic]:
    """The caller's school's programmes (every school's for admin), newest cohort first."""
    result = programs.list_programs(ctx, limit=limit, offset=offset)
    return Page[ProgramPublic](
        items=[program_public(p) for p in result.items], total=result.total, limit=limit, offset=offset
    )


@router.get("/{program_id}", response_model=ProgramPublic, responses=responses(NOT_FOUND))
def get_program(program_id: ProgramId, ctx: SchoolContext) -> ProgramPublic:
    """One programme of the caller's school."""
    return program_public(programs.get_program(ctx, program_id))


@router.get("/{program_id}/graduates", response_model=Page[GraduatePublic], responses=responses(NOT_FOUND))
def list_graduates(
    program_id: ProgramId,
    ctx: SchoolContext,
    status: Annotated[GraduateStatus | None, Query(description="Only graduates with this status.")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[GraduatePublic]:
    """A page of the programme's graduates, by id (audited)."""
    result = programs.list_graduates(ctx, program_id, status=status, limit=limit, offset=offset)
    return Page[GraduatePublic](
        items=[graduate_public(g) for g in result.items], total=result.total, limit=limit, offset=offset
    )


@router.get("/{program_id}/placed", response_model=Page[PlacedGraduatePublic], responses=responses(NOT_FOUND))
def list_placed(
    program_id: ProgramId, ctx: SchoolContext, limit: Limit = 50, offset: Offset = 0
) -> Page[PlacedGraduatePublic]:
    """The programme's graduates hired through the service and where, latest first (audited)."""
    result = outcomes.placed_graduates(ctx, program_id, limit=limit, offset=offset)
    return Page[PlacedGraduatePublic](
        items=[
            PlacedGraduatePublic(
                graduate_id=p.graduate_id,
                vacancy_id=p.placement.vacancy_id,
                title=p.placement.title,
                enterprise_name=p.placement.enterprise_name,
                district=p.placement.district,
                hired_at=p.placement.hired_at,
            )
            for p in result.items
        ],
        total=result.total,
        limit=limit,
        offset=offset,
    )


def _assignment(a: AssignmentRow) -> AssignmentPublic:
    return AssignmentPublic(
        graduate_id=a.graduate_id,
        vacancy_id=a.vacancy_id,
        score=a.score,
        sponsor=a.sponsor,
        reasons=[ReasonPublic(code=r.code, message=r.message) for r in a.reasons],
    )


def _unassigned(u: UnassignedRow) -> UnassignedPublic:
    return UnassignedPublic(
        graduate_id=u.graduate_id,
        reason=u.reason,
        message=u.message,
        alternatives=[
            AlternativePublic(vacancy_id=a.vacancy_id, score=a.score, remaining=a.remaining, status=a.status)
            for a in u.alternatives
        ],
        training=[TrainingHintPublic(skill_id=h.skill_id, taught_by=h.taught_by) for h in u.training],
    )


MinScore = Annotated[
    float,
    Query(
        ge=0.0,
        le=1.0,
        description="Pairs scoring below are never assigned: a graduate stays unassigned rather than "
        "get a pairing less likely than this to succeed: a probability from 0 to 1, the scale of `score` "
        f"(default {DEFAULT_MIN_SCORE:g}; the web page takes and shows the same minimum as a percentage, "
        f"{DEFAULT_MIN_SCORE:.0%}).",
    ),
]


@router.get(
    "/{program_id}/placements",
    response_model=PlacementPlanPublic,
    responses=responses(NOT_FOUND, MODEL_NOT_READY),
)
def get_placements(
    program_id: ProgramId,
    ctx: SchoolContext,
    min_score: MinScore = DEFAULT_MIN_SCORE,
    top_k: Annotated[int, Query(ge=1, le=100, description="Best vacancies listed per graduate.")] = 20,
    scope: Annotated[
        Literal["program", "school"],
        Query(
            description="`school`: plan every programme of the school together, so no two programmes' "
            "plans count on the same seat (slower: the whole school is scored); this programme's part is "
            "returned."
        ),
    ] = "program",
    order: Annotated[
        Literal["graduate", "score"],
        Query(description="Both lists by graduate id, or best score first (as the web page shows them)."),
    ] = "graduate",
    limit: Limit = 50,
    offset: Offset = 0,
) -> PlacementPlanPublic:
    """A placement plan for the programme's seeking graduates under the vacancies' remaining headcounts;
    a page of each list."""
    plan = placements.plan_placements(
        ctx,
        program_id,
        min_score=min_score,
        top_k=top_k,
        scope=scope,
        order=order,
        limit=limit,
        offset=offset,
    )
    return PlacementPlanPublic(
        program_id=plan.program.program_id,
        model_version=plan.model_version,
        min_score=plan.min_score,
        sponsor_enterprise_id=plan.program.sponsor_enterprise_id,
        scope=plan.scope,
        assignments=[_assignment(a) for a in plan.assignments],
        unassigned=[_unassigned(u) for u in plan.unassigned],
        assignments_total=plan.assignments_total,
        unassigned_total=plan.unassigned_total,
        limit=limit,
        offset=offset,
        metrics=PlanMetricsPublic(**plan.metrics.to_dict()),
    )


@router.get("/{program_id}/skill-gaps", response_model=SkillGapsPublic, responses=responses(NOT_FOUND))
def get_skill_gaps(
    program_id: ProgramId,
    ctx: SchoolContext,
    limit: Annotated[int, Query(ge=1, le=100, description="At most this many skills.")] = 20,
) -> SkillGapsPublic:
    """Skills the open vacancies suiting the programme ask for that few of its graduates hold."""
    report = skill_gaps.program_skill_gaps(ctx, program_id, limit=limit).report
    return SkillGapsPublic(
        program_id=report.program_id,
        segments=report.segments,
        segment_source=report.segment_source,
        education=report.education,
        vacancies=report.vacancies,
        cohort_size=report.cohort_size,
        items=[SkillGapPublic(**vars(g)) for g in report.gaps],
    )


def xlsx(filename: str, content: bytes) -> Response:
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/{program_id}/placements/export",
    response_class=Response,
    responses=responses(XLSX_RESPONSE, NOT_FOUND, MODEL_NOT_READY),
)
def export_placements(
    program_id: ProgramId,
    ctx: SchoolContext,
    lang: Language,
    min_score: MinScore = DEFAULT_MIN_SCORE,
    scope: Annotated[Literal["program", "school"], Query(description="As for the plan.")] = "program",
) -> Response:
    """The whole placement plan as an .xlsx: assignments, and the unassigned with why (audited)."""
    download = exports.placement_plan(ctx, program_id, min_score=min_score, scope=scope, lang=lang)
    return xlsx(download.filename, download.content)


@router.get(
    "/{program_id}/graduates/template",
    response_class=Response,
    responses=responses(XLSX_RESPONSE, NOT_FOUND),
)
def graduates_template(program_id: ProgramId, ctx: SchoolContext) -> Response:
    """The graduates upload's .xlsx template: columns, an example row, drop-down lists, notes, skills."""
    return xlsx(f"graduates-{program_id}.xlsx", graduate_upload.graduates_template(ctx, program_id))


@router.post(
    "/{program_id}/graduates/import",
    response_model=GraduateImportPublic,
    responses=responses(NOT_FOUND, BODY_ERRORS),
)
def import_program_graduates(
    program_id: ProgramId,
    ctx: SchoolContext,
    lang: Language,
    file: Annotated[
        UploadFile,
        File(
            description="The graduates as an .xlsx (first sheet) or a CSV in UTF-8, UTF-8 with BOM or "
            "GB18030, not empty, at most 1 MB. Values by id or Chinese/English name (大专, 求职中, "
            "引线键合), lists "
            "separated by ; ； 、 or ，, dates as 2026-07-01, 2026/7/1 or 2026年7月1日. `graduate_id` is the "
            "school's own id for each graduate (ids are scoped per school); `program_id` may be left out.",
            json_schema_extra={"minLength": 1},
        ),
    ],
    preview: Preview = False,
) -> GraduateImportPublic:
    """Add or update the programme's graduates from an .xlsx or CSV; all rows or none (422 lists every
    problem by row and column, in the Accept-Language's language)."""
    result = graduate_upload.upload_graduates(
        ctx, program_id, file.file.read(MAX_UPLOAD_BYTES + 1), lang=lang, preview=preview
    )
    return GraduateImportPublic(
        program_id=result.program_id,
        added=result.added,
        updated=result.updated,
        unchanged=result.unchanged,
        preview=result.preview,
        rows=[upload_row_public(r) for r in result.rows] if result.preview else [],
    )


def upload_row_public(row: graduate_upload.UploadRow) -> UploadRowPublic:
    values = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.values.items()}
    return UploadRowPublic(row=row.row, key=row.key, action=row.action, values=values)  # type: ignore[arg-type]
