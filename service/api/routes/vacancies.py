"""Vacancy routes for HR (own enterprise) and admin (any enterprise)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from service.api.auth import enterprise_scope
from service.api.deps import HrKey, SessionDep
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
    FeedbackCreate,
    FeedbackPublic,
    Page,
    VacancyCreate,
    VacancyPublic,
    VacancyStatus,
    VacancyUpdate,
)
from service.store import vacancies as store
from service.store.tables import Vacancy
from service.store.vacancies import InvalidVacancy, UnknownEnterprise

router = APIRouter(prefix=f"{API_PREFIX}/vacancies", tags=["vacancies"], responses=AUTH_ERRORS)


def to_public(vacancy: Vacancy, hires: int, *, extracted: bool = False) -> VacancyPublic:
    return VacancyPublic(
        vacancy_id=vacancy.vacancy_id,
        enterprise_id=vacancy.enterprise_id,
        title=vacancy.title,
        role=vacancy.role,
        required_skills=store.required_skills(vacancy),
        preferred_skills=store.preferred_skills(vacancy),
        min_education=vacancy.min_education,
        district=vacancy.district,
        headcount=vacancy.headcount,
        hires=hires,
        remaining_headcount=max(0, vacancy.headcount - hires),
        salary_min=vacancy.salary_min,
        salary_max=vacancy.salary_max,
        posted_at=vacancy.posted_at,
        closes_at=vacancy.closes_at,
        status=vacancy.status,
        description=vacancy.description,
        skills_extracted=extracted,
    )


def _public(session: SessionDep, vacancy: Vacancy, *, extracted: bool = False) -> VacancyPublic:
    hires = store.hires(session=session, vacancy_ids=[vacancy.vacancy_id])[vacancy.vacancy_id]
    return to_public(vacancy, hires, extracted=extracted)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=VacancyPublic,
    responses=responses(NOT_FOUND, BODY_ERRORS),
)
def post_vacancy(data: VacancyCreate, session: SessionDep, key: HrKey, response: Response) -> VacancyPublic:
    """Post a vacancy; skills left out are extracted from the description."""
    enterprise_id = enterprise_scope(key)
    if enterprise_id is None:  # admin names the enterprise
        if data.enterprise_id is None:
            raise UnknownEnterprise(None)
        enterprise_id = data.enterprise_id
    elif data.enterprise_id is not None and data.enterprise_id != enterprise_id:
        raise InvalidVacancy(
            "enterprise_id", "an hr key posts for its own enterprise; leave enterprise_id out"
        )
    vacancy, extracted = store.create_vacancy(session=session, data=data, enterprise_id=enterprise_id)
    session.commit()
    response.headers["Location"] = f"{API_PREFIX}/vacancies/{vacancy.vacancy_id}"
    return to_public(vacancy, 0, extracted=extracted)


@router.get("", response_model=Page[VacancyPublic])
def list_vacancies(
    session: SessionDep,
    key: HrKey,
    status: Annotated[VacancyStatus | None, Query(description="Only vacancies with this status.")] = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> Page[VacancyPublic]:
    """The caller's enterprise's vacancies (all enterprises for admin), newest first."""
    items, total = store.list_vacancies(
        session=session, enterprise_id=enterprise_scope(key), status=status, limit=limit, offset=offset
    )
    hires = store.hires(session=session, vacancy_ids=[v.vacancy_id for v in items])
    return Page[VacancyPublic](
        items=[to_public(v, hires[v.vacancy_id]) for v in items], total=total, limit=limit, offset=offset
    )


@router.get("/{vacancy_id}", response_model=VacancyPublic, responses=responses(NOT_FOUND))
def get_vacancy(vacancy_id: str, session: SessionDep, key: HrKey) -> VacancyPublic:
    """One vacancy of the caller's enterprise."""
    vacancy = store.get_vacancy(session=session, vacancy_id=vacancy_id, enterprise_id=enterprise_scope(key))
    return _public(session, vacancy)


@router.patch(
    "/{vacancy_id}", response_model=VacancyPublic, responses=responses(NOT_FOUND, CONFLICT, BODY_ERRORS)
)
def patch_vacancy(vacancy_id: str, data: VacancyUpdate, session: SessionDep, key: HrKey) -> VacancyPublic:
    """Change fields of an open vacancy (e.g. correct the extracted skills)."""
    vacancy = store.get_vacancy(session=session, vacancy_id=vacancy_id, enterprise_id=enterprise_scope(key))
    store.update_vacancy(session=session, vacancy=vacancy, data=data)
    session.commit()
    return _public(session, vacancy)


@router.post("/{vacancy_id}/close", response_model=VacancyPublic, responses=responses(NOT_FOUND))
def close_vacancy(vacancy_id: str, session: SessionDep, key: HrKey) -> VacancyPublic:
    """Close a vacancy: it takes no more feedback and leaves graduates' suggestions."""
    vacancy = store.get_vacancy(session=session, vacancy_id=vacancy_id, enterprise_id=enterprise_scope(key))
    store.close_vacancy(session=session, vacancy=vacancy)
    session.commit()
    return _public(session, vacancy)


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
    vacancy_id: str, data: FeedbackCreate, session: SessionDep, key: HrKey, response: Response
) -> FeedbackPublic:
    """Record an outcome for a candidate (201 when new, 200 when it was already recorded)."""
    store.lock_vacancy(session=session, vacancy_id=vacancy_id)
    vacancy = store.get_vacancy(session=session, vacancy_id=vacancy_id, enterprise_id=enterprise_scope(key))
    interaction, created = store.record_feedback(
        session=session, vacancy=vacancy, graduate_id=data.graduate_id, event=data.event
    )
    session.commit()
    if not created:
        response.status_code = status.HTTP_200_OK
    hires = store.hires(session=session, vacancy_ids=[vacancy.vacancy_id])[vacancy.vacancy_id]
    return FeedbackPublic(
        vacancy_id=vacancy.vacancy_id,
        graduate_id=interaction.graduate_id,
        event=interaction.event,
        occurred_at=interaction.occurred_at,
        created=created,
        vacancy_status=vacancy.status,
        remaining_headcount=max(0, vacancy.headcount - hires),
    )
