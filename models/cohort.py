"""A whole cohort's vacancy rankings in a few matrix operations (what a placement plan scores).

``vacancies_for`` ranks one graduate: hard filters, retrieval (the trained matcher keeps the best few
hundred filtered vacancies by skill coverage and by LightFM score), then the ranker over that pool. Asked
once per graduate, a 500-graduate cohort pays 500 times the fixed cost of a request. :func:`rank_cohort`
gives the same answer for every graduate at once:

1. **Filters** — the matcher's own vacancy mask without the education test, once; the education minimum is
   then one comparison of the cohort's levels against every vacancy's minimum.
2. **Retrieval** — the matcher's batched retrieval (:meth:`~models.protocol.Matcher.vacancy_pools`): for the
   trained matcher one sparse x dense product (cohort x vacancies) for skill coverage, LightFM scores per
   graduate, then ``argpartition`` per graduate, the pools ``vacancies_for`` would score.
3. **Ranking** — ONE call of the matcher's :meth:`~models.protocol.Matcher.pair_scores` over every
   (graduate, pooled vacancy) pair, plus any extra pairs the caller wants scored (e.g. the sponsor's
   vacancies for its order-based class); pair features are built vectorised and the ranker scores all rows
   in one batch.
4. **Order** — one ``lexsort`` by (graduate, -rank key, vacancy row), the matcher's own tie-break.

Explanations (reasons, matched skills) are the expensive part of a match; :meth:`CohortRanking.matches`
computes them only for the pairs a caller shows (a plan's assignments and alternatives).

Identity with ``vacancies_for`` (ids, order, scores) is a contract tested in ``tests/models/test_cohort.py``.
Only the public :class:`~models.protocol.Matcher` protocol is used, so any matcher ranks cohorts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from models.filters import vacancy_mask
from models.index import MatchIndex
from models.protocol import Matcher, VacancyPoolGroup
from models.results import Match, UnknownGraduate, UnknownVacancy, VacancyFilters

__all__ = ["CohortRanking", "rank_cohort"]


@dataclass
class CohortRanking:
    """Scored (graduate, vacancy) pairs of a cohort; pairs are rows of the aligned arrays.

    Attributes
    ----------
    graduate_ids
        The cohort, in the order given.
    graduate
        Position in ``graduate_ids`` of each pair's graduate.
    vacancy
        Row in ``index.vacancies`` of each pair's vacancy.
    score
        Calibrated match probability in [0, 1] (what ``vacancies_for`` reports as ``Match.score``).
    rank
        Position of the pair in its graduate's ranking (0 = best); ``-1`` for an extra pair that is not in
        the graduate's top ``limit``.
    total
        Per graduate, how many vacancies passed the hard filters (``MatchResult.total``).
    features
        The ranker's feature rows of the pairs (``None`` for matchers without features); kept for
        explanations.
    """

    graduate_ids: list[str]
    graduate: np.ndarray
    vacancy: np.ndarray
    score: np.ndarray
    rank: np.ndarray
    total: np.ndarray
    features: np.ndarray | None

    def __len__(self) -> int:
        return len(self.graduate)

    def ranked(self, position: int) -> np.ndarray:
        """Pair numbers of graduate ``position``'s ranking, best first."""
        pairs = np.flatnonzero((self.graduate == position) & (self.rank >= 0))
        return pairs[np.argsort(self.rank[pairs], kind="stable")]

    def matches(self, matcher: Matcher, index: MatchIndex, pairs: Sequence[int] | np.ndarray) -> list[Match]:
        """The given pairs as explained :class:`Match` objects (reasons, matched and missing skills)."""
        pairs = np.asarray(pairs, dtype=np.int64)
        g_rows = index.graduates.ids.rows([self.graduate_ids[p] for p in self.graduate[pairs]])
        features = None if self.features is None else self.features[pairs]
        return matcher.explain(g_rows, self.vacancy[pairs], self.score[pairs], features, index=index)


def rank_cohort(
    matcher: Matcher,
    graduate_ids: Sequence[str],
    *,
    index: MatchIndex,
    limit: int = 10,
    filters: VacancyFilters | None = None,
    extra_pairs: tuple[Sequence[str], Sequence[str]] | None = None,
) -> CohortRanking:
    """Every graduate's top ``limit`` vacancies, as ``vacancies_for`` ranks them, plus extra pairs.

    Parameters
    ----------
    matcher
        A fitted matcher (anything implementing :class:`~models.protocol.Matcher`).
    graduate_ids
        The cohort: ids of graduates in ``index``.
    index
        The matcher's index.
    limit
        How many vacancies to keep per graduate (the ``limit`` of ``vacancies_for``, offset 0).
    filters
        The vacancies' hard filters, the same for the whole cohort (defaults: open now, education).
    extra_pairs
        ``(graduate_ids, vacancy_ids)`` of aligned pairs to score without filters, like ``score_pairs``
        (graduates must be in the cohort). A pair already in its graduate's top ``limit`` is not repeated.

    Returns
    -------
    CohortRanking
        The kept pairs: each graduate's top ``limit`` (``rank`` 0..limit-1), then the extra pairs.
    """
    filters = filters or VacancyFilters()
    limit = max(int(limit), 0)
    graduate_ids = [str(g) for g in graduate_ids]
    graduates, vacancies = index.graduates, index.vacancies
    g_rows = graduates.ids.rows(graduate_ids) if graduate_ids else np.zeros(0, dtype=np.int64)
    g_rows = np.asarray(g_rows, dtype=np.int64)
    if (g_rows < 0).any():
        raise UnknownGraduate(graduate_ids[int(np.flatnonzero(g_rows < 0)[0])])
    n = len(g_rows)

    # 1. Filters: the matcher's mask without education (shared by the cohort), then education per graduate.
    if n:
        shared = vacancy_mask(index, graduates, int(g_rows[0]), replace(filters, check_education=False))
    else:
        shared = np.zeros(len(vacancies), dtype=bool)
    passing = np.flatnonzero(shared)
    # Graduates of one education level pass the same vacancies: one group each.
    level = graduates.education[g_rows] if filters.check_education else np.zeros(n, dtype=np.int8)
    groups: list[VacancyPoolGroup] = []
    total = np.zeros(n, dtype=np.int64)
    for value in np.unique(level):
        members = np.flatnonzero(level == value)
        rows = passing
        if filters.check_education:
            rows = passing[vacancies.min_education[passing] <= value]
        groups.append((members, rows))
        total[members] = len(rows)

    # 2. Retrieval: each graduate's pool among the vacancies that passed.
    pools = matcher.vacancy_pools(g_rows, groups, index=index, need=limit)

    # 3. Ranking: one call over every pooled pair and every extra pair.
    sizes = np.array([len(p) for p in pools], dtype=np.int64)
    pair_graduate = np.repeat(np.arange(n, dtype=np.int64), sizes)
    pair_vacancy = np.concatenate(pools).astype(np.int64) if n else np.zeros(0, dtype=np.int64)
    extra_graduate, extra_vacancy = _extra(graduate_ids, index, extra_pairs)
    all_graduate = np.concatenate([pair_graduate, extra_graduate])
    all_vacancy = np.concatenate([pair_vacancy, extra_vacancy])
    scored = matcher.pair_scores(g_rows[all_graduate], all_vacancy, index=index)
    key, features = scored.key, scored.features

    # 4. Order within each graduate as vacancies_for does: -key, then vacancy row; keep the top `limit`.
    m = len(pair_graduate)
    order = np.lexsort((pair_vacancy, -key[:m], pair_graduate))
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]) if n else np.zeros(0, dtype=np.int64)
    rank_sorted = np.arange(m, dtype=np.int64) - np.repeat(starts, sizes)
    top = order[rank_sorted < limit]
    top_rank = rank_sorted[rank_sorted < limit]

    # Extra pairs already in a top list are not repeated.
    kept_extra = np.arange(m, m + len(extra_graduate))
    if len(kept_extra) and len(top):
        width = np.int64(len(vacancies) + 1)
        in_top = np.isin(
            extra_graduate * width + extra_vacancy, pair_graduate[top] * width + pair_vacancy[top]
        )
        kept_extra = kept_extra[~in_top]
    keep = np.concatenate([top, kept_extra]).astype(np.int64)
    rank = np.concatenate([top_rank, np.full(len(kept_extra), -1, dtype=np.int64)])
    return CohortRanking(
        graduate_ids=graduate_ids,
        graduate=all_graduate[keep],
        vacancy=all_vacancy[keep],
        score=scored.score[keep],
        rank=rank,
        total=total,
        features=None if features is None else np.asarray(features)[keep],
    )


def _extra(
    graduate_ids: list[str], index: MatchIndex, extra_pairs: tuple[Sequence[str], Sequence[str]] | None
) -> tuple[np.ndarray, np.ndarray]:
    """(cohort position, vacancy row) of the extra pairs."""
    if extra_pairs is None or len(extra_pairs[0]) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    extra_g, extra_v = (list(map(str, ids)) for ids in extra_pairs)
    if len(extra_g) != len(extra_v):
        raise ValueError("extra_pairs: graduate_ids and vacancy_ids differ in length")
    position = {g: i for i, g in enumerate(graduate_ids)}
    missing = [g for g in extra_g if g not in position]
    if missing:
        raise UnknownGraduate(missing[0])
    v_rows = np.asarray(index.vacancies.ids.rows(extra_v), dtype=np.int64)
    if (v_rows < 0).any():
        raise UnknownVacancy(extra_v[int(np.flatnonzero(v_rows < 0)[0])])
    return np.array([position[g] for g in extra_g], dtype=np.int64), v_rows
