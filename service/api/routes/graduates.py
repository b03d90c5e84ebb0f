"""School routes on one graduate: read, suggested vacancies, erasure.

A school key reaches its own school's graduates only (another school's answer 404); admin reaches all;
hr keys get 403 (HR sees graduates only as candidates of its own vacancies).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, Field

from models.results import VacancyFilters
from service.api.auth import school_scope
from service.api.deps import MatchingDep, SchoolKey, SessionDep
from service.api.routes.common import (
    API_PREFIX,
    AUTH_ERRORS,
    MODEL_NOT_READY,
    NOT_FOUND,
    IncludeBelowFloor,
    Personalised,
)
from service.api.routes.programs import GraduatePublic, _responses, graduate_public
from service.api.schemas import SCORE_FLOOR_DESCRIPTION, ReasonPublic, Score
from service.store import audit
from service.store.graduates import erase_graduate, get_graduate, graduate_record

router = APIRouter(prefix=f"{API_PREFIX}/graduates", tags=["schools"], responses=AUTH_ERRORS)


class RecommendationPublic(BaseModel):
    vacancy_id: str
    title: str
    enterprise_id: str
    enterprise_name: str
    district: str
    score: Score
    matched_skills: list[str]
    missing_skills: list[str]
    reasons: list[ReasonPublic]


class RecommendationsPublic(BaseModel):
    graduate_id: str
    model_version: str
    items: list[RecommendationPublic] = Field(
        description="Open vacancies best first by `score`: the recommendations (at or above `score_floor`), "
        "or every rank asked for with `include_below_floor=true`."
    )
    total: int = Field(description="Open vacancies passing the hard filters (above or below the floor).")
    score_floor: float = Field(description=SCORE_FLOOR_DESCRIPTION)
    below_floor: int = Field(
        description="How many of the `limit` best ranks score below `score_floor` (left out of `items` "
        "unless `include_below_floor=true`)."
    )


@router.get("/{graduate_id}", response_model=GraduatePublic, responses=_responses(NOT_FOUND))
def read_graduate(graduate_id: str, session: SessionDep, key: SchoolKey) -> GraduatePublic:
    """One graduate of the caller's school."""
    graduate = get_graduate(session=session, graduate_id=graduate_id, school_id=school_scope(key))
    return graduate_public(graduate)


@router.get(
    "/{graduate_id}/recommendations",
    response_model=RecommendationsPublic,
    responses=_responses(NOT_FOUND, MODEL_NOT_READY),
)
def recommendations(
    graduate_id: str,
    request: Request,
    session: SessionDep,
    key: SchoolKey,
    matching: MatchingDep,
    limit: Annotated[int, Query(ge=1, le=100, description="How many vacancies (at most 100).")] = 10,
    district: Annotated[
        str | None, Query(max_length=100, description="Only vacancies in this district.")
    ] = None,
    personalised: Personalised = True,
    include_below_floor: IncludeBelowFloor = False,
) -> RecommendationsPublic:
    """Open vacancies ranked best first by score for one graduate (education minimum applied), and why."""
    if not personalised:
        matching = request.app.state.plain_matching
    graduate = get_graduate(session=session, graduate_id=graduate_id, school_id=school_scope(key))
    # Seeking graduates are in the matcher's index; others (placed, withdrawn) are asked about as data.
    query = graduate.graduate_id if graduate.status == "seeking" else graduate_record(graduate)
    page = matching.recommended_vacancies(
        session=session, graduate=query, limit=limit, filters=VacancyFilters(district=district or None)
    )
    snapshot = page.snapshot
    items = []
    for match in page.shown(include_below=include_below_floor):
        info = snapshot.vacancies.get(match.vacancy_id)
        if info is None:
            continue
        items.append(
            RecommendationPublic(
                vacancy_id=match.vacancy_id,
                title=info.title,
                enterprise_id=info.enterprise_id,
                enterprise_name=info.enterprise_name,
                district=info.district,
                score=min(1.0, max(0.0, float(match.score))),
                matched_skills=list(match.matched_skills),
                missing_skills=list(match.missing_skills),
                reasons=[ReasonPublic(code=r.code, message=r.message) for r in match.reasons],
            )
        )
    audit.record(
        session=session,
        key_id=key.key_id,
        action="list_recommendations",
        resource=f"graduate:{graduate.graduate_id}",
        detail={
            "count": len(items),
            "below_floor": page.below_floor,
            "limit": limit,
            "model_version": snapshot.model_version,
        },
    )
    session.commit()
    return RecommendationsPublic(
        graduate_id=graduate.graduate_id,
        model_version=snapshot.model_version,
        items=items,
        total=page.total,
        score_floor=page.floor,
        below_floor=page.below_floor,
    )


@router.delete(
    "/{graduate_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=_responses(NOT_FOUND),
)
def delete_graduate(graduate_id: str, session: SessionDep, key: SchoolKey) -> Response:
    """Erase a graduate with their skills, districts and interactions; gone from answers at once."""
    graduate = get_graduate(session=session, graduate_id=graduate_id, school_id=school_scope(key))
    program_id = graduate.program_id
    deleted = erase_graduate(session=session, graduate=graduate)
    audit.record(
        session=session,
        key_id=key.key_id,
        action="erase_graduate",
        resource=f"program:{program_id}",
        detail={"rows": deleted},
    )
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
