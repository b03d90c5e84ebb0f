"""Response schemas of the HTTP API, one family per entity (Public), and its query-parameter types.

The request bodies a use case takes (``VacancyCreate``, ``VacancyUpdate``, ``FeedbackCreate``) live in
:mod:`service.usecases.inputs`, beneath both the API and the pages.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from models.columns import PROGRAM_KINDS, VACANCY_STATUSES
from models.ids import ID_PATTERN, ID_RULE

VacancyStatus = Literal[VACANCY_STATUSES]  # type: ignore[valid-type]
ProgramKind = Literal[PROGRAM_KINDS]  # type: ignore[valid-type]

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


class PostingSpanPublic(BaseModel):
    start: int = Field(description="Offset of the first character flagged in the field's text (0-based).")
    end: int = Field(description="Offset just past the last character flagged: `text[start:end]`.")
    text: str = Field(description="The flagged text.")


class PostingWarningPublic(BaseModel):
    """A requirement in a vacancy's text that may discriminate (docs/accountability.md)."""

    code: Literal[
        "gender", "marriage_childbirth", "age", "ethnicity", "origin", "appearance", "health_status"
    ]
    field: str = Field(description="The field it is in: `body.title`, `body.role` or `body.description`.")
    message: str
    message_zh: str
    span: PostingSpanPublic


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
        default=False,
        description="True when the skill lists were extracted from the title and description at posting "
        "(none were sent); stored with the vacancy, so every later answer says the same.",
    )
    warnings: list[PostingWarningPublic] = Field(
        default_factory=list,
        description="Requirements in the title, role or description that may discriminate (gender, marriage "
        "and childbirth, age, ethnicity, hukou, appearance, health status), for HR to edit; with "
        "TALENTMATCH_POSTING_CHECK=refuse a text carrying them is refused instead (422 "
        "`discriminatory_posting`).",
    )


class Bilingual(BaseModel):
    zh: str
    en: str


class NoticeSectionPublic(BaseModel):
    key: Literal["principle", "purpose", "mechanism", "data", "non_personalised", "contest"]
    title: Bilingual
    body: Bilingual


class AlgorithmNoticePublic(BaseModel):
    """The algorithm notice (算法公示): principle, purpose, mechanism, data, opting out, contesting."""

    sections: list[NoticeSectionPublic]
    serving_version: str | None = Field(description="The model version answering now (null: none).")
    versions: list[str] = Field(description="Model versions with a card, newest first.")
    non_personalised_version: str = Field(
        description="The `model_version` of answers asked with `personalised=false`."
    )
    settings: dict[str, Any] = Field(description="The settings that shape answers (floor, re-ranking, ...).")


class ModelCardPublic(BaseModel):
    """A model version described from its manifest."""

    version: str
    created_at: str | None
    serving: bool = Field(description="true when this version answers now.")
    model: str | None
    training_data: dict[str, Any] = Field(description="The snapshot it was trained on: counts, latest event.")
    configuration: dict[str, Any] = Field(description="Parameters and the configuration search's choice.")
    evaluation: dict[str, Any] = Field(description="The time-based holdout: cut, k, events on each side.")
    metrics: dict[str, Any] = Field(description="Holdout metrics per model: new, keyword, current.")
    calibration: dict[str, Any] = Field(description="Per model: ECE and the reliability curve's bins.")
    gate: dict[str, Any] = Field(description="Whether it passed the promotion gate, and why.")
    fairness: dict[str, Any] | None = Field(
        default=None, description="Impact ratios, coverage and exposure concentration, when measured."
    )
    notes: list[str] = Field(default_factory=list)


class OutcomeRecordPublic(BaseModel):
    occurred_at: str = Field(description="When it was recorded (UTC, ISO 8601).")
    vacancy_id: str
    enterprise_id: str
    graduate_id: str = Field(description="The graduate's pseudonymous id in the service.")
    event: str
    recorded_by: str = Field(description="The id of the API key (a person's) that recorded it.")
    recorded_via: str = Field(description="`api` or `web`.")
    model_version: str = Field(description="The model serving when it was recorded (empty: none).")
    shown_score: float | None = Field(
        description="The score that model gave the pair when it was recorded (null: not in its pool)."
    )


class OutcomesExportPublic(BaseModel):
    since: str | None
    until: str | None
    count: int
    items: list[OutcomeRecordPublic]


class FeedbackPublic(BaseModel):
    vacancy_id: str
    graduate_id: str
    event: str
    occurred_at: UtcTime
    created: bool = Field(description="False when the same event had been recorded before (idempotent).")
    vacancy_status: str
    remaining_headcount: int


class OutcomeUndonePublic(BaseModel):
    vacancy_id: str
    graduate_id: str
    event: str
    recorded_at: UtcTime = Field(description="When the outcome undone had been recorded.")
    graduate_status: str | None = Field(
        description="The graduate's status now (a hire undone: `seeking` again); null if erased."
    )
    vacancy_status: str = Field(description="The vacancy's status now (a filled one opens again).")
    remaining_headcount: int


class RecordedOutcomePublic(BaseModel):
    graduate_id: str
    event: str
    occurred_at: UtcTime
    undoable: bool = Field(description="Whether it may still be undone (`TALENTMATCH_UNDO_SECONDS`).")


class PlacedGraduatePublic(BaseModel):
    graduate_id: str = Field(description="The id the caller knows the graduate by (a school's own id).")
    vacancy_id: str
    title: str
    enterprise_name: str
    district: str
    hired_at: UtcTime


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
    rerank: Literal["none", "exposure"] = Field(
        default="none",
        description="The re-ranking asked for (`rerank=` or `TALENTMATCH_FAIR_RERANK`); `exposure` "
        "re-orders the recommendations so under-exposed groups of graduates get their share of the top "
        "(docs/fairness.md).",
    )
    reranked: bool = Field(
        default=False,
        description="true when the order differs from the model's: the items are then not sorted by `score` "
        "(each `score` is the pair's own, unchanged).",
    )


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
    key_name: str | None = Field(default=None, description="The name the key was created with.")
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


class UploadRowPublic(BaseModel):
    row: int = Field(description="The row in the sheet (the header is row 1).")
    key: str = Field(description="The graduate's own id, or the vacancy's id (empty for a new vacancy).")
    action: Literal["add", "update", "unchanged"]
    values: dict[str, Any] = Field(description="The row's values as stored: ids, lists, ISO dates.")


class GraduateImportPublic(BaseModel):
    program_id: str
    added: int = Field(description="Graduates new to the school.")
    updated: int = Field(description="Graduates of the programme whose row changed.")
    unchanged: int
    preview: bool = Field(default=False, description="true: nothing was written (`?preview=true`).")
    rows: list[UploadRowPublic] = Field(
        default_factory=list, description="With `?preview=true`: each row and what writing it would do."
    )


class VacancyImportPublic(BaseModel):
    added: int = Field(description="New vacancies.")
    updated: int = Field(description="The enterprise's vacancies whose row changed.")
    unchanged: int
    preview: bool = Field(default=False, description="true: nothing was written (`?preview=true`).")
    vacancy_ids: list[str] = Field(
        default_factory=list, description="The vacancies added or updated, in row order."
    )
    warnings: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Requirements that may discriminate found in the rows' text (`row`, `field`, `code`, "
        "`message`, `message_zh`, `span`); with TALENTMATCH_POSTING_CHECK=refuse the upload is a 422 "
        "`discriminatory_posting` instead.",
    )
    rows: list[UploadRowPublic] = Field(
        default_factory=list, description="With `?preview=true`: each row and what writing it would do."
    )
