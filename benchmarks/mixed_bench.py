"""Reads while HR writes, and two workers: ``talentmatch serve`` on 127.0.0.1, side by side in one run.

On a private copy of the scale's SQLite store (the cached one stays as it is) with the benchmark model,
``GET /api/v1/vacancies/{id}/candidates`` (random open vacancies) is measured in three cases, each for the
scale's duration:

- **read-only**: one worker, 2 clients;
- **with a writer**: one worker, the same 2 clients, and one more client that every 0.5 s posts a vacancy
  and records an outcome (``shortlisted`` for a candidate of an open vacancy) — every write moves the data
  version, so this shows what a trickle of HR activity costs the readers;
- **2 workers**: ``--workers 2``, 8 clients, read-only.

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
from benchmarks.http_bench import ensure_store, served
from benchmarks.loadgen import load
from benchmarks.world import Bench

TARGETS = {
    "writer_throughput_ratio": 0.8,
    "writer_p99_ratio": 2.0,
    "two_workers_requests_per_s": 300.0,
    "two_workers_p99_ms": 50.0,
}
WRITE_EVERY_S = 0.5


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


def _warm(base: str, headers: dict[str, str], paths: list[str], n: int) -> None:
    """First requests build each worker's candidate index; not measured. Each on a connection of its own
    (``Connection: close``): a kept-alive connection stays with one worker, so the other built its index
    during the measured run (the 2-worker case measured 191 requests/s, one worker's rate, p99 66 ms).
    The kernel spreads new connections over the workers' sockets at random: with ``n`` of them every
    worker of two is reached unless ``n`` coin tosses all fall the same way."""
    for path in (paths * (n // max(len(paths), 1) + 1))[:n]:
        response = httpx.get(f"{base}{path}", headers={**headers, "Connection": "close"}, timeout=900)
        response.raise_for_status()


def _writer(
    base: str, headers: dict[str, str], open_ids: list[str], stop: threading.Event, done: list[dict[str, Any]]
) -> None:
    """Every WRITE_EVERY_S: post a vacancy, then record ``shortlisted`` for a candidate of an open vacancy."""
    rng = random.Random(7)
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        while not stop.is_set():
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
            stop.wait(max(0.0, WRITE_EVERY_S - (time.perf_counter() - started)))


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
            _warm(base, headers, paths, 3)
            rows.append(
                {
                    "case": "1 worker, 2 clients, read-only",
                    **_read(base, headers, paths, clients=2, bench=bench),
                }
            )
            stop, writes = threading.Event(), list[dict[str, Any]]()
            writer = threading.Thread(
                target=_writer, args=(base, headers, open_ids, stop, writes), daemon=True
            )
            writer.start()
            try:
                mixed = _read(base, headers, paths, clients=2, bench=bench)
            finally:
                stop.set()
                writer.join(60)
            failed = len([w for w in writes if w["post"] != 201 or w["outcome"] not in (200, 201, None)])
            write_ms = percentiles([w["ms"] for w in writes] or [float("nan")])
            rows.append(
                {
                    "case": f"1 worker, 2 clients, a writer every {WRITE_EVERY_S} s",
                    **mixed,
                    "writes": len(writes),
                    "write_errors": failed,
                    "write_p50_ms": write_ms["p50_ms"],
                }
            )
        with serving(bench, store, workers=2) as base:
            _warm(base, headers, paths, 40)  # each worker builds its own index
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
        "Against the targets",
        [{"measure": k, "measured": v, "target": TARGETS[k]} for k, v in ratios.items()],
    )
    payload = {
        "seeking_graduates": seeking,
        "open_vacancies": len(open_ids),
        "model_version": loaded.version,
        "server": "talentmatch serve (uvicorn), a private copy of the SQLite store",
        "rows": rows,
        "ratios": ratios,
        "targets": TARGETS,
    }
    bench.write("mixed", payload)
    return payload
