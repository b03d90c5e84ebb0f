"""HR pages: the enterprise's vacancies, posting one (extract skills, confirm, save), its candidates,
recording outcomes, closing and reopening.

Each page translates HTTP to one action of :mod:`service.usecases` (vacancies, candidates, outcomes) and
renders its result; the actions own access, tenancy, limits, audit and the commit.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from models.columns import EDUCATION_LEVELS, FEEDBACK_EVENTS, PROGRAM_KINDS, VACANCY_STATUSES
from models.results import CandidateFilters
from service.store.outcomes import UndoExpired, UnknownOutcome
from service.store.vacancies import HIRED, GraduateNotSeeking, NotReopenable, UnknownGraduate, VacancyClosed
from service.usecases import candidates, outcomes, posting_check, vacancies
from service.usecases.context import HR_ROLES, ROLE_ADMIN, ROLE_HR, Context
from service.usecases.inputs import MAX_HEADCOUNT, FeedbackCreate, VacancyReopen
from service.usecases.vacancies import TextTooLong
from service.web.deps import FormDep, PageContext, PageError
from service.web.forms import VacancyForm, known_skill_ids
from service.web.i18n import enum_label
from service.web.lookups import Names, districts, enterprise_names, skill_names
from service.web.pagination import floored_pager, page_number, pager
from service.web.rendering import flash, language, redirect, render, safe_next

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
CANDIDATES_PER_PAGE = 10
# Why a vacancy did not reopen (NotReopenable.reason) -> the message shown.
NOT_REOPENABLE = {"filled": "hr.reopen.filled", "past_closing_date": "hr.reopen.past_closing_date"}
# A form's answer to a confirmation step: closing a vacancy and hiring ask first (hr/confirm.html).
CONFIRMED = "yes"


def _confirmed(form: FormDep) -> bool:
    return str(form.get("confirmed") or "") == CONFIRMED


def _undo_minutes(ctx: Context) -> int:
    return max(1, ctx.settings.undo_seconds // 60) if ctx.settings.undo_seconds else 0


@router.get("/vacancies")
def vacancy_list(request: Request, ctx: PageContext, status: str = "", page: str = "1") -> Response:
    """The enterprise's vacancies (admin: everyone's), newest first."""
    number = page_number(page)
    status_filter = status if status in VACANCY_STATUSES else None
    result = vacancies.list_vacancies(
        ctx, status=status_filter, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE
    )
    return render(
        request,
        "hr/vacancies.html",
        {
            "vacancies": result.items,
            "status": status_filter or "",
            "statuses": VACANCY_STATUSES,
            "enterprise": Names(enterprise_names(ctx.session)),
            "own_enterprise": ctx.enterprise_scope,
            "pager": pager(result.total, number, PAGE_SIZE, {"status": status_filter or ""}),
        },
    )


def _render_form(request: Request, ctx: Context, form: VacancyForm, *, status_code: int = 200) -> Response:
    db = ctx.session
    return render(
        request,
        "hr/vacancy_new.html",
        {
            "form": form,
            "skill": Names(skill_names(db, language(request))),
            "education_levels": EDUCATION_LEVELS,
            "districts": districts(db),
            "enterprises": enterprise_names(db) if ctx.principal.role == ROLE_ADMIN else {},
            "own_enterprise": enterprise_names(db).get(ctx.enterprise_scope or "", ""),
            "posting_warnings": posting_check.flagged(
                {name: form.values[name] for name in posting_check.CHECKED_FIELDS}
            ),
            "posting_refuse": ctx.settings.posting_check == "refuse",
        },
        status_code=status_code,
    )


@router.get("/vacancies/new")
def vacancy_new(request: Request, ctx: PageContext) -> Response:
    """An empty "post a vacancy" form."""
    ctx.require(HR_ROLES)
    return _render_form(request, ctx, VacancyForm.empty())


@router.post("/vacancies/new")
def vacancy_submit(request: Request, ctx: PageContext, form: FormDep) -> Response:
    """Step 1 ("extract"): find skills in the text and show them; step 2 ("save"): post the vacancy.

    Every text is checked against its limit by the action before any extraction."""
    ctx.require(HR_ROLES)
    data = VacancyForm.from_form(form)
    action = str(form.get("action") or "extract")
    known = known_skill_ids(ctx.session)
    data.required = [s for s in data.required if s in known]
    data.preferred = [s for s in data.preferred if s in known]
    if action != "save" or not data.extracted:
        try:
            found = vacancies.extract_skills(
                ctx,
                title=data.values["title"],
                description=data.values["description"],
                typed=data.values["add_skills"],
            )
        except TextTooLong as error:
            data.too_long(error.limits)
            return _render_form(request, ctx, data, status_code=422)
        data.required, data.preferred = found.required, found.preferred
        data.extracted = True
        data.add_typed(found)
        # On "extract" only the add-skills box is judged; the other fields are checked on save.
        return _render_form(request, ctx, data, status_code=422 if data.errors else 200)
    enterprises = set(enterprise_names(ctx.session)) if ctx.principal.role == ROLE_ADMIN else set()
    data.validate(need_enterprise=ctx.principal.role == ROLE_ADMIN, enterprises=enterprises)
    try:
        data.add_typed(vacancies.find_skills(ctx, data.values["add_skills"]))
    except TextTooLong as error:
        data.too_long(error.limits)
    if not data.skills and "add_skills" not in data.errors:
        data.error("skills", "valid.no_skills")
    if not data.errors:
        hr = ctx.principal.role == ROLE_HR
        try:
            payload = data.to_create(
                enterprise_id=ctx.principal.enterprise_id if hr else data.values["enterprise_id"]
            )
        except ValidationError as error:
            data.absorb(error)
        else:
            try:
                view = vacancies.post(ctx, payload)
            except posting_check.DiscriminatoryPosting:
                flash(request, "posting.refused", "error")
                return _render_form(request, ctx, data, status_code=422)
            flash(request, "hr.new.saved_with_warnings" if view.warnings else "hr.new.saved")
            return redirect(f"/vacancies/{view.vacancy.vacancy_id}")
    return _render_form(request, ctx, data, status_code=422)


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
    view = vacancies.get(ctx, vacancy_id)
    vacancy = view.vacancy
    number = page_number(page)
    filters = CandidateFilters(
        district=district.strip() or None,  # admin only: an hr key may not filter by district (403)
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
    listed = [c.match.graduate_id for c in result.shown(include_below=True)] if result else []
    params = {"district": district, "program_kind": program_kind}
    here = f"/vacancies/{vacancy.vacancy_id}?" + urlencode({**params, "page": str(number)})
    db = ctx.session
    pipeline = outcomes.vacancy_outcomes(ctx, vacancy.vacancy_id)
    return render(
        request,
        "hr/candidates.html",
        {
            "vacancy": vacancy,
            "required": view.required_skills,
            "preferred": view.preferred_skills,
            "hired": view.hires,
            "items": items,
            "others": others,
            "others_total": result.below_from_here if result else 0,
            "floor": result.floor if result else ctx.services.matching.min_recommend_score,
            "recorded": candidates.recorded_events(ctx, vacancy.vacancy_id, listed),
            "model_version": result.model_version if result else "",
            "posting_warnings": posting_check.flagged_vacancy(vacancy),
            "posting_refuse": ctx.settings.posting_check == "refuse",
            "skill": Names(skill_names(db, language(request))),
            "enterprise": Names(enterprise_names(db)),
            "events": FEEDBACK_EVENTS,
            "program_kinds": PROGRAM_KINDS,
            "filters": params,
            "district_filter": ctx.principal.role == ROLE_ADMIN,
            "districts": districts(db) if ctx.principal.role == ROLE_ADMIN else [],
            "pipeline": pipeline,
            "undo_minutes": _undo_minutes(ctx),
            "max_headcount": MAX_HEADCOUNT,
            "back": here,
            "rank_offset": offset,
            "pager": floored_pager(result.page if result else None, number, CANDIDATES_PER_PAGE, params),
        },
    )


def _outcome_form(form: FormData, vacancy_id: str) -> tuple[str, FeedbackCreate]:
    """Where to go back to, and the outcome an outcome form names (a bad one is a 400)."""
    back = safe_next(str(form.get("back") or ""), f"/vacancies/{vacancy_id}")
    try:
        outcome = FeedbackCreate(
            graduate_id=str(form.get("graduate_id") or "").strip(), event=str(form.get("event") or "")
        )
    except ValidationError as error:
        raise PageError(400) from error
    return back, outcome


@router.post("/vacancies/{vacancy_id}/feedback")
def vacancy_feedback(request: Request, ctx: PageContext, form: FormDep, vacancy_id: str) -> Response:
    """Record shortlisted / interviewed / offered / hired / rejected for one candidate."""
    ctx.require(HR_ROLES)
    back, outcome = _outcome_form(form, vacancy_id)
    if outcome.event == HIRED and not _confirmed(form):
        view = vacancies.get(ctx, vacancy_id)  # another enterprise's is a 404 before anything is shown
        return render(
            request,
            "hr/confirm.html",
            {
                "what": "hire",
                "vacancy": view.vacancy,
                "hired": view.hires,
                "graduate_id": outcome.graduate_id,
                "action": f"/vacancies/{view.vacancy.vacancy_id}/feedback",
                "fields": {"graduate_id": outcome.graduate_id, "event": HIRED, "back": back},
                "back": back,
                "undo_minutes": _undo_minutes(ctx),
            },
        )
    try:
        outcomes.record_outcome(ctx, vacancy_id, outcome)
    except UnknownGraduate:
        # The same message for every graduate HR may not record for, whatever the reason.
        ctx.session.rollback()
        flash(request, "hr.outcome.unknown_graduate", "error", graduate=outcome.graduate_id)
        return redirect(back)
    except (VacancyClosed, GraduateNotSeeking) as error:
        ctx.session.rollback()
        key = "hr.outcome.closed" if isinstance(error, VacancyClosed) else "hr.outcome.not_seeking"
        flash(request, key, "error", graduate=outcome.graduate_id)
        return redirect(back)
    event = enum_label("event", outcome.event, language(request))
    flash(request, "hr.candidates.recorded", graduate=outcome.graduate_id, event=event)
    return redirect(back)


@router.post("/vacancies/{vacancy_id}/close")
def vacancy_close(request: Request, ctx: PageContext, form: FormDep, vacancy_id: str) -> Response:
    """Close an open vacancy, once confirmed (the first press shows what closing does)."""
    if not _confirmed(form):
        view = vacancies.get(ctx, vacancy_id)
        back = f"/vacancies/{view.vacancy.vacancy_id}"
        return render(
            request,
            "hr/confirm.html",
            {
                "what": "close",
                "vacancy": view.vacancy,
                "hired": view.hires,
                "action": f"{back}/close",
                "fields": {},
                "back": back,
            },
        )
    vacancies.close(ctx, vacancy_id)
    flash(request, "hr.closed_ok")
    return redirect(f"/vacancies/{vacancy_id}")


@router.post("/vacancies/{vacancy_id}/reopen")
def vacancy_reopen(request: Request, ctx: PageContext, form: FormDep, vacancy_id: str) -> Response:
    """Open a closed or filled vacancy again (a filled one with a larger headcount from the form); why
    not when its closing date has passed or its seats are taken."""
    raw = str(form.get("headcount") or "").strip()
    try:
        data = VacancyReopen(headcount=int(raw)) if raw else None
    except (ValueError, ValidationError):
        vacancies.get(ctx, vacancy_id)  # 404 for another enterprise's, as the reopen would be
        flash(request, "hr.reopen.headcount_invalid", "error", max=MAX_HEADCOUNT)
        return redirect(f"/vacancies/{vacancy_id}")
    try:
        vacancies.reopen(ctx, vacancy_id, data)
    except NotReopenable as error:
        ctx.session.rollback()
        flash(request, NOT_REOPENABLE[error.reason], "error")
        return redirect(f"/vacancies/{vacancy_id}")
    flash(request, "hr.reopened_ok")
    return redirect(f"/vacancies/{vacancy_id}")


@router.post("/vacancies/{vacancy_id}/feedback/undo")
def vacancy_feedback_undo(request: Request, ctx: PageContext, form: FormDep, vacancy_id: str) -> Response:
    """Undo an outcome recorded within the undo window (a hire gives its seat back)."""
    ctx.require(HR_ROLES)
    back, outcome = _outcome_form(form, vacancy_id)
    event = enum_label("event", outcome.event, language(request))
    try:
        outcomes.undo_outcome(ctx, vacancy_id, outcome)
    except (UnknownOutcome, UndoExpired) as error:
        ctx.session.rollback()
        key = "hr.undo.unknown" if isinstance(error, UnknownOutcome) else "hr.undo.expired"
        flash(request, key, "error", graduate=outcome.graduate_id, event=event, minutes=_undo_minutes(ctx))
        return redirect(back)
    flash(request, "hr.undo.done", graduate=outcome.graduate_id, event=event)
    return redirect(back)
