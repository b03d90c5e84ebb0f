"""Training cost: LightFM, the ranker, the whole ``Matcher.fit``; peak memory; artifact size.

``Matcher.fit`` fits LightFM twice per orientation (once on the events before the ranker's example window,
once on everything for serving), builds the ranker's examples and fits the gradient-boosted ranker. The
LightFM fits and the ranker fit are timed by wrapping them for the duration of the run (the matcher's code
is unchanged). LightFM throughput is positive pairs x epochs / seconds, per orientation.

    .venv/bin/python -m benchmarks --scale medium --only train
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.common import peak_rss_mb, print_table
from benchmarks.world import Bench
from models.data import MarketData


@contextmanager
def _timing_hooks(log: dict[str, list[dict[str, float]]]) -> Iterator[None]:
    """Wrap ``models.matcher.fit_hybrids`` and ``PairRanker.fit`` to record how long each call took."""
    import models.matcher as matcher_module
    from models.ranker import PairRanker

    original_hybrids = matcher_module.fit_hybrids
    original_ranker_fit = PairRanker.fit

    def fit_hybrids(config: Any, features: Any, graduates: Any, vacancies: Any, positives: Any, **kw: Any):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        result = original_hybrids(config, features, graduates, vacancies, positives, **kw)
        log["lightfm"].append(
            {"seconds": time.perf_counter() - start, "pairs": float(len(positives)), "epochs": config.epochs}
        )
        return result

    def ranker_fit(self: Any, X: Any, y: Any, *args: Any, **kw: Any) -> Any:
        start = time.perf_counter()
        result = original_ranker_fit(self, X, y, *args, **kw)
        log["ranker"].append({"seconds": time.perf_counter() - start, "examples": float(len(X))})
        return result

    matcher_module.fit_hybrids = fit_hybrids  # type: ignore[assignment]
    PairRanker.fit = ranker_fit  # type: ignore[method-assign]
    try:
        yield
    finally:
        matcher_module.fit_hybrids = original_hybrids
        PairRanker.fit = original_ranker_fit  # type: ignore[method-assign]


def fit_timed(data: MarketData, config: Any) -> tuple[Any, dict[str, Any]]:
    """Fit a :class:`~models.matcher.Matcher` on ``data``; returns it and the timings."""
    from models.matcher import Matcher

    log: dict[str, list[dict[str, float]]] = {"lightfm": [], "ranker": []}
    cpu_start = time.process_time()
    start = time.perf_counter()
    with _timing_hooks(log):
        matcher = Matcher(config).fit(data)
    total = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    lightfm_s = sum(c["seconds"] for c in log["lightfm"])
    ranker_s = sum(c["seconds"] for c in log["ranker"])
    # Each fit_hybrids call is two LightFM fits (one per orientation) over the same positive pairs.
    pair_epochs = sum(2 * c["pairs"] * c["epochs"] for c in log["lightfm"])
    timings = {
        "total_s": round(total, 2),
        "cpu_s": round(cpu, 2),
        "lightfm_s": round(lightfm_s, 2),
        "lightfm_fits": 2 * len(log["lightfm"]),
        "lightfm_pairs": [int(c["pairs"]) for c in log["lightfm"]],
        "lightfm_epochs": config.epochs,
        "lightfm_pairs_per_s": round(pair_epochs / lightfm_s) if lightfm_s else None,
        "ranker_s": round(ranker_s, 2),
        "ranker_examples": int(sum(c["examples"] for c in log["ranker"])),
        "other_s": round(total - lightfm_s - ranker_s, 2),
    }
    return matcher, timings


def _size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def run(bench: Bench) -> dict[str, Any]:
    from training.registry import Registry

    data = bench.data()
    rss_before = peak_rss_mb()
    config = bench.matcher_config()
    bench.say(f"training on {len(data.interactions):,} interactions ({bench.scale}) ...")
    matcher, timings = fit_timed(data, config)
    version = bench.save_model(matcher)
    artifact_mb = _size_mb(Registry(bench.artifacts_dir).version_dir(version))
    row = {
        "graduates": len(data.graduates),
        "vacancies": len(data.vacancies),
        "interactions": len(data.interactions),
        **{k: v for k, v in timings.items() if k not in ("lightfm_pairs",)},
        "peak_rss_mb": round(peak_rss_mb()),
        "artifact_mb": round(artifact_mb, 1),
    }
    print_table(f"Training (Matcher.fit, {bench.scale}; {os.cpu_count()} cores)", [row])
    payload = {
        "counts": data.counts(),
        "config": config.to_dict(),
        "timings": timings,
        "peak_rss_mb": round(peak_rss_mb()),
        "peak_rss_before_training_mb": round(rss_before),
        "artifact_mb": round(artifact_mb, 2),
        "model_version": version,
        "target": {"training_large_max_s": 600},
    }
    bench.write("train", payload)
    return payload
