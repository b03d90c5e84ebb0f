"""Placement plans: where every seeking graduate of a cohort should go, under vacancy headcounts.

Handing each graduate their personal top-1 sends everyone to the same few popular vacancies.
:func:`plan_placement` instead solves one exact assignment problem for the whole cohort:

* each graduate gets at most one vacancy, and no vacancy more than its remaining headcount;
* pairs below ``min_score`` (and pairs whose education is below the vacancy's minimum) are never assigned;
* among all such plans it maximises the total match score, after the **sponsor rule**:

  - ``"lexicographic"`` (default): first maximise the number of the sponsor's seats filled by members of its
    order-based class whose match is acceptable (score >= ``max(min_score, sponsor_min_score)``), then, among
    the plans that do so, the total score. Class members the sponsor cannot take are planned like anyone else.
  - ``"bonus"``: acceptable sponsor pairs count ``score + sponsor_bonus`` in the objective (a softer rule).
  - ``"none"``: the sponsor is an ordinary employer.

  Training programmes with a sponsor are planned with the same rule as order-based classes.

The problem is solved as a min-cost bipartite matching
(``scipy.sparse.csgraph.min_weight_full_bipartite_matching``) between graduates and vacancy *seats* (a
vacancy with ``c`` remaining seats contributes ``min(c, d)`` identical seats, ``d`` being how many graduates
list it), plus one private "stay unassigned" seat per graduate. To scale, each graduate lists only their
``top_k`` best acceptable vacancies with seats left (plus every acceptable vacancy of their sponsor);
graduates the first solve leaves unassigned while acceptable vacancies outside their list still have free
seats get their list widened and the problem is solved again (at most ``max_rounds`` times). The plan is
exact on the listed pairs. Inputs are processed in index order and the solver is deterministic, so the same
input gives the same plan.

Graduates and vacancies are matrix rows and columns here; the caller owns the id maps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from models.columns import EDUCATION_RANK

SponsorRule = Literal["lexicographic", "bonus", "none"]
SPONSOR_RULES: tuple[str, ...] = ("lexicographic", "bonus", "none")

# Why a graduate is left without a vacancy, checked in this order.
UNASSIGNED_REASONS: dict[str, str] = {
    "education_below_minimum": "every vacancy asks for more education than the graduate has",
    "no_vacancy_above_min_score": "no vacancy matches the graduate at or above the minimum score",
    "no_remaining_headcount": "every vacancy matching at or above the minimum score has no headcount left",
    "capacity_taken_by_better_matches": (
        "the seats of the vacancies matching at or above the minimum score went to graduates who fit them "
        "better (or to the sponsor's class)"
    ),
}


@dataclass(frozen=True)
class Assignment:
    graduate: int
    vacancy: int
    score: float
    sponsor: bool = False


@dataclass(frozen=True)
class Alternative:
    """A vacancy an unassigned graduate fits best, with why the plan did not use it."""

    vacancy: int
    score: float
    remaining: int  # seats still free after the plan
    status: Literal["full", "below_min_score", "available"]


@dataclass(frozen=True)
class Unassigned:
    graduate: int
    reason: str
    alternatives: list[Alternative] = field(default_factory=list)


@dataclass(frozen=True)
class PlanMetrics:
    """Quality of a plan, and how crowded independent top-1 choices would have been.

    ``congestion_vs_top1`` compares the plan with every graduate taking their own best acceptable vacancy:
    ``top1_max_per_vacancy`` / ``plan_max_per_vacancy`` (most graduates sent to one vacancy),
    ``top1_overflow_share`` (share of the cohort whose top-1 vacancy has fewer seats than graduates
    choosing it, so they would be turned away; the plan's is 0 by construction),
    ``top1_feasible_total_score`` (total score of top-1 if each vacancy then hired its best choosers up to
    its headcount) and ``top1_feasible_coverage``.
    """

    graduates: int
    assigned: int
    coverage: float
    total_score: float
    mean_score: float
    headcount_used: int
    headcount_available: int
    sponsor_seats_filled: int
    congestion_vs_top1: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Plan:
    assignments: list[Assignment]
    unassigned: list[Unassigned]
    metrics: PlanMetrics

    def vacancy_by_graduate(self) -> dict[int, int]:
        return {a.graduate: a.vacancy for a in self.assignments}


@dataclass(frozen=True)
class Top1:
    """Independent top-1 choices: ``choice[g]`` is graduate ``g``'s best acceptable vacancy, or -1."""

    choice: np.ndarray
    score: np.ndarray
    feasible: np.ndarray  # whether g would get the seat if each vacancy hired its best choosers

    @property
    def feasible_total_score(self) -> float:
        return float(self.score[self.feasible].sum())


def _as_dense(scores: Any) -> np.ndarray:
    """A float matrix with -inf where no score is known (NaN in dense input, absent in sparse input)."""
    if sparse.issparse(scores):
        coo = sparse.coo_array(scores)
        dense = np.full(coo.shape, -np.inf)
        dense[coo.row, coo.col] = coo.data
        return dense
    dense = np.array(scores, dtype=float, copy=True)
    if dense.ndim != 2:
        raise ValueError(f"scores must be a 2-d matrix (graduates x vacancies), got shape {dense.shape}")
    dense[np.isnan(dense)] = -np.inf
    return dense


def _ranks(levels: Sequence[Any] | np.ndarray | None, n: int, what: str) -> np.ndarray | None:
    if levels is None:
        return None
    values = list(levels)
    if len(values) != n:
        raise ValueError(f"{what} has {len(values)} entries, expected {n}")
    ranks = []
    for value in values:
        if isinstance(value, str):
            if value not in EDUCATION_RANK:
                raise ValueError(f"{what}: unknown education level {value!r}")
            ranks.append(EDUCATION_RANK[value])
        else:
            ranks.append(int(value))
    return np.asarray(ranks, dtype=int)


def _sponsor_mask(
    graduate_sponsors: Sequence[str | None] | None,
    vacancy_enterprises: Sequence[str] | None,
    shape: tuple[int, int],
) -> np.ndarray:
    n_graduates, n_vacancies = shape
    if graduate_sponsors is None or vacancy_enterprises is None:
        return np.zeros(shape, dtype=bool)
    sponsors = list(graduate_sponsors)
    enterprises = list(vacancy_enterprises)
    if len(sponsors) != n_graduates or len(enterprises) != n_vacancies:
        raise ValueError("graduate_sponsors / vacancy_enterprises do not match the score matrix")
    codes = {name: i for i, name in enumerate(sorted({e for e in enterprises if e is not None}))}
    vacancy_code = np.array([codes.get(e, -1) if e is not None else -1 for e in enterprises], dtype=int)
    graduate_code = np.array([codes.get(s, -2) if s is not None else -2 for s in sponsors], dtype=int)
    return graduate_code[:, None] == vacancy_code[None, :]


def independent_top1(
    scores: Any,
    capacities: Sequence[int] | np.ndarray,
    *,
    min_score: float = 0.0,
    graduate_education: Sequence[Any] | None = None,
    vacancy_min_education: Sequence[Any] | None = None,
) -> Top1:
    """Every graduate takes their own best acceptable vacancy with seats left, ignoring everyone else."""
    matrix = _acceptable(scores, capacities, min_score, graduate_education, vacancy_min_education)[0]
    return _top1(matrix, np.asarray(capacities, dtype=int))


def _acceptable(
    scores: Any,
    capacities: Sequence[int] | np.ndarray,
    min_score: float,
    graduate_education: Sequence[Any] | None,
    vacancy_min_education: Sequence[Any] | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(acceptable scores with -inf elsewhere, raw scores, education-eligible mask, capacities)."""
    raw = _as_dense(scores)
    n_graduates, n_vacancies = raw.shape
    caps = np.clip(np.asarray(capacities, dtype=int).ravel(), 0, None)
    if caps.shape[0] != n_vacancies:
        raise ValueError(f"capacities has {caps.shape[0]} entries, expected {n_vacancies}")
    graduate_rank = _ranks(graduate_education, n_graduates, "graduate_education")
    vacancy_rank = _ranks(vacancy_min_education, n_vacancies, "vacancy_min_education")
    if graduate_rank is not None and vacancy_rank is not None:
        eligible = graduate_rank[:, None] >= vacancy_rank[None, :]
    else:
        eligible = np.ones(raw.shape, dtype=bool)
    acceptable = np.where(eligible & (raw >= min_score) & (caps > 0)[None, :], raw, -np.inf)
    return acceptable, raw, eligible, caps


def _top1(acceptable: np.ndarray, caps: np.ndarray) -> Top1:
    n_graduates = acceptable.shape[0]
    if acceptable.shape[1] == 0:
        empty = np.full(n_graduates, -1)
        return Top1(empty, np.zeros(n_graduates), np.zeros(n_graduates, dtype=bool))
    choice = np.argmax(acceptable, axis=1)  # first maximum: lowest vacancy index wins ties
    best = acceptable[np.arange(n_graduates), choice]
    has = np.isfinite(best)
    choice = np.where(has, choice, -1)
    score = np.where(has, best, 0.0)
    feasible = np.zeros(n_graduates, dtype=bool)
    # Each vacancy hires its best choosers up to its headcount (stable: lower graduate index on ties).
    order = np.lexsort((np.arange(n_graduates), -score))
    taken: dict[int, int] = {}
    for g in order:
        v = int(choice[g])
        if v < 0:
            continue
        if taken.get(v, 0) < caps[v]:
            taken[v] = taken.get(v, 0) + 1
            feasible[g] = True
    return Top1(choice=choice, score=score, feasible=feasible)


def _candidate_lists(acceptable: np.ndarray, sponsor_ok: np.ndarray, top_k: int) -> list[np.ndarray]:
    """Each graduate's listed vacancies: their ``top_k`` best acceptable ones plus acceptable sponsor ones."""
    n_graduates, n_vacancies = acceptable.shape
    k = min(max(int(top_k), 1), n_vacancies)
    if k < n_vacancies:
        top = np.argpartition(-acceptable, k - 1, axis=1)[:, :k]
    else:
        top = np.broadcast_to(np.arange(n_vacancies), (n_graduates, n_vacancies))
    lists = []
    for g in range(n_graduates):
        listed = top[g][np.isfinite(acceptable[g, top[g]])]
        extra = np.flatnonzero(sponsor_ok[g])
        lists.append(np.unique(np.concatenate([listed, extra]).astype(int)))
    return lists


def _solve(lists: list[np.ndarray], weights: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """Maximum-weight assignment of graduates to seats; returns the vacancy of each graduate or -1."""
    n_graduates = len(lists)
    assigned = np.full(n_graduates, -1)
    rows = np.concatenate([np.full(len(lst), g) for g, lst in enumerate(lists)]).astype(int)
    cols = np.concatenate(lists).astype(int) if rows.size else np.array([], dtype=int)
    if rows.size == 0:
        return assigned
    pair_weight = weights[rows, cols]
    vacancies, inverse = np.unique(cols, return_inverse=True)
    degree = np.bincount(inverse, minlength=len(vacancies))
    seats = np.minimum(caps[vacancies], degree)
    first_seat = np.concatenate([[0], np.cumsum(seats)[:-1]])
    n_seats = int(seats.sum())
    repeat = seats[inverse]
    edge_rows = np.repeat(rows, repeat)
    # seat offsets 0..repeat-1 for every pair
    offsets = np.arange(int(repeat.sum())) - np.repeat(np.cumsum(repeat) - repeat, repeat)
    edge_cols = np.repeat(first_seat[inverse], repeat) + offsets
    edge_weight = np.repeat(pair_weight, repeat)
    ceiling = float(edge_weight.max(initial=0.0)) + 1.0
    # Costs are ceiling - weight > 0 (the solver treats zeros as missing edges); the private dummy seat
    # of each graduate costs exactly ceiling, so minimising cost maximises the real assignments' weight.
    biadjacency = sparse.csr_array(
        (
            np.concatenate([ceiling - edge_weight, np.full(n_graduates, ceiling)]),
            (
                np.concatenate([edge_rows, np.arange(n_graduates)]),
                np.concatenate([edge_cols, n_seats + np.arange(n_graduates)]),
            ),
        ),
        shape=(n_graduates, n_seats + n_graduates),
    )
    graduate_idx, seat_idx = min_weight_full_bipartite_matching(biadjacency)
    seat_vacancy = np.repeat(vacancies, seats)
    real = seat_idx < n_seats
    assigned[graduate_idx[real]] = seat_vacancy[seat_idx[real]]
    return assigned


# The score is the estimated probability that a pairing succeeds, so a plan leaves a graduate unassigned
# rather than planning a pairing with less than a 2% chance of succeeding: the bar below which the service
# does not recommend a pair either (``TALENTMATCH_MIN_RECOMMEND_SCORE``'s default). Every assignment above it
# adds to the expected successful placements; a higher bar plans fewer: on the small demo world (seed 7) a bar
# of 0.1 reached 0.38 of the best possible expected placements, 0.02 reaches 0.58 (no bar: 0.60). The default
# of the API (``GET /programs/{id}/placements``), the placement page and the evaluation's plan success.
DEFAULT_MIN_SCORE = 0.02


def plan_placement(
    scores: Any,
    capacities: Sequence[int] | np.ndarray,
    *,
    min_score: float = 0.0,
    top_k: int = 20,
    graduate_sponsors: Sequence[str | None] | None = None,
    vacancy_enterprises: Sequence[str] | None = None,
    sponsor_rule: SponsorRule = "lexicographic",
    sponsor_bonus: float = 0.2,
    sponsor_min_score: float | None = None,
    graduate_education: Sequence[Any] | None = None,
    vacancy_min_education: Sequence[Any] | None = None,
    n_alternatives: int = 3,
    max_rounds: int = 3,
) -> Plan:
    """Plan where each graduate of a cohort should go.

    Parameters
    ----------
    scores
        Match scores, graduates x vacancies: a dense array (NaN = unknown) or a scipy sparse matrix (absent =
        unknown, e.g. only each graduate's top candidates). Unknown pairs are never assigned.
    capacities
        Remaining headcount of each vacancy (headcount minus hires); negative values count as 0.
    min_score
        Pairs scoring below this are never assigned.
    top_k
        How many best vacancies each graduate lists for the exact solve (see the module docstring).
    graduate_sponsors, vacancy_enterprises
        The sponsor enterprise of each graduate's programme (None if none) and the enterprise of each vacancy;
        a pair is a sponsor pair when they are equal.
    sponsor_rule, sponsor_bonus, sponsor_min_score
        How sponsor pairs are favoured (see the module docstring); a sponsor pair is acceptable when its
        score is at least ``max(min_score, sponsor_min_score)``.
    graduate_education, vacancy_min_education
        Education levels (names from ``EDUCATION_LEVELS`` or their ranks); a pair whose graduate has less
        than the vacancy's minimum is never assigned.
    n_alternatives
        How many best vacancies to suggest to each unassigned graduate.
    max_rounds
        How many times unassigned graduates may get their vacancy list widened.

    Returns
    -------
    Plan
        Assignments (ordered by graduate), unassigned graduates with a reason and alternatives, and metrics.
    """
    if sponsor_rule not in SPONSOR_RULES:
        raise ValueError(f"sponsor_rule must be one of {SPONSOR_RULES}, got {sponsor_rule!r}")
    acceptable, raw, eligible, caps = _acceptable(
        scores, capacities, min_score, graduate_education, vacancy_min_education
    )
    n_graduates, n_vacancies = acceptable.shape
    sponsor_pair = _sponsor_mask(graduate_sponsors, vacancy_enterprises, acceptable.shape)
    sponsor_threshold = max(min_score, sponsor_min_score if sponsor_min_score is not None else min_score)
    sponsor_ok = sponsor_pair & np.isfinite(acceptable) & (acceptable >= sponsor_threshold)

    weights = np.where(np.isfinite(acceptable), acceptable, 0.0)
    if sponsor_rule == "lexicographic":
        # One sponsor seat outweighs any possible difference in total score.
        big = n_graduates * max(1.0, float(weights.max(initial=0.0))) + 1.0
        weights = weights + big * sponsor_ok
    elif sponsor_rule == "bonus":
        weights = weights + sponsor_bonus * sponsor_ok

    lists = _candidate_lists(acceptable, sponsor_ok, top_k) if n_graduates else []
    assigned = _solve(lists, weights, caps) if n_graduates else np.full(0, -1)
    for _ in range(max(0, max_rounds)):
        used = np.bincount(assigned[assigned >= 0], minlength=n_vacancies)
        free = (caps - used) > 0
        widened = False
        for g in np.flatnonzero(assigned < 0):
            outside = np.isfinite(acceptable[g]) & free
            outside[lists[g]] = False
            if outside.any():
                extra = np.flatnonzero(outside)
                extra = extra[np.argsort(-acceptable[g, extra], kind="stable")[: max(int(top_k), 1)]]
                lists[g] = np.unique(np.concatenate([lists[g], extra]))
                widened = True
        if not widened:
            break
        assigned = _solve(lists, weights, caps)

    used = np.bincount(assigned[assigned >= 0], minlength=n_vacancies) if n_vacancies else np.zeros(0, int)
    remaining = caps - used
    assignments = [
        Assignment(
            graduate=int(g),
            vacancy=int(assigned[g]),
            score=float(raw[g, assigned[g]]),
            sponsor=bool(sponsor_pair[g, assigned[g]]),
        )
        for g in np.flatnonzero(assigned >= 0)
    ]
    unassigned = [
        _explain_unassigned(int(g), raw, eligible, caps, remaining, min_score, n_alternatives)
        for g in np.flatnonzero(assigned < 0)
    ]
    top1 = _top1(acceptable, caps)
    metrics = _metrics(assignments, n_graduates, caps, used, top1)
    return Plan(assignments=assignments, unassigned=unassigned, metrics=metrics)


def _explain_unassigned(
    g: int,
    raw: np.ndarray,
    eligible: np.ndarray,
    caps: np.ndarray,
    remaining: np.ndarray,
    min_score: float,
    n_alternatives: int,
) -> Unassigned:
    row_eligible = eligible[g] & np.isfinite(raw[g])
    above = row_eligible & (raw[g] >= min_score)
    if eligible.shape[1] and not eligible[g].any():
        reason = "education_below_minimum"
    elif not above.any():
        reason = (
            "education_below_minimum"
            if (np.isfinite(raw[g]) & (raw[g] >= min_score)).any()
            else "no_vacancy_above_min_score"
        )
    elif not (caps[above] > 0).any():
        reason = "no_remaining_headcount"
    else:
        reason = "capacity_taken_by_better_matches"
    candidates = np.flatnonzero(row_eligible)
    best = candidates[np.lexsort((candidates, -raw[g, candidates]))][: max(0, n_alternatives)]
    alternatives = []
    for v in best:
        score = float(raw[g, v])
        status: Literal["full", "below_min_score", "available"]
        if score < min_score:
            status = "below_min_score"
        elif remaining[v] <= 0:
            status = "full"
        else:
            status = "available"
        alternatives.append(
            Alternative(vacancy=int(v), score=score, remaining=int(remaining[v]), status=status)
        )
    return Unassigned(graduate=g, reason=reason, alternatives=alternatives)


def _metrics(
    assignments: list[Assignment], n_graduates: int, caps: np.ndarray, used: np.ndarray, top1: Top1
) -> PlanMetrics:
    total = float(sum(a.score for a in assignments))
    n = len(assignments)
    chosen = top1.choice[top1.choice >= 0]
    top1_counts = np.bincount(chosen, minlength=len(caps)) if len(caps) else np.zeros(0, int)
    turned_away = int(np.clip(top1_counts - caps, 0, None).sum()) if len(caps) else 0
    congestion = {
        "top1_max_per_vacancy": float(top1_counts.max(initial=0)),
        "plan_max_per_vacancy": float(used.max(initial=0)),
        "top1_distinct_vacancies": float(np.count_nonzero(top1_counts)),
        "plan_distinct_vacancies": float(np.count_nonzero(used)),
        "top1_overflow_share": turned_away / n_graduates if n_graduates else 0.0,
        "top1_feasible_total_score": top1.feasible_total_score,
        "top1_feasible_coverage": float(top1.feasible.mean()) if n_graduates else 0.0,
    }
    return PlanMetrics(
        graduates=n_graduates,
        assigned=n,
        coverage=n / n_graduates if n_graduates else 0.0,
        total_score=total,
        mean_score=total / n if n else 0.0,
        headcount_used=n,
        headcount_available=int(caps.sum()),
        sponsor_seats_filled=sum(a.sponsor for a in assignments),
        congestion_vs_top1=congestion,
    )
