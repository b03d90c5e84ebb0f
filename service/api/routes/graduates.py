"""School routes on one graduate: read, suggested vacancies, erasure (:mod:`service.usecases.graduates`).

A school key reaches its own school's graduates only, by its own ids (another school's answer 404 like a
missing one); admin reaches all by the service's ids; hr keys get 403 (HR sees graduates only as
candidates of its own vacancies).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from models.ids import ID_PATTERN, ID_RULE
from service.api.compute import run_compute
from service.api.deps import SchoolContext
from service.api.routes.common import (
    API_PREFIX,
    AUTH_ERRORS,
    MODEL_NOT_READY,
    NOT_FOUND,
    IncludeBelowFloor,
    Personalised,
    responses,
)
from service.api.routes.programs import graduate_public
from service.api.schemas import (
    GraduatePublic,
    ReasonPublic,
    RecommendationPublic,
    RecommendationsPublic,
)
from service.usecases import graduates
from service.usecases.graduates import Suggestion

router = APIRouter(prefix=f"{API_PREFIX}/graduates", tags=["schools"], responses=AUTH_ERRORS)

GraduateId = Annotated[
    str,
    Path(
        pattern=ID_PATTERN,
        description=f"The graduate's id as the caller knows them (a school's own; admin: the service's). "
        f"{ID_RULE}; anything else is 422.",
    ),
]


@router.get("/{graduate_id}", response_model=GraduatePublic, responses=responses(NOT_FOUND))
def read_graduate(graduate_id: GraduateId, ctx: SchoolContext) -> GraduatePublic:
    """One graduate of the caller's school (audited)."""
    return graduate_public(graduates.view_graduate(ctx, graduate_id).graduate)


def _recommendation(s: Suggestion) -> RecommendationPublic:
    match, info = s.match, s.vacancy
    return RecommendationPublic(
        vacancy_id=match.vacancy_id,
        title=info.title,
        enterprise_id=info.enterprise_id,
        enterprise_name=info.enterprise_name,
        district=info.district,
        score=match.score,
        matched_skills=list(match.matched_skills),
        missing_skills=list(match.missing_skills),
        reasons=[ReasonPublic(code=r.code, message=r.message) for r in match.reasons],
    )


@router.get(
    "/{graduate_id}/recommendations",
    response_model=RecommendationsPublic,
    responses=responses(NOT_FOUND, MODEL_NOT_READY),
)
async def recommendations(
    request: Request,
    graduate_id: GraduateId,
    ctx: SchoolContext,
    limit: Annotated[int, Query(ge=1, le=100, description="How many vacancies (at most 100).")] = 10,
    district: Annotated[
        str | None, Query(max_length=100, description="Only vacancies in this district.")
    ] = None,
    personalised: Personalised = True,
    include_below_floor: IncludeBelowFloor = False,
) -> RecommendationsPublic:
    """Open vacancies ranked best first by score for one graduate (education minimum applied), and why."""

    def answer() -> RecommendationsPublic:
        result = graduates.recommendations(
            ctx, graduate_id, district=district, limit=limit, personalised=personalised
        )
        return RecommendationsPublic(
            graduate_id=result.graduate.graduate_id,
            model_version=result.model_version,
            items=[_recommendation(s) for s in result.shown(include_below=include_below_floor)],
            total=result.total,
            score_floor=result.floor,
            below_floor=len(result.below),
        )

    # One thread-pool hop for the work and the response model (as list_candidates).
    return await run_compute(request, answer)


@router.delete(
    "/{graduate_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=responses(NOT_FOUND),
)
def delete_graduate(graduate_id: GraduateId, ctx: SchoolContext) -> Response:
    """Erase a graduate with their skills, districts and interactions; gone from answers at once."""
    graduates.erase_graduate(ctx, graduate_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
