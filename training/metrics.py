"""Ranking metrics of one matcher in one direction, on both relevance definitions.

A **query** is one vacancy (ranking graduates) or one graduate (ranking vacancies) with the rows that
turned out relevant after the cut, graded two ways:

* **applications**: how far the pair went (``EVENT_WEIGHTS``: applied 1 ... hired 5);
* **accepted outcomes**: how far the employer advanced the graduate (shortlisted 1 ... hired 4).

:func:`score_direction` ranks every query once and measures NDCG@k, recall@k and precision@k on each
definition; on applications also the recall curve, AUC, exposure (coverage, Gini) and congestion; and on
every ranked list the plateaus (adjacent equal scores in the top 20).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
from sklearn.metrics import roc_auc_score

from training.calibration import TOP_LIST, tie_share

DIRECTIONS = ("vacancy", "graduate")
CURVE_KS = (1, 3, 5, 10, 20, 50)

APPLICATIONS = "applications"  # relevance: how far the pair went after the cut (applied 1 ... hired 5)
ACCEPTED = "accepted"  # relevance: the employer advanced the graduate (shortlisted 1 ... hired 4)
FAMILIES = (APPLICATIONS, ACCEPTED)


def metric_name(metric: str, family: str = APPLICATIONS, direction: str | None = None) -> str:
    """A metric's name in the tables: ``ndcg_vacancy``, ``ndcg_accepted_vacancy``, ``ndcg_accepted`` ..."""
    return "_".join(
        [metric, *(["accepted"] if family == ACCEPTED else []), *([direction] if direction else [])]
    )


@dataclass
class Query:
    row: int
    relevance: dict[int, float]  # row of the ranked side -> gain (applications)
    exclude: tuple[str, ...] = ()
    accepted: dict[int, float] = field(default_factory=dict)  # row -> gain (employer-advanced pairs)

    def gains(self, family: str) -> dict[int, float]:
        return self.accepted if family == ACCEPTED else self.relevance


@dataclass
class DirectionResult:
    metrics: dict[str, float]
    curve: dict[int, float] = field(default_factory=dict)  # k -> recall@k (applications)
    exposure: np.ndarray | None = None


def _dcg(gains: np.ndarray) -> float:
    return float(np.sum(gains / np.log2(np.arange(2, len(gains) + 2)))) if len(gains) else 0.0


def ndcg_at(ranked: np.ndarray, relevance: Mapping[int, float], k: int) -> float:
    """NDCG@k of ``ranked`` rows (best first) against graded ``relevance`` (row -> gain; absent = 0)."""
    gains = np.array([relevance.get(int(r), 0.0) for r in ranked[:k]])
    ideal = np.sort(np.fromiter(relevance.values(), dtype=float))[::-1][:k]
    best = _dcg(ideal)
    return _dcg(gains) / best if best > 0 else 0.0


def gini(counts: np.ndarray) -> float:
    """Gini coefficient of non-negative exposure counts (0 = everyone equally exposed)."""
    x = np.sort(np.asarray(counts, dtype=np.float64))
    if len(x) == 0 or x.sum() == 0:
        return 0.0
    n = len(x)
    return float((2 * np.arange(1, n + 1) - n - 1) @ x / (n * x.sum()))


# ``ranked(query, need)``: the ranked side's rows best first, and the scores a page would show (or None).


# ``ranked(query, need)``: the ranked side's rows best first, and the scores a page would show (or None).
Ranker = Callable[[Query, int], tuple[np.ndarray, np.ndarray | None]]
# ``key(query rows, other rows)``: the ranking key of aligned (query, other) pairs (for AUC).
PairKey = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Task:
    """One direction's queries, the pool each one ranks, and the ranked side's seats (for congestion)."""

    direction: str
    queries: list[Query]
    pool_mask: Callable[[Query], np.ndarray]
    capacity: np.ndarray  # per row of the ranked side

    @property
    def n_pool(self) -> int:
        return len(self.capacity)


def score_direction(
    task: Task,
    ranked: Ranker,
    pair_key: PairKey | None,
    *,
    k: int,
    seed: int,
    families: tuple[str, ...] = FAMILIES,
) -> DirectionResult:
    """Metrics of one matcher on one direction's ``task``, for each relevance family in ``families``.

    Exposure, congestion, the recall curve and AUC are measured on the applications' queries (when
    ``APPLICATIONS`` is among ``families``); score ties on every ranked list.
    """
    direction, n_pool, capacity = task.direction, task.n_pool, task.capacity
    rng = np.random.default_rng(seed)
    depth = max(k, max(CURVE_KS), TOP_LIST)
    per: dict[str, dict[str, list[float]]] = {
        f: {"ndcg": [], "recall": [], "precision": []} for f in families
    }
    curve: dict[int, list[float]] = {kk: [] for kk in CURVE_KS}
    exposure = np.zeros(n_pool, dtype=np.int64)
    top1 = np.zeros(n_pool, dtype=np.int64)
    auc_q, auc_other, auc_label = [], [], []
    shown: list[np.ndarray] = []
    for query in task.queries:
        mask = task.pool_mask(query)
        relevance = {f: {r: g for r, g in query.gains(f).items() if mask[r]} for f in families}
        if not any(relevance.values()):
            continue
        rows, scores = ranked(query, depth)
        if scores is not None:
            shown.append(scores[:TOP_LIST])
        for family, gains in relevance.items():
            if not gains:
                continue
            hits = np.array([int(r) in gains for r in rows[:depth]], dtype=bool)
            per[family]["ndcg"].append(ndcg_at(rows, gains, k))
            per[family]["recall"].append(hits[:k].sum() / len(gains))
            per[family]["precision"].append(hits[:k].sum() / k)
            if family != APPLICATIONS:
                continue
            for kk in CURVE_KS:
                curve[kk].append(hits[:kk].sum() / len(gains))
            exposure[rows[:k]] += 1
            if len(rows):
                top1[rows[0]] += 1
            if pair_key is not None:
                positives = np.fromiter(gains, dtype=np.int64)
                eligible = np.flatnonzero(mask)
                negatives = eligible[rng.integers(0, len(eligible), size=4 * len(positives))]
                auc_q.append(np.full(len(positives) + len(negatives), query.row))
                auc_other.append(np.concatenate([positives, negatives]))
                auc_label.append(np.r_[np.ones(len(positives)), np.zeros(len(negatives))])
    metrics: dict[str, float] = {}
    for family, values in per.items():
        for name, series in values.items():
            metrics[metric_name(name, family, direction)] = float(np.mean(series)) if series else 0.0
        metrics[metric_name("queries", family, direction)] = float(len(values["ndcg"]))
    if APPLICATIONS in families:
        answered = max(len(per[APPLICATIONS]["ndcg"]), 1)
        metrics[f"coverage_{direction}"] = float((exposure > 0).sum() / max(n_pool, 1))
        metrics[f"gini_{direction}"] = gini(exposure)
        metrics[f"congestion_{direction}"] = float(np.maximum(top1 - capacity, 0).sum() / answered)
        if pair_key is not None and auc_label:
            labels = np.concatenate(auc_label)
            key = pair_key(np.concatenate(auc_q), np.concatenate(auc_other))
            auc = roc_auc_score(labels, key) if len(np.unique(labels)) > 1 else 0.5
            metrics[f"auc_{direction}"] = float(auc)
    if shown:
        metrics[f"ties_{direction}"] = tie_share(shown)
    return DirectionResult(
        metrics,
        {kk: float(np.mean(v)) if v else 0.0 for kk, v in curve.items()},
        exposure if APPLICATIONS in families else None,
    )
