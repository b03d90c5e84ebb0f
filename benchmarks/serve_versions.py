"""Serving CPU of two commits side by side: each fitted with its own defaults on the same demo world, then
measured in alternating fresh processes.

    .venv/bin/python -m benchmarks.serve_versions BEFORE AFTER [--scale small] [--rounds 3]

For a change of the model itself (issue 12's "serving latency no worse"), where the serving benchmark of one
commit cannot show the other. Each commit is checked out with ``git worktree`` under the cache directory and
its code imported from there (the virtualenv's libraries are shared); the world is generated once by this
checkout and handed to both as pickled frames. A round runs, per commit, 400 seeded random queries of each
case on one BLAS thread and reports the CPU time per request (``time.process_time``), so other work on the
machine inflates both alike; the JSON in ``benchmarks/results/serve-versions-<scale>.json`` records the load.
"""

from __future__ import annotations

import argparse
import json
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.common import machine_info, print_table, write_result

CASES = ("candidates", "suggestions")
QUERIES = 400

# Run inside a worktree's checkout: ``python -c CHILD SRC DATA MODEL fit|measure``.
CHILD = r"""
import os, pickle, random, sys, time, json
src, data_path, model_path, mode = sys.argv[1:5]
sys.path.insert(0, src)
from threadpoolctl import threadpool_limits
from models.columns import Columns as C
from models.data import MarketData
if mode == "fit":
    from models.matcher import Matcher
    frames = pickle.load(open(data_path, "rb"))
    data = MarketData(**frames)
    graduates = data.graduates[data.graduates[C.status] == "seeking"].reset_index(drop=True)
    pool = MarketData(**{**frames, "graduates": graduates, "interactions": data.interactions.iloc[:0]})
    pickle.dump((Matcher().fit(data), pool), open(model_path, "wb"))
else:
    matcher, pool = pickle.load(open(model_path, "rb"))
    index = matcher.index(pool)
    rng = random.Random(3)
    vacancies, graduates = pool.vacancies[C.vacancy].tolist(), pool.graduates[C.graduate].tolist()
    queries = {
        "candidates": ([rng.choice(vacancies) for _ in range(QUERIES)],
                       lambda q: matcher.candidates_for(q, index=index, limit=20)),
        "suggestions": ([rng.choice(graduates) for _ in range(QUERIES)],
                        lambda q: matcher.vacancies_for(q, index=index, limit=10)),
    }
    out = {}
    with threadpool_limits(1):
        for name, (asked, call) in queries.items():
            for q in asked[:20]:
                call(q)
            cpu = []
            for q in asked:
                tick = time.process_time()
                call(q)
                cpu.append((time.process_time() - tick) * 1e3)
            cpu.sort()
            out[name] = {"p50": cpu[len(cpu) // 2], "p99": cpu[int(len(cpu) * 0.99)]}
    out["load"] = os.getloadavg()[0]
    print(json.dumps(out))
"""


def _worktree(root: Path, revision: str) -> tuple[str, Path]:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", revision], check=True, capture_output=True, text=True
    ).stdout.strip()
    path = root / f"tree-{commit}"
    if not path.exists():
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(path), commit], check=True, capture_output=True
        )
    return commit, path


def _child(tree: Path, data: Path, model: Path, mode: str, queries: int = QUERIES) -> str:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD.replace("QUERIES", str(queries)),
            str(tree),
            str(data),
            str(model),
            mode,
        ],
        check=True,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": "", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
    )
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def run(
    before: str, after: str, *, scale: str, rounds: int, cache: Path, seed: int = 7, queries: int = QUERIES
) -> dict[str, Any]:
    from training.demo import generate

    cache.mkdir(parents=True, exist_ok=True)
    data = cache / f"world-{scale}-{seed}.pickle"
    if not data.exists():
        with open(data, "wb") as handle:
            pickle.dump(generate(scale, seed).data.frames(), handle)
    trees = dict(_worktree(cache, revision) for revision in (before, after))
    for commit, tree in trees.items():
        model = cache / f"model-{commit}-{scale}-{seed}.pickle"
        if not model.exists():
            print(f"fitting {commit} on the {scale} world", flush=True)
            _child(tree, data, model, "fit")
    measured: dict[str, list[dict[str, Any]]] = {commit: [] for commit in trees}
    for r in range(rounds):
        for commit, tree in trees.items():
            model = cache / f"model-{commit}-{scale}-{seed}.pickle"
            measured[commit].append(json.loads(_child(tree, data, model, "measure", queries)))
            print(f"round {r + 1} {commit}: {measured[commit][-1]}", flush=True)
    first, second = list(trees)
    rows = []
    for case in CASES:
        for r in range(rounds):
            a, b = measured[first][r][case], measured[second][r][case]
            rows.append(
                {
                    "case": case,
                    "round": r + 1,
                    f"{first} p50/p99 ms": f"{a['p50']:.2f} / {a['p99']:.2f}",
                    f"{second} p50/p99 ms": f"{b['p50']:.2f} / {b['p99']:.2f}",
                    "ratio p50": round(b["p50"] / a["p50"], 2),
                }
            )
    print_table(f"serving CPU per request, {first} vs {second} ({scale} world)", rows)
    return {
        "machine": machine_info(),
        "scale": scale,
        "before": first,
        "after": second,
        "rounds": measured,
        "rows": rows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--scale", default="small", choices=("small", "medium"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cache-dir", type=Path, default=Path("var/bench/versions"))
    args = parser.parse_args(argv)
    payload = run(args.before, args.after, scale=args.scale, rounds=args.rounds, cache=args.cache_dir)
    write_result(f"serve-versions-{args.scale}", payload)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
