"""School pages: programmes, a programme's graduates, its placement plan and skill gaps, job suggestions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from models.columns import GRADUATE_STATUSES
from models.columns import Columns as C
from models.results import VacancyFilters
from service.api.auth import school_scope
from service.api.deps import MatchingDep, SessionDep
from service.matching import VacancyInfo
from service.schools import (
    DEFAULT_MIN_SCORE,
    ProgramPlan,
    percent,
    plan_program,
    program_skill_gaps,
    school_cohorts,
)
from service.store import audit
from service.store.graduates import (
    GraduateImportError,
    erase_graduate,
    get_graduate,
    graduate_record,
    import_graduates,
)
from service.store.programs import (
    get_program,
    graduate_counts,
    list_programs,
    program_graduates,
    school_names,
)
from service.store.session import data_version
from service.store.tables import Program
from service.store.vacancies import hires
from service.web import charts
from service.web.cache import page_cache
from service.web.deps import FormDep, UserDep, require
from service.web.i18n import translate
from service.web.lookups import Names, enterprise_names, skill_names
from service.web.pagination import page_number, pager
from service.web.rendering import flash, language, redirect, render, translator

router = APIRouter(include_in_schema=False)

SCHOOL_ROLES = ("school", "admin")
PAGE_SIZE = 50
MAX_UPLOAD_BYTES = 1_000_000  # as the API's upload limit
SUGGESTIONS = 10


@router.get("/programs")
def program_list(request: Request, db: SessionDep, user: UserDep, page: str = "1") -> Response:
    """The school's programmes (admin: every school's) with graduates per status."""
    require(user, *SCHOOL_ROLES)
    number = page_number(page)
    programs, total = list_programs(
        session=db, school_id=school_scope(user), limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE
    )
    return render(
        request,
        "school/programs.html",
        {
            "programs": programs,
            "counts": graduate_counts(session=db, program_ids=[p.program_id for p in programs]),
            "schools": Names(school_names(session=db, school_ids=[p.school_id for p in programs])),
            "enterprise": Names(enterprise_names(db)),
            "pager": pager(total, number, PAGE_SIZE, {}),
        },
    )


def _program_context(db: SessionDep, user: UserDep, program_id: str) -> dict[str, Any]:
    program = get_program(session=db, program_id=program_id, school_id=school_scope(user))
    return {"program": program, "enterprise": Names(enterprise_names(db))}


@router.get("/programs/{program_id}")
def program_graduate_list(
    request: Request, db: SessionDep, user: UserDep, program_id: str, status: str = "", page: str = "1"
) -> Response:
    """A programme's graduates, with links to each one's job suggestions."""
    require(user, *SCHOOL_ROLES)
    context = _program_context(db, user, program_id)
    number = page_number(page)
    status_filter = status if status in GRADUATE_STATUSES else None
    graduates, total = program_graduates(
        session=db,
        program_id=program_id,
        status=status_filter,
        limit=PAGE_SIZE,
        offset=(number - 1) * PAGE_SIZE,
    )
    return render(
        request,
        "school/graduates.html",
        {
            **context,
            "graduates": graduates,
            "status": status_filter or "",
            "statuses": GRADUATE_STATUSES,
            "skill": Names(skill_names(db, language(request))),
            "pager": pager(total, number, PAGE_SIZE, {"status": status_filter or ""}),
            "upload_errors": [],
        },
    )


@router.post("/programs/{program_id}/graduates/import")
def program_import(
    request: Request, db: SessionDep, user: UserDep, form: FormDep, program_id: str
) -> Response:
    """Upload a graduates.csv for the programme (all-or-nothing, errors by line and column)."""
    require(user, *SCHOOL_ROLES)
    context = _program_context(db, user, program_id)
    upload = form.get("file")
    content = upload.file.read(MAX_UPLOAD_BYTES + 1) if isinstance(upload, UploadFile) else b""
    problems: list[str] = []
    if not content:
        problems = [translate("valid.required", language(request))]
    elif len(content) > MAX_UPLOAD_BYTES:
        problems = [translate("valid.file_too_big", language(request), n=MAX_UPLOAD_BYTES // 1_000_000)]
    else:
        try:
            result = import_graduates(session=db, program_id=program_id, content=content)
        except GraduateImportError as error:
            db.rollback()
            problems = [str(p) for p in error.problems[:50]]
        else:
            audit.record(
                session=db,
                key_id=user.key_id,
                action="import_graduates",
                resource=f"program:{program_id}",
                detail={"via": "web", "added": result.added, "updated": result.updated},
            )
            db.commit()
            flash(request, "school.import.done", added=result.added, updated=result.updated)
            return redirect(f"/programs/{program_id}")
    graduates, total = program_graduates(session=db, program_id=program_id, limit=PAGE_SIZE)
    return render(
        request,
        "school/graduates.html",
        {
            **context,
            "graduates": graduates,
            "status": "",
            "statuses": GRADUATE_STATUSES,
            "skill": Names(skill_names(db, language(request))),
            "pager": pager(total, 1, PAGE_SIZE, {}),
            "upload_errors": problems,
        },
        status_code=422,
    )


@router.post("/graduates/{graduate_id}/erase")
def graduate_erase(
    request: Request, db: SessionDep, user: UserDep, form: FormDep, graduate_id: str
) -> Response:
    """Erase a graduate and everything recorded about them (on request, PIPL)."""
    require(user, *SCHOOL_ROLES)
    graduate = get_graduate(session=db, graduate_id=graduate_id, school_id=school_scope(user))
    program_id = graduate.program_id
    if form.get("confirm") != "yes":
        flash(request, "school.erase.unconfirmed", "error")
        return redirect(f"/graduates/{graduate_id}")
    deleted = erase_graduate(session=db, graduate=graduate)
    audit.record(
        session=db,
        key_id=user.key_id,
        action="erase_graduate",
        resource=f"program:{program_id}",
        detail={"via": "web", "rows": deleted},
    )
    db.commit()
    flash(request, "school.erased", graduate=graduate_id)
    return redirect(f"/programs/{program_id}")


@dataclass(frozen=True)
class SeatUse:
    """How many of a vacancy's remaining seats the plan fills."""

    vacancy_id: str
    title: str
    enterprise_name: str
    used: int
    capacity: int

    @classmethod
    def of(cls, vacancy_id: str, info: VacancyInfo | None, *, used: int, capacity: int) -> SeatUse:
        return cls(
            vacancy_id=vacancy_id,
            title=info.title if info else vacancy_id,
            enterprise_name=info.enterprise_name if info else "",
            used=used,
            capacity=capacity,
        )


def _min_score(raw: str) -> tuple[float, str | None]:
    """The plan's minimum match from the form; the default and an error key when it is not 0..1."""
    if not raw.strip():
        return DEFAULT_MIN_SCORE, None
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_MIN_SCORE, "valid.number01"
    if not 0.0 <= value <= 1.0 or value != value:
        return DEFAULT_MIN_SCORE, "valid.number01"
    return value, None


@router.get("/programs/{program_id}/placement")
def program_placement(
    request: Request,
    db: SessionDep,
    user: UserDep,
    matching: MatchingDep,
    program_id: str,
    min_score: str = "",
    scope: str = "",
) -> Response:
    """The programme's placement plan: assignments, the unassigned with reasons, coverage and seats.

    ``scope=school`` plans the school's programmes together and shows this programme's part."""
    require(user, *SCHOOL_ROLES)
    context = _program_context(db, user, program_id)
    program = context["program"]
    threshold, error = _min_score(min_score)
    whole_school = scope == "school"
    snapshot = matching.snapshot(session=db)

    def compute() -> ProgramPlan:
        graduates, _ = program_graduates(
            session=db, program_id=program.program_id, status="seeking", limit=None
        )
        cohorts = school_cohorts(session=db, program=program, graduates=graduates) if whole_school else None
        return plan_program(
            session=db,
            matching=matching,
            program=program,
            graduates=graduates,
            min_score=threshold,
            school_cohorts=cohorts,
        )

    key = ("plan", program.program_id, threshold, whole_school, snapshot.model_version, snapshot.data_version)
    planned = page_cache(request.app.state).get_or_compute(key, compute)
    rows = planned.assignment_rows()
    hired = hires(session=db, vacancy_ids=sorted({a.vacancy_id for a in rows}))
    by_id = snapshot.data.vacancies.set_index(C.vacancy)
    capacity = {v: max(0, int(by_id.at[v, C.headcount]) - hired[v]) for v in hired}
    used: dict[str, int] = {}
    assignments = []
    for a in sorted(rows, key=lambda a: (-a.score, a.graduate_id)):
        used[a.vacancy_id] = used.get(a.vacancy_id, 0) + 1
        assignments.append({**vars(a), "vacancy": snapshot.vacancies.get(a.vacancy_id)})
    unassigned = [
        {
            **vars(u),
            "alternatives": [
                {**vars(alt), "vacancy": snapshot.vacancies.get(alt.vacancy_id)} for alt in u.alternatives
            ],
        }
        for u in planned.unassigned_rows()
    ]
    training_programs = sorted({p for u in unassigned for h in u["training"] for p in h.taught_by})
    program_names = dict(
        db.execute(
            select(Program.program_id, Program.name).where(Program.program_id.in_(training_programs))
        ).all()
    )
    seats = sorted(
        (SeatUse.of(v, snapshot.vacancies.get(v), used=n, capacity=capacity[v]) for v, n in used.items()),
        key=lambda s: (-s.used, s.vacancy_id),
    )
    t = translator(request)
    chart = charts.coverage_chart(
        assigned=len(assignments),
        unassigned=len(unassigned),
        usage=[charts.Usage(label=s.title, used=s.used, capacity=s.capacity) for s in seats],
        title=t("chart.coverage"),
        assigned_name=t("chart.assigned"),
        unassigned_name=t("chart.unassigned"),
        used_name=t("chart.used"),
        free_name=t("chart.free"),
        coverage_name=t("metric.coverage"),
    )
    audit.record(
        session=db,
        key_id=user.key_id,
        action="plan_placements",
        resource=f"program:{program.program_id}",
        detail={
            "via": "web",
            "graduates": len(planned.program_graduates),
            "assigned": len(assignments),
            "min_score": threshold,
            "scope": "school" if whole_school else "program",
            "model_version": planned.model_version,
        },
    )
    db.commit()
    return render(
        request,
        "school/placement.html",
        {
            **context,
            "assignments": assignments,
            "unassigned": unassigned,
            "seats": seats,
            "metrics": planned.metrics(),
            "whole_school": whole_school,
            "min_percent": percent(threshold),
            "default_min_score": f"{DEFAULT_MIN_SCORE:g}",
            "skill": Names(skill_names(db, language(request))),
            "program_names": Names(program_names),
            "chart": chart,
            "model_version": planned.model_version,
            "min_score": min_score if error else f"{threshold:g}",
            "min_score_error": error,
        },
        status_code=422 if error else 200,
    )


@router.get("/programs/{program_id}/skill-gaps")
def program_gaps(request: Request, db: SessionDep, user: UserDep, program_id: str) -> Response:
    """Skills demanded by suiting open vacancies vs held by the cohort, and who teaches them."""
    require(user, *SCHOOL_ROLES)
    context = _program_context(db, user, program_id)
    report = page_cache(request.app.state).get_or_compute(
        ("gaps", program_id, data_version(db)),
        lambda: program_skill_gaps(session=db, program_id=program_id, limit=15),
    )
    lang = language(request)
    t = translator(request)
    teaching = sorted({p for gap in report.gaps for p in gap.taught_by})
    names = dict(
        db.execute(select(Program.program_id, Program.name).where(Program.program_id.in_(teaching))).all()
    )
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
        title=t("school.gaps.title", name=context["program"].name),
    )
    return render(
        request,
        "school/skill_gaps.html",
        {**context, "report": report, "chart": chart, "program_names": Names(names), "lang": lang},
    )


@router.get("/graduates/{graduate_id}")
def graduate_suggestions(
    request: Request,
    db: SessionDep,
    user: UserDep,
    matching: MatchingDep,
    graduate_id: str,
    district: str = "",
) -> Response:
    """A graduate's profile and the open vacancies that suit them best, with reasons."""
    require(user, *SCHOOL_ROLES)
    graduate = get_graduate(session=db, graduate_id=graduate_id, school_id=school_scope(user))
    program = get_program(session=db, program_id=graduate.program_id)
    query = graduate.graduate_id if graduate.status == "seeking" else graduate_record(graduate)
    ranked = matching.recommended_vacancies(
        session=db,
        graduate=query,
        limit=SUGGESTIONS,
        filters=VacancyFilters(district=district.strip() or None),
    )
    vacancies = ranked.snapshot.vacancies
    items = [{"match": m, "vacancy": vacancies.get(m.vacancy_id)} for m in ranked.recommended]
    others = [{"match": m, "vacancy": vacancies.get(m.vacancy_id)} for m in ranked.below]
    audit.record(
        session=db,
        key_id=user.key_id,
        action="list_recommendations",
        resource=f"graduate:{graduate.graduate_id}",
        detail={
            "via": "web",
            "count": len(items),
            "below_floor": len(others),
            "model_version": ranked.snapshot.model_version,
        },
    )
    db.commit()
    return render(
        request,
        "school/graduate.html",
        {
            "graduate": graduate,
            "program": program,
            "items": items,
            "others": others,
            "others_total": ranked.below_from_here,
            "floor": ranked.floor,
            "total": ranked.total,
            "district": district,
            "model_version": ranked.snapshot.model_version,
            "skill": Names(skill_names(db, language(request))),
            "enterprise": Names(enterprise_names(db)),
        },
    )
