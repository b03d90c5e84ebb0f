"""Downloads as Excel workbooks: a programme's placement plan and a vacancy's shortlist of candidates.

Each is the same action the page shows (:func:`~service.usecases.placements.plan_placements`,
:func:`~service.usecases.candidates.list_for_vacancy`: access, tenancy and audit included), whole rather than
one page, written with :func:`~service.usecases.workbooks.export_workbook`; headers and values in the
caller's language (Chinese by default).
"""

from __future__ import annotations

from dataclasses import dataclass

from service.store.skills import taxonomy
from service.usecases import candidates, placements
from service.usecases.context import Context
from service.usecases.placements import DEFAULT_MIN_SCORE, Scope
from service.usecases.tabular import CHOICE_LABELS
from service.usecases.upload_text import normalise_language
from service.usecases.workbooks import Sheet, export_workbook

SHORTLIST_SIZE = 100  # candidates in a shortlist download (the API's page limit)

# header and value words: key -> (Chinese, English)
WORDS: dict[str, tuple[str, str]] = {
    "assigned": ("已安排", "Assigned"),
    "unassigned": ("未安排", "Not assigned"),
    "candidates": ("候选人", "Candidates"),
    "graduate": ("毕业生", "Graduate"),
    "vacancy": ("岗位编号", "Vacancy id"),
    "title": ("岗位名称", "Title"),
    "enterprise": ("企业", "Enterprise"),
    "district": ("地区", "District"),
    "score": ("匹配度（%）", "Match (%)"),
    "sponsor": ("合作企业岗位", "Sponsor's vacancy"),
    "reason": ("原因", "Reason"),
    "best": ("最佳备选岗位", "Best alternative"),
    "best_score": ("备选匹配度（%）", "Alternative match (%)"),
    "training": ("建议培训技能", "Skills to train"),
    "rank": ("排名", "Rank"),
    "program": ("培养项目", "Programme"),
    "school": ("学校", "School"),
    "education": ("学历", "Education"),
    "matched": ("已具备技能", "Skills held"),
    "missing": ("欠缺技能", "Skills missing"),
    "recommended": ("推荐", "Recommended"),
    "recorded": ("已记录进展", "Outcomes recorded"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
}
EVENT_WORDS: dict[str, tuple[str, str]] = {
    "shortlisted": ("入围", "shortlisted"),
    "interviewed": ("已面试", "interviewed"),
    "offered": ("已发录用", "offered"),
    "hired": ("已录用", "hired"),
    "rejected": ("未通过", "rejected"),
    "applied": ("已投递", "applied"),
    "viewed": ("已查看", "viewed"),
    "declined": ("已婉拒", "declined"),
}
UNASSIGNED_WORDS: dict[str, tuple[str, str]] = {
    "education_below_minimum": ("学历低于所有岗位的要求", "Below every vacancy's education minimum"),
    "no_vacancy_above_min_score": ("没有岗位达到最低匹配度", "No vacancy reaches the minimum match"),
    "no_remaining_headcount": ("合适岗位都已没有名额", "No seats left on the suitable vacancies"),
    "capacity_taken_by_better_matches": (
        "合适岗位的名额已给了更匹配的毕业生",
        "The seats went to graduates who fit better",
    ),
}


@dataclass(frozen=True)
class Download:
    """A file to hand back: its name and bytes."""

    filename: str
    content: bytes


def _word(table: dict[str, tuple[str, str]], key: str, lang: str) -> str:
    pair = table.get(key)
    return key if pair is None else (pair[1] if lang == "en" else pair[0])


def _skill_names(ctx: Context, lang: str) -> dict[str, str]:
    return {
        sid: ((names[1] if lang == "en" else names[0]) or names[0] or sid)
        for sid, names, _ in taxonomy(session=ctx.session)
    }


def _percent(score: float) -> float:
    return round(score * 100, 1)


def placement_plan(
    ctx: Context,
    program_id: str,
    *,
    min_score: float = DEFAULT_MIN_SCORE,
    scope: Scope = "program",
    lang: str = "zh",
) -> Download:
    """The programme's whole placement plan (best score first) as an .xlsx: one sheet of assignments, one
    of the graduates left unassigned with why, their best alternative and the skills to train."""
    lang = normalise_language(lang)
    plan = placements.plan_placements(
        ctx,
        program_id,
        min_score=min_score,
        scope=scope,
        order="score",
        limit=max(1, ctx.settings.max_program_graduates),
        offset=0,
    )
    w = lambda key: _word(WORDS, key, lang)  # noqa: E731
    skills = _skill_names(ctx, lang)
    vacancies = plan.vacancies
    assigned = [
        [
            a.graduate_id,
            a.vacancy_id,
            vacancies[a.vacancy_id].title if a.vacancy_id in vacancies else "",
            vacancies[a.vacancy_id].enterprise_name if a.vacancy_id in vacancies else "",
            vacancies[a.vacancy_id].district if a.vacancy_id in vacancies else "",
            _percent(a.score),
            w("yes") if a.sponsor else w("no"),
        ]
        for a in plan.assignments
    ]
    unassigned = []
    for u in plan.unassigned:
        best = u.alternatives[0] if u.alternatives else None
        unassigned.append(
            [
                u.graduate_id,
                _word(UNASSIGNED_WORDS, u.reason, lang),
                best.vacancy_id if best else "",
                vacancies[best.vacancy_id].title if best and best.vacancy_id in vacancies else "",
                _percent(best.score) if best else None,
                [skills.get(h.skill_id, h.skill_id) for h in u.training],
            ]
        )
    content = export_workbook(
        [
            Sheet(
                w("assigned"),
                [
                    w(k)
                    for k in ("graduate", "vacancy", "title", "enterprise", "district", "score", "sponsor")
                ],
                assigned,
            ),
            Sheet(
                w("unassigned"),
                [w(k) for k in ("graduate", "reason", "best", "title", "best_score", "training")],
                unassigned,
            ),
        ]
    )
    return Download(f"placement-{plan.program.program_id}.xlsx", content)


def shortlist(ctx: Context, vacancy_id: str, *, lang: str = "zh") -> Download:
    """A vacancy's best candidates (up to :data:`SHORTLIST_SIZE`, recommendations first, as the page ranks
    them) as an .xlsx, with their programme, education, skills held and missing, and outcomes recorded."""
    lang = normalise_language(lang)
    result = candidates.list_for_vacancy(ctx, vacancy_id, limit=SHORTLIST_SIZE)
    shown = result.shown(include_below=True)
    recorded = candidates.recorded_events(ctx, result.vacancy_id, [c.match.graduate_id for c in shown])
    w = lambda key: _word(WORDS, key, lang)  # noqa: E731
    skills = _skill_names(ctx, lang)
    education = CHOICE_LABELS["education"]
    rows = []
    for rank, candidate in enumerate(shown, start=1):
        match, info = candidate.match, candidate.info
        rows.append(
            [
                rank,
                match.graduate_id,
                _percent(match.score),
                w("yes") if match.score >= result.floor else w("no"),
                info.program_name,
                info.school_name,
                info.education if lang == "en" else education.get(info.education, info.education),
                [skills.get(s, s) for s in match.matched_skills],
                [skills.get(s, s) for s in match.missing_skills],
                [_word(EVENT_WORDS, e, lang) for e in recorded.get(match.graduate_id, [])],
            ]
        )
    header = [
        w(k)
        for k in (
            "rank",
            "graduate",
            "score",
            "recommended",
            "program",
            "school",
            "education",
            "matched",
            "missing",
            "recorded",
        )
    ]
    content = export_workbook([Sheet(w("candidates"), header, rows)])
    return Download(f"shortlist-{result.vacancy_id}.xlsx", content)
