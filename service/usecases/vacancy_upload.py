"""HR's vacancies in bulk: an .xlsx or CSV with a vacancy per row, previewed, then written all or nothing.

A row with an empty ``vacancy_id`` posts a new vacancy; a row naming one of the enterprise's open vacancies
replaces its fields (an empty salary or closing date clears it). Both skill lists left empty: the skills are
extracted from the title and description, as when posting one. The file is read by
:mod:`service.usecases.tabular` (Chinese values, lists, dates as people write them); every problem is
reported at once in the caller's language by row and column, and nothing is written unless every row is
valid. ``preview=True`` answers what would be added and updated without writing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from models.columns import Columns as C
from models.skill_extraction import SkillExtractor
from service.store import vacancies as store
from service.store.skills import taxonomy
from service.store.tables import Vacancy
from service.store.vacancies import EnterpriseNotFound, EnterpriseRequired, NewVacancy, VacancyChanges
from service.usecases.context import HR_ROLES, Context
from service.usecases.graduate_upload import ADD, UNCHANGED, UPDATE, UploadRow
from service.usecases.graduates import MAX_UPLOAD_BYTES, EmptyUpload, UploadTooLarge
from service.usecases.inputs import MAX_DESCRIPTION, MAX_HEADCOUNT, MAX_SALARY, MAX_TITLE
from service.usecases.posting_check import (
    PostingsRefused,
    RowWarning,
    check_rows,
    posting_fields,
    refusals,
    rows_audit_detail,
)
from service.usecases.tabular import Column, Table, Vocabulary, canonical_csv, fold, read_upload
from service.usecases.upload_text import UploadInvalid, UploadProblem, normalise_language, say, word
from service.usecases.vacancies import ForeignEnterprise
from service.usecases.workbooks import template_workbook

VACANCY_COLUMNS: tuple[Column, ...] = (
    Column(C.vacancy, "id", "岗位编号", "Vacancy id"),
    Column(
        C.title,
        "text",
        "岗位名称",
        "Title",
        required=True,
        max_length=MAX_TITLE,
        rule="line",
        example="封装工艺工程师",
    ),
    Column(C.role, "text", "职位类别", "Role", max_length=100, rule="line", example="process_engineer"),
    Column(C.required_skills, "skills", "必备技能", "Required skills", example="引线键合、倒装焊"),
    Column(C.preferred_skills, "skills", "优先技能", "Preferred skills", example="SPC"),
    Column(C.min_education, "choice", "最低学历", "Minimum education", choices="education", example="大专"),
    Column(
        C.district,
        "text",
        "工作地区",
        "District",
        required=True,
        max_length=100,
        rule="line",
        example="越城区",
    ),
    Column(C.headcount, "int", "招聘人数", "Headcount", low=1, high=MAX_HEADCOUNT, example="3"),
    Column(
        C.salary_min,
        "int",
        "最低月薪（元）",
        "Salary from (CNY/month)",
        low=0,
        high=MAX_SALARY,
        example="6000",
    ),
    Column(
        C.salary_max, "int", "最高月薪（元）", "Salary to (CNY/month)", low=0, high=MAX_SALARY, example="9000"
    ),
    Column(C.closes_at, "date", "截止日期", "Closing date", example="2027年3月31日"),
    Column(
        C.description,
        "text",
        "岗位描述",
        "Description",
        max_length=MAX_DESCRIPTION,
        rule="block",
        example="熟悉引线键合和倒装焊工艺，有SPC经验",
    ),
)
FIELDS = (
    "title",
    "role",
    "min_education",
    "district",
    "headcount",
    "salary_min",
    "salary_max",
    "closes_at",
    "description",
)


@dataclass(frozen=True)
class VacancyUpload:
    enterprise_id: str
    added: int
    updated: int
    unchanged: int
    preview: bool
    rows: tuple[UploadRow, ...]
    vacancy_ids: tuple[str, ...] = ()  # added or updated, in row order (empty for a preview)
    # requirements that may discriminate, found in the rows' text (the default TALENTMATCH_POSTING_CHECK=warn
    # lets them in)
    posting_warnings: tuple[RowWarning, ...] = ()


class UploadPostingsRefused(PostingsRefused):
    """Rows whose text the operator refuses (``TALENTMATCH_POSTING_CHECK=refuse``): 422
    ``discriminatory_posting`` as for a bundle; ``problems`` locate each finding by row and column."""

    def __init__(self, found: list[RowWarning], problems: list[UploadProblem], lang: str) -> None:
        super().__init__(found)
        self.problems = problems
        self.lang = lang
        first = problems[0].text(lang) if problems else ""
        self.args = (say("posting_refused", lang, n=len({f.row for f in found}), first=first),)


def _enterprise(ctx: Context, enterprise_id: str | None) -> str:
    ctx.require(HR_ROLES)
    own = ctx.enterprise_scope
    if own is None:
        if not enterprise_id:
            raise EnterpriseRequired()
        return enterprise_id
    if enterprise_id and enterprise_id != own:
        raise ForeignEnterprise()
    return own


def _complete(values: dict[str, Any], vocabulary: Vocabulary, extractor: SkillExtractor) -> None:
    """Defaults (education 中专, one seat), the district's standard name and, with both skill lists empty,
    the skills named in the title and description."""
    values[C.min_education] = values[C.min_education] or "secondary"
    values[C.headcount] = values[C.headcount] or 1
    values[C.role] = values[C.role] or ""
    values[C.description] = values[C.description] or ""
    if values[C.district]:
        values[C.district] = vocabulary.districts.get(fold(values[C.district]), values[C.district])
    low, high = store.salary_range(values[C.salary_min], values[C.salary_max])
    values[C.salary_min], values[C.salary_max] = low, high
    values["skills_extracted"] = not values[C.required_skills] and not values[C.preferred_skills]
    if values["skills_extracted"]:
        required, preferred = extractor.extract_split(f"{values[C.title] or ''}\n{values[C.description]}")
        values[C.required_skills], values[C.preferred_skills] = required, preferred


_WRITTEN = (
    C.title,
    C.district,
    C.role,
    C.required_skills,
    C.preferred_skills,
    C.min_education,
    C.headcount,
    C.salary_min,
    C.salary_max,
    C.description,
)


def _written(values: Mapping[str, Any]) -> dict[str, Any]:
    """The vacancy fields a row writes, as a new vacancy or as the changes to an existing one."""
    return {**{name: values[name] for name in _WRITTEN}, "closes_at": _closes(values)}


def _closes(values: Mapping[str, Any]) -> datetime | None:
    day = values[C.closes_at]
    return None if day is None else datetime(day.year, day.month, day.day)


def _same(vacancy: Vacancy, values: dict[str, Any]) -> bool:
    return (
        all(getattr(vacancy, name) == values[name] for name in FIELDS if name != C.closes_at)
        and vacancy.closes_at == _closes(values)
        and store.required_skills(vacancy) == values[C.required_skills]
        and store.preferred_skills(vacancy) == values[C.preferred_skills]
    )


def _plan(
    ctx: Context, enterprise_id: str, table: Table, lang: str
) -> list[tuple[UploadRow, Vacancy | None]]:
    entries = taxonomy(session=ctx.session)
    vocabulary = Vocabulary.build(entries)
    extractor = SkillExtractor(entries)
    planned: list[tuple[UploadRow, Vacancy | None]] = []
    for row in table.rows:
        values = row.values
        _complete(values, vocabulary, extractor)
        twice = [s for s in values[C.preferred_skills] if s in set(values[C.required_skills])]
        if twice:
            table.problem(row.number, C.preferred_skills, "skill_twice", value="、".join(twice))
        vacancy_id = values[C.vacancy]
        vacancy = None
        if vacancy_id:
            try:
                vacancy = store.get_vacancy(
                    session=ctx.session, vacancy_id=vacancy_id, enterprise_id=enterprise_id
                )
            except store.UnknownVacancy:
                table.problem(row.number, C.vacancy, "unknown_vacancy", value=vacancy_id)
                continue
            if vacancy.status != "open":
                status = word(f"status.{vacancy.status}", lang)
                table.problem(row.number, C.vacancy, "vacancy_not_open", value=vacancy_id, status=status)
                continue
            hired = store.hires(session=ctx.session, vacancy_ids=[vacancy_id])[vacancy_id]
            if values[C.headcount] < hired:
                table.problem(row.number, C.headcount, "headcount_below_hires", hired=hired)
                continue
            action = UNCHANGED if _same(vacancy, values) else UPDATE
        else:
            action = ADD
        shown = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in values.items()}
        planned.append((UploadRow(row.number, vacancy_id or "", action, shown), vacancy))
    return planned


def _write(
    ctx: Context, enterprise_id: str, planned: list[tuple[UploadRow, Vacancy | None]], table: Table
) -> list[str]:
    written = []
    by_row = {row.number: row.values for row in table.rows}
    for item, vacancy in planned:
        values = by_row[item.row]
        if item.action == UNCHANGED and vacancy is not None:
            continue
        if vacancy is None:
            created = store.create_vacancy(
                session=ctx.session,
                data=NewVacancy(**_written(values)),
                enterprise_id=enterprise_id,
            )
            written.append(created.vacancy_id)
            continue
        store.lock_vacancy(session=ctx.session, vacancy_id=vacancy.vacancy_id)
        clear = frozenset(name for name in (C.salary_min, C.salary_max) if values[name] is None)
        if values[C.closes_at] is None:
            clear |= {C.closes_at}
        store.update_vacancy(
            session=ctx.session,
            vacancy=vacancy,
            changes=VacancyChanges(**_written(values), clear=clear),
        )
        written.append(vacancy.vacancy_id)
    return written


def upload_vacancies(
    ctx: Context,
    content: bytes,
    *,
    enterprise_id: str | None = None,
    lang: str = "zh",
    preview: bool = False,
) -> VacancyUpload:
    """Post and update the caller's enterprise's vacancies from an .xlsx or CSV file, all rows or none
    (admin names the enterprise). Refused: an empty file, one over
    :data:`~service.usecases.graduates.MAX_UPLOAD_BYTES`, any problem in any row (:class:`UploadInvalid`
    in ``lang``). ``preview``: each row's action, nothing written. A write is audited with counts and the
    vacancies written, committed."""
    lang = normalise_language(lang)
    enterprise = _enterprise(ctx, enterprise_id)
    if not content:
        raise EmptyUpload(lang=lang)
    if len(content) > MAX_UPLOAD_BYTES:
        raise UploadTooLarge(lang=lang)
    from service.store.tables import Enterprise

    if ctx.session.get(Enterprise, enterprise) is None:
        raise EnterpriseNotFound(enterprise)
    try:
        table = read_upload(content, VACANCY_COLUMNS, Vocabulary.build(taxonomy(session=ctx.session)))
    except UploadInvalid as error:
        raise UploadInvalid(error.problems, lang) from None
    planned = _plan(ctx, enterprise, table, lang)
    if table.problems:
        raise UploadInvalid(table.problems, lang)
    # Discriminatory requirements in the rows' text (service.usecases.posting_check): audited with the
    # write; under TALENTMATCH_POSTING_CHECK=refuse the whole file is refused (422 discriminatory_posting,
    # each finding by row and column, in the caller's language).
    found = check_rows(
        (
            str(item.row),
            posting_fields(
                title=item.values.get(C.title),
                role=item.values.get(C.role),
                description=item.values.get(C.description),
            ),
        )
        for item, _ in planned
    )
    rows = tuple(item for item, _ in planned)
    refused = refusals(ctx.settings, [f.warning for f in found])
    if refused:
        ctx.session.rollback()
        problems = [
            UploadProblem(
                int(f.row),
                table.positions.get(f.warning.field),
                f.warning.field,
                "posting",
                {"text": f.warning.text, "zh": f.warning.message("zh"), "en": f.warning.message("en")},
            )
            for f in found
        ]
        raise UploadPostingsRefused(found, problems, lang)
    added = sum(r.action == ADD for r in rows)
    updated = sum(r.action == UPDATE for r in rows)
    unchanged = len(rows) - added - updated
    if preview:
        ctx.session.rollback()
        return VacancyUpload(enterprise, added, updated, unchanged, True, rows, (), tuple(found))
    try:
        written = _write(ctx, enterprise, planned, table)
    except Exception:
        ctx.session.rollback()
        raise
    ctx.audit(
        "import_vacancies",
        f"enterprise:{enterprise}",
        {
            "added": added,
            "updated": updated,
            "unchanged": unchanged,
            "vacancies": written,
            **(rows_audit_detail(found) if found else {}),
        },
    )
    ctx.commit()
    return VacancyUpload(enterprise, added, updated, unchanged, False, rows, tuple(written))


def may_upload(ctx: Context) -> None:
    """Whether the caller may upload vacancies (HR and admin keys; :class:`Forbidden` otherwise)."""
    ctx.require(HR_ROLES)


def vacancies_template(ctx: Context) -> bytes:
    """The .xlsx template of HR's vacancies upload: the columns, an example row, drop-down lists (education,
    districts), notes and the skills."""
    ctx.require(HR_ROLES)
    skills = sorted((sid, names[0], names[1] or "") for sid, names, _ in taxonomy(session=ctx.session))
    return template_workbook(VACANCY_COLUMNS, sheet_title="岗位 vacancies", skills=skills)


def canonical_file(upload: VacancyUpload) -> bytes:
    """A previewed upload's rows as a canonical CSV: what the page carries from the preview to the confirm."""
    return canonical_csv([c.name for c in VACANCY_COLUMNS], [(r.row, r.values) for r in upload.rows])
