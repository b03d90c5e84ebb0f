"""Exposure-aware re-ranking of a vacancy's candidates: the order changes, the scores do not.

A ranking by score can keep a whole group of graduates (a kind of school, a district...) out of the top
of every list even where its members are eligible and score close to the others: the model reproduces
whatever screened them down in the history. :func:`exposure_order` re-orders the head of one ranked list
in the spirit of LinkedIn's fair re-ranking (Geyik et al., KDD 2019, *DetGreedy*): going down the list,
whenever a group holds fewer of the first ``k`` places than ``floor(strength * k * share)`` (its share of
the graduates who passed the hard filters), the best-scored remaining member of that group takes the
next place; otherwise the best-scored remaining graduate does. Only minimum counts are imposed, so no
group is pushed under its own share of the pool, and within a group the model's order is kept.

The cost is bounded by the model's own estimate of relevance: the strength is the largest of
:data:`STRENGTHS` whose order keeps the DCG of the scores (the estimated success probabilities) within
``max_loss`` (2%) of the model's order, over the whole list and over its first 10 and 20 places
(:func:`dcg_ratio`); when none does, the model's order stands. Everything is
deterministic (ties by position in the model's order). Each pair keeps its score: a re-ranked list is
no longer sorted by score, and says so.

The groups are those of the fairness report (:data:`GROUP_ATTRIBUTES`), read off the index
(:func:`graduate_groups`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from models.columns import EDUCATION_LEVELS, PROGRAM_KINDS
from models.columns import Columns as C
from models.data import MarketData
from models.filters import graduate_mask
from models.index import MatchIndex
from models.protocol import GraduateQuery, Matcher, PairScores, Ranking, VacancyPoolGroup, VacancyQuery
from models.results import CandidateFilters, Match, MatchResult, VacancyFilters

__all__ = [
    "GROUP_ATTRIBUTES",
    "MAX_NDCG_LOSS",
    "RERANK_MODES",
    "RERANK_WINDOW",
    "ExposureReranked",
    "RerankMode",
    "Reordering",
    "exposure_order",
    "graduate_groups",
    "rerank_candidates",
    "dcg_ratio",
    "score_dcg",
]

# Who a graduate is, for fairness: the school, its kind, the programme's kind, in an order class or not,
# the education level, the school's district.
GROUP_ATTRIBUTES = ("school", "school_kind", "program_kind", "order_class", "education", "district")
RerankMode = Literal["none", "exposure"]
RERANK_MODES: tuple[RerankMode, ...] = ("none", "exposure")
RERANK_WINDOW = 100  # ranks re-ordered; the model's order from here on (so every page agrees)
MAX_NDCG_LOSS = 0.02  # the re-ordered head keeps at least 98% of the model's DCG of its own scores
STRENGTHS = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1)
CUTOFFS = (10, 20)  # the DCG bound holds at each of these heads of the list too
UNKNOWN = "unknown"


def graduate_groups(index: MatchIndex, attribute: str) -> tuple[np.ndarray, list[str]]:
    """Each graduate row's group under ``attribute`` (a code) and the groups' names (code -> name).

    Graduates whose group is not known (no programme, a school missing from the tables) share the last
    code, named ``"unknown"``.
    """
    g = index.graduates
    if attribute == "school":
        names = [str(s) for s in index.vocab.schools.ids]
        raw = np.asarray(g.school, dtype=np.int64)
    elif attribute == "school_kind":
        kinds = dict(zip(index.schools[C.school].astype(str), index.schools[C.kind].astype(str), strict=True))
        per_school = [kinds.get(str(s), UNKNOWN) for s in index.vocab.schools.ids]
        names = sorted(set(per_school) - {UNKNOWN})
        code = {name: i for i, name in enumerate(names)}
        lookup = np.array([code.get(k, -1) for k in per_school] + [-1], dtype=np.int64)
        school = np.asarray(g.school, dtype=np.int64)
        raw = lookup[np.where(school >= 0, school, len(per_school))]
    elif attribute == "program_kind":
        names = list(PROGRAM_KINDS)
        raw = np.asarray(g.kind, dtype=np.int64)
    elif attribute == "order_class":
        names = ["order_class", "other"]
        order = index.vocab.kinds.rows(["order_class"])[0]
        raw = np.where(np.asarray(g.kind) == order, 0, 1).astype(np.int64)
    elif attribute == "education":
        names = list(EDUCATION_LEVELS)
        raw = np.asarray(g.education, dtype=np.int64)
    elif attribute == "district":
        names = [str(d) for d in index.vocab.districts.ids]
        raw = np.asarray(g.school_district, dtype=np.int64)
    else:
        raise ValueError(
            f"unknown group attribute {attribute!r}; expected one of {', '.join(GROUP_ATTRIBUTES)}"
        )
    raw = np.where((raw >= 0) & (raw < len(names)), raw, len(names))
    return raw.astype(np.int64), [*names, UNKNOWN]


def score_dcg(scores: np.ndarray) -> float:
    """DCG of a list whose gains are its scores (the estimated success probabilities), in list order."""
    scores = np.asarray(scores, dtype=np.float64)
    return float(np.sum(scores / np.log2(np.arange(2, len(scores) + 2)))) if len(scores) else 0.0


def dcg_ratio(scores: np.ndarray, order: np.ndarray) -> float:
    """The lowest, over the cut-offs :data:`CUTOFFS` and the whole list, of the DCG of the scores in
    ``order`` over their DCG in the model's order: a page's head loses no more than the whole list."""
    scores = np.asarray(scores, dtype=np.float64)
    ratios = []
    for cut in sorted({c for c in CUTOFFS if c < len(scores)} | {len(scores)}):
        base = score_dcg(scores[:cut])
        if base > 0:
            ratios.append(score_dcg(scores[order[:cut]]) / base)
    return min(ratios) if ratios else 1.0


def _greedy(scores: np.ndarray, groups: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """DetGreedy with minimum counts only: positions of the list in their new order."""
    n = len(scores)
    members = [list(np.flatnonzero(groups == a)) for a in range(len(targets))]  # each in the model's order
    heads = [0] * len(targets)
    taken = np.zeros(len(targets), dtype=np.int64)
    order = np.empty(n, dtype=np.int64)
    pointer = 0  # first position of the model's order not yet placed
    placed = np.zeros(n, dtype=bool)
    for k in range(1, n + 1):
        short = [
            a
            for a in range(len(targets))
            if heads[a] < len(members[a]) and taken[a] < np.floor(k * targets[a] + 1e-9)
        ]
        if short:
            # The best-scored next member of the groups short of their minimum (ties: earlier in the list).
            best = min(short, key=lambda a: (-scores[members[a][heads[a]]], members[a][heads[a]]))
            pick = int(members[best][heads[best]])
        else:
            while placed[pointer]:
                pointer += 1
            pick = pointer
        placed[pick] = True
        a = int(groups[pick])
        taken[a] += 1
        while heads[a] < len(members[a]) and placed[members[a][heads[a]]]:
            heads[a] += 1
        order[k - 1] = pick
    return order


@dataclass(frozen=True)
class Reordering:
    """A new order of a ranked list: ``order[i]`` is the model's position of the item now at ``i``."""

    order: np.ndarray
    strength: float  # 0: the model's order kept
    dcg_ratio: float  # the lowest DCG ratio (new order / model's order) over the cut-offs

    @property
    def changed(self) -> bool:
        return bool((self.order != np.arange(len(self.order))).any())


def exposure_order(
    scores: np.ndarray,
    groups: np.ndarray,
    shares: np.ndarray,
    *,
    max_loss: float = MAX_NDCG_LOSS,
    strengths: Sequence[float] = STRENGTHS,
) -> Reordering:
    """Re-order a list ranked by the model (``scores`` best first) so each group gets at least its share.

    Parameters
    ----------
    scores
        The list's scores, in the model's order.
    groups
        Each item's group code (``0 .. len(shares) - 1``).
    shares
        Each group's share of the pool the list was ranked from (graduates who passed the hard filters).
    max_loss
        The largest relative loss of :func:`score_dcg` allowed against the model's order.
    strengths
        Tried strongest first; the first whose order keeps ``max_loss`` wins.

    Returns
    -------
    Reordering
        The model's order (strength 0) when no strength keeps the bound or nothing moves.
    """
    scores = np.asarray(scores, dtype=np.float64)
    groups = np.asarray(groups, dtype=np.int64)
    identity = np.arange(len(scores), dtype=np.int64)
    base = score_dcg(scores)
    if len(scores) < 2 or base <= 0:
        return Reordering(identity, 0.0, 1.0)
    shares = np.asarray(shares, dtype=np.float64)
    for strength in strengths:
        order = _greedy(scores, groups, strength * shares)
        ratio = dcg_ratio(scores, order)
        if ratio >= 1.0 - max_loss - 1e-12:
            if (order == identity).all():
                break
            return Reordering(order, float(strength), float(ratio))
    return Reordering(identity, 0.0, 1.0)


def rerank_candidates(
    index: MatchIndex,
    vacancy_row: int,
    graduate_rows: np.ndarray,
    scores: np.ndarray,
    *,
    filters: CandidateFilters | None = None,
    attribute: str = "school_kind",
    max_loss: float = MAX_NDCG_LOSS,
) -> Reordering:
    """:func:`exposure_order` of one vacancy's ranked candidates (rows of ``index.graduates``), each group's
    share taken over the graduates who pass ``filters`` for vacancy ``vacancy_row`` of ``index``."""
    codes, names = graduate_groups(index, attribute)
    pool = graduate_mask(index, index.vacancies, int(vacancy_row), filters or CandidateFilters())
    counts = np.bincount(codes[pool], minlength=len(names)).astype(np.float64)
    shares = counts / counts.sum() if counts.sum() else counts
    rows = np.asarray(graduate_rows, dtype=np.int64)
    return exposure_order(scores, codes[rows], shares, max_loss=max_loss)


class ExposureReranked:
    """A fitted matcher whose candidate rankings are re-ordered by :func:`rerank_candidates` (the first
    :data:`RERANK_WINDOW` ranks); everything else, scores included, is the wrapped matcher's. What the
    evaluation and the fairness report measure side by side with the model's own order."""

    def __init__(self, matcher: Matcher, *, attribute: str = "school_kind") -> None:
        self.matcher = matcher
        self.attribute = attribute

    def _reordered(
        self, vacancy: VacancyQuery, index: MatchIndex, ranking: Ranking, filters: CandidateFilters | None
    ) -> np.ndarray:
        if not isinstance(vacancy, str):
            return np.arange(len(ranking.rows))
        row = int(index.vacancies.ids.rows([vacancy])[0])
        head = min(RERANK_WINDOW, len(ranking.rows))
        result = rerank_candidates(
            index, row, ranking.rows[:head], ranking.scores[:head], filters=filters, attribute=self.attribute
        )
        return np.concatenate([result.order, np.arange(head, len(ranking.rows))])

    def rank_graduates(
        self, vacancy: VacancyQuery, *, index: MatchIndex, need: int, filters: CandidateFilters | None = None
    ) -> Ranking:
        ranking = self.matcher.rank_graduates(
            vacancy, index=index, need=max(need, RERANK_WINDOW), filters=filters
        )
        order = self._reordered(vacancy, index, ranking, filters)
        return Ranking(rows=ranking.rows[order], scores=ranking.scores[order], total=ranking.total)

    def candidates_for(
        self,
        vacancy: VacancyQuery,
        *,
        index: MatchIndex,
        limit: int = 20,
        offset: int = 0,
        filters: CandidateFilters | None = None,
    ) -> MatchResult:
        window = max(RERANK_WINDOW, offset + limit)
        result = self.matcher.candidates_for(vacancy, index=index, limit=window, offset=0, filters=filters)
        rows = index.graduates.ids.rows([m.graduate_id for m in result.items])
        scores = np.array([m.score for m in result.items], dtype=np.float64)
        order = self._reordered(
            vacancy, index, Ranking(rows=rows, scores=scores, total=result.total), filters
        )
        items = [result.items[i] for i in order]
        return MatchResult(items=items[offset : offset + limit], total=result.total)

    # Everything else is the wrapped matcher's.
    def index(self, data: MarketData) -> MatchIndex:
        return self.matcher.index(data)

    def update_index(
        self,
        index: MatchIndex,
        data: MarketData,
        *,
        removed_graduates: Sequence[str] = (),
        removed_vacancies: Sequence[str] = (),
    ) -> MatchIndex:
        return self.matcher.update_index(
            index, data, removed_graduates=removed_graduates, removed_vacancies=removed_vacancies
        )

    def vacancies_for(
        self,
        graduate: GraduateQuery,
        *,
        index: MatchIndex,
        limit: int = 10,
        offset: int = 0,
        filters: VacancyFilters | None = None,
    ) -> MatchResult:
        return self.matcher.vacancies_for(graduate, index=index, limit=limit, offset=offset, filters=filters)

    def score_pairs(
        self, graduate_ids: Sequence[str], vacancy_ids: Sequence[str], *, index: MatchIndex
    ) -> np.ndarray:
        return self.matcher.score_pairs(graduate_ids, vacancy_ids, index=index)

    def rank_vacancies(
        self, graduate: GraduateQuery, *, index: MatchIndex, need: int, filters: VacancyFilters | None = None
    ) -> Ranking:
        return self.matcher.rank_vacancies(graduate, index=index, need=need, filters=filters)

    def pair_scores(self, g_rows: np.ndarray, v_rows: np.ndarray, *, index: MatchIndex) -> PairScores:
        return self.matcher.pair_scores(g_rows, v_rows, index=index)

    def vacancy_pools(
        self, g_rows: np.ndarray, groups: Sequence[VacancyPoolGroup], *, index: MatchIndex, need: int
    ) -> list[np.ndarray]:
        return self.matcher.vacancy_pools(g_rows, groups, index=index, need=need)

    def explain(
        self,
        g_rows: np.ndarray,
        v_rows: np.ndarray,
        scores: np.ndarray,
        features: np.ndarray | None,
        *,
        index: MatchIndex,
    ) -> list[Match]:
        return self.matcher.explain(g_rows, v_rows, scores, features, index=index)
