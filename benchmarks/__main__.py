"""``python -m benchmarks --scale small|medium|large [--only import,train,serve,http,placement,...]``.

Runs the benchmarks of one scale in order, each printing a table and writing
``benchmarks/results/<benchmark>-<scale>.json`` (with machine info and the load average); ``--only`` takes
any of :data:`BENCHMARKS` (``ann`` and ``quality`` run only when named). The demo world and
the trained model are cached under ``var/bench/`` (the first large run generates 200k graduates and 3M
interactions: several minutes). ``make bench`` runs the small scale.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.world import CACHE_ROOT, SCALES, Bench

BENCHMARKS = (
    "import",
    "train",
    "serve",
    "freshness",
    "http",
    "mixed",
    "replicas",
    "placement",
    "scaling",
    "ann",
    "quality",
)
DEFAULT = ("import", "train", "serve", "freshness", "http", "mixed", "replicas", "placement", "scaling")


def _runner(name: str) -> Callable[[Bench], Any]:
    if name == "import":
        from benchmarks.import_bench import run_demo as run
    elif name == "train":
        from benchmarks.train_bench import run
    elif name == "serve":
        from benchmarks.serve_bench import run
    elif name == "http":
        from benchmarks.http_bench import run
    elif name == "freshness":
        from benchmarks.freshness_bench import run
    elif name == "mixed":
        from benchmarks.mixed_bench import run
    elif name == "replicas":
        from benchmarks.replica_bench import run
    elif name == "placement":
        from benchmarks.placement_bench import run_bench as run
    elif name == "scaling":
        from benchmarks.scaling_bench import run
    elif name == "ann":
        from benchmarks.ann_bench import run
    elif name == "quality":
        from benchmarks.quality_bench import run
    else:  # pragma: no cover - argparse checks the names
        raise ValueError(name)
    return run


def _names(value: str) -> list[str]:
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown benchmark(s) {unknown}; choose from {', '.join(BENCHMARKS)}"
        )
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=SCALES, default="small")
    parser.add_argument(
        "--only",
        type=_names,
        default=list(DEFAULT),
        help=f"comma-separated subset of {','.join(BENCHMARKS)} (default: all but ann and quality)",
    )
    parser.add_argument(
        "--cache-dir", type=Path, default=CACHE_ROOT, help="demo worlds and models (var/bench)"
    )
    parser.add_argument("--results-dir", type=Path, default=None, help="where JSON goes (benchmarks/results)")
    args = parser.parse_args(argv)

    # A terminated run still stops the server it started (the HTTP benchmark's ``finally``).
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    bench = Bench(args.scale, cache_root=args.cache_dir, results_dir=args.results_dir)
    names = [n for n in BENCHMARKS if n in args.only]
    failed = []
    started = time.perf_counter()
    for name in names:
        bench.say(f"\n=== {name} ({args.scale}; load average {os.getloadavg()[0]:.1f}) ===")
        tick = time.perf_counter()
        try:
            _runner(name)(bench)
        except Exception as error:  # noqa: BLE001 - report and go on with the next benchmark
            import traceback

            traceback.print_exc()
            failed.append(f"{name}: {error!r}")
        bench.say(f"({name} took {time.perf_counter() - tick:.0f} s)")
    bench.say(f"\nall done in {time.perf_counter() - started:.0f} s")
    if failed:
        print("FAILED:\n  " + "\n  ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
