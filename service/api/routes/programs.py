"""School routes on programmes: list, read, graduates, placement plan, skill gaps, graduates import.

A school key sees its own school's programmes only (another school's answers 404); admin sees all;
hr keys get 403. Listings of graduates and plans are written to the audit log.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Query, UploadFile
from pydantic import BaseModel, Field

from models.columns import GRADUATE_STATUSES
from service.api.auth import school_scope
from service.api.deps import MatchingDep, SchoolKey, SessionDep
from service.api.errors import register_error
from service.api.routes.common import (
    API_PREFIX,
    AUTH_ERRORS,
    BODY_ERRORS,
    MODEL_NOT_READY,
    NOT_FOUND,
    Limit,
    Offset,
)
from service.api.schemas import Page, ReasonPublic, Score
from service.schools import DEFAULT_MIN_SCORE, plan_program, program_skill_gaps, school_cohorts
from service.store import audit
from service.store import programs as store
from service.store.graduates import GraduateImportError, import_graduates
from service.store.tables import Graduate, Program

register_error(store.UnknownProgram, 404, "program_not_found")
register_error(GraduateImportError, 422, "invalid_upload")

router = APIRouter(prefix=f"{API_PREFIX}/programs", tags=["schools"], responses=AUTH_ERRORS)


def _responses(*parts: Mapping[int, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    """The documented error responses of a route (merged from ``routes.common``)."""
    merged: dict[int | str, dict[str, Any]] = {}
    for part in parts:
        for status_code, response in part.items():
            merged[status_code] = response
    return merged


GraduateStatus = Literal[GRADUATE_STATUSES]  # type: ignore[valid-type]
MAX_UPLOAD_BYTES = 1_000_000


class ProgramPublic(BaseModel):
    program_id: str
    school_id: str
    school_name: str
    name: str
    kind: str
    sponsor_enterprise_id: str | None
    cohort_year: int
    skills: list[str] = Field(description="The curriculum: skill ids taught.")
    graduates: dict[str, int] = Field(description="Graduates per status.", examples=[{"seeking": 30}])


class GraduatePublic(BaseModel):
    graduate_id: str
    program_id: str
    education: str
    major: str
    skills: list[str]
    preferred_districts: list[str]
    available_from: date | None
    status: str


class AssignmentPublic(BaseModel):
    graduate_id: str
    vacancy_id: str
    score: Score
    sponsor: bool = Field(description="The vacancy is the programme sponsor's.")
    reasons: list[ReasonPublic]


class AlternativePublic(BaseModel):
    vacancy_id: str
    score: Score
    remaining: int = Field(description="Seats the vacancy still has after the plan.")
    status: str = Field(description="full, below_min_score or available.")


class TrainingHintPublic(BaseModel):
    skill_id: str = Field(description="A required skill of the graduate's best vacancies they lack.")
    taught_by: list[str] = Field(
        description="Training programmes (kind `training`, not the graduate's own) teaching it."
    )


class UnassignedPublic(BaseModel):
    graduate_id: str
    reason: str = Field(
        description="education_below_minimum, no_vacancy_above_min_score, no_remaining_headcount or "
        "capacity_taken_by_better_matches.",
        examples=["no_vacancy_above_min_score"],
    )
    message: str = Field(
        description="The reason in words (English).",
        examples=[
            "no vacancy scores at least the minimum score (10% chance that the pairing succeeds): a pairing "
            "this unlikely to succeed is not planned; training in the missing skills listed would raise the "
            "graduate's chances"
        ],
    )
    alternatives: list[AlternativePublic]
    training: list[TrainingHintPublic] = Field(
        description="The required skills of the alternatives the graduate lacks, best vacancy first, with "
        "the training programmes teaching them (at most 5; none when education is what keeps them out)."
    )


class PlanMetricsPublic(BaseModel):
    graduates: int
    assigned: int
    coverage: float
    total_score: float = Field(
        description="Sum of the assignments' scores: the expected number of successful placements."
    )
    mean_score: float = Field(description="Mean score of the assignments.")
    headcount_used: int
    headcount_available: int
    sponsor_seats_filled: int
    congestion_vs_top1: dict[str, float]


class PlacementPlanPublic(BaseModel):
    program_id: str
    model_version: str
    min_score: float = Field(description="Pairs scoring below it were not assigned.")
    sponsor_enterprise_id: str | None
    scope: Literal["program", "school"] = Field(
        default="program",
        description="What was planned together: this programme, or every programme of its school "
        "(then `assignments`, `unassigned` and `metrics` are this programme's part of the school's plan; "
        "`congestion_vs_top1` compares the whole plan).",
    )
    assignments: list[AssignmentPublic]
    unassigned: list[UnassignedPublic]
    metrics: PlanMetricsPublic


class SkillGapPublic(BaseModel):
    skill_id: str
    name_zh: str
    name_en: str
    vacancy_share: float = Field(description="Share of the suiting open vacancies requiring the skill.")
    cohort_share: float = Field(description="Share of the programme's graduates holding it.")
    gap: float
    in_curriculum: bool
    taught_by: list[str] = Field(description="Training programmes whose curriculum contains it.")


class SkillGapsPublic(BaseModel):
    program_id: str
    segments: list[str]
    segment_source: str = Field(description="sponsor, history, curriculum or all (see docs/schools.md).")
    education: str | None
    vacancies: int
    cohort_size: int
    items: list[SkillGapPublic]


class GraduateImportPublic(BaseModel):
    program_id: str
    added: int
    updated: int
    unchanged: int


def _program_public(program: Program, school_name: str, counts: dict[str, int]) -> ProgramPublic:
    return ProgramPublic(
        program_id=program.program_id,
        school_id=program.school_id,
        school_name=school_name,
        name=program.name,
        kind=program.kind,
        sponsor_enterprise_id=program.sponsor_enterprise_id,
        cohort_year=program.cohort_year,
        skills=[s.skill_id for s in program.skills],
        graduates=counts,
    )


def graduate_public(graduate: Graduate) -> GraduatePublic:
    return GraduatePublic(
        graduate_id=graduate.graduate_id,
        program_id=graduate.program_id,
        education=graduate.education,
        major=graduate.major or "",
        skills=[s.skill_id for s in graduate.skills],
        preferred_districts=[d.district for d in graduate.districts],
        available_from=graduate.available_from,
        status=graduate.status,
    )


@router.get("", response_model=Page[ProgramPublic])
def list_programs(
    session: SessionDep, key: SchoolKey, limit: Limit = 50, offset: Offset = 0
) -> Page[ProgramPublic]:
    """The caller's school's programmes (every school's for admin), newest cohort first."""
    items, total = store.list_programs(
        session=session, school_id=school_scope(key), limit=limit, offset=offset
    )
    names = store.school_names(session=session, school_ids=[p.school_id for p in items])
    counts = store.graduate_counts(session=session, program_ids=[p.program_id for p in items])
    return Page[ProgramPublic](
        items=[_program_public(p, names.get(p.school_id, ""), counts[p.program_id]) for p in items],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/{program_id}", response_model=ProgramPublic, responses=_responses(NOT_FOUND))
def get_program(program_id: str, session: SessionDep, key: SchoolKey) -> ProgramPublic:
    """One programme of the caller's school."""
    program = store.get_program(session=session, program_id=program_id, school_id=school_scope(key))
    names = store.school_names(session=session, school_ids=[program.school_id])
    counts = store.graduate_counts(session=session, program_ids=[program.program_id])
    return _program_public(program, names.get(program.school_id, ""), counts[program.program_id])


@router.get("/{program_id}/graduates", response_model=Page[GraduatePublic], responses=_responses(NOT_FOUND))
def list_graduates(
    program_id: str,
    session: SessionDep,
    key: SchoolKey,
    status: Annotated[GraduateStatus | None, Query(description="Only graduates with this status.")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[GraduatePublic]:
    """A page of the programme's graduates, by id."""
    program = store.get_program(session=session, program_id=program_id, school_id=school_scope(key))
    items, total = store.program_graduates(
        session=session, program_id=program.program_id, status=status, limit=limit, offset=offset
    )
    audit.record(
        session=session,
        key_id=key.key_id,
        action="list_graduates",
        resource=f"program:{program.program_id}",
        detail={"count": len(items), "total": total, "status": status, "limit": limit, "offset": offset},
    )
    session.commit()
    return Page[GraduatePublic](
        items=[graduate_public(g) for g in items], total=total, limit=limit, offset=offset
    )


@router.get(
    "/{program_id}/placements",
    response_model=PlacementPlanPublic,
    responses=_responses(NOT_FOUND, MODEL_NOT_READY),
)
def get_placements(
    program_id: str,
    session: SessionDep,
    key: SchoolKey,
    matching: MatchingDep,
    min_score: Annotated[
        float,
        Query(
            ge=0.0,
            le=1.0,
            description="Pairs scoring below are never assigned: a graduate stays unassigned rather than "
            f"get a pairing less likely than this to succeed (default {DEFAULT_MIN_SCORE:g}, as on the web "
            "page).",
        ),
    ] = DEFAULT_MIN_SCORE,
    top_k: Annotated[int, Query(ge=1, le=100, description="Best vacancies listed per graduate.")] = 20,
    scope: Annotated[
        Literal["program", "school"],
        Query(
            description="`school`: plan every programme of the school together, so no two programmes' "
            "plans count on the same seat (slower: the whole school is scored); this programme's part is "
            "returned."
        ),
    ] = "program",
) -> PlacementPlanPublic:
    """A placement plan for the programme's seeking graduates under the vacancies' remaining headcounts."""
    program = store.get_program(session=session, program_id=program_id, school_id=school_scope(key))
    graduates, _ = store.program_graduates(
        session=session, program_id=program.program_id, status="seeking", limit=None
    )
    cohorts = (
        school_cohorts(session=session, program=program, graduates=graduates) if scope == "school" else None
    )
    planned = plan_program(
        session=session,
        matching=matching,
        program=program,
        graduates=graduates,
        min_score=min_score,
        top_k=top_k,
        school_cohorts=cohorts,
    )
    assignments = [
        AssignmentPublic(
            graduate_id=a.graduate_id,
            vacancy_id=a.vacancy_id,
            score=a.score,
            sponsor=a.sponsor,
            reasons=[ReasonPublic(code=r.code, message=r.message) for r in a.reasons],
        )
        for a in planned.assignment_rows()
    ]
    unassigned = [
        UnassignedPublic(
            graduate_id=u.graduate_id,
            reason=u.reason,
            message=u.message,
            alternatives=[
                AlternativePublic(
                    vacancy_id=alt.vacancy_id, score=alt.score, remaining=alt.remaining, status=alt.status
                )
                for alt in u.alternatives
            ],
            training=[TrainingHintPublic(skill_id=h.skill_id, taught_by=h.taught_by) for h in u.training],
        )
        for u in planned.unassigned_rows()
    ]
    metrics: dict[str, Any] = planned.metrics().to_dict()
    audit.record(
        session=session,
        key_id=key.key_id,
        action="plan_placements",
        resource=f"program:{program.program_id}",
        detail={
            "graduates": len(planned.program_graduates),
            "assigned": len(assignments),
            "min_score": min_score,
            "scope": scope,
            "planned_with": len(planned.graduate_ids),
            "model_version": planned.model_version,
        },
    )
    session.commit()
    return PlacementPlanPublic(
        program_id=program.program_id,
        model_version=planned.model_version,
        min_score=min_score,
        sponsor_enterprise_id=program.sponsor_enterprise_id,
        scope=scope,
        assignments=assignments,
        unassigned=unassigned,
        metrics=PlanMetricsPublic(**metrics),
    )


@router.get("/{program_id}/skill-gaps", response_model=SkillGapsPublic, responses=_responses(NOT_FOUND))
def get_skill_gaps(
    program_id: str,
    session: SessionDep,
    key: SchoolKey,
    limit: Annotated[int, Query(ge=1, le=100, description="At most this many skills.")] = 20,
) -> SkillGapsPublic:
    """Skills the open vacancies suiting the programme ask for that few of its graduates hold."""
    program = store.get_program(session=session, program_id=program_id, school_id=school_scope(key))
    report = program_skill_gaps(session=session, program_id=program.program_id, limit=limit)
    return SkillGapsPublic(
        program_id=report.program_id,
        segments=report.segments,
        segment_source=report.segment_source,
        education=report.education,
        vacancies=report.vacancies,
        cohort_size=report.cohort_size,
        items=[SkillGapPublic(**vars(g)) for g in report.gaps],
    )


@router.post(
    "/{program_id}/graduates/import",
    response_model=GraduateImportPublic,
    responses=_responses(NOT_FOUND, BODY_ERRORS),
)
def import_program_graduates(
    program_id: str,
    session: SessionDep,
    key: SchoolKey,
    file: Annotated[UploadFile, File(description="graduates.csv (UTF-8, bundle columns).")],
) -> GraduateImportPublic:
    """Add or update the programme's graduates from a CSV file; all rows or none (422 lists every problem)."""
    program = store.get_program(session=session, program_id=program_id, school_id=school_scope(key))
    content = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        from service.api.errors import PayloadTooLarge

        raise PayloadTooLarge(f"the upload is larger than {MAX_UPLOAD_BYTES} bytes")
    result = import_graduates(session=session, program_id=program.program_id, content=content)
    audit.record(
        session=session,
        key_id=key.key_id,
        action="import_graduates",
        resource=f"program:{program.program_id}",
        detail={"added": result.added, "updated": result.updated, "unchanged": result.unchanged},
    )
    session.commit()
    return GraduateImportPublic(program_id=program.program_id, **vars(result))
