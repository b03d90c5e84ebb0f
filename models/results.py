"""What a matcher answers: matches with explanations, result pages, query filters and domain errors."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class Reason:
    """One plain-words reason a match scored high. ``code`` is stable; the web page translates by code."""

    code: str
    message: str
    weight: float


@dataclass
class Match:
    """One ranked pair with its calibrated score in [0, 1] and its explanation."""

    graduate_id: str
    vacancy_id: str
    score: float
    matched_skills: list[str] = field(default_factory=list)
    missing_skills: list[str] = field(default_factory=list)
    matched_preferred_skills: list[str] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)


@dataclass
class MatchResult:
    """One page of ranked matches; ``total`` counts everything that passed the hard filters."""

    items: list[Match]
    total: int


@dataclass(frozen=True)
class CandidateFilters:
    """Filters on graduates when ranking candidates for a vacancy.

    ``seeking_only`` and the education minimum are hard filters (on by default); the rest are optional.
    """

    district: str | None = None
    program_kind: str | None = None
    program_id: str | None = None
    seeking_only: bool = True
    check_education: bool = True
    exclude_graduates: tuple[str, ...] = ()


@dataclass(frozen=True)
class VacancyFilters:
    """Filters on vacancies when ranking them for a graduate.

    ``open_only`` keeps vacancies with status open and not past ``closes_at`` at ``as_of``
    (default: now, naive UTC). ``vacancy_ids`` restricts the pool (used by evaluation).
    """

    district: str | None = None
    enterprise_id: str | None = None
    open_only: bool = True
    check_education: bool = True
    as_of: pd.Timestamp | None = None
    exclude_vacancies: tuple[str, ...] = ()


class MatcherError(Exception):
    """Base of the matcher's domain errors."""

    code = "matcher_error"


class ModelNotFitted(MatcherError):
    code = "model_not_ready"


class UnknownGraduate(MatcherError, KeyError):
    code = "unknown_graduate"


class UnknownVacancy(MatcherError, KeyError):
    code = "unknown_vacancy"


class InvalidQuery(MatcherError, ValueError):
    """A vacancy or graduate given as data is missing keys or has bad values."""

    code = "invalid_query"
