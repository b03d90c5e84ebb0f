"""School pages: programmes, a programme's graduates, its placement plan and skill gaps, job suggestions.

Each page translates HTTP to one action of :mod:`service.usecases` (programmes, graduates, placements,
skill gaps) and renders its result; the actions own access, tenancy, limits, audit and the commit.
"""

from __future__ import annotations

import unicodedata

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from models.columns import GRADUATE_STATUSES
from service.schools import percent
from service.usecases import graduates, outcomes, placements, programs, skill_gaps
from service.usecases.context import Context
from service.usecases.placements import DEFAULT_MIN_SCORE
from service.web import charts
from service.web.deps import FormDep, PageContext
from service.web.lookups import Names, enterprise_names, skill_names
from service.web.pagination import page_number, pager
from service.web.rendering import flash, language, redirect, render, translator

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50  # programmes, graduates, and each list of a placement plan
SUGGESTIONS = 10


@router.get("/programs")
def program_list(request: Request, ctx: PageContext, page: str = "1") -> Response:
    """The school's programmes (admin: every school's) with graduates per status."""
    number = page_number(page)
    result = programs.list_programs(ctx, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
    return render(
        request,
        "school/programs.html",
        {
            "programs": result.items,
            "enterprise": Names(enterprise_names(ctx.session)),
            "pager": pager(result.total, number, PAGE_SIZE, {}),
        },
    )


def graduates_page(
    request: Request, ctx: Context, program_id: str, status: str, number: int, upload_errors: list[str]
) -> Response:
    """A page of the programme's graduates; an upload's problems, when given, at the top of the page (422)."""
    status_filter = status if status in GRADUATE_STATUSES else None
    result = programs.list_graduates(
        ctx, program_id, status=status_filter, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE
    )
    return render(
        request,
        "school/graduates.html",
        {
            "program": result.program,
            "enterprise": Names(enterprise_names(ctx.session)),
            "graduates": result.items,
            "status": status_filter or "",
            "statuses": GRADUATE_STATUSES,
            "skill": Names(skill_names(ctx.session, language(request))),
            "pager": pager(result.total, number, PAGE_SIZE, {"status": status_filter or ""}),
            "upload_errors": upload_errors,
        },
        status_code=422 if upload_errors else 200,
    )


@router.get("/programs/{program_id}")
def program_graduate_list(
    request: Request, ctx: PageContext, program_id: str, status: str = "", page: str = "1"
) -> Response:
    """A programme's graduates, with links to each one's job suggestions (audited)."""
    return graduates_page(request, ctx, program_id, status, page_number(page), [])


@router.post("/graduates/{graduate_id}/erase")
def graduate_erase(request: Request, ctx: PageContext, form: FormDep, graduate_id: str) -> Response:
    """Erase a graduate and everything recorded about them (on request, PIPL)."""
    if form.get("confirm") != "yes":
        graduates.find_graduate(ctx, graduate_id)  # 404 for another school's, as the erasure would be
        flash(request, "school.erase.unconfirmed", "error")
        return redirect(f"/graduates/{graduate_id}")
    erased = graduates.erase_graduate(ctx, graduate_id)
    flash(request, "school.erased", graduate=erased.graduate_id)
    return redirect(f"/programs/{erased.program_id}")


def min_score_of(raw: str) -> tuple[float, str | None]:
    """The plan's minimum match from the form, typed as a percentage like every score the pages show
    ("30%", "30", "３０％"), as the 0..1 score the plan takes; the default and an error key when it is not
    a percentage from 0 to 100. (The API's ``min_score`` stays on the 0..1 scale of its ``score`` fields.)"""
    text = unicodedata.normalize("NFKC", raw).strip().removesuffix("%").strip()
    if not text:
        return DEFAULT_MIN_SCORE, None
    try:
        value = float(text)
    except ValueError:
        return DEFAULT_MIN_SCORE, "valid.percent"
    if not 0.0 <= value <= 100.0 or value != value:
        return DEFAULT_MIN_SCORE, "valid.percent"
    return value / 100.0, None


@router.get("/programs/{program_id}/placement")
def program_placement(
    request: Request,
    ctx: PageContext,
    program_id: str,
    min_score: str = "",
    scope: str = "",
    page: str = "1",
) -> Response:
    """The programme's placement plan: assignments, the unassigned with reasons, coverage and seats.

    ``scope=school`` plans the school's programmes together and shows this programme's part. Both lists
    are paged (best score first)."""
    threshold, error = min_score_of(min_score)
    whole_school = scope == "school"
    number = page_number(page)
    plan = placements.plan_placements(
        ctx,
        program_id,
        min_score=threshold,
        scope="school" if whole_school else "program",
        order="score",
        limit=PAGE_SIZE,
        offset=(number - 1) * PAGE_SIZE,
    )
    t = translator(request)
    chart = charts.coverage_chart(
        assigned=plan.assignments_total,
        unassigned=plan.unassigned_total,
        usage=[charts.Usage(label=s.title, used=s.used, capacity=s.capacity) for s in plan.seats],
        title=t("chart.coverage"),
        assigned_name=t("chart.assigned"),
        unassigned_name=t("chart.unassigned"),
        used_name=t("chart.used"),
        free_name=t("chart.free"),
        coverage_name=t("metric.coverage"),
    )
    params = {
        "min_score": min_score if error else percent(threshold),
        "scope": "school" if whole_school else "",
    }
    return render(
        request,
        "school/placement.html",
        {
            "program": plan.program,
            "enterprise": Names(enterprise_names(ctx.session)),
            "plan": plan,
            "assignments": plan.assignments,
            "unassigned": plan.unassigned,
            "vacancies": plan.vacancies,
            "seats": plan.seats,
            "metrics": plan.metrics,
            "whole_school": whole_school,
            "min_percent": percent(threshold),
            "default_min_score": percent(DEFAULT_MIN_SCORE),
            "skill": Names(skill_names(ctx.session, language(request))),
            "program_names": Names(plan.program_names),
            "chart": chart,
            "model_version": plan.model_version,
            "min_score": params["min_score"],
            "min_score_error": error,
            "pager": pager(max(plan.assignments_total, plan.unassigned_total), number, PAGE_SIZE, params),
        },
        status_code=422 if error else 200,
    )


@router.get("/programs/{program_id}/skill-gaps")
def program_gaps(request: Request, ctx: PageContext, program_id: str) -> Response:
    """Skills demanded by suiting open vacancies vs held by the cohort, and who teaches them."""
    result = skill_gaps.program_skill_gaps(ctx, program_id, limit=15)
    report = result.report
    lang = language(request)
    t = translator(request)
    chart = charts.paired_bars(
        [
            charts.PairedBar(
                label=(g.name_en if lang == "en" else g.name_zh) or g.skill_id,
                first=g.vacancy_share,
                second=g.cohort_share,
            )
            for g in report.gaps
        ],
        first_name=t("chart.demanded"),
        second_name=t("chart.held"),
        title=t("school.gaps.title", name=result.program.name),
    )
    return render(
        request,
        "school/skill_gaps.html",
        {
            "program": result.program,
            "enterprise": Names(enterprise_names(ctx.session)),
            "report": report,
            "chart": chart,
            "program_names": Names(result.program_names),
            "lang": lang,
        },
    )


@router.get("/graduates/{graduate_id}")
def graduate_suggestions(
    request: Request, ctx: PageContext, graduate_id: str, district: str = ""
) -> Response:
    """A graduate's profile and the open vacancies that suit them best, with reasons (audited)."""
    result = graduates.recommendations(ctx, graduate_id, district=district.strip() or None, limit=SUGGESTIONS)
    return render(
        request,
        "school/graduate.html",
        {
            "graduate": result.graduate,
            "program": result.program,
            "items": result.recommended,
            "others": result.below,
            "others_total": result.page.below_from_here,
            "floor": result.floor,
            "total": result.total,
            "district": district,
            "model_version": result.model_version,
            "skill": Names(skill_names(ctx.session, language(request))),
            "enterprise": Names(enterprise_names(ctx.session)),
        },
    )


@router.get("/programs/{program_id}/placed")
def program_placed(request: Request, ctx: PageContext, program_id: str, page: str = "1") -> Response:
    """The programme's graduates hired through the service and where (audited)."""
    number = page_number(page)
    result = outcomes.placed_graduates(ctx, program_id, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
    return render(
        request,
        "school/placed.html",
        {
            "program": programs.find_program(ctx, program_id),
            "enterprise": Names(enterprise_names(ctx.session)),
            "placed": result.items,
            "pager": pager(result.total, number, PAGE_SIZE, {}),
        },
    )
