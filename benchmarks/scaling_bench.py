"""How the cost of one query grows with the number of graduates and vacancies.

The index of the scale's candidate pool is resampled to N graduates (or N vacancies): rows drawn with
replacement from the real ones, given fresh ids (:func:`resample_index`), so every array the query touches
has realistic content at any size without building a 1M-row world. For each size: p50/p99 of
``candidates_for`` (a random open vacancy against N graduates) and ``vacancies_for`` (a random graduate
against N vacancies), the peak memory one query allocates (``tracemalloc``; numpy reports its buffers to it)
and the index's memory. Writes ``scaling-<scale>.json`` and a plot ``scaling-<scale>.png``.
"""

from __future__ import annotations

import dataclasses
import random
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from benchmarks.common import RESULTS_DIR, latencies_ms, percentiles, print_table
from benchmarks.world import Bench
from models.ids import IdMap
from models.index import NOT_ROW_FIELDS


def _take(value: Any, rows: np.ndarray) -> Any:
    if isinstance(value, dict):
        return {k: _take(v, rows) for k, v in value.items()}
    return value[rows]


def resample_block(block: Any, n: int, *, prefix: str, seed: int) -> Any:
    """A block of ``n`` rows drawn with replacement from ``block`` (ids ``<prefix>0000001``...)."""
    rows = np.random.default_rng(seed).integers(0, len(block), size=n)
    values = {}
    for f in dataclasses.fields(block):
        value = getattr(block, f.name)
        if f.name in NOT_ROW_FIELDS:
            continue  # not one value per row: the resampled block is in row order, over its own arrays
        if f.name == "ids":
            values[f.name] = IdMap(np.char.add(prefix, np.arange(n).astype(str)).astype(object))
        else:
            values[f.name] = _take(value, rows)
    return type(block)(**values)


def resample_index(index: Any, *, graduates: int | None = None, vacancies: int | None = None) -> Any:
    """A copy of ``index`` with its graduate and/or vacancy block resampled to the given sizes."""
    copy = dataclasses.replace(index)
    if graduates is not None:
        copy.graduates = resample_block(index.graduates, graduates, prefix="SG", seed=graduates)
    if vacancies is not None:
        copy.vacancies = resample_block(index.vacancies, vacancies, prefix="SV", seed=vacancies)
    return copy


def block_mb(block: Any) -> float:
    total = 0
    for f in dataclasses.fields(block):
        value = getattr(block, f.name)
        values = value.values() if isinstance(value, dict) else [value]
        for v in values:
            if isinstance(v, np.ndarray):
                total += v.nbytes
            elif sp.issparse(v):
                total += v.data.nbytes + v.indices.nbytes + v.indptr.nbytes
    return total / 2**20


def query_peak_mb(call: Callable[[], object], repeat: int = 3) -> float:
    """Largest peak of memory allocated during one call (over a few calls)."""
    peaks = []
    for _ in range(repeat):
        tracemalloc.start()
        try:
            call()
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    return max(peaks) / 2**20


def _measure(call: Callable[[], object], queries: int) -> dict[str, Any]:
    cpu = time.process_time()
    stats = percentiles(latencies_ms(call, repeat=queries, warmup=2))
    stats["cpu_ms"] = round((time.process_time() - cpu) * 1000 / (queries + 2), 3)
    stats["query_peak_mb"] = round(query_peak_mb(call), 2)
    return stats


def run(bench: Bench) -> dict[str, Any]:
    from benchmarks.serve_bench import candidate_pool
    from models.results import VacancyFilters
    from training.demo import DEFAULT_AS_OF

    bounds = bench.bounds
    matcher = bench.model().matcher
    base = matcher.index(candidate_pool(bench.data()))
    rng = random.Random(7)
    filters = VacancyFilters(as_of=DEFAULT_AS_OF)
    open_rows = np.flatnonzero(base.vacancies.open)
    # As the service runs (service/app.py): one BLAS/OpenMP thread; requests run in parallel, not the math.
    limiter = threadpool_limits(limits=1)
    rows: list[dict[str, Any]] = []
    for n in bounds.scaling_graduates:
        index = resample_index(base, graduates=n)
        vacancy_ids = [str(base.vacancies.ids.ids[rng.choice(open_rows)]) for _ in range(50)]
        state = {"i": 0}

        def candidates(
            index: Any = index, ids: list[str] = vacancy_ids, state: dict[str, int] = state
        ) -> Any:
            state["i"] += 1
            return matcher.candidates_for(ids[state["i"] % len(ids)], index=index, limit=20)

        stats = _measure(candidates, bounds.scaling_queries)
        rows.append(
            {
                "query": "candidates",
                "graduates": n,
                "vacancies": len(index.vacancies),
                **{k: stats[k] for k in ("p50_ms", "p99_ms", "cpu_ms", "query_peak_mb")},
                "index_mb": round(block_mb(index.graduates) + block_mb(index.vacancies), 1),
            }
        )
        bench.say(f"  candidates against {n:,} graduates: p50 {stats['p50_ms']:.1f} ms")
    for n in bounds.scaling_vacancies:
        index = resample_index(base, vacancies=n)
        graduate_ids = [str(base.graduates.ids.ids[rng.randrange(len(base.graduates))]) for _ in range(50)]
        state = {"i": 0}

        def recommendations(
            index: Any = index, ids: list[str] = graduate_ids, state: dict[str, int] = state
        ) -> Any:
            state["i"] += 1
            return matcher.vacancies_for(ids[state["i"] % len(ids)], index=index, limit=10, filters=filters)

        stats = _measure(recommendations, bounds.scaling_queries)
        rows.append(
            {
                "query": "recommendations",
                "graduates": len(index.graduates),
                "vacancies": n,
                **{k: stats[k] for k in ("p50_ms", "p99_ms", "cpu_ms", "query_peak_mb")},
                "index_mb": round(block_mb(index.graduates) + block_mb(index.vacancies), 1),
            }
        )
        bench.say(f"  recommendations against {n:,} vacancies: p50 {stats['p50_ms']:.1f} ms")
    print_table(f"Cost per query as the pool grows ({bench.scale} model, resampled pools)", rows)
    plot = plot_scaling(rows, (bench.results_dir or RESULTS_DIR) / f"scaling-{bench.scale}.png")
    payload = {"rows": rows, "plot": plot.name}
    limiter.restore_original_limits()
    bench.write("scaling", payload)
    return payload


def plot_scaling(rows: list[dict[str, Any]], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for query, size_key, color in (("candidates", "graduates", "C0"), ("recommendations", "vacancies", "C1")):
        sel = [r for r in rows if r["query"] == query]
        if not sel:
            continue
        x = [r[size_key] for r in sel]
        label = f"{query} (x = {size_key})"
        axes[0].plot(x, [r["p50_ms"] for r in sel], "o-", color=color, label=f"{label}, p50")
        axes[0].plot(x, [r["p99_ms"] for r in sel], "o--", color=color, alpha=0.6, label=f"{label}, p99")
        axes[1].plot(x, [r["query_peak_mb"] for r in sel], "o-", color=color, label=label)
    for ax, title, unit in ((axes[0], "latency per query", "ms"), (axes[1], "memory per query", "MiB")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("pool size")
        ax.set_ylabel(unit)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
