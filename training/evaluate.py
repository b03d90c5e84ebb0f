"""Offline evaluation on a time-based holdout: train before the cut, rank what happened after it.

Two directions, as the product asks them:

* **vacancy** (cold start): every vacancy posted after the cut that got at least one application; the
  matcher ranks the graduates seeking at the cut (education minimum applied).
* **graduate** (warm): every graduate seeking at the cut who applied after it; the matcher ranks the
  vacancies open at the cut or posted after it (already-applied ones excluded).

Two relevance definitions, each in both directions:

* **applications** (``ndcg_vacancy``, ``ndcg_graduate``): how far a pair went after the cut
  (``EVENT_WEIGHTS``: applied 1 ... hired 5) -- what graduates chose;
* **accepted outcomes** (``ndcg_accepted_vacancy``, ``ndcg_accepted_graduate``): the pairs the employer
  advanced after the cut (``models.outcomes``: shortlisted 1 ... hired 4) -- what employers said yes to.

Metrics per direction: NDCG@k, recall@k, precision@k on both, and on applications AUC (positives against
random eligible pairs), catalogue coverage, Gini of exposure and congestion (top-1 picks a seat cannot
absorb); ``ties_*``, the share of adjacent equal scores in the top-20 lists (plateaus).

Per matcher: ``ece``, the expected calibration error of its reported probability (``score_pairs``) against
realised success (``models.outcomes.SUCCESS``) over the holdout's exposed pairs (first seen after the cut),
with the reliability curve (:mod:`training.calibration`).

With the demo world's ground truth, the oracle ranks by the truth and each matcher gets its share of the
oracle's NDCG on both definitions; each matcher also plans a sample of programmes and the plans are scored
by the true success probability (:mod:`training.demo_success`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from models.columns import Columns as C
from models.filters import graduate_mask, vacancy_mask
from models.history import positive_pairs
from models.index import MatchIndex
from models.keyword import KeywordMatcher
from models.outcomes import ADVANCED, DEPTH, FIRST_AT, SUCCESS, pair_outcomes
from models.protocol import Matcher
from models.results import CandidateFilters, VacancyFilters
from models.training_set import apply_horizon, response_horizon
from training.calibration import Calibration, calibration
from training.demo_success import PLAN_PROGRAMS, PlanSuccess, has_simulation, plan_setting, plan_success
from training.demo_truth import GroundTruth
from training.metrics import (
    ACCEPTED,
    APPLICATIONS,
    CURVE_KS,
    DIRECTIONS,
    FAMILIES,
    DirectionResult,
    PairKey,
    Query,
    Ranker,
    Task,
    gini,
    metric_name,
    ndcg_at,
    score_direction,
)
from training.oracle import oracle_result
from training.split import Split, time_split

KNOWABLE = "oracle_knowable"  # the oracle by what can be known about a pair (the noise averaged out)

__all__ = [
    "ACCEPTED",
    "APPLICATIONS",
    "CURVE_KS",
    "DIRECTIONS",
    "FAMILIES",
    "KNOWABLE",
    "DirectionResult",
    "MatcherResult",
    "Query",
    "Split",
    "accepted_pairs",
    "evaluate_matchers",
    "flatten",
    "gini",
    "holdout_metrics",
    "metric_name",
    "ndcg_at",
    "relative",
    "time_split",
]

log = logging.getLogger(__name__)
MAX_CALIBRATION_PAIRS = 50_000  # exposed pairs scored for calibration (a seeded sample beyond this)


@dataclass
class MatcherResult:
    """Everything measured for one matcher: both directions, calibration and (with a truth) plan success.

    ``result["vacancy"]`` is the direction's :class:`DirectionResult`.
    """

    directions: dict[str, DirectionResult]
    calibration: Calibration | None = None
    plan: PlanSuccess | None = None

    def __getitem__(self, direction: str) -> DirectionResult:
        return self.directions[direction]


def accepted_pairs(interactions: pd.DataFrame) -> pd.DataFrame:
    """Pairs the employer advanced (shortlisted or further) in ``interactions``; ``weight`` is how far
    (1 shortlisted, 2 interviewed, 3 offered, 4 hired)."""
    outcomes = pair_outcomes(interactions)
    advanced = outcomes[outcomes[ADVANCED]]
    return pd.DataFrame(
        {
            C.graduate: advanced[C.graduate].to_numpy(),
            C.vacancy: advanced[C.vacancy].to_numpy(),
            C.weight: advanced[DEPTH].to_numpy(dtype=np.float64),
        }
    )


def _gains(pairs: pd.DataFrame) -> pd.DataFrame:
    return pairs[[C.graduate, C.vacancy, C.weight]]


def _queries(split: Split, index: MatchIndex, *, max_queries: int, seed: int) -> dict[str, list[Query]]:
    """Per direction, the queries with their relevant rows under both relevance definitions.

    Employer-advanced pairs went at least as far as ``applied``, so every query with accepted outcomes
    also has applications: the query set (and its sample) is the applications' one.
    """
    frames = {
        APPLICATIONS: _gains(positive_pairs(split.test.interactions)),
        ACCEPTED: accepted_pairs(split.test.interactions),
    }
    new_vacancies = set(split.test.vacancies[C.vacancy]) - set(split.train.vacancies[C.vacancy])
    seeking = set(split.test.graduates.loc[split.test.graduates[C.status] == "seeking", C.graduate])
    cold: dict[str, pd.DataFrame] = {}
    warm: dict[str, pd.DataFrame] = {}
    for family, frame in frames.items():
        frame = frame.assign(
            g=index.graduates.ids.rows(frame[C.graduate].to_numpy()),
            v=index.vacancies.ids.rows(frame[C.vacancy].to_numpy()),
        )
        warm[family] = frame[(frame["g"] >= 0) & (frame["v"] >= 0) & frame[C.graduate].isin(seeking)]
        cold[family] = warm[family][warm[family][C.vacancy].isin(new_vacancies)]
    # The queries in order, then their seeded sample; only the sampled ones' gains are gathered (the
    # large world has ~10^5 graduates with held-out applications).
    rng = np.random.default_rng(seed)
    vacancy_rows = _sample(sorted(set(cold[APPLICATIONS]["v"]) | set(cold[ACCEPTED]["v"])), max_queries, rng)
    graduate_keys = _sample(
        sorted(
            {
                (int(g), str(i))
                for family in frames
                for g, i in zip(warm[family]["g"], warm[family][C.graduate], strict=True)
            }
        ),
        max_queries,
        rng,
    )

    def gains(frame: pd.DataFrame, by: str, keys: set[int], other: str) -> dict[int, dict[int, float]]:
        frame = frame[frame[by].isin(keys)]
        return {
            int(key): dict(zip(group[other].astype(int), group[C.weight], strict=True))
            for key, group in frame.groupby(by, sort=True)
        }

    out: dict[str, list[Query]] = {"vacancy": [], "graduate": []}
    v_keys = {int(v) for v in vacancy_rows}
    by_vacancy = {family: gains(cold[family], "v", v_keys, "g") for family in frames}
    for v in vacancy_rows:
        out["vacancy"].append(
            Query(v, by_vacancy[APPLICATIONS].get(v, {}), accepted=by_vacancy[ACCEPTED].get(v, {}))
        )
    g_keys = {g for g, _ in graduate_keys}
    by_graduate = {family: gains(warm[family], "g", g_keys, "v") for family in frames}
    train_positives = positive_pairs(split.train.interactions)
    wanted = {gid for _, gid in graduate_keys}
    seen = train_positives[train_positives[C.graduate].isin(wanted)].groupby(C.graduate)[C.vacancy].agg(tuple)
    for g, gid in graduate_keys:
        out["graduate"].append(
            Query(
                g,
                by_graduate[APPLICATIONS].get(g, {}),
                tuple(seen.get(gid, ())),
                accepted=by_graduate[ACCEPTED].get(g, {}),
            )
        )
    return out


def _sample(items: list[Any], size: int, rng: np.random.Generator) -> list[Any]:
    """``items`` (in order), or a seeded sample of ``size`` of them in their order."""
    if len(items) <= size:
        return items
    keep = np.sort(rng.choice(len(items), size=size, replace=False))
    return [items[i] for i in keep]


def exposed_outcomes(split: Split, index: MatchIndex, *, max_pairs: int, seed: int) -> pd.DataFrame:
    """``pair_outcomes`` of the pairs the holdout exposed: first seen after the cut (no event before it),
    graduate and vacancy in ``index``; a seeded sample of ``max_pairs`` when there are more.

    Pairs already under way at the cut are left out: their outcome after it is conditioned on what
    happened before (an application already made), which a score for a pair as it is shown cannot know;
    on the small demo world they were 5% of the pairs with an event after the cut and succeeded four times
    as often. So are pairs first seen too late for their outcome to be known by the end of the data.
    """
    outcomes = pair_outcomes(split.test.interactions)
    earlier = split.train.interactions[[C.graduate, C.vacancy]].drop_duplicates()
    under_way = outcomes[[C.graduate, C.vacancy]].merge(earlier, how="left", indicator=True)["_merge"]
    known = (index.graduates.ids.rows(outcomes[C.graduate].to_numpy()) >= 0) & (
        index.vacancies.ids.rows(outcomes[C.vacancy].to_numpy()) >= 0
    )
    # Pairs shown too close to the end of the data to have been answered yet are left out too (the usual
    # delays to apply and to be answered, measured on the training events), as training leaves them out.
    before = pair_outcomes(split.train.interactions)
    end = pd.Timestamp(split.test.interactions[C.occurred_at].max())
    settled = (outcomes[FIRST_AT] <= end - apply_horizon(before) - response_horizon(before)).to_numpy()
    outcomes = outcomes[known & (under_way == "left_only").to_numpy() & settled]
    if len(outcomes) > max_pairs:
        keep = np.sort(np.random.default_rng(seed).choice(len(outcomes), size=max_pairs, replace=False))
        outcomes = outcomes.iloc[keep]
    return outcomes.reset_index(drop=True)


def score_calibration(matcher: Matcher, outcomes: pd.DataFrame, index: MatchIndex) -> Calibration:
    """Calibration of the matcher's reported probability (``score_pairs``) against realised success."""
    scores = matcher.score_pairs(list(outcomes[C.graduate]), list(outcomes[C.vacancy]), index=index)
    return calibration(np.asarray(scores, dtype=np.float64), outcomes[SUCCESS].to_numpy(dtype=np.float64))


def evaluate_matchers(
    matchers: Mapping[str, Matcher],
    split: Split,
    *,
    k: int = 10,
    truth: GroundTruth | None = None,
    max_queries: int = 2000,
    seed: int = 7,
    plan_programs: int = PLAN_PROGRAMS,
    oracle: bool = True,
) -> dict[str, MatcherResult]:
    """Full results of fitted ``matchers`` (and the oracle when ``truth`` is given and ``oracle``: ranking
    every query by the truth is the expensive part at scale, and the retrain gate does not need it).

    With a ``truth`` that records the generator's thresholds, each matcher also plans a seeded sample of
    ``plan_programs`` programmes (:mod:`training.demo_success`), and the oracle ranks by the true success
    probability for the accepted-outcome metrics (by the true utility for applications).
    """
    structure = KeywordMatcher().fit().index(split.test)
    queries = _queries(split, structure, max_queries=max_queries, seed=seed)
    graduates, vacancies = structure.graduates, structure.vacancies
    cand_filters = CandidateFilters()
    cut = split.cut
    outcomes = exposed_outcomes(split, structure, max_pairs=MAX_CALIBRATION_PAIRS, seed=seed)
    setting = None
    if truth is not None and has_simulation(truth) and plan_programs > 0:
        setting = plan_setting(split, truth, programs=plan_programs, seed=seed)

    def graduate_pool(query: Query) -> np.ndarray:
        return graduate_mask(structure, vacancies, query.row, cand_filters)

    def vacancy_pool(query: Query) -> np.ndarray:
        filters = VacancyFilters(as_of=cut, exclude_vacancies=query.exclude)
        return vacancy_mask(structure, graduates, query.row, filters)

    # A graduate takes one seat; a vacancy its headcount.
    tasks = {
        "vacancy": Task(
            "vacancy", queries["vacancy"], graduate_pool, np.ones(len(graduates), dtype=np.int64)
        ),
        "graduate": Task("graduate", queries["graduate"], vacancy_pool, vacancies.headcount.astype(np.int64)),
    }
    results: dict[str, MatcherResult] = {}
    for name, matcher in matchers.items():
        tick = time.perf_counter()
        # The keyword matcher's index is the structure itself (13 s to build again at the large scale).
        index = structure if type(matcher) is KeywordMatcher else matcher.index(split.test)
        # The matcher's own index orders rows as the structure index does (both built from split.test).
        if len(index.graduates) != len(graduates) or len(index.vacancies) != len(vacancies):
            raise ValueError(f"{name}: its index does not line up with the evaluation's")
        rankers = _rankers(matcher, index, structure, cand_filters, cut)
        directions = {d: score_direction(tasks[d], *rankers[d], k=k, seed=seed) for d in DIRECTIONS}
        result = MatcherResult(directions)
        if len(outcomes):
            result.calibration = score_calibration(matcher, outcomes, index)
        if setting is not None and truth is not None:
            result.plan = plan_success(matcher, index, setting, truth)
        results[name] = result
        log.info("evaluated %s in %.1fs", name, time.perf_counter() - tick)
    if truth is not None and oracle:
        directions, oracle_calibration = oracle_result(truth, tasks, structure, outcomes, k=k, seed=seed)
        results["oracle"] = MatcherResult(directions, oracle_calibration)
        if has_simulation(truth):
            directions, knowable_calibration = oracle_result(
                truth, tasks, structure, outcomes, k=k, seed=seed, knowable=True
            )
            results[KNOWABLE] = MatcherResult(directions, knowable_calibration)
    return results


def _rankers(
    matcher: Matcher,
    index: MatchIndex,
    structure: MatchIndex,
    cand_filters: CandidateFilters,
    cut: pd.Timestamp,
) -> dict[str, tuple[Ranker, PairKey]]:
    """Per direction, the matcher's ranking of a query and its ranking key of explicit pairs (for AUC).

    ``index`` is the matcher's own index; its rows line up with ``structure``'s (both built from the same
    data), so the queries' rows are rows of ``index`` too.
    """
    graduates, vacancies = structure.graduates, structure.vacancies

    def rank_g(query: Query, need: int) -> tuple[np.ndarray, np.ndarray | None]:
        vid = str(vacancies.ids.ids[query.row])
        ranking = matcher.rank_graduates(vid, index=index, need=need, filters=cand_filters)
        return ranking.rows, ranking.scores

    def rank_v(query: Query, need: int) -> tuple[np.ndarray, np.ndarray | None]:
        gid = str(graduates.ids.ids[query.row])
        filters = VacancyFilters(as_of=cut, exclude_vacancies=query.exclude)
        ranking = matcher.rank_vacancies(gid, index=index, need=need, filters=filters)
        return ranking.rows, ranking.scores

    def key_v(vacancy_rows: np.ndarray, graduate_rows: np.ndarray) -> np.ndarray:
        return matcher.pair_scores(graduate_rows, vacancy_rows, index=index).key

    def key_g(graduate_rows: np.ndarray, vacancy_rows: np.ndarray) -> np.ndarray:
        return matcher.pair_scores(graduate_rows, vacancy_rows, index=index).key

    return {"vacancy": (rank_g, key_v), "graduate": (rank_v, key_g)}


def flatten(results: Mapping[str, MatcherResult]) -> dict[str, dict[str, float]]:
    """Per matcher: every metric of both directions; ``ndcg`` and ``ndcg_accepted`` (means of the two
    directions); ``ece``; the plan figures; and, with an oracle, the shares of its NDCG."""
    table: dict[str, dict[str, float]] = {}
    for name, result in results.items():
        row: dict[str, float] = {}
        for direction in result.directions.values():
            row.update(direction.metrics)
        for family in FAMILIES:
            ndcg = [row.get(metric_name("ndcg", family, d), 0.0) for d in DIRECTIONS]
            row[metric_name("ndcg", family)] = sum(ndcg) / len(ndcg)
        if result.calibration is not None:
            row["ece"] = result.calibration.ece
            row["calibration_pairs"] = float(result.calibration.pairs)
        if result.plan is not None:
            row.update(result.plan.metrics())
        table[name] = row
    for reference, share in (("oracle", "oracle_share"), (KNOWABLE, "knowable_share")):
        oracle = table.get(reference)
        if not oracle:
            continue
        for row in table.values():
            for family in FAMILIES:
                shares = []
                for d in DIRECTIONS:
                    base = oracle.get(metric_name("ndcg", family, d), 0.0)
                    value = row.get(metric_name("ndcg", family, d), 0.0)
                    shares.append(value / base if base else 0.0)
                    row[metric_name(share, family, d)] = shares[-1]
                row[metric_name(share, family)] = sum(shares) / len(shares)
    return table


def holdout_metrics(
    matchers: Mapping[str, Matcher],
    split: Split,
    *,
    k: int = 10,
    truth: GroundTruth | None = None,
    max_queries: int = 2000,
) -> dict[str, dict[str, float]]:
    """Metrics of already-fitted ``matchers`` on ``split`` (see the module docstring).

    Each entry has at least ``ndcg_vacancy``, ``ndcg_graduate`` and ``ndcg`` (their mean), the same on
    accepted outcomes (``ndcg_accepted_vacancy``, ``ndcg_accepted_graduate``, ``ndcg_accepted``) and, when
    the holdout has exposed pairs, ``ece``.
    """
    return flatten(evaluate_matchers(matchers, split, k=k, truth=truth, max_queries=max_queries))


def relative(
    table: Mapping[str, Mapping[str, float]], *, baseline: str = "keyword", accepted: bool = False
) -> dict[str, dict[str, float]]:
    """NDCG of each matcher as a multiple of ``baseline``'s, per direction (on accepted outcomes with
    ``accepted``)."""
    family = ACCEPTED if accepted else APPLICATIONS
    base = table.get(baseline, {})
    out: dict[str, dict[str, float]] = {}
    for name, row in table.items():
        out[name] = {}
        for d in DIRECTIONS:
            key = metric_name("ndcg", family, d)
            out[name][d] = row.get(key, 0.0) / base[key] if base.get(key) else 0.0
    return out
