"""1M graduates: exact retrieval and serving cost, and an approximate index (hnswlib) against it.

The scale's candidate index is resampled to ``ann_graduates`` graduates (1M at medium/large; see
:func:`benchmarks.scaling_bench.resample_index`). Measured, for random open vacancies:

- **full query, exact**: ``Matcher.candidates_for`` (filters, exact retrieval over every graduate, ranker on
  the retrieved pool, reasons) — the number the "1M exact p99 <= 30 ms" target is about;
- **retrieval only, exact**: the LightFM part of retrieval, ``reps @ query`` over every graduate + top 20;
The resampled graduates' retrieval vectors get a little noise (:func:`synthetic_reps`): exact copies would
make every top 20 a set of ties. (A Gaussian fitted to the real vectors, tried first, has the full
70-dimensional spread real graduates do not have: HNSW's recall@20 on it fell to 0.1-0.4 at 1M.)

- **retrieval only, hnswlib**: the same top 20 from HNSW indexes. The graduate's retrieval vector already
  carries the biases and the per-query standardisation offset as extra dimensions (``models.hybrid``:
  ``[emb, bias, 1]`` against ``[emb, 1, bias]``), so the exact score is a plain inner product; one more
  dimension turns that maximum inner product into a nearest-neighbour search in L2
  (:func:`models.ann.mips_to_l2`), per band of norms (:class:`models.ann.NormBandedIndex`). hnswlib's own
  ``space="ip"`` reached a recall@20 of about 0.1 on these vectors, one L2 index over all norms 0.96 at 100k
  but 0.43 at 1M. Recall@20 is against the exact top 20. The index is the product's (:mod:`models.ann`,
  built as ``Matcher.index`` builds it), asked for its shortlist, which is re-scored exactly.
- **full query, approximate**: ``Matcher.candidates_for`` with that index attached (``MatchIndex.ann``): the
  LightFM half of the pool from the shortlist, re-scored exactly, the skill half and the ranker as ever;
  recall@20 is of the 20 graduates it answers against the 20 the exact full query answers, for a few
  search settings (``ef``, per-band ``shortlist``).
"""

from __future__ import annotations

import random
import time
from dataclasses import replace
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from benchmarks.common import latencies_ms, percentiles, print_table
from benchmarks.world import Bench
from models.ann import AnnOptions, hnswlib_module
from models.base import graduate_ann

TARGETS = {"exact_p99_ms": 30.0, "ann_p99_ms": 10.0, "ann_recall_at_20": 0.95}
# (ef, per-band shortlist) tried; the product's defaults are MatcherConfig.ann_ef / ann_shortlist.
SETTINGS = ((64, 40), (128, 80), (192, 120), (256, 160), (400, 300))
K = 20


def synthetic_reps(real: np.ndarray, rows: np.ndarray, *, seed: int, noise: float = 0.1) -> np.ndarray:
    """Retrieval vectors of synthetic graduates: a real graduate's vector (``real[rows]``, as resampled) plus
    Gaussian noise of ``noise`` x each column's spread, so copies differ while the population keeps the
    clustered shape of real ones (programmes, skill sets). Constant columns (the folded-in ones) stay.
    """
    rng = np.random.default_rng(seed)
    spread = real.std(axis=0).astype(np.float32)
    out = np.empty((len(rows), real.shape[1]), dtype=np.float32)
    for start in range(0, len(rows), 100_000):
        chunk = rows[start : start + 100_000]
        out[start : start + len(chunk)] = real[chunk] + noise * spread * rng.standard_normal(
            (len(chunk), real.shape[1]), dtype=np.float32
        )
    return out


def _exact_top(reps: np.ndarray, query: np.ndarray, k: int) -> np.ndarray:
    scores = reps @ query
    top = np.argpartition(-scores, k - 1)[:k]
    return top[np.argsort(-scores[top])]


def _recall(found: list[Any], exact: list[set[Any]]) -> float:
    return round(float(np.mean([len(set(list(f)) & t) / K for f, t in zip(found, exact, strict=True)])), 4)


def _timed(call: Any, repeat: int) -> dict[str, Any]:
    cpu = time.process_time()
    stats = percentiles(latencies_ms(call, repeat=repeat, warmup=3))
    stats["cpu_ms"] = round((time.process_time() - cpu) * 1000 / (repeat + 3), 3)
    return stats


def run(bench: Bench) -> dict[str, Any]:
    from benchmarks.scaling_bench import resample_index
    from benchmarks.serve_bench import candidate_pool
    from models.pairs import RETRIEVAL

    bounds = bench.bounds
    n = bounds.ann_graduates
    matcher = bench.model().matcher
    base = matcher.index(candidate_pool(bench.data()))
    start = time.perf_counter()
    index = replace(resample_index(base, graduates=n), ann=None)  # exact; the approximate one below
    resample_s = time.perf_counter() - start
    rng = random.Random(7)
    open_rows = np.flatnonzero(base.vacancies.open)
    v_rows = [int(rng.choice(open_rows)) for _ in range(bounds.ann_queries)]
    v_ids = [str(base.vacancies.ids.ids[r]) for r in v_rows]
    drawn = np.random.default_rng(n).integers(0, len(base.graduates), size=n)  # as resample_index draws
    reps = synthetic_reps(base.graduates.arrays[RETRIEVAL], drawn, seed=7)
    index.graduates.arrays[RETRIEVAL] = reps
    queries = np.ascontiguousarray(base.vacancies.arrays[RETRIEVAL][v_rows], dtype=np.float32)
    # As the service runs (service/app.py): one BLAS/OpenMP thread; requests run in parallel, not the math.
    limiter = threadpool_limits(limits=1)
    rows: list[dict[str, Any]] = []
    state = {"i": 0}

    def full() -> Any:
        state["i"] += 1
        return matcher.candidates_for(v_ids[state["i"] % len(v_ids)], index=index, limit=K)

    def exact() -> Any:
        state["i"] += 1
        return _exact_top(reps, queries[state["i"] % len(queries)], K)

    for name, call in (("full query, exact (candidates_for)", full), ("retrieval only, exact", exact)):
        cpu = time.process_time()
        stats = percentiles(latencies_ms(call, repeat=bounds.ann_queries, warmup=3))
        stats["cpu_ms"] = round((time.process_time() - cpu) * 1000 / (bounds.ann_queries + 3), 3)
        rows.append({"way": name, **stats, "recall_at_20": 1.0})
        bench.say(f"  {name}: p50 {stats['p50_ms']:.1f} ms, p99 {stats['p99_ms']:.1f} ms")

    ann: dict[str, Any] = {}
    config = matcher.config
    options = AnnOptions(min_pool=0, ef=config.ann_ef, shortlist=config.ann_shortlist, seed=config.seed)
    if hnswlib_module() is None:
        ann = {"skipped": "hnswlib is not installed (pip install -e '.[ann]')"}
        bench.say("  hnswlib not installed: approximate index skipped")
    else:
        exact_tops = [set(_exact_top(reps, q, K).tolist()) for q in queries]
        exact_full = [
            [m.graduate_id for m in matcher.candidates_for(v, index=index, limit=K).items] for v in v_ids
        ]
        start = time.perf_counter()
        graduates = index.graduates
        built = graduate_ann(graduates, options, reps=reps)
        assert built is not None
        build_s = time.perf_counter() - start
        approx_index = replace(index, ann=built)
        bench.say(
            f"  hnswlib: {options.bands} norm bands over {len(reps):,} x {reps.shape[1]} in {build_s:.0f} s"
        )
        ids = graduates.ids
        for ef, shortlist in SETTINGS:
            built.configure(ef=ef, shortlist=shortlist)

            def shortlisted(q: np.ndarray) -> np.ndarray:
                found = ids.rows(built.candidate_ids(q))
                return found[_exact_top(reps[found], q, K)]

            found = [shortlisted(q) for q in queries]
            recall = _recall(found, exact_tops)

            def approx() -> Any:
                state["i"] += 1
                return shortlisted(queries[state["i"] % len(queries)])

            stats = _timed(approx, bounds.ann_queries)
            rows.append(
                {
                    "way": f"retrieval only, hnswlib ef={ef} shortlist={shortlist}",
                    **stats,
                    "recall_at_20": recall,
                }
            )
            answers = [
                [m.graduate_id for m in matcher.candidates_for(v, index=approx_index, limit=K).items]
                for v in v_ids
            ]
            full_recall = _recall(answers, [set(a) for a in exact_full])

            def full_approx() -> Any:
                state["i"] += 1
                return matcher.candidates_for(v_ids[state["i"] % len(v_ids)], index=approx_index, limit=K)

            stats = _timed(full_approx, bounds.ann_queries)
            rows.append(
                {
                    "way": f"full query, approximate ef={ef} shortlist={shortlist}",
                    **stats,
                    "recall_at_20": full_recall,
                }
            )
            bench.say(
                f"  ef={ef} shortlist={shortlist}: retrieval recall@20 {recall:.3f}; full query p99 "
                f"{stats['p99_ms']:.1f} ms, recall@20 {full_recall:.3f}"
            )
        ann = {
            "M": options.m,
            "ef_construction": options.ef_construction,
            "bands": options.bands,
            "build_s": round(build_s, 1),
            "build_threads": 1,
            "product_defaults": {"ef": options.ef, "shortlist": options.shortlist},
        }

    print_table(
        f"{n:,} graduates (resampled from the {bench.scale} pool), vectors of {reps.shape[1]} dims, "
        f"{bounds.ann_queries} random open vacancies",
        rows,
    )
    payload = {
        "graduates": n,
        "dims": int(reps.shape[1]),
        "resample_s": round(resample_s, 1),
        "rows": rows,
        "hnswlib": ann,
        "targets": TARGETS,
    }
    limiter.restore_original_limits()
    bench.write("ann", payload)
    return payload
