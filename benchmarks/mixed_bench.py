"""Reads while HR writes, and two workers: ``talentmatch serve`` on 127.0.0.1, side by side in one run.

On a private copy of the scale's SQLite store (the cached one stays as it is) with the benchmark model,
``GET /api/v1/vacancies/{id}/candidates`` (random open vacancies) is measured in three cases, each for the
scale's duration:

- **read-only**: one worker, 2 clients;
- **with a writer**: one worker, the same 2 clients, and one more client that every 0.5 s posts a vacancy
  and records an outcome (``shortlisted`` for a candidate of an open vacancy) — every write moves the data
  version, so this shows what a trickle of HR activity costs the readers;
- **2 workers**: ``--workers 2``, 8 clients, read-only.

The first two cases share one server and are compared side by side: :data:`ROUNDS` rounds of one window
of each (``seconds / ROUNDS`` long, the same request sequence in both, their order swapped every round), so
that a busy moment of the host falls on both cases rather than on one; each case's percentiles are of its
windows' latencies pooled, and the per-round ratios are kept beside the pooled ones.

Targets (issue 14): with a writer, read throughput ≥ 0.8 of read-only and p99 ≤ 2× read-only; 2 workers ≥ 300
requests/s with p99 ≤ 50 ms at medium. The load generator runs on the same 2 cores as the server, so
throughputs are lower bounds.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from benchmarks.common import percentiles, print_table
from benchmarks.http_bench import ensure_store, served, warm_every_worker
from benchmarks.loadgen import load, summary
from benchmarks.world import Bench

TARGETS = {
    "writer_throughput_ratio": 0.8,
    "writer_p99_ratio": 2.0,
    "two_workers_requests_per_s": 300.0,
    "two_workers_p99_ms": 50.0,
}
WRITE_EVERY_S = 0.5
ROUNDS = 6  # read-only and with-writer windows, alternated (see the module docstring)
READ_ONLY, WITH_WRITER = "read-only", "with a writer"


@contextmanager
def serving(bench: Bench, store: Path, *, workers: int) -> Iterator[str]:
    """``talentmatch serve --workers N`` on ``store``; yields its base URL once a trained model serves."""
    env = {
        **os.environ,
        "TALENTMATCH_DATABASE_URL": f"sqlite:///{store.resolve()}",
        "TALENTMATCH_ARTIFACTS_DIR": str(bench.artifacts_dir.resolve()),
        "TALENTMATCH_RATE_LIMIT_PER_MINUTE": "0",
    }
    with served(env, store.with_name(f"serve-{workers}.log"), workers=workers) as base:
        yield base


def _writer(
    base: str,
    headers: dict[str, str],
    open_ids: list[tuple[str, str]],
    stop: threading.Event,
    done: list[dict[str, Any]],
    rng: random.Random,
) -> None:
    """Every WRITE_EVERY_S until ``stop``: post a vacancy, then record ``shortlisted`` for a candidate of an
    open vacancy (what to write drawn from ``rng``). At least once, however soon ``stop`` is set: a window
    shorter than the client's start (the tiny scale's sixth of a second, on a loaded machine) still has
    its write."""
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        while True:
            started = time.perf_counter()
            posted = client.post(
                "/api/v1/vacancies",
                json={
                    "enterprise_id": rng.choice(open_ids)[1],
                    "title": "工艺技术员（基准测试）",
                    "district": "越城区",
                    "min_education": "associate",
                    "headcount": 2,
                    "required_skills": ["spc"],
                },
            )
            vacancy_id = rng.choice(open_ids)[0]
            candidates = client.get(f"/api/v1/vacancies/{vacancy_id}/candidates?limit=20")
            items = candidates.json().get("items", []) if candidates.status_code == 200 else []
            outcome = None
            if items:
                graduate_id = rng.choice(items)["graduate_id"]
                outcome = client.post(
                    f"/api/v1/vacancies/{vacancy_id}/feedback",
                    json={"graduate_id": graduate_id, "event": "shortlisted"},
                ).status_code
            done.append(
                {
                    "post": posted.status_code,
                    "outcome": outcome,
                    "ms": (time.perf_counter() - started) * 1000,
                }
            )
            if stop.wait(max(0.0, WRITE_EVERY_S - (time.perf_counter() - started))):
                return


def _read(
    base: str, headers: dict[str, str], paths: list[str], *, clients: int, bench: Bench
) -> dict[str, Any]:
    return asyncio.run(
        load(
            base,
            headers,
            paths,
            clients=clients,
            seconds=bench.bounds.http_seconds,
            max_requests=bench.bounds.http_max_requests,
        )
    )


def _side_by_side(
    base: str, headers: dict[str, str], paths: list[str], open_ids: list[tuple[str, str]], bench: Bench
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """The read-only and the with-writer case, 2 clients each, in :data:`ROUNDS` alternating windows on one
    server: (read-only row, with-writer row, each round's ratios)."""
    seconds = bench.bounds.http_seconds / ROUNDS
    cap = max(1, bench.bounds.http_max_requests // ROUNDS)
    pooled: dict[str, list[float]] = {READ_ONLY: [], WITH_WRITER: []}
    windows: dict[str, list[dict[str, Any]]] = {READ_ONLY: [], WITH_WRITER: []}
    writes: list[dict[str, Any]] = []
    rng = random.Random(7)
    for round_ in range(ROUNDS):
        cases = (READ_ONLY, WITH_WRITER) if round_ % 2 == 0 else (WITH_WRITER, READ_ONLY)
        for case in cases:
            stop = threading.Event()
            writer = None
            if case == WITH_WRITER:
                writer = threading.Thread(
                    target=_writer, args=(base, headers, open_ids, stop, writes, rng), daemon=True
                )
                writer.start()
            try:
                window = asyncio.run(
                    load(
                        base,
                        headers,
                        paths,
                        clients=2,
                        seconds=seconds,
                        max_requests=cap,
                        seed=round_,
                        samples=pooled[case],
                    )
                )
            finally:
                stop.set()
                if writer is not None:
                    writer.join(60)
            windows[case].append(window)
    rounds = [
        {
            "round": i + 1,
            "throughput_ratio": round(w["requests_per_s"] / r["requests_per_s"], 2),
            "p99_ratio": round(w["p99_ms"] / r["p99_ms"], 2),
        }
        for i, (r, w) in enumerate(zip(windows[READ_ONLY], windows[WITH_WRITER], strict=True))
    ]
    read_only = _pooled(windows[READ_ONLY], pooled[READ_ONLY])
    with_writer = _pooled(windows[WITH_WRITER], pooled[WITH_WRITER])
    failed = len([w for w in writes if w["post"] != 201 or w["outcome"] not in (200, 201, None)])
    with_writer.update(
        writes=len(writes),
        write_errors=failed,
        write_p50_ms=percentiles([w["ms"] for w in writes] or [float("nan")])["p50_ms"],
    )
    return read_only, with_writer, rounds


def _pooled(windows: list[dict[str, Any]], samples: list[float]) -> dict[str, Any]:
    """One row of :func:`~benchmarks.loadgen.load`'s shape for several windows of one case."""
    kinds: dict[str, int] = {}
    for window in windows:
        for kind, count in window["error_kinds"].items():
            kinds[kind] = kinds.get(kind, 0) + count
    cpu_ms = sum(w["client_cpu_ms_per_request"] * w["requests"] for w in windows if w["requests"])
    seconds = sum(w["seconds"] for w in windows)
    return {**summary(windows[0]["clients"], seconds, samples, kinds, cpu_ms / 1000), "windows": len(windows)}


def run(bench: Bench) -> dict[str, Any]:
    from sqlalchemy import select

    from service.store.api_keys import create_api_key
    from service.store.session import make_engine, transaction
    from service.store.tables import Graduate, Vacancy

    loaded = bench.model()
    cached = ensure_store(bench)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="talentmatch-mixed-") as folder:
        store = Path(folder) / "store.db"
        shutil.copyfile(cached, store)
        engine = make_engine(f"sqlite:///{store.resolve()}")
        with transaction(engine) as session:
            _, plaintext = create_api_key(session=session, role="admin", name="mixed benchmark")
            open_ids = [
                (v, e)
                for v, e in session.execute(
                    select(Vacancy.vacancy_id, Vacancy.enterprise_id).where(Vacancy.status == "open")
                ).all()
            ]
            seeking = len(
                list(session.scalars(select(Graduate.graduate_id).where(Graduate.status == "seeking")))
            )
        engine.dispose()
        headers = {"Authorization": f"Bearer {plaintext}"}
        paths = [f"/api/v1/vacancies/{v}/candidates?limit=20" for v, _ in sorted(open_ids)]

        with serving(bench, store, workers=1) as base:
            warm_every_worker(base, headers, paths, 40)  # first touches (caches per vacancy) left out
            read_only, with_writer, rounds = _side_by_side(base, headers, paths, open_ids, bench)
            rows.append({"case": "1 worker, 2 clients, read-only", **read_only})
            rows.append({"case": f"1 worker, 2 clients, a writer every {WRITE_EVERY_S} s", **with_writer})
        with serving(bench, store, workers=2) as base:
            warm_every_worker(base, headers, paths, 40)  # each worker builds its own index
            rows.append(
                {
                    "case": "2 workers, 8 clients, read-only",
                    **_read(base, headers, paths, clients=8, bench=bench),
                }
            )

    read_only, with_writer, two = rows
    ratios = {
        "writer_throughput_ratio": round(with_writer["requests_per_s"] / read_only["requests_per_s"], 2),
        "writer_p99_ratio": round(with_writer["p99_ms"] / read_only["p99_ms"], 2),
        "two_workers_requests_per_s": two["requests_per_s"],
        "two_workers_p99_ms": two["p99_ms"],
    }
    print_table(
        f"Candidates over HTTP while HR writes, {bench.scale}: {seeking:,} seeking graduates, "
        f"{len(open_ids):,} open vacancies",
        [{k: v for k, v in row.items() if k != "error_kinds"} for row in rows],
    )
    print_table(
        f"Each round's pair of windows ({ROUNDS} rounds, alternated), with the writer / read-only", rounds
    )
    print_table(
        "Against the targets",
        [{"measure": k, "measured": v, "target": TARGETS[k]} for k, v in ratios.items()],
    )
    payload = {
        "seeking_graduates": seeking,
        "open_vacancies": len(open_ids),
        "model_version": loaded.version,
        "server": "talentmatch serve (uvicorn), a private copy of the SQLite store",
        "rows": rows,
        "rounds": rounds,
        "ratios": ratios,
        "targets": TARGETS,
    }
    bench.write("mixed", payload)
    return payload
