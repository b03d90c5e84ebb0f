"""Form parsing for the pages: every value is kept as typed, every error names its field.

A form that fails validation is rendered again with the user's text in place and one message next to
each bad field, in the page's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from models.columns import EDUCATION_LEVELS
from service.store.tables import Skill
from service.usecases.inputs import (
    MAX_DESCRIPTION,
    MAX_HEADCOUNT,
    MAX_SALARY,
    MAX_TITLE,
    VacancyCreate,
    vacancy_line,
    vacancy_text,
)
from service.usecases.vacancies import MAX_SKILL_TEXT, SkillsFound

TEXT_FIELDS = (
    "title",
    "role",
    "description",
    "district",
    "min_education",
    "headcount",
    "salary_min",
    "salary_max",
    "closes_at",
    "enterprise_id",
    "add_skills",
)
MAX_LENGTHS = {
    "title": MAX_TITLE,
    "role": 100,
    "district": 100,
    "description": MAX_DESCRIPTION,
    "add_skills": MAX_SKILL_TEXT,
}


@dataclass
class FieldError:
    key: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class VacancyForm:
    """The "post a vacancy" form: raw values, confirmed skills and per-field errors."""

    values: dict[str, str]
    required: list[str] = field(default_factory=list)
    preferred: list[str] = field(default_factory=list)
    errors: dict[str, FieldError] = field(default_factory=dict)
    extracted: bool = False

    @classmethod
    def empty(cls) -> VacancyForm:
        values = dict.fromkeys(TEXT_FIELDS, "")
        values.update(min_education="associate", headcount="1")
        return cls(values=values)

    @classmethod
    def from_form(cls, form: FormData) -> VacancyForm:
        values = {name: str(form.get(name) or "") for name in TEXT_FIELDS}
        kept = [str(s) for s in form.getlist("skill") if str(s).strip()]
        marked = {str(s) for s in form.getlist("preferred")}
        required = [s for s in dict.fromkeys(kept) if s not in marked]
        preferred = [s for s in dict.fromkeys(kept) if s in marked]
        return cls(
            values=values, required=required, preferred=preferred, extracted=form.get("extracted") == "1"
        )

    @property
    def skills(self) -> list[str]:
        return self.required + self.preferred

    def error(self, name: str, key: str, **values: Any) -> None:
        self.errors.setdefault(name, FieldError(key, values))

    def validate(self, *, need_enterprise: bool, enterprises: set[str]) -> None:
        """Field checks with messages in the user's language (the API schema checks again on save)."""
        v = self.values
        for name in ("title", "district"):
            if not v[name].strip():
                self.error(name, "valid.required")
        self.too_long({name: limit for name, limit in MAX_LENGTHS.items() if len(v[name]) > limit})
        for name in ("title", "role", "district"):
            try:
                vacancy_line(v[name])
            except ValueError:
                self.error(name, "valid.hidden_chars_line")
        try:
            vacancy_text(v["description"])
        except ValueError:
            self.error("description", "valid.hidden_chars")
        if v["min_education"] not in EDUCATION_LEVELS:
            self.error("min_education", "valid.choice")
        self._int("headcount", required=True, low=1, high=MAX_HEADCOUNT)
        self._int(
            "salary_min", required=False, low=0, high=MAX_SALARY
        )  # a reversed range is stored lowest first
        self._int("salary_max", required=False, low=0, high=MAX_SALARY)
        if v["closes_at"].strip():
            try:
                date.fromisoformat(v["closes_at"].strip())
            except ValueError:
                self.error("closes_at", "valid.date")
        if need_enterprise and v["enterprise_id"] not in enterprises:
            self.error("enterprise_id", "valid.choice")

    def _int(self, name: str, *, required: bool, low: int, high: int) -> int | None:
        raw = self.values[name].strip().replace(",", "")
        if not raw:
            if required:
                self.error(name, "valid.required")
            return None
        try:
            number = int(raw)
        except ValueError:
            self.error(name, "valid.int")
            return None
        if not low <= number <= high:
            self.error(name, "valid.range", lo=low, hi=high)
            return None
        return number

    def too_long(self, limits: dict[str, int]) -> None:
        """Mark each field over its limit (name -> limit)."""
        for name, limit in limits.items():
            self.error(name, "valid.too_long", n=limit)

    def add_typed(self, found: SkillsFound) -> None:
        """Add the skills typed into the "add skills" box as required; name the ones not found."""
        for skill in found.typed:
            if skill not in self.skills:
                self.required.append(skill)
        if found.unknown:
            self.error("add_skills", "valid.unknown_skills", names="、".join(found.unknown))
        else:
            self.values["add_skills"] = ""

    def to_create(self, *, enterprise_id: str | None) -> VacancyCreate:
        v = self.values
        closes = v["closes_at"].strip()
        optional: dict[str, Any] = {"role": v["role"].strip()} if v["role"].strip() else {}
        return VacancyCreate(
            **optional,
            enterprise_id=enterprise_id,
            title=v["title"].strip(),
            required_skills=self.required,
            preferred_skills=self.preferred,
            min_education=v["min_education"],
            district=v["district"].strip(),
            headcount=int(v["headcount"].strip().replace(",", "")),
            salary_min=_optional_int(v["salary_min"]),
            salary_max=_optional_int(v["salary_max"]),
            closes_at=datetime.fromisoformat(closes) if closes else None,
            description=v["description"],
        )

    def absorb(self, error: ValidationError) -> None:
        """Put the schema's remaining complaints next to their fields."""
        for item in error.errors():
            loc = item.get("loc") or ("title",)
            name = str(loc[0]) if str(loc[0]) in self.values else "title"
            self.errors.setdefault(name, FieldError("valid.raw", {"message": str(item.get("msg", ""))}))


def _optional_int(raw: str) -> int | None:
    raw = raw.strip().replace(",", "")
    return int(raw) if raw else None


def known_skill_ids(session: Session) -> set[str]:
    return set(session.scalars(select(Skill.skill_id)))
