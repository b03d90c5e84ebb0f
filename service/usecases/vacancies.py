"""HR's vacancies: post (structured or from free text), extract skills, list, view, patch, close, reopen.

The one place the API's vacancy routes and the HR pages act on a vacancy: each action checks the role and the
tenant (another enterprise's vacancy is a 404 exactly like a missing one), caps free text before any work,
converts the request (:mod:`service.usecases.inputs`) into the store's plain arguments, audits writes and
commits. Results come back as :class:`VacancyView` (the vacancy with its hires counted).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

from sqlalchemy.orm import Session

from models.skill_extraction import SkillExtractor
from service.store import vacancies as store
from service.store.skills import taxonomy
from service.store.tables import Vacancy
from service.store.vacancies import CLEARABLE, EnterpriseRequired, InvalidVacancy, NewVacancy, VacancyChanges
from service.usecases.context import HR_ROLES, Context
from service.usecases.errors import Forbidden
from service.usecases.inputs import MAX_DESCRIPTION, MAX_TITLE, VacancyCreate, VacancyReopen, VacancyUpdate
from service.usecases.posting_check import (
    CHECKED_FIELDS,
    PostingWarning,
    posting_fields,
    screen,
    warning_codes,
    warnings_of,
)

# The "add skills" box of the posting form: names or ids, separated by commas or line breaks.
MAX_SKILL_TEXT = 2000
_SEPARATORS = ("，", "、", ";", "；", "\n")


class TextTooLong(InvalidVacancy):
    """Free text over its limit, refused before any work is done on it (422 ``invalid_vacancy``);
    ``limits`` maps each field that is too long to its limit (``details`` name them as ``body.<field>``)."""

    def __init__(self, limits: Mapping[str, int]) -> None:
        self.limits = dict(limits)
        message = "; ".join(f"{name} is longer than {n} characters" for name, n in self.limits.items())
        super().__init__(next(iter(self.limits)), message)
        self.details = [
            {"field": f"body.{name}", "message": f"at most {limit} characters"}
            for name, limit in self.limits.items()
        ]


class StatusChange(Protocol):
    """A store function changing a vacancy's status (:func:`~service.store.vacancies.close_vacancy`, ...)."""

    def __call__(self, *, session: Session, vacancy: Vacancy) -> Vacancy: ...


class ForeignEnterprise(Forbidden):
    """An hr key naming another enterprise than its own (403, whether that one exists or not)."""

    def __init__(self) -> None:
        message = "an HR key posts for its own enterprise; leave enterprise_id out or send its own"
        super().__init__(message)
        self.details = [{"field": "body.enterprise_id", "message": message}]


@dataclass(frozen=True)
class VacancyView:
    """A vacancy with its hires counted."""

    vacancy: Vacancy
    hires: int

    @property
    def skills_extracted(self) -> bool:
        """The skill lists were extracted from the text when it was posted (stored with it)."""
        return bool(self.vacancy.skills_extracted)

    @property
    def remaining_headcount(self) -> int:
        return max(0, self.vacancy.headcount - self.hires)

    @cached_property
    def warnings(self) -> list[PostingWarning]:
        """Discriminatory requirements found in its text (:mod:`service.usecases.posting_check`)."""
        return warnings_of(self.vacancy)

    @property
    def required_skills(self) -> list[str]:
        return store.required_skills(self.vacancy)

    @property
    def preferred_skills(self) -> list[str]:
        return store.preferred_skills(self.vacancy)


@dataclass(frozen=True)
class VacancyPage:
    """One page of vacancies, newest first, and how many there are in all."""

    items: list[VacancyView]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class SkillsFound:
    """Skills named in free text: ``required`` and ``preferred`` from a description, ``typed`` from the
    names or ids typed into the "add skills" box (each once, in order) and ``unknown`` the typed names that
    match no skill."""

    required: list[str]
    preferred: list[str]
    typed: list[str]
    unknown: list[str]


def _check_lengths(texts: Mapping[str, tuple[str, int]]) -> None:
    over = {name: limit for name, (text, limit) in texts.items() if len(text) > limit}
    if over:
        raise TextTooLong(over)


def _view(ctx: Context, vacancy: Vacancy) -> VacancyView:
    hired = store.hires(session=ctx.session, vacancy_ids=[vacancy.vacancy_id])[vacancy.vacancy_id]
    return VacancyView(vacancy, hired)


def _own(ctx: Context, vacancy_id: str, *, lock: bool = False) -> Vacancy:
    """The caller's vacancy (any for admin); 404 for another enterprise's, as for a missing one."""
    if lock:
        store.lock_vacancy(session=ctx.session, vacancy_id=vacancy_id)
    return store.get_vacancy(session=ctx.session, vacancy_id=vacancy_id, enterprise_id=ctx.enterprise_scope)


def _typed(skill_extractor: SkillExtractor, known: set[str], text: str) -> tuple[list[str], list[str]]:
    """(skills found, names matching none) in the "add skills" text: ids, or names in either language."""
    for separator in _SEPARATORS:
        text = text.replace(separator, ",")
    found: list[str] = []
    unknown: list[str] = []
    for token in (t.strip() for t in text.split(",")):
        if not token:
            continue
        skills = [token] if token in known else skill_extractor.extract(token)
        if not skills:
            unknown.append(token)
        found.extend(skills)
    return list(dict.fromkeys(found)), unknown


def extract_skills(ctx: Context, *, title: str, description: str, typed: str = "") -> SkillsFound:
    """The skills a vacancy's title and description name, split into required and preferred, and those
    typed into the "add skills" box (the posting form's "extract" step). Every text over its limit is
    refused (:class:`TextTooLong`, naming each) before any extraction, which is linear in the text's length.
    """
    ctx.require(HR_ROLES)
    _check_lengths(
        {
            "title": (title, MAX_TITLE),
            "description": (description, MAX_DESCRIPTION),
            "add_skills": (typed, MAX_SKILL_TEXT),
        }
    )
    entries = taxonomy(session=ctx.session)
    skill_extractor = SkillExtractor(entries)
    required, preferred = skill_extractor.extract_split(f"{title}\n{description}")
    found, unknown = _typed(skill_extractor, {e[0] for e in entries}, typed) if typed.strip() else ([], [])
    return SkillsFound(required, preferred, found, unknown)


def find_skills(ctx: Context, typed: str) -> SkillsFound:
    """The skills typed into the "add skills" box (ids, or names in Chinese or English, separated by
    commas or line breaks) and the names that match none; refused (:class:`TextTooLong`) over
    :data:`MAX_SKILL_TEXT` characters before any lookup."""
    ctx.require(HR_ROLES)
    _check_lengths({"add_skills": (typed, MAX_SKILL_TEXT)})
    if not typed.strip():
        return SkillsFound([], [], [], [])
    entries = taxonomy(session=ctx.session)
    found, unknown = _typed(SkillExtractor(entries), {e[0] for e in entries}, typed)
    return SkillsFound([], [], found, unknown)


def post(ctx: Context, data: VacancyCreate) -> VacancyView:
    """Post a vacancy for the caller's enterprise (admin: the one it names); skills left out (both lists)
    are extracted from the title and description. Audited, committed."""
    ctx.require(HR_ROLES)
    enterprise_id = ctx.enterprise_scope
    if enterprise_id is None:  # admin names the enterprise
        if data.enterprise_id is None:
            raise EnterpriseRequired()
        enterprise_id = data.enterprise_id
    elif data.enterprise_id is not None and data.enterprise_id != enterprise_id:
        raise ForeignEnterprise()  # whether that enterprise exists or not
    fields = posting_fields(title=data.title, role=data.role, description=data.description)
    warnings = screen(ctx, fields, resource=f"enterprise:{enterprise_id}")
    extracted = data.required_skills is None and data.preferred_skills is None
    if extracted:
        found = extract_skills(ctx, title=data.title, description=data.description)
        required, preferred = found.required, found.preferred
    else:
        required, preferred = list(data.required_skills or []), list(data.preferred_skills or [])
    vacancy = store.create_vacancy(
        session=ctx.session,
        data=NewVacancy(
            title=data.title,
            district=data.district,
            role=data.role,
            required_skills=required,
            preferred_skills=preferred,
            min_education=data.min_education,
            headcount=data.headcount,
            salary_min=data.salary_min,
            salary_max=data.salary_max,
            closes_at=data.closes_at,
            description=data.description,
            skills_extracted=extracted,
        ),
        enterprise_id=enterprise_id,
    )
    detail: dict[str, object] = {"skills_extracted": extracted}
    if warnings:
        detail["posting_warnings"] = warning_codes(warnings)
    ctx.audit("post_vacancy", f"vacancy:{vacancy.vacancy_id}", detail)
    ctx.commit()
    return VacancyView(vacancy, 0)


def list_vacancies(
    ctx: Context, *, status: str | None = None, limit: int = 20, offset: int = 0
) -> VacancyPage:
    """The caller's enterprise's vacancies (every enterprise's for admin), newest first."""
    ctx.require(HR_ROLES)
    items, total = store.list_vacancies(
        session=ctx.session, enterprise_id=ctx.enterprise_scope, status=status, limit=limit, offset=offset
    )
    hired = store.hires(session=ctx.session, vacancy_ids=[v.vacancy_id for v in items])
    return VacancyPage([VacancyView(v, hired[v.vacancy_id]) for v in items], total, limit, offset)


def get(ctx: Context, vacancy_id: str) -> VacancyView:
    """One of the caller's vacancies."""
    ctx.require(HR_ROLES)
    return _view(ctx, _own(ctx, vacancy_id))


def changes_of(data: VacancyUpdate) -> VacancyChanges:
    """The store's changes for a PATCH body: an absent field, or one sent as null, stays as it is, except
    the clearable ones (salary_min, salary_max, closes_at), which an explicit null clears."""
    sent = data.model_fields_set
    return VacancyChanges(
        title=data.title,
        role=data.role,
        required_skills=data.required_skills,
        preferred_skills=data.preferred_skills,
        min_education=data.min_education,
        district=data.district,
        headcount=data.headcount,
        salary_min=data.salary_min,
        salary_max=data.salary_max,
        closes_at=data.closes_at,
        description=data.description,
        clear=frozenset(name for name in CLEARABLE if name in sent and getattr(data, name) is None),
    )


def patch(ctx: Context, vacancy_id: str, data: VacancyUpdate) -> VacancyView:
    """Change fields of one of the caller's open vacancies (e.g. correct the extracted skills). Audited
    with the names of the fields sent, committed."""
    ctx.require(HR_ROLES)
    vacancy = _own(ctx, vacancy_id, lock=True)
    written = {name for name in CHECKED_FIELDS if getattr(data, name) is not None}
    fields = {name: getattr(data if name in written else vacancy, name) for name in CHECKED_FIELDS}
    warnings = screen(ctx, fields, resource=f"vacancy:{vacancy.vacancy_id}", written=written)
    store.update_vacancy(session=ctx.session, vacancy=vacancy, changes=changes_of(data))
    detail: dict[str, object] = {"fields": sorted(data.model_fields_set)}
    if warnings:
        detail["posting_warnings"] = warning_codes(warnings)
    ctx.audit("patch_vacancy", f"vacancy:{vacancy.vacancy_id}", detail)
    ctx.commit()
    return _view(ctx, vacancy)


def close(ctx: Context, vacancy_id: str) -> VacancyView:
    """Close one of the caller's vacancies: it takes no more outcomes and leaves graduates' suggestions.
    Closing a closed or filled vacancy changes nothing. Audited, committed."""
    return _change_status(ctx, vacancy_id, "close_vacancy", store.close_vacancy)


def reopen(ctx: Context, vacancy_id: str, data: VacancyReopen | None = None) -> VacancyView:
    """Open one of the caller's closed or filled vacancies again, until its closing date; ``data.headcount``
    raises the headcount (a filled vacancy needs more seats than its hires). Reopening an open one changes
    nothing but the headcount given. :class:`~service.store.vacancies.NotReopenable` (409) when its closing
    date has passed or its seats are all taken. Audited, committed."""
    ctx.require(HR_ROLES)
    headcount = data.headcount if data is not None else None
    vacancy = _own(ctx, vacancy_id, lock=True)
    before, seats = vacancy.status, vacancy.headcount
    store.reopen_vacancy(session=ctx.session, vacancy=vacancy, headcount=headcount)
    detail: dict[str, object] = {"status_before": before}
    if vacancy.headcount != seats:
        detail.update(headcount_before=seats, headcount=vacancy.headcount)
    ctx.audit("reopen_vacancy", f"vacancy:{vacancy.vacancy_id}", detail)
    ctx.commit()
    return _view(ctx, vacancy)


def _change_status(ctx: Context, vacancy_id: str, action: str, change: StatusChange) -> VacancyView:
    ctx.require(HR_ROLES)
    vacancy = _own(ctx, vacancy_id, lock=True)
    before = vacancy.status
    change(session=ctx.session, vacancy=vacancy)
    ctx.audit(action, f"vacancy:{vacancy.vacancy_id}", {"status_before": before})
    ctx.commit()
    return _view(ctx, vacancy)
