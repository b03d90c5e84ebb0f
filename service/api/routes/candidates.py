"""Ranked candidates for a vacancy, with reasons (:func:`service.usecases.candidates.list_for_vacancy`)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from models.results import CandidateFilters
from service.api.compute import run_compute
from service.api.deps import HrContext
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
from service.usecases import candidates
from service.usecases.candidates import Candidate

router = APIRouter(prefix=f"{API_PREFIX}/vacancies", tags=["candidates"], responses=AUTH_ERRORS)


@router.get(
    "/{vacancy_id}/candidates",
    response_model=CandidatesPublic,
    responses=responses(NOT_FOUND, MODEL_NOT_READY),
)
async def list_candidates(
    request: Request,
    vacancy_id: str,
    ctx: HrContext,
    limit: Limit = 20,
    offset: Offset = 0,
    district: Annotated[
        str | None,
        Query(
            max_length=100,
            description="Admin keys only: graduates who would work or studied in this district. An hr key "
            "gets 403 (the filter would tell which graduates prefer the district).",
        ),
    ] = None,
    program_kind: Annotated[
        ProgramKind | None, Query(description="Only graduates of this kind of programme.")
    ] = None,
    program_id: Annotated[
        str | None, Query(max_length=64, description="Only graduates of this programme.")
    ] = None,
    personalised: Personalised = True,
    include_below_floor: IncludeBelowFloor = False,
    rerank: Annotated[
        Literal["none", "exposure"] | None,
        Query(
            description="`exposure`: re-order the recommendations so each group of graduates (by school "
            "kind, or `TALENTMATCH_FAIR_RERANK_BY`) gets at least its share of the top of the list, within a "
            "bound on the loss of the list's estimated DCG; scores are unchanged and `reranked` says whether "
            "the order moved. `none`: the model's order. Default: `TALENTMATCH_FAIR_RERANK` (`none`). See "
            "docs/fairness.md."
        ),
    ] = None,
) -> CandidatesPublic:
    """Seeking graduates ranked best first by score for one of the caller's vacancies, with reasons."""
    filters = CandidateFilters(
        district=district or None, program_kind=program_kind or None, program_id=program_id or None
    )

    def answer() -> CandidatesPublic:
        result = candidates.list_for_vacancy(
            ctx,
            vacancy_id,
            filters=filters,
            limit=limit,
            offset=offset,
            personalised=personalised,
            rerank=rerank,
        )
        return CandidatesPublic(
            vacancy_id=result.vacancy_id,
            model_version=result.model_version,
            items=[_public(c) for c in result.shown(include_below=include_below_floor)],
            total=result.total,
            limit=limit,
            offset=offset,
            score_floor=result.floor,
            below_floor=len(result.below),
            rerank=result.rerank,
            reranked=result.reranked,
        )

    # An async route with its work in one thread-pool hop: a sync one takes a second hop for FastAPI's
    # check of the returned model, which is already a CandidatesPublic (see service/api/deps.py).
    return await run_compute(request, answer)


def _public(candidate: Candidate) -> CandidatePublic:
    match, info = candidate.match, candidate.info
    return CandidatePublic(
        graduate_id=match.graduate_id,
        score=match.score,
        program_id=info.program_id,
        program_name=info.program_name,
        school_name=info.school_name,
        education=info.education,
        skills=info.skills,
        matched_skills=list(match.matched_skills),
        missing_skills=list(match.missing_skills),
        reasons=[ReasonPublic(code=r.code, message=r.message) for r in match.reasons],
    )
