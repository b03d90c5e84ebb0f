"""What the use cases take from a caller: a vacancy to post or change, an outcome to record, and the text
rules and limits behind them.

The API takes these as request bodies (their OpenAPI schemas come from here) and the pages build them from
forms; both then call :mod:`service.usecases`. They sit beneath the API and the pages so that neither the
use cases nor the pages import the API.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import JsonDict

from models.columns import EDUCATION_LEVELS, FEEDBACK_EVENTS
from models.ids import ID_PATTERN, ID_RULE, is_valid_id

Education = Literal[EDUCATION_LEVELS]  # type: ignore[valid-type]
FeedbackEvent = Literal[FEEDBACK_EVENTS]  # type: ignore[valid-type]

MAX_SKILLS = 100
MAX_DESCRIPTION = 20_000
MAX_TITLE = 300
MAX_SALARY = 10_000_000
MAX_HEADCOUNT = 10_000


def _naive_utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is not None:
        try:
            return value.astimezone(UTC).replace(tzinfo=None)
        except OverflowError as exc:
            raise ValueError("date is out of range") from exc
    return value


def _unique_ids(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    if not all(is_valid_id(value) for value in values):
        raise ValueError(SKILL_ID_RULE)
    return list(dict.fromkeys(values))


# Vacancy text: no control characters (C0, DEL, C1) and no bidirectional formatting characters (Unicode's
# Bidi_Control set: U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), which would make a title read
# differently from what it says (e.g. U+202E reverses what follows). A description keeps line breaks (a
# CR LF or a lone CR becomes LF) and tabs. Each rule is one regular expression, valid both in Python and in
# JSON Schema (ECMA-262): the validators below match with it and the OpenAPI schema states it as `pattern`.
_BIDI = r"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_LINE_HIDDEN = r"\x00-\x1f\x7f-\x9f" + _BIDI
_TEXT_HIDDEN = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f" + _BIDI  # tab, LF and CR allowed
# What str.strip() removes that a line may hold: a title of only these is blank.
_SPACES = r"\x20\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
LINE_PATTERN = f"^[^{_LINE_HIDDEN}]*$"
NONBLANK_LINE_PATTERN = f"^[^{_LINE_HIDDEN}]*[^{_LINE_HIDDEN}{_SPACES}][^{_LINE_HIDDEN}]*$"
TEXT_PATTERN = f"^[^{_TEXT_HIDDEN}]*$"
_LINE, _NONBLANK_LINE, _TEXT = (
    re.compile(LINE_PATTERN),
    re.compile(NONBLANK_LINE_PATTERN),
    re.compile(TEXT_PATTERN),
)
VACANCY_LINE_RULE = "a single line without control or bidirectional formatting characters (e.g. U+202E)"
VACANCY_TEXT_RULE = (
    "no control or bidirectional formatting characters (e.g. U+202E); line breaks and tabs are kept"
)
# `pattern` for a string field's schema (on an optional field it applies to the string branch only).
LINE: JsonDict = {"pattern": LINE_PATTERN}
NONBLANK_LINE: JsonDict = {"pattern": NONBLANK_LINE_PATTERN}
TEXT: JsonDict = {"pattern": TEXT_PATTERN}
_DATE_START = re.compile(r"\d{4}-\d{2}-\d{2}")
CLOSES_AT = "ISO 8601 date-time; one with an offset is converted to UTC, one without is taken as UTC."
SKILL_ID_RULE = f"skill ids are {ID_RULE}"
SkillId = Annotated[str, Field(json_schema_extra={"pattern": ID_PATTERN, "maxLength": 64, "minLength": 1})]


def vacancy_line(value: str) -> str:
    """A one-line vacancy field (title, role, district), stripped; ValueError naming the rule."""
    if not _LINE.fullmatch(value):
        raise ValueError(f"must be {VACANCY_LINE_RULE}")
    return value.strip()


def vacancy_text(value: str) -> str:
    """A vacancy description with line breaks as LF; ValueError naming the rule."""
    if not _TEXT.fullmatch(value):
        raise ValueError(f"must have {VACANCY_TEXT_RULE}")
    return value.replace("\r\n", "\n").replace("\r", "\n")


def _nonblank_line(value: str) -> str:
    value = vacancy_line(value)
    if not _NONBLANK_LINE.fullmatch(value):
        raise ValueError("must not be blank")
    return value


class _VacancyFields(BaseModel):
    # strict: a JSON body is taken as the schema types it (no "5" for 5, no 0 for a date-time).
    model_config = ConfigDict(extra="forbid", strict=True)

    # role has its own validators below: it may be empty, but not multi-line
    @field_validator("title", "district", check_fields=False)
    @classmethod
    def _single_line(cls, value: str | None) -> str | None:
        return None if value is None else _nonblank_line(value)

    @field_validator("description", check_fields=False)
    @classmethod
    def _description(cls, value: str | None) -> str | None:
        return None if value is None else vacancy_text(value)

    @field_validator("required_skills", "preferred_skills", check_fields=False)
    @classmethod
    def _skills(cls, value: list[str] | None) -> list[str] | None:
        return _unique_ids(value)

    @field_validator("headcount", "salary_min", "salary_max", mode="before", check_fields=False)
    @classmethod
    def _json_integer(cls, value: object) -> object:
        # JSON Schema's integer includes 5173.0 (a number with no fraction); strict mode would refuse it.
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value

    @field_validator("closes_at", mode="before", check_fields=False)
    @classmethod
    def _closes_at_text(cls, value: object) -> object:
        # The one lax field (a JSON date-time is text): text shaped as a date, never a number.
        if value is not None and not (isinstance(value, str) and _DATE_START.match(value)):
            raise ValueError("must be an ISO 8601 date-time text, e.g. 2027-03-31T00:00:00Z")
        return value

    @field_validator("closes_at", check_fields=False)
    @classmethod
    def _closes_at(cls, value: datetime | None) -> datetime | None:
        return _naive_utc(value)


SALARY_ORDER = "Monthly salary in yuan; a range given the wrong way round is stored lowest first."
SALARY_ALONE = (
    "Sent without the other bound, it must not cross the stored one (409 `vacancy_conflict` naming it)."
)


class VacancyCreate(_VacancyFields):
    """A vacancy to post. Leave out both skill lists to have them extracted from the description."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "封装工艺工程师",
                    "role": "process_engineer",
                    "min_education": "associate",
                    "district": "越城区",
                    "headcount": 3,
                    "salary_min": 6000,
                    "salary_max": 9000,
                    "closes_at": "2027-03-31T00:00:00",
                    "description": "熟悉引线键合和倒装焊工艺，有SPC经验",
                }
            ]
        },
    )

    enterprise_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=ID_PATTERN,
        description="The enterprise the vacancy is for; left out, the key's own. Admin keys belong to none, "
        "so they name it (left out: 403 `enterprise_required`; one that does not exist: 404 "
        "`enterprise_not_found`). HR keys post for their own enterprise: leave it out or send their own "
        "(any other: 403).",
    )
    title: str = Field(min_length=1, max_length=MAX_TITLE, json_schema_extra=NONBLANK_LINE)
    role: str = Field(default="", max_length=100, json_schema_extra=LINE)
    required_skills: list[SkillId] | None = Field(default=None, max_length=MAX_SKILLS)
    preferred_skills: list[SkillId] | None = Field(default=None, max_length=MAX_SKILLS)
    min_education: Education = "secondary"
    district: str = Field(min_length=1, max_length=100, json_schema_extra=NONBLANK_LINE)
    headcount: int = Field(default=1, ge=1, le=MAX_HEADCOUNT)
    salary_min: int | None = Field(default=None, ge=0, le=MAX_SALARY, description=SALARY_ORDER)
    salary_max: int | None = Field(default=None, ge=0, le=MAX_SALARY, description=SALARY_ORDER)
    closes_at: datetime | None = Field(default=None, strict=False, description=CLOSES_AT)
    description: str = Field(default="", max_length=MAX_DESCRIPTION, json_schema_extra=TEXT)

    @field_validator("role")
    @classmethod
    def _role(cls, value: str) -> str:
        return vacancy_line(value)  # may be empty, but not multi-line


KEEP_IF_NULL = "Absent or null: left as it is."
CLEAR_IF_NULL = "Absent: left as it is; null clears it."


class VacancyUpdate(_VacancyFields):
    """Fields to change. An absent field stays as it is, and so does one sent as null, except
    ``salary_min``, ``salary_max`` and ``closes_at``, which null clears. Status changes go through
    ``/close`` and ``/reopen``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"headcount": 5, "preferred_skills": ["spc"]}]},
    )

    title: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_TITLE,
        description=KEEP_IF_NULL,
        json_schema_extra=NONBLANK_LINE,
    )
    role: str | None = Field(
        default=None, max_length=100, description=KEEP_IF_NULL + ' "" clears it.', json_schema_extra=LINE
    )
    required_skills: list[SkillId] | None = Field(
        default=None, max_length=MAX_SKILLS, description=KEEP_IF_NULL + " [] clears it."
    )
    preferred_skills: list[SkillId] | None = Field(
        default=None, max_length=MAX_SKILLS, description=KEEP_IF_NULL + " [] clears it."
    )
    min_education: Education | None = Field(default=None, description=KEEP_IF_NULL)
    district: str | None = Field(
        default=None, min_length=1, max_length=100, description=KEEP_IF_NULL, json_schema_extra=NONBLANK_LINE
    )
    headcount: int | None = Field(
        default=None,
        ge=1,
        le=MAX_HEADCOUNT,
        description=KEEP_IF_NULL + " Below the hires already made: 409 `vacancy_conflict` naming it.",
    )
    salary_min: int | None = Field(
        default=None, ge=0, le=MAX_SALARY, description=f"{CLEAR_IF_NULL} {SALARY_ORDER} {SALARY_ALONE}"
    )
    salary_max: int | None = Field(
        default=None, ge=0, le=MAX_SALARY, description=f"{CLEAR_IF_NULL} {SALARY_ORDER} {SALARY_ALONE}"
    )
    closes_at: datetime | None = Field(default=None, strict=False, description=f"{CLEAR_IF_NULL} {CLOSES_AT}")
    description: str | None = Field(
        default=None,
        max_length=MAX_DESCRIPTION,
        description=KEEP_IF_NULL + ' "" clears it.',
        json_schema_extra=TEXT,
    )

    @field_validator("role")
    @classmethod
    def _role(cls, value: str | None) -> str | None:
        return None if value is None else vacancy_line(value)  # may be empty, but not multi-line


class FeedbackCreate(BaseModel):
    """An outcome HR records for one candidate of a vacancy."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={"examples": [{"graduate_id": "G00042", "event": "shortlisted"}]},
    )

    graduate_id: str = Field(
        pattern=ID_PATTERN,
        description=f"A graduate id as HR sees it among the vacancy's candidates ({ID_RULE}). A graduate who "
        "is neither a candidate of the vacancy nor in its pipeline is a 404, as an unknown id is.",
    )
    event: FeedbackEvent


class VacancyReopen(BaseModel):
    """How a closed or filled vacancy opens again: with its headcount, or a new one."""

    model_config = ConfigDict(
        extra="forbid", strict=True, json_schema_extra={"examples": [{}, {"headcount": 4}]}
    )

    headcount: int | None = Field(
        default=None,
        ge=1,
        le=MAX_HEADCOUNT,
        description="A new headcount, more than the hires already made (a filled vacancy reopens with more "
        "seats); left out, the headcount stays.",
    )
