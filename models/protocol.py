"""What every matcher answers: the public, typed protocol the service, the placement plans and the
evaluation use (RecTools' habit: one small public surface, warm and cold queries handled inside).

:class:`models.matcher.Matcher` (the trained model), :class:`models.keyword.KeywordMatcher` and the
baselines of :mod:`models.baselines` implement it through :class:`models.base.BaseMatcher`. Callers never
reach into a matcher's ``_private`` hooks: when they need more, this protocol grows.

Rows are rows of the ``index`` the call is given (``index.graduates`` / ``index.vacancies``). Every score a
method returns is the matcher's calibrated match probability, clamped into ``[0, 1]`` here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from models.data import MarketData
from models.index import MatchIndex
from models.results import CandidateFilters, Match, MatchResult, VacancyFilters

__all__ = ["GraduateQuery", "Matcher", "PairScores", "Ranking", "VacancyQuery", "VacancyPoolGroup"]

# An id in the index, or a vacancy / graduate given as data (a mapping of ``models.data`` columns) that is
# not in the index yet: it is ranked exactly like a stored one.
VacancyQuery = str | Mapping[str, Any]
GraduateQuery = str | Mapping[str, Any]
# (positions in a cohort's graduate rows, the vacancy rows those graduates may be offered).
VacancyPoolGroup = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Ranking:
    """The head of one ranking without explanations (what evaluation reads).

    Attributes
    ----------
    rows
        Rows of the ranked side in the index, best first (at least the ``need`` asked for, when as many
        passed the filters).
    scores
        Their calibrated match probabilities in [0, 1].
    total
        How many passed the hard filters.
    """

    rows: np.ndarray
    scores: np.ndarray
    total: int


@dataclass(frozen=True)
class PairScores:
    """Scores of aligned (graduate row, vacancy row) pairs.

    Attributes
    ----------
    key
        The ranking key: rankings order by it, higher first (ties by row). It orders pairs as ``score``
        does and breaks its ties (e.g. by skill coverage); its scale means nothing.
    score
        The calibrated match probability in [0, 1] (what a :class:`~models.results.Match` reports).
    features
        The pair features the score was computed from (for explanations), or ``None``.
    """

    key: np.ndarray
    score: np.ndarray
    features: np.ndarray | None


class Matcher(Protocol):
    """A fitted matcher as everything outside ``models`` sees it."""

    def index(self, data: MarketData) -> MatchIndex:
        """Precompute the arrays of every graduate and vacancy in ``data``."""
        ...

    def update_index(
        self,
        index: MatchIndex,
        data: MarketData,
        *,
        removed_graduates: Sequence[str] = (),
        removed_vacancies: Sequence[str] = (),
    ) -> MatchIndex:
        """A new index: ``index`` with the graduates and vacancies of ``data`` added or replaced (by id) and
        the ``removed_*`` ids gone, at a cost of O(changed rows). It answers exactly as :meth:`index` of the
        market so changed would (when ``index``'s rows were in id order, as the store loads them)."""
        ...

    def candidates_for(
        self,
        vacancy: VacancyQuery,
        *,
        index: MatchIndex,
        limit: int = 20,
        offset: int = 0,
        filters: CandidateFilters | None = None,
    ) -> MatchResult:
        """Graduates ranked for one vacancy, explained."""
        ...

    def vacancies_for(
        self,
        graduate: GraduateQuery,
        *,
        index: MatchIndex,
        limit: int = 10,
        offset: int = 0,
        filters: VacancyFilters | None = None,
    ) -> MatchResult:
        """Vacancies ranked for one graduate, explained."""
        ...

    def score_pairs(
        self, graduate_ids: Sequence[str], vacancy_ids: Sequence[str], *, index: MatchIndex
    ) -> np.ndarray:
        """Match probabilities of aligned ``(graduate_ids[i], vacancy_ids[i])`` pairs (no filters)."""
        ...

    def rank_graduates(
        self, vacancy: VacancyQuery, *, index: MatchIndex, need: int, filters: CandidateFilters | None = None
    ) -> Ranking:
        """The first ``need`` (at least) of :meth:`candidates_for`'s ranking, without explanations."""
        ...

    def rank_vacancies(
        self, graduate: GraduateQuery, *, index: MatchIndex, need: int, filters: VacancyFilters | None = None
    ) -> Ranking:
        """The first ``need`` (at least) of :meth:`vacancies_for`'s ranking, without explanations."""
        ...

    def pair_scores(self, g_rows: np.ndarray, v_rows: np.ndarray, *, index: MatchIndex) -> PairScores:
        """Ranking keys, scores and features of aligned pairs of index rows (no filters)."""
        ...

    def vacancy_pools(
        self, g_rows: np.ndarray, groups: Sequence[VacancyPoolGroup], *, index: MatchIndex, need: int
    ) -> list[np.ndarray]:
        """Batched retrieval for a cohort: per graduate of ``g_rows``, the vacancy rows worth scoring.

        ``groups`` partition the positions of ``g_rows``, each with the vacancy rows its graduates passed
        the filters for. Each pool is what :meth:`vacancies_for` would score for that graduate alone (the
        rows it keeps before scoring), so a cohort ranked from these pools ranks as one graduate at a time.
        """
        ...

    def explain(
        self,
        g_rows: np.ndarray,
        v_rows: np.ndarray,
        scores: np.ndarray,
        features: np.ndarray | None,
        *,
        index: MatchIndex,
    ) -> list[Match]:
        """Aligned pairs (with their :class:`PairScores` scores and features) as explained matches."""
        ...
