"""Ranked candidates for a vacancy, with reasons; every listing is written to the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from models.results import CandidateFilters
from service.api.auth import enterprise_scope
from service.api.deps import HrKey, MatchingDep, SessionDep
from service.api.routes.common import (
    API_PREFIX,
    AUTH_ERRORS,
    MODEL_NOT_READY,
    NOT_FOUND,
    IncludeBelowFloor,
    Limit,
    Offset,
    Personalised,
    responses,
)
from service.api.schemas import CandidatePublic, CandidatesPublic, ProgramKind, ReasonPublic
from service.store import audit
from service.store.vacancies import get_vacancy

router = APIRouter(prefix=f"{API_PREFIX}/vacancies", tags=["candidates"], responses=AUTH_ERRORS)


@router.get(
    "/{vacancy_id}/candidates",
    response_model=CandidatesPublic,
    responses=responses(NOT_FOUND, MODEL_NOT_READY),
)
def list_candidates(
    vacancy_id: str,
    request: Request,
    session: SessionDep,
    key: HrKey,
    matching: MatchingDep,
    limit: Limit = 20,
    offset: Offset = 0,
    district: Annotated[
        str | None, Query(max_length=100, description="Only graduates who would work in this district.")
    ] = None,
    program_kind: Annotated[
        ProgramKind | None, Query(description="Only graduates of this kind of programme.")
    ] = None,
    program_id: Annotated[
        str | None, Query(max_length=64, description="Only graduates of this programme.")
    ] = None,
    personalised: Personalised = True,
    include_below_floor: IncludeBelowFloor = False,
) -> CandidatesPublic:
    """Seeking graduates ranked best first by score for one of the caller's vacancies, with reasons."""
    if not personalised:
        matching = request.app.state.plain_matching
    vacancy = get_vacancy(
        session=session, vacancy_id=vacancy_id, enterprise_id=enterprise_scope(key), with_skills=False
    )
    filters = CandidateFilters(
        district=district or None, program_kind=program_kind or None, program_id=program_id or None
    )
    page = matching.recommended_candidates(
        session=session, vacancy=vacancy.vacancy_id, limit=limit, offset=offset, filters=filters
    )
    snapshot = page.snapshot
    items = []
    for match in page.shown(include_below=include_below_floor):
        info = snapshot.graduates.get(match.graduate_id)
        if info is None:  # not in the candidate pool (cannot happen with a consistent snapshot)
            continue
        items.append(
            CandidatePublic(
                graduate_id=match.graduate_id,
                score=min(1.0, max(0.0, float(match.score))),
                program_id=info.program_id,
                program_name=info.program_name,
                school_name=info.school_name,
                education=info.education,
                skills=info.skills,
                matched_skills=list(match.matched_skills),
                missing_skills=list(match.missing_skills),
                reasons=[ReasonPublic(code=r.code, message=r.message) for r in match.reasons],
            )
        )
    audit.record(
        session=session,
        key_id=key.key_id,
        action="list_candidates",
        resource=f"vacancy:{vacancy.vacancy_id}",
        detail={
            "count": len(items),
            "total": page.total,
            "below_floor": page.below_floor,
            "limit": limit,
            "offset": offset,
            "model_version": snapshot.model_version,
        },
    )
    session.commit()
    return CandidatesPublic(
        vacancy_id=vacancy.vacancy_id,
        model_version=snapshot.model_version,
        items=items,
        total=page.total,
        limit=limit,
        offset=offset,
        score_floor=page.floor,
        below_floor=page.below_floor,
    )
