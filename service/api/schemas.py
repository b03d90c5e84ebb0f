"""Request and response schemas of the HTTP API, one family per entity (Create/Update/Public)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator
from pydantic.json_schema import JsonDict

from models.columns import EDUCATION_LEVELS, FEEDBACK_EVENTS, PROGRAM_KINDS, VACANCY_STATUSES
from models.ids import ID_PATTERN, ID_RULE, is_valid_id

Education = Literal[EDUCATION_LEVELS]  # type: ignore[valid-type]
VacancyStatus = Literal[VACANCY_STATUSES]  # type: ignore[valid-type]
FeedbackEvent = Literal[FEEDBACK_EVENTS]  # type: ignore[valid-type]
ProgramKind = Literal[PROGRAM_KINDS]  # type: ignore[valid-type]

MAX_SKILLS = 100
MAX_DESCRIPTION = 20_000
MAX_TITLE = 300
MAX_SALARY = 10_000_000
MAX_HEADCOUNT = 10_000
Id = Field(min_length=1, max_length=64)

T = TypeVar("T")

# The one meaning of `score`, word for word on every route that answers one (candidates, recommendations,
# placement assignments and alternatives) and in docs/api.md.
SCORE_DESCRIPTION = (
    "The estimated probability that this pairing succeeds (the graduate applies and does not decline, "
    "and the employer advances them). The same number for the same pair and model version on every route."
)
Score = Annotated[float, Field(ge=0.0, le=1.0, description=SCORE_DESCRIPTION)]
SCORE_FLOOR_DESCRIPTION = (
    "The recommendation floor (`TALENTMATCH_MIN_RECOMMEND_SCORE`): ranks scoring below it are not "
    "recommendations and are left out of `items` unless `include_below_floor=true`."
)
BELOW_FLOOR_DESCRIPTION = (
    "How many of this page's ranks score below `score_floor` (left out of `items` unless "
    "`include_below_floor=true`). The ranking is best first by `score`, so a page with `below_floor` > 0 "
    "is the last one holding recommendations; adding it up over the pages counts every rank below the floor."
)

# Times in answers are naive UTC (as stored), so the schema must not promise RFC 3339 "date-time" (which
# needs an offset): the fuzzer holds every answer to its documented schema.
UtcTime = Annotated[
    datetime,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$",
            "description": "UTC, ISO 8601 without an offset.",
            "examples": ["2026-11-27T09:00:00"],
        },
        mode="serialization",
    ),
]


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


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class ErrorItem(BaseModel):
    code: str = Field(examples=["vacancy_not_found"])
    message: str = Field(examples=["vacancy 'v_1a2b3c' not found"])
    details: list[dict[str, Any]] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    """The one error shape of the API."""

    error: ErrorItem


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


class VacancyPublic(BaseModel):
    """A stored vacancy."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "vacancy_id": "v_3f9a1c2b7d4e",
                    "enterprise_id": "E001",
                    "title": "封装工艺工程师",
                    "role": "process_engineer",
                    "required_skills": ["wire_bonding", "flip_chip", "spc"],
                    "preferred_skills": [],
                    "min_education": "associate",
                    "district": "越城区",
                    "headcount": 3,
                    "hires": 0,
                    "remaining_headcount": 3,
                    "salary_min": 6000,
                    "salary_max": 9000,
                    "posted_at": "2026-11-27T09:00:00",
                    "closes_at": "2027-03-31T00:00:00",
                    "status": "open",
                    "description": "熟悉引线键合和倒装焊工艺，有SPC经验",
                    "skills_extracted": True,
                }
            ]
        }
    )

    vacancy_id: str
    enterprise_id: str
    title: str
    role: str
    required_skills: list[str]
    preferred_skills: list[str]
    min_education: str
    district: str
    headcount: int
    hires: int = Field(description="Graduates hired through feedback so far.")
    remaining_headcount: int = Field(description="headcount minus hires, never below zero.")
    salary_min: int | None
    salary_max: int | None
    posted_at: UtcTime
    closes_at: UtcTime | None
    status: str
    description: str
    skills_extracted: bool = Field(
        default=False, description="True when the skill lists were extracted from the description."
    )


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


class FeedbackPublic(BaseModel):
    vacancy_id: str
    graduate_id: str
    event: str
    occurred_at: UtcTime
    created: bool = Field(description="False when the same event had been recorded before (idempotent).")
    vacancy_status: str
    remaining_headcount: int


class ReasonPublic(BaseModel):
    code: str = Field(examples=["skill_overlap"])
    message: str = Field(examples=["has 3 of 3 required skills"])


class CandidatePublic(BaseModel):
    graduate_id: str
    score: Score
    program_id: str
    program_name: str
    school_name: str
    education: str
    skills: list[str]
    matched_skills: list[str]
    missing_skills: list[str]
    reasons: list[ReasonPublic]


class CandidatesPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "vacancy_id": "V000123",
                    "model_version": "20261127T090000-7",
                    "items": [
                        {
                            "graduate_id": "G004711",
                            "score": 0.83,
                            "program_id": "P0042",
                            "program_name": "中芯订单班 2026",
                            "school_name": "绍兴职业技术学院",
                            "education": "associate",
                            "skills": ["lithography", "etching", "spc"],
                            "matched_skills": ["lithography", "spc"],
                            "missing_skills": [],
                            "reasons": [
                                {
                                    "code": "sponsor_class",
                                    "message": "from an order-based class this employer sponsors",
                                }
                            ],
                        }
                    ],
                    "total": 412,
                    "limit": 20,
                    "offset": 0,
                    "score_floor": 0.02,
                    "below_floor": 0,
                }
            ]
        }
    )

    vacancy_id: str
    model_version: str
    items: list[CandidatePublic] = Field(
        description="This page's candidates best first by `score`: the recommendations (at or above "
        "`score_floor`), or every rank of the page with `include_below_floor=true`."
    )
    total: int = Field(description="Graduates passing the hard filters (ranked, above or below the floor).")
    limit: int
    offset: int
    score_floor: float = Field(description=SCORE_FLOOR_DESCRIPTION)
    below_floor: int = Field(description=BELOW_FLOOR_DESCRIPTION)


class SkillPublic(BaseModel):
    skill_id: str
    name_zh: str
    name_en: str
    category: str
    aliases: list[str]


class AuditEntryPublic(BaseModel):
    id: int
    at: UtcTime
    key_id: str | None
    action: str
    resource: str
    detail: str


# --- School side: programmes, graduates, placement plans, skill gaps, the graduates upload ---------------

GRADUATE_ID_DESCRIPTION = (
    "The graduate's id as the caller knows them: for a school key, the school's own id (the one it "
    "uploads; ids are scoped per school, two schools may use the same one); for admin, the service's id "
    f"(the one HR sees among candidates). Ids are {ID_RULE}."
)


class ProgramPublic(BaseModel):
    program_id: str
    school_id: str
    school_name: str
    name: str
    kind: str
    sponsor_enterprise_id: str | None
    cohort_year: int
    skills: list[str] = Field(description="The curriculum: skill ids taught.")
    graduates: dict[str, int] = Field(description="Graduates per status.", examples=[{"seeking": 30}])


class GraduatePublic(BaseModel):
    graduate_id: str = Field(description=GRADUATE_ID_DESCRIPTION, pattern=ID_PATTERN)
    program_id: str
    education: str
    major: str
    skills: list[str]
    preferred_districts: list[str]
    available_from: date | None
    status: str


class RecommendationPublic(BaseModel):
    vacancy_id: str
    title: str
    enterprise_id: str
    enterprise_name: str
    district: str
    score: Score
    matched_skills: list[str]
    missing_skills: list[str]
    reasons: list[ReasonPublic]


class RecommendationsPublic(BaseModel):
    graduate_id: str = Field(description=GRADUATE_ID_DESCRIPTION)
    model_version: str
    items: list[RecommendationPublic] = Field(
        description="Open vacancies best first by `score`: the recommendations (at or above `score_floor`), "
        "or every rank asked for with `include_below_floor=true`."
    )
    total: int = Field(description="Open vacancies passing the hard filters (above or below the floor).")
    score_floor: float = Field(description=SCORE_FLOOR_DESCRIPTION)
    below_floor: int = Field(
        description="How many of the `limit` best ranks score below `score_floor` (left out of `items` "
        "unless `include_below_floor=true`)."
    )


class AssignmentPublic(BaseModel):
    graduate_id: str = Field(description=GRADUATE_ID_DESCRIPTION)
    vacancy_id: str
    score: Score
    sponsor: bool = Field(description="The vacancy is the programme sponsor's.")
    reasons: list[ReasonPublic]


class AlternativePublic(BaseModel):
    vacancy_id: str
    score: Score
    remaining: int = Field(description="Seats the vacancy still has after the plan.")
    status: str = Field(description="full, below_min_score or available.")


class TrainingHintPublic(BaseModel):
    skill_id: str = Field(description="A required skill of the graduate's best vacancies they lack.")
    taught_by: list[str] = Field(
        description="Training programmes (kind `training`, not the graduate's own) teaching it."
    )


class UnassignedPublic(BaseModel):
    graduate_id: str = Field(description=GRADUATE_ID_DESCRIPTION)
    reason: str = Field(
        description="education_below_minimum, no_vacancy_above_min_score, no_remaining_headcount or "
        "capacity_taken_by_better_matches.",
        examples=["no_vacancy_above_min_score"],
    )
    message: str = Field(
        description="The reason in words (English).",
        examples=[
            "no vacancy scores at least the minimum score (2% chance that the pairing succeeds): a pairing "
            "this unlikely to succeed is not planned; training in the missing skills listed would raise the "
            "graduate's chances"
        ],
    )
    alternatives: list[AlternativePublic]
    training: list[TrainingHintPublic] = Field(
        description="The required skills of the alternatives the graduate lacks, best vacancy first, with "
        "the training programmes teaching them (at most 5; none when education is what keeps them out)."
    )


class PlanMetricsPublic(BaseModel):
    graduates: int
    assigned: int
    coverage: float
    total_score: float = Field(
        description="Sum of the assignments' scores: the expected number of successful placements."
    )
    mean_score: float = Field(description="Mean score of the assignments.")
    headcount_used: int
    headcount_available: int
    sponsor_seats_filled: int
    congestion_vs_top1: dict[str, float]


class PlacementPlanPublic(BaseModel):
    program_id: str
    model_version: str
    min_score: float = Field(description="Pairs scoring below it were not assigned.")
    sponsor_enterprise_id: str | None
    scope: Literal["program", "school"] = Field(
        default="program",
        description="What was planned together: this programme, or every programme of its school "
        "(then `assignments`, `unassigned` and `metrics` are this programme's part of the school's plan; "
        "`congestion_vs_top1` compares the whole plan).",
    )
    assignments: list[AssignmentPublic] = Field(
        description="A page (`limit`, `offset`) of the assignments; `assignments_total` counts them all."
    )
    unassigned: list[UnassignedPublic] = Field(
        description="A page (`limit`, `offset`) of the unassigned graduates; `unassigned_total` counts them."
    )
    assignments_total: int
    unassigned_total: int
    limit: int
    offset: int
    metrics: PlanMetricsPublic = Field(description="The whole plan's metrics (not only this page's).")


class SkillGapPublic(BaseModel):
    skill_id: str
    name_zh: str
    name_en: str
    vacancy_share: float = Field(description="Share of the suiting open vacancies requiring the skill.")
    cohort_share: float = Field(description="Share of the programme's graduates holding it.")
    gap: float
    in_curriculum: bool
    taught_by: list[str] = Field(description="Training programmes whose curriculum contains it.")


class SkillGapsPublic(BaseModel):
    program_id: str
    segments: list[str]
    segment_source: str = Field(description="sponsor, history, curriculum or all (see docs/schools.md).")
    education: str | None
    vacancies: int
    cohort_size: int
    items: list[SkillGapPublic]


class GraduateImportPublic(BaseModel):
    program_id: str
    added: int = Field(description="Graduates new to the school.")
    updated: int = Field(description="Graduates of the programme whose row changed.")
    unchanged: int
