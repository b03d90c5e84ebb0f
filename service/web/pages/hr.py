"""HR pages: the enterprise's vacancies, posting one (extract skills, confirm, save), its candidates."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from models.columns import EDUCATION_LEVELS, FEEDBACK_EVENTS, PROGRAM_KINDS, VACANCY_STATUSES
from models.results import CandidateFilters
from service.api.auth import enterprise_scope
from service.api.deps import SessionDep
from service.store.skills import extractor
from service.store.vacancies import (
    GraduateNotSeeking,
    UnknownGraduate,
    VacancyClosed,
    close_vacancy,
    create_vacancy,
    get_vacancy,
    hires,
    list_vacancies,
    lock_vacancy,
    preferred_skills,
    record_feedback,
    required_skills,
)
from service.usecases import candidates
from service.web.deps import FormDep, PageContext, PageError, UserDep, require
from service.web.forms import VacancyForm, known_skill_ids
from service.web.lookups import Names, districts, enterprise_names, skill_names
from service.web.pagination import floored_pager, page_number, pager
from service.web.rendering import flash, language, redirect, render, safe_next

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
CANDIDATES_PER_PAGE = 10
HR_ROLES = ("hr", "admin")


@router.get("/vacancies")
def vacancy_list(
    request: Request, db: SessionDep, user: UserDep, status: str = "", page: str = "1"
) -> Response:
    """The enterprise's vacancies (admin: everyone's), newest first."""
    require(user, *HR_ROLES)
    number = page_number(page)
    status_filter = status if status in VACANCY_STATUSES else None
    vacancies, total = list_vacancies(
        session=db,
        enterprise_id=enterprise_scope(user),
        status=status_filter,
        limit=PAGE_SIZE,
        offset=(number - 1) * PAGE_SIZE,
    )
    hired = hires(session=db, vacancy_ids=[v.vacancy_id for v in vacancies])
    return render(
        request,
        "hr/vacancies.html",
        {
            "vacancies": vacancies,
            "hired": hired,
            "status": status_filter or "",
            "statuses": VACANCY_STATUSES,
            "enterprise": Names(enterprise_names(db)),
            "pager": pager(total, number, PAGE_SIZE, {"status": status_filter or ""}),
        },
    )


def _render_form(
    request: Request, db: SessionDep, user: UserDep, form: VacancyForm, *, status_code: int = 200
) -> Response:
    return render(
        request,
        "hr/vacancy_new.html",
        {
            "form": form,
            "skill": Names(skill_names(db, language(request))),
            "education_levels": EDUCATION_LEVELS,
            "districts": districts(db),
            "enterprises": enterprise_names(db) if user.role == "admin" else {},
        },
        status_code=status_code,
    )


@router.get("/vacancies/new")
def vacancy_new(request: Request, db: SessionDep, user: UserDep) -> Response:
    """An empty "post a vacancy" form."""
    require(user, *HR_ROLES)
    return _render_form(request, db, user, VacancyForm.empty())


@router.post("/vacancies/new")
def vacancy_submit(request: Request, db: SessionDep, user: UserDep, form: FormDep) -> Response:
    """Step 1 ("extract"): find skills in the text and show them; step 2 ("save"): create the vacancy."""
    require(user, *HR_ROLES)
    data = VacancyForm.from_form(form)
    action = str(form.get("action") or "extract")
    skill_extractor = extractor(session=db)
    known = known_skill_ids(db)
    data.required = [s for s in data.required if s in known]
    data.preferred = [s for s in data.preferred if s in known]
    if action != "save" or not data.extracted:
        required, preferred = skill_extractor.extract_split(
            f"{data.values['title']}\n{data.values['description']}"
        )
        data.required, data.preferred = required, preferred
        data.extracted = True
        data.add_typed_skills(skill_extractor, known)
        # On "extract" only the add-skills box is judged; the other fields are checked on save.
        return _render_form(request, db, user, data, status_code=422 if data.errors else 200)
    enterprises = set(enterprise_names(db)) if user.role == "admin" else set()
    data.validate(need_enterprise=user.role == "admin", enterprises=enterprises)
    data.add_typed_skills(skill_extractor, known)
    if not data.skills and "add_skills" not in data.errors:
        data.error("skills", "valid.no_skills")
    if not data.errors:
        enterprise_id = user.enterprise_id if user.role == "hr" else data.values["enterprise_id"]
        try:
            payload = data.to_create(enterprise_id=enterprise_id)
        except ValidationError as error:
            data.absorb(error)
        else:
            vacancy, _ = create_vacancy(session=db, data=payload, enterprise_id=str(enterprise_id))
            db.commit()
            flash(request, "hr.new.saved")
            return redirect(f"/vacancies/{vacancy.vacancy_id}")
    return _render_form(request, db, user, data, status_code=422)


@router.get("/vacancies/{vacancy_id}")
def vacancy_candidates(
    request: Request,
    ctx: PageContext,
    vacancy_id: str,
    district: str = "",
    program_kind: str = "",
    page: str = "1",
) -> Response:
    """A vacancy's ranked candidates with the match, skills, reasons and outcome buttons."""
    require(ctx.principal, *HR_ROLES)
    db = ctx.session
    vacancy = get_vacancy(session=db, vacancy_id=vacancy_id, enterprise_id=ctx.enterprise_scope)
    number = page_number(page)
    filters = CandidateFilters(
        district=district.strip() or None,
        program_kind=program_kind if program_kind in PROGRAM_KINDS else None,
    )
    offset = (number - 1) * CANDIDATES_PER_PAGE
    result = None
    if vacancy.status == "open":  # a closed vacancy shows its outcomes, not a ranking
        result = candidates.list_for_vacancy(
            ctx, vacancy_id, filters=filters, limit=CANDIDATES_PER_PAGE, offset=offset
        )
    items = [{"match": c.match, "info": c.info} for c in result.recommended] if result else []
    others = [{"match": c.match, "info": c.info} for c in result.below] if result else []
    listed = [i["match"].graduate_id for i in items + others]
    params = {"district": district, "program_kind": program_kind}
    here = f"/vacancies/{vacancy.vacancy_id}?" + urlencode({**params, "page": str(number)})
    return render(
        request,
        "hr/candidates.html",
        {
            "vacancy": vacancy,
            "required": required_skills(vacancy),
            "preferred": preferred_skills(vacancy),
            "hired": hires(session=db, vacancy_ids=[vacancy.vacancy_id])[vacancy.vacancy_id],
            "items": items,
            "others": others,
            "others_total": result.below_from_here if result else 0,
            "floor": result.floor if result else ctx.services.matching.min_recommend_score,
            "recorded": candidates.recorded_events(ctx, vacancy.vacancy_id, listed),
            "model_version": result.model_version if result else "",
            "skill": Names(skill_names(db, language(request))),
            "enterprise": Names(enterprise_names(db)),
            "events": FEEDBACK_EVENTS,
            "program_kinds": PROGRAM_KINDS,
            "filters": params,
            "back": here,
            "rank_offset": offset,
            "pager": floored_pager(result.page if result else None, number, CANDIDATES_PER_PAGE, params),
        },
    )


@router.post("/vacancies/{vacancy_id}/feedback")
def vacancy_feedback(
    request: Request, db: SessionDep, user: UserDep, form: FormDep, vacancy_id: str
) -> Response:
    """Record shortlisted / interviewed / offered / hired / rejected for one candidate."""
    require(user, *HR_ROLES)
    back = safe_next(str(form.get("back") or ""), f"/vacancies/{vacancy_id}")
    graduate_id = str(form.get("graduate_id") or "").strip()
    event = str(form.get("event") or "")
    if event not in FEEDBACK_EVENTS or not graduate_id:
        raise PageError(400)
    lock_vacancy(session=db, vacancy_id=vacancy_id)
    vacancy = get_vacancy(session=db, vacancy_id=vacancy_id, enterprise_id=enterprise_scope(user))
    try:
        record_feedback(session=db, vacancy=vacancy, graduate_id=graduate_id, event=event)
    except (VacancyClosed, GraduateNotSeeking, UnknownGraduate) as error:
        db.rollback()
        flash(request, "valid.raw", "error", message=str(error))
        return redirect(back)
    db.commit()
    flash(request, "hr.candidates.recorded", graduate=graduate_id, event=_event_label(request, event))
    return redirect(back)


def _event_label(request: Request, event: str) -> str:
    from service.web.i18n import enum_label

    return enum_label("event", event, language(request))


@router.post("/vacancies/{vacancy_id}/close")
def vacancy_close(
    request: Request, db: SessionDep, user: UserDep, form: FormDep, vacancy_id: str
) -> Response:
    """Close an open vacancy."""
    require(user, *HR_ROLES)
    vacancy = get_vacancy(session=db, vacancy_id=vacancy_id, enterprise_id=enterprise_scope(user))
    close_vacancy(session=db, vacancy=vacancy)
    db.commit()
    flash(request, "hr.closed_ok")
    return redirect(f"/vacancies/{vacancy_id}")
