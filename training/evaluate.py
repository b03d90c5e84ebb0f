"""Offline evaluation on a time-based holdout: train before the cut, rank what happened after it.

Two directions, as the product asks them:

* **vacancy** (cold start): every vacancy posted after the cut that got at least one application; the
  matcher ranks the graduates seeking at the cut (education minimum applied).
* **graduate** (warm): every graduate seeking at the cut who applied after it; the matcher ranks the
  vacancies open at the cut or posted after it (already-applied ones excluded).

Relevance of a pair is how far it went after the cut (``EVENT_WEIGHTS``: applied 1 ... hired 5).
Metrics per direction: NDCG@k, recall@k, precision@k, AUC (positives against random eligible pairs),
catalogue coverage, Gini of exposure and congestion (top-1 picks a seat cannot absorb). With the demo
world's ground truth, the oracle ranks by true utility and each matcher gets its share of the oracle's NDCG.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from models.base import FOR_GRADUATE, FOR_VACANCY
from models.columns import Columns as C
from models.data import MarketData
from models.history import positive_pairs
from models.index import MatchIndex
from models.keyword import KeywordMatcher
from models.results import CandidateFilters, VacancyFilters

log = logging.getLogger(__name__)
DIRECTIONS = ("vacancy", "graduate")
CURVE_KS = (1, 3, 5, 10, 20, 50)


@dataclass
class Split:
    """Training data (events before ``cut``) and test data (all entities as at the cut, later events)."""

    train: MarketData
    test: MarketData
    cut: pd.Timestamp


def time_split(
    data: MarketData, *, cut: pd.Timestamp | str | None = None, holdout_fraction: float = 0.2
) -> Split:
    """Split at ``cut`` (default: the time before which ``1 - holdout_fraction`` of the events happened).

    Statuses are rewound to the cut: a graduate is placed only if hired before it; a vacancy is open at the
    cut unless it closed or filled its headcount before it. Vacancies posted after the cut exist only in
    ``test`` (they are the cold-start cases). Raises ``ValueError`` when there is nothing on one side.
    """
    events = data.interactions
    if len(events) == 0:
        raise ValueError("no interactions")
    times = pd.to_datetime(events[C.occurred_at])
    cut_ts = pd.Timestamp(cut) if cut is not None else times.quantile(1.0 - holdout_fraction)
    if cut is None and not (times < cut_ts).any():
        # Coarse timestamps (a day, or one export date for many rows) can tie the quantile with the
        # earliest time; cut at the next distinct time instead, when there is one.
        later = times[times > cut_ts]
        if len(later):
            cut_ts = later.min()
    before = events[times < cut_ts]
    after = events[times >= cut_ts]
    if before.empty or after.empty:
        raise ValueError(f"cut {cut_ts} leaves no interactions on one side")

    hires = before[before[C.event] == "hired"]
    graduates = data.graduates.copy()
    graduates[C.status] = np.where(graduates[C.graduate].isin(hires[C.graduate]), "placed", "seeking")

    vacancies = data.vacancies.copy()
    posted = pd.to_datetime(vacancies[C.posted_at])
    closes = pd.to_datetime(vacancies[C.closes_at])
    hired_count = hires.groupby(C.vacancy).size()
    filled = (
        vacancies[C.vacancy].map(hired_count).fillna(0).to_numpy()
        >= pd.to_numeric(vacancies[C.headcount], errors="coerce").fillna(1).to_numpy()
    )
    closed = (closes < cut_ts).to_numpy()
    status = np.where(filled, "filled", np.where(closed, "closed", "open"))
    vacancies[C.status] = status
    early = ~(posted >= cut_ts).to_numpy()

    train = replace(
        data, graduates=graduates, vacancies=vacancies[early].reset_index(drop=True), interactions=before
    )
    test = replace(data, graduates=graduates, vacancies=vacancies, interactions=after)
    return Split(train=train, test=test, cut=cut_ts)


@dataclass
class Query:
    row: int
    relevance: dict[int, float]  # row of the ranked side -> gain
    exclude: tuple[str, ...] = ()


@dataclass
class DirectionResult:
    metrics: dict[str, float]
    curve: dict[int, float] = field(default_factory=dict)  # k -> recall@k
    exposure: np.ndarray | None = None
    labels: np.ndarray | None = None
    probabilities: np.ndarray | None = None


def _gains(pairs: pd.DataFrame) -> pd.DataFrame:
    return pairs[[C.graduate, C.vacancy, C.weight]]


def _queries(split: Split, index: MatchIndex, *, max_queries: int, seed: int) -> dict[str, list[Query]]:
    positives = _gains(positive_pairs(split.test.interactions))
    earlier = positive_pairs(split.train.interactions)
    g_rows = index.graduates.ids.rows(positives[C.graduate].to_numpy())
    v_rows = index.vacancies.ids.rows(positives[C.vacancy].to_numpy())
    positives = positives.assign(g=g_rows, v=v_rows)
    positives = positives[(positives["g"] >= 0) & (positives["v"] >= 0)]
    new_vacancies = set(split.test.vacancies[C.vacancy]) - set(split.train.vacancies[C.vacancy])
    seeking = set(split.test.graduates.loc[split.test.graduates[C.status] == "seeking", C.graduate])
    rng = np.random.default_rng(seed)
    out: dict[str, list[Query]] = {"vacancy": [], "graduate": []}
    cold = positives[positives[C.vacancy].isin(new_vacancies) & positives[C.graduate].isin(seeking)]
    for v, group in cold.groupby("v", sort=True):
        out["vacancy"].append(Query(int(v), dict(zip(group["g"].astype(int), group[C.weight], strict=True))))
    seen = earlier.groupby(C.graduate)[C.vacancy].agg(tuple)
    warm = positives[positives[C.graduate].isin(seeking)]
    for (g, gid), group in warm.groupby(["g", C.graduate], sort=True):
        exclude = tuple(seen.get(gid, ()))
        out["graduate"].append(
            Query(int(g), dict(zip(group["v"].astype(int), group[C.weight], strict=True)), exclude)
        )
    for direction, queries in out.items():
        if len(queries) > max_queries:
            keep = np.sort(rng.choice(len(queries), size=max_queries, replace=False))
            out[direction] = [queries[i] for i in keep]
    return out


def _dcg(gains: np.ndarray) -> float:
    return float(np.sum(gains / np.log2(np.arange(2, len(gains) + 2)))) if len(gains) else 0.0


def gini(counts: np.ndarray) -> float:
    """Gini coefficient of non-negative exposure counts (0 = everyone equally exposed)."""
    x = np.sort(np.asarray(counts, dtype=np.float64))
    if len(x) == 0 or x.sum() == 0:
        return 0.0
    n = len(x)
    return float((2 * np.arange(1, n + 1) - n - 1) @ x / (n * x.sum()))


Ranker = Callable[[Query, int], np.ndarray]


def _score_direction(
    direction: str,
    queries: list[Query],
    ranked: Ranker,
    pool_mask: Callable[[Query], np.ndarray],
    pair_key: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]] | None,
    capacity: np.ndarray,
    *,
    k: int,
    seed: int,
    n_pool: int,
) -> DirectionResult:
    """Metrics of one matcher in one direction. ``ranked(query, need)`` gives rows best first."""
    rng = np.random.default_rng(seed)
    depth = max(k, max(CURVE_KS))
    ndcg, recall, precision = [], [], []
    curve: dict[int, list[float]] = {kk: [] for kk in CURVE_KS}
    exposure = np.zeros(n_pool, dtype=np.int64)
    top1 = np.zeros(n_pool, dtype=np.int64)
    auc_q, auc_other, auc_label = [], [], []
    for query in queries:
        mask = pool_mask(query)
        relevance = {r: g for r, g in query.relevance.items() if mask[r]}
        if not relevance:
            continue
        rows = ranked(query, depth)
        gains = np.array([relevance.get(int(r), 0.0) for r in rows[:k]])
        ideal = np.sort(np.fromiter(relevance.values(), dtype=float))[::-1][:k]
        ndcg.append(_dcg(gains) / _dcg(ideal))
        hits = np.array([int(r) in relevance for r in rows[:depth]])
        recall.append(hits[:k].sum() / len(relevance))
        precision.append(hits[:k].sum() / k)
        for kk in CURVE_KS:
            curve[kk].append(hits[:kk].sum() / len(relevance))
        exposure[rows[:k]] += 1
        if len(rows):
            top1[rows[0]] += 1
        if pair_key is not None:
            positives = np.fromiter(relevance, dtype=np.int64)
            eligible = np.flatnonzero(mask)
            negatives = eligible[rng.integers(0, len(eligible), size=4 * len(positives))]
            other = np.concatenate([positives, negatives])
            auc_q.append(np.full(len(other), query.row))
            auc_other.append(other)
            auc_label.append(np.r_[np.ones(len(positives)), np.zeros(len(negatives))])
    metrics = {
        f"ndcg_{direction}": float(np.mean(ndcg)) if ndcg else 0.0,
        f"recall_{direction}": float(np.mean(recall)) if recall else 0.0,
        f"precision_{direction}": float(np.mean(precision)) if precision else 0.0,
        f"coverage_{direction}": float((exposure > 0).sum() / max(n_pool, 1)),
        f"gini_{direction}": gini(exposure),
        f"congestion_{direction}": float(np.maximum(top1 - capacity, 0).sum() / max(len(ndcg), 1)),
        f"queries_{direction}": float(len(ndcg)),
    }
    result = DirectionResult(
        metrics, {kk: float(np.mean(v)) if v else 0.0 for kk, v in curve.items()}, exposure
    )
    if pair_key is not None and auc_label:
        labels = np.concatenate(auc_label)
        key, prob = pair_key(np.concatenate(auc_q), np.concatenate(auc_other))
        metrics[f"auc_{direction}"] = float(roc_auc_score(labels, key)) if len(np.unique(labels)) > 1 else 0.5
        result.labels, result.probabilities = labels, prob
    return result


def evaluate_matchers(
    matchers: Mapping[str, Any],
    split: Split,
    *,
    k: int = 10,
    truth: Any = None,
    max_queries: int = 2000,
    seed: int = 7,
) -> dict[str, dict[str, DirectionResult]]:
    """Full per-direction results of fitted ``matchers`` (and the oracle when ``truth`` is given)."""
    structure = KeywordMatcher().fit().index(split.test)
    queries = _queries(split, structure, max_queries=max_queries, seed=seed)
    graduates, vacancies = structure.graduates, structure.vacancies
    cand_filters = CandidateFilters()
    cut = split.cut

    def graduate_pool(query: Query) -> np.ndarray:
        return KeywordMatcher._graduate_mask(structure, vacancies, query.row, cand_filters)

    def vacancy_pool(query: Query) -> np.ndarray:
        filters = VacancyFilters(as_of=cut, exclude_vacancies=query.exclude)
        return KeywordMatcher._vacancy_mask(structure, graduates, query.row, filters)

    capacity = {
        "vacancy": np.ones(len(graduates), dtype=np.int64),
        "graduate": vacancies.headcount.astype(np.int64),
    }
    results: dict[str, dict[str, DirectionResult]] = {}
    for name, matcher in matchers.items():
        tick = time.perf_counter()
        index = matcher.index(split.test)
        g_by_id = {gid: i for i, gid in enumerate(index.graduates.ids.ids)}
        v_by_id = {vid: i for i, vid in enumerate(index.vacancies.ids.ids)}
        # The matcher's own index orders rows as the structure index does (both built from split.test).
        assert len(g_by_id) == len(graduates) and len(v_by_id) == len(vacancies)

        def rank_g(query: Query, need: int, matcher: Any = matcher, index: MatchIndex = index) -> np.ndarray:
            vid = str(vacancies.ids.ids[query.row])
            return matcher.ranked_graduates(vid, index=index, need=need, filters=cand_filters)[2]

        def rank_v(query: Query, need: int, matcher: Any = matcher, index: MatchIndex = index) -> np.ndarray:
            gid = str(graduates.ids.ids[query.row])
            filters = VacancyFilters(as_of=cut, exclude_vacancies=query.exclude)
            return matcher.ranked_vacancies(gid, index=index, need=need, filters=filters)[2]

        def key_v(q: np.ndarray, other: np.ndarray, matcher: Any = matcher, index: MatchIndex = index):  # type: ignore[no-untyped-def]
            key, prob, _ = matcher._pair_scores(
                index, index.graduates, other, index.vacancies, q, direction=FOR_VACANCY
            )
            return key, prob

        def key_g(q: np.ndarray, other: np.ndarray, matcher: Any = matcher, index: MatchIndex = index):  # type: ignore[no-untyped-def]
            key, prob, _ = matcher._pair_scores(
                index, index.graduates, q, index.vacancies, other, direction=FOR_GRADUATE
            )
            return key, prob

        results[name] = {
            "vacancy": _score_direction(
                "vacancy",
                queries["vacancy"],
                rank_g,
                graduate_pool,
                key_v,
                capacity["vacancy"],
                k=k,
                seed=seed,
                n_pool=len(graduates),
            ),
            "graduate": _score_direction(
                "graduate",
                queries["graduate"],
                rank_v,
                vacancy_pool,
                key_g,
                capacity["graduate"],
                k=k,
                seed=seed,
                n_pool=len(vacancies),
            ),
        }
        log.info("evaluated %s in %.1fs", name, time.perf_counter() - tick)
    if truth is not None:
        results["oracle"] = _oracle(
            truth, queries, structure, graduate_pool, vacancy_pool, capacity, k=k, seed=seed
        )
    return results


def _oracle(truth: Any, queries, structure, graduate_pool, vacancy_pool, capacity, *, k: int, seed: int):  # type: ignore[no-untyped-def]
    g_ids, v_ids = structure.graduates.ids.ids, structure.vacancies.ids.ids

    def rank_g(query: Query, need: int) -> np.ndarray:
        rows = np.flatnonzero(graduate_pool(query))
        utility = np.asarray(truth.utility(g_ids[rows], np.full(len(rows), v_ids[query.row], dtype=object)))
        return rows[np.lexsort((rows, -utility))][:need]

    def rank_v(query: Query, need: int) -> np.ndarray:
        rows = np.flatnonzero(vacancy_pool(query))
        utility = np.asarray(truth.utility(np.full(len(rows), g_ids[query.row], dtype=object), v_ids[rows]))
        return rows[np.lexsort((rows, -utility))][:need]

    def key_v(q: np.ndarray, other: np.ndarray):  # type: ignore[no-untyped-def]
        u = np.asarray(truth.utility(g_ids[other], v_ids[q]), dtype=float)
        return u, u

    def key_g(q: np.ndarray, other: np.ndarray):  # type: ignore[no-untyped-def]
        u = np.asarray(truth.utility(g_ids[q], v_ids[other]), dtype=float)
        return u, u

    return {
        "vacancy": _score_direction(
            "vacancy",
            queries["vacancy"],
            rank_g,
            graduate_pool,
            key_v,
            capacity["vacancy"],
            k=k,
            seed=seed,
            n_pool=len(g_ids),
        ),
        "graduate": _score_direction(
            "graduate",
            queries["graduate"],
            rank_v,
            vacancy_pool,
            key_g,
            capacity["graduate"],
            k=k,
            seed=seed,
            n_pool=len(v_ids),
        ),
    }


def flatten(results: Mapping[str, Mapping[str, DirectionResult]]) -> dict[str, dict[str, float]]:
    """Per matcher: every metric of both directions, their NDCG mean ``ndcg`` and, with an oracle, shares."""
    table: dict[str, dict[str, float]] = {}
    for name, directions in results.items():
        row: dict[str, float] = {}
        for result in directions.values():
            row.update(result.metrics)
        row["ndcg"] = (row.get("ndcg_vacancy", 0.0) + row.get("ndcg_graduate", 0.0)) / 2
        table[name] = row
    oracle = table.get("oracle")
    if oracle:
        for row in table.values():
            for d in DIRECTIONS:
                base = oracle.get(f"ndcg_{d}", 0.0)
                row[f"oracle_share_{d}"] = row.get(f"ndcg_{d}", 0.0) / base if base else 0.0
            row["oracle_share"] = (row["oracle_share_vacancy"] + row["oracle_share_graduate"]) / 2
    return table


def holdout_metrics(
    matchers: Mapping[str, Any], split: Split, *, k: int = 10, truth: Any = None, max_queries: int = 2000
) -> dict[str, dict[str, float]]:
    """Metrics of already-fitted ``matchers`` on ``split`` (see the module docstring).

    Each entry has at least ``ndcg_vacancy``, ``ndcg_graduate`` and ``ndcg`` (their mean).
    """
    return flatten(evaluate_matchers(matchers, split, k=k, truth=truth, max_queries=max_queries))


def relative(
    table: Mapping[str, Mapping[str, float]], *, baseline: str = "keyword"
) -> dict[str, dict[str, float]]:
    """NDCG of each matcher as a multiple of ``baseline``'s, per direction."""
    base = table.get(baseline, {})
    return {
        name: {
            d: (row.get(f"ndcg_{d}", 0.0) / base[f"ndcg_{d}"]) if base.get(f"ndcg_{d}") else 0.0
            for d in DIRECTIONS
        }
        for name, row in table.items()
    }
