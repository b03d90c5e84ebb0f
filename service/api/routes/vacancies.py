"""Vacancy routes for HR (own enterprise) and admin (any enterprise): :mod:`service.usecases.vacancies` and
:mod:`service.usecases.outcomes`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from service.api.deps import HrContext
from service.api.routes.common import (
    API_PREFIX,
    AUTH_ERRORS,
    BODY_ERRORS,
    CONFLICT,
    NOT_FOUND,
    Limit,
    Offset,
    responses,
)
from service.api.schemas import (
    FeedbackPublic,
    OutcomeUndonePublic,
    Page,
    PostingWarningPublic,
    RecordedOutcomePublic,
    VacancyPublic,
    VacancyStatus,
)
from service.usecases import outcomes, vacancies
from service.usecases.inputs import FeedbackCreate, VacancyCreate, VacancyReopen, VacancyUpdate
from service.usecases.posting_check import warning_detail
from service.usecases.vacancies import VacancyView

router = APIRouter(prefix=f"{API_PREFIX}/vacancies", tags=["vacancies"], responses=AUTH_ERRORS)

NOT_REOPENABLE: dict[int, dict[str, Any]] = {
    409: {
        **CONFLICT[409],
        "description": "The vacancy cannot open again: its closing date has passed or its seats are all "
        "taken (code `vacancy_not_reopenable`, `details` give the reason).",
    }
}


def to_public(view: VacancyView) -> VacancyPublic:
    vacancy = view.vacancy
    return VacancyPublic(
        vacancy_id=vacancy.vacancy_id,
        enterprise_id=vacancy.enterprise_id,
        title=vacancy.title,
        role=vacancy.role,
        required_skills=view.required_skills,
        preferred_skills=view.preferred_skills,
        min_education=vacancy.min_education,
        district=vacancy.district,
        headcount=vacancy.headcount,
        hires=view.hires,
        remaining_headcount=view.remaining_headcount,
        salary_min=vacancy.salary_min,
        salary_max=vacancy.salary_max,
        posted_at=vacancy.posted_at,
        closes_at=vacancy.closes_at,
        status=vacancy.status,
        description=vacancy.description,
        skills_extracted=view.skills_extracted,
        warnings=[PostingWarningPublic.model_validate(warning_detail(w)) for w in view.warnings],
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=VacancyPublic,
    responses=responses(
        {404: {**NOT_FOUND[404], "description": "Admin keys: the enterprise named does not exist."}},
        BODY_ERRORS,
    ),
)
def post_vacancy(data: VacancyCreate, ctx: HrContext, response: Response) -> VacancyPublic:
    """Post a vacancy; skills left out are extracted from the description. Admin keys name the enterprise."""
    view = vacancies.post(ctx, data)
    response.headers["Location"] = f"{API_PREFIX}/vacancies/{view.vacancy.vacancy_id}"
    return to_public(view)


@router.get("", response_model=Page[VacancyPublic])
def list_vacancies(
    ctx: HrContext,
    status: Annotated[VacancyStatus | None, Query(description="Only vacancies with this status.")] = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> Page[VacancyPublic]:
    """The caller's enterprise's vacancies (all enterprises for admin), newest first."""
    page = vacancies.list_vacancies(ctx, status=status, limit=limit, offset=offset)
    return Page[VacancyPublic](
        items=[to_public(v) for v in page.items], total=page.total, limit=limit, offset=offset
    )


@router.get("/{vacancy_id}", response_model=VacancyPublic, responses=responses(NOT_FOUND))
def get_vacancy(vacancy_id: str, ctx: HrContext) -> VacancyPublic:
    """One vacancy of the caller's enterprise."""
    return to_public(vacancies.get(ctx, vacancy_id))


@router.patch(
    "/{vacancy_id}", response_model=VacancyPublic, responses=responses(NOT_FOUND, CONFLICT, BODY_ERRORS)
)
def patch_vacancy(vacancy_id: str, data: VacancyUpdate, ctx: HrContext) -> VacancyPublic:
    """Change fields of an open vacancy (e.g. correct the extracted skills); null leaves a field as it is,
    except salary_min, salary_max and closes_at, which it clears."""
    return to_public(vacancies.patch(ctx, vacancy_id, data))


@router.post("/{vacancy_id}/close", response_model=VacancyPublic, responses=responses(NOT_FOUND))
def close_vacancy(vacancy_id: str, ctx: HrContext) -> VacancyPublic:
    """Close a vacancy: it takes no more feedback and leaves graduates' suggestions."""
    return to_public(vacancies.close(ctx, vacancy_id))


@router.post(
    "/{vacancy_id}/reopen",
    response_model=VacancyPublic,
    responses=responses(NOT_FOUND, NOT_REOPENABLE, BODY_ERRORS),
)
def reopen_vacancy(vacancy_id: str, ctx: HrContext, data: VacancyReopen | None = None) -> VacancyPublic:
    """Open a closed or filled vacancy again until its closing date; a body {"headcount": n} raises the
    headcount (a filled vacancy needs more seats than its hires). 409 when its closing date has passed or
    its seats are all taken."""
    return to_public(vacancies.reopen(ctx, vacancy_id, data))


@router.post(
    "/{vacancy_id}/feedback",
    response_model=FeedbackPublic,
    status_code=status.HTTP_201_CREATED,
    responses=responses(
        {200: {"model": FeedbackPublic, "description": "Already recorded (idempotent)."}},
        NOT_FOUND,
        CONFLICT,
        BODY_ERRORS,
    ),
)
def post_feedback(
    vacancy_id: str, data: FeedbackCreate, ctx: HrContext, response: Response
) -> FeedbackPublic:
    """Record an outcome for a candidate of the vacancy (201 when new, 200 when it was already recorded);
    any graduate who is neither a candidate nor in its pipeline is a 404, as an unknown id is."""
    result = outcomes.record_outcome(ctx, vacancy_id, data)
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return FeedbackPublic(
        vacancy_id=result.vacancy.vacancy_id,
        graduate_id=result.interaction.graduate_id,
        event=result.interaction.event,
        occurred_at=result.interaction.occurred_at,
        created=result.created,
        vacancy_status=result.vacancy.status,
        remaining_headcount=result.remaining_headcount,
    )


UNDO_REFUSED: dict[int, dict[str, Any]] = {
    409: {
        **CONFLICT[409],
        "description": "Recorded longer ago than `TALENTMATCH_UNDO_SECONDS` (code `undo_window_passed`).",
    }
}


@router.post(
    "/{vacancy_id}/feedback/undo",
    response_model=OutcomeUndonePublic,
    responses=responses(
        {404: {**NOT_FOUND[404], "description": "No such vacancy, or no such outcome recorded on it."}},
        UNDO_REFUSED,
        BODY_ERRORS,
    ),
)
def undo_feedback(vacancy_id: str, data: FeedbackCreate, ctx: HrContext) -> OutcomeUndonePublic:
    """Undo an outcome recorded within `TALENTMATCH_UNDO_SECONDS` (a hire gives its seat back and the
    graduate seeks again); audited."""
    result = outcomes.undo_outcome(ctx, vacancy_id, data)
    undone = result.undone
    return OutcomeUndonePublic(
        vacancy_id=result.vacancy.vacancy_id,
        graduate_id=undone.graduate_id,
        event=undone.event,
        recorded_at=undone.recorded_at,
        graduate_status=undone.graduate_status,
        vacancy_status=result.vacancy.status,
        remaining_headcount=result.remaining_headcount,
    )


@router.get(
    "/{vacancy_id}/feedback", response_model=list[RecordedOutcomePublic], responses=responses(NOT_FOUND)
)
def list_feedback(vacancy_id: str, ctx: HrContext) -> list[RecordedOutcomePublic]:
    """The outcomes recorded on the vacancy (open, closed or filled), newest first, at most 500."""
    pipeline = outcomes.vacancy_outcomes(ctx, vacancy_id)
    return [
        RecordedOutcomePublic(
            graduate_id=o.graduate_id,
            event=o.event,
            occurred_at=o.occurred_at,
            undoable=pipeline.undoable(o),
        )
        for o in pipeline.items
    ]
