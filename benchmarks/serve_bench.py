"""In-process serving latency, side by side with the keyword matcher and LightFM's own ``predict``.

The candidate pool is what the service indexes (``MatchingService``): seeking graduates and every
vacancy, no interactions. Cases (random queries, fixed seed):

- candidates for an open vacancy (top 20), and for a cold vacancy given as data (not in the index);
- recommendations for a seeking graduate (top 10), and for a cold graduate given as data;
- a cohort placement: 500 seeking graduates scored with ``service.schools.cohort_scores`` (each graduate's
  top 20 open vacancies, as the placement route does), planned with ``plan_placement``, and the shown pairs
  explained (as the route does).

Each case runs three ways: **ours** (``Matcher.candidates_for`` etc. over the precomputed index),
**keyword** (``KeywordMatcher``, same query code), and **LightFM predict** (what a LightFM user would write:
``LightFM.predict`` over every pair of the query with the same trained embeddings, then the top k; no ranker,
no reasons). Ratios are LightFM predict / ours and keyword / ours.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit
from threadpoolctl import threadpool_limits

from benchmarks.common import latencies_ms, percentiles, print_table
from benchmarks.world import Bench
from models.columns import Columns as C
from models.data import MarketData

TARGETS = {"candidates_large_p99_ms": 10.0, "placement_500x5000_s": 1.0}


def candidate_pool(data: MarketData) -> MarketData:
    """What the service indexes: seeking graduates, every vacancy, no interactions."""
    frames = data.frames()
    frames["graduates"] = data.graduates[data.graduates[C.status] == "seeking"].reset_index(drop=True)
    frames["interactions"] = data.interactions.iloc[:0]
    return MarketData(**frames)


def _record(frame: pd.DataFrame, row: int, drop: str) -> dict[str, Any]:
    record = frame.iloc[row].to_dict()
    record.pop(drop, None)
    return record


class LightFMPredict:
    """LightFM used directly: ``predict`` over all pairs of a query with the matcher's trained embeddings."""

    def __init__(self, hybrid: Any, user_features: Any, item_features: Any) -> None:
        from lightfm import LightFM

        model = LightFM(no_components=hybrid.no_components)
        model._initialize(hybrid.no_components, item_features.shape[1], user_features.shape[1])
        model.user_embeddings[:] = hybrid.user_embeddings_
        model.user_biases[:] = hybrid.user_biases_
        model.item_embeddings[:] = hybrid.item_embeddings_
        model.item_biases[:] = hybrid.item_biases_
        self.model = model
        self.user_features = user_features.astype(np.float32).tocsr()
        self.item_features = item_features.astype(np.float32).tocsr()
        self.all_items = np.arange(item_features.shape[0], dtype=np.int32)

    def top(self, user_row: int, k: int) -> np.ndarray:
        scores = self.model.predict(
            np.full(len(self.all_items), user_row, dtype=np.int32),
            self.all_items,
            user_features=self.user_features,
            item_features=self.item_features,
            num_threads=1,
        )
        top = np.argpartition(-scores, min(k, len(scores) - 1))[:k]
        return top[np.argsort(-scores[top])]


def _case(
    rows: list[dict[str, Any]],
    case: str,
    ways: dict[str, Callable[[], object] | None],
    repeat: int,
    *,
    warmup: int = 3,
) -> None:
    samples = {}
    for way, call in ways.items():
        if call is not None:
            for _ in range(min(warmup, repeat)):
                call()
            cpu = time.process_time()
            stats = percentiles(latencies_ms(call, repeat=repeat, warmup=0))
            # CPU per call (all threads): on a loaded shared machine wall-clock waits, CPU time does not.
            stats["cpu_ms"] = round((time.process_time() - cpu) * 1000 / repeat, 3)
            samples[way] = stats
    ours = samples["ours"]
    for way, stats in samples.items():
        rows.append(
            {
                "case": case,
                "way": way,
                "p50_ms": stats["p50_ms"],
                "p99_ms": stats["p99_ms"],
                "cpu_ms": stats["cpu_ms"],
                "n": stats["n"],
                "vs_ours_p50": round(stats["p50_ms"] / max(ours["p50_ms"], 1e-9), 3),
            }
        )


def _cycle(items: list[Any]) -> Callable[[], Any]:
    state = {"i": 0}

    def next_item() -> Any:
        state["i"] += 1
        return items[state["i"] % len(items)]

    return next_item


def _approximate_candidates(
    rows: list[dict[str, Any]], matcher: Any, index: Any, v_ids: list[str], n_queries: int
) -> dict[str, Any]:
    """Candidates (top 20) with the product's approximate retrieval switched on for this pool, as
    ``TALENTMATCH_ANN_MIN_POOL=1`` does (hnswlib over the seeking graduates, the model's search settings),
    and recall@20 of its answers against the exact ones; ``skipped`` without hnswlib."""
    from dataclasses import replace

    from models.ann import AnnOptions, hnswlib_module
    from models.base import graduate_ann

    config = getattr(matcher, "config", None)
    if hnswlib_module() is None or config is None or not hasattr(config, "ann_ef"):
        return {"skipped": "hnswlib is not installed (pip install -e '.[ann]')"}
    options = AnnOptions(min_pool=0, ef=config.ann_ef, shortlist=config.ann_shortlist, seed=config.seed)
    graduates = index.graduates
    start = time.perf_counter()
    ann = graduate_ann(graduates, options)
    build_s = time.perf_counter() - start
    approximate = replace(index, ann=ann)
    asked = v_ids[: min(len(v_ids), 100)]
    overlap = []
    for vacancy in asked:
        exact = {m.graduate_id for m in matcher.candidates_for(vacancy, index=index, limit=20).items}
        found = {m.graduate_id for m in matcher.candidates_for(vacancy, index=approximate, limit=20).items}
        overlap.append(len(exact & found) / max(1, len(exact)))
    next_v = _cycle(v_ids)
    _case(
        rows,
        "candidates, approximate retrieval (top 20)",
        {"ours": lambda: matcher.candidates_for(next_v(), index=approximate, limit=20)},
        n_queries,
    )
    return {
        "build_s": round(build_s, 1),
        "ef": options.ef,
        "shortlist": options.shortlist,
        "recall_at_20": round(float(np.mean(overlap)), 4),
        "queries_for_recall": len(asked),
    }


def run(bench: Bench) -> dict[str, Any]:
    from models.features import market_frames
    from models.keyword import KeywordMatcher
    from models.placement import plan_placement
    from models.results import VacancyFilters
    from service.schools import cohort_scores
    from training.demo import DEFAULT_AS_OF

    bounds = bench.bounds
    data = bench.data()
    loaded = bench.model()
    matcher = loaded.matcher
    pool = candidate_pool(data)
    start = time.perf_counter()
    index = matcher.index(pool)
    index_s = time.perf_counter() - start
    keyword = KeywordMatcher().fit()
    start = time.perf_counter()
    keyword_index = keyword.index(pool)
    keyword_index_s = time.perf_counter() - start

    graduates, vacancies = market_frames(pool)
    x_g = matcher.features_.transform_graduates(graduates)
    x_v = matcher.features_.transform_vacancies(vacancies)
    lightfm_candidates = LightFMPredict(matcher.by_vacancy_, x_v, x_g)  # vacancies as users
    lightfm_vacancies = LightFMPredict(matcher.by_graduate_, x_g, x_v)  # graduates as users

    rng = random.Random(7)
    as_of = DEFAULT_AS_OF
    closes = pd.to_datetime(pool.vacancies[C.closes_at])
    open_mask = (pool.vacancies[C.status] == "open") & (closes.isna() | (closes >= as_of))
    open_rows = np.flatnonzero(open_mask.to_numpy())
    open_vacancies = pool.vacancies[open_mask]
    n_queries = min(bounds.queries, 1000)
    v_rows = [int(rng.choice(open_rows)) for _ in range(n_queries)]
    g_rows = [rng.randrange(len(pool.graduates)) for _ in range(n_queries)]
    v_ids = [str(pool.vacancies[C.vacancy].iat[r]) for r in v_rows]
    g_ids = [str(pool.graduates[C.graduate].iat[r]) for r in g_rows]
    cold_vacancies = [_record(pool.vacancies, r, C.vacancy) for r in v_rows[:50]]
    cold_graduates = [_record(pool.graduates, r, C.graduate) for r in g_rows[:50]]
    filters = VacancyFilters(as_of=as_of)

    # As the service runs (service/app.py): one BLAS/OpenMP thread; requests run in parallel, not the math.
    limiter = threadpool_limits(limits=1)
    rows: list[dict[str, Any]] = []
    next_v, next_g = _cycle(v_ids), _cycle(g_ids)
    next_vr, next_gr = _cycle(v_rows), _cycle(g_rows)
    next_cv, next_cg = _cycle(cold_vacancies), _cycle(cold_graduates)
    _case(
        rows,
        "candidates (top 20)",
        {
            "ours": lambda: matcher.candidates_for(next_v(), index=index, limit=20),
            "keyword": lambda: keyword.candidates_for(next_v(), index=keyword_index, limit=20),
            "lightfm_predict": lambda: lightfm_candidates.top(next_vr(), 20),
        },
        n_queries,
    )
    approximate = _approximate_candidates(rows, matcher, index, v_ids, n_queries)
    _case(
        rows,
        "candidates, cold vacancy",
        {
            "ours": lambda: matcher.candidates_for(next_cv(), index=index, limit=20),
            "keyword": lambda: keyword.candidates_for(next_cv(), index=keyword_index, limit=20),
        },
        n_queries,
    )
    _case(
        rows,
        "recommendations (top 10)",
        {
            "ours": lambda: matcher.vacancies_for(next_g(), index=index, limit=10, filters=filters),
            "keyword": lambda: keyword.vacancies_for(
                next_g(), index=keyword_index, limit=10, filters=filters
            ),
            "lightfm_predict": lambda: lightfm_vacancies.top(next_gr(), 10),
        },
        n_queries,
    )
    _case(
        rows,
        "recommendations, cold graduate",
        {
            "ours": lambda: matcher.vacancies_for(next_cg(), index=index, limit=10, filters=filters),
            "keyword": lambda: keyword.vacancies_for(
                next_cg(), index=keyword_index, limit=10, filters=filters
            ),
        },
        n_queries,
    )

    # Cohort placement: the placement route's work for one cohort (scores, then the plan).
    cohort_rows = rng.sample(range(len(pool.graduates)), min(bounds.cohort, len(pool.graduates)))
    cohort = [
        (str(pool.graduates[C.graduate].iat[r]), str(pool.graduates[C.education].iat[r])) for r in cohort_rows
    ]
    by_id = open_vacancies.set_index(C.vacancy)

    def score(which: Any, which_index: Any) -> Any:
        return cohort_scores(
            matcher=which,
            index=which_index,
            graduates=cohort,
            open_vacancies=open_vacancies,
            sponsors=[None] * len(cohort),
            as_of=as_of,
            top_k=20,
        )

    def place(which: Any, which_index: Any) -> Any:
        scored = score(which, which_index)
        caps = by_id.loc[scored.vacancy_ids, C.headcount].to_numpy()
        plan = plan_placement(scored.matrix, caps, min_score=0.05, top_k=20, sponsor_rule="none")
        # As the placement route: explanations for the pairs the plan shows.
        g_ids, v_ids = scored.graduate_ids, scored.vacancy_ids
        shown = [(g_ids[a.graduate], v_ids[a.vacancy]) for a in plan.assignments]
        shown += [(g_ids[u.graduate], v_ids[alt.vacancy]) for u in plan.unassigned for alt in u.alternatives]
        if hasattr(scored, "reasons_for"):
            scored.reasons_for(shown, matcher=which, index=which_index)
        return plan

    def place_lightfm() -> Any:
        open_items = np.flatnonzero(open_mask.to_numpy()).astype(np.int32)
        g = np.repeat(np.asarray(cohort_rows, dtype=np.int32), len(open_items))
        items = np.tile(open_items, len(cohort_rows))
        scores = lightfm_vacancies.model.predict(
            g, items, user_features=x_g.astype(np.float32), item_features=x_v.astype(np.float32)
        ).reshape(len(cohort_rows), len(open_items))
        probability = expit(scores)
        caps = pool.vacancies[C.headcount].to_numpy()[open_items]
        return plan_placement(probability, caps, min_score=0.05, top_k=20, sponsor_rule="none")

    _case(
        rows,
        f"cohort placement ({len(cohort)} graduates x {len(open_vacancies)} open)",
        {
            "ours": lambda: place(matcher, index),
            "keyword": lambda: place(keyword, keyword_index),
            "lightfm_predict": place_lightfm,
        },
        bounds.cohort_repeat,
        warmup=1,
    )
    # The plan alone on the cohort's scores (what the 1 s target is about once scores are known).
    scored = score(matcher, index)
    caps = by_id.loc[scored.vacancy_ids, C.headcount].to_numpy()
    _case(
        rows,
        "  of which the plan alone",
        {"ours": lambda: plan_placement(scored.matrix, caps, min_score=0.05, top_k=20, sponsor_rule="none")},
        max(bounds.cohort_repeat, 5),
    )

    print_table(
        f"In-process serving, {bench.scale}: {len(pool.graduates):,} seeking graduates, "
        f"{len(pool.vacancies):,} vacancies ({len(open_vacancies):,} open); index built in {index_s:.1f} s"
        + (
            ""
            if "skipped" in approximate
            else f"; approximate retrieval: hnswlib built in {approximate['build_s']} s, answers' recall@20 "
            f"{approximate['recall_at_20']:.3f} against exact"
        ),
        rows,
    )
    payload = {
        "pool": {
            "seeking_graduates": len(pool.graduates),
            "vacancies": len(pool.vacancies),
            "open_vacancies": len(open_vacancies),
        },
        "model_version": loaded.version,
        "index_build_s": round(index_s, 2),
        "approximate": approximate,
        "keyword_index_build_s": round(keyword_index_s, 2),
        "rows": rows,
        "targets": TARGETS,
    }
    limiter.restore_original_limits()
    bench.write("serve", payload)
    return payload
