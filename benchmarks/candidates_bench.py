"""Latency of ``GET /api/v1/vacancies/{id}/candidates`` against a running uvicorn server.

Uses the store and artifacts named by ``TALENTMATCH_DATABASE_URL`` / ``TALENTMATCH_ARTIFACTS_DIR`` (e.g. after
``talentmatch bootstrap --scale medium``). Starts the app under uvicorn on a free port (one worker),
creates a throw-away admin key, then measures:

- the first request (it builds the candidate index for the model and data version),
- N sequential requests for random open vacancies (p50/p99),
- the same with 2 and 4 concurrent clients,
- post a vacancy then ask for its candidates (the index is rebuilt for the new data version).

Prints a table and writes ``benchmarks/results/candidates.json``.

    TALENTMATCH_DATABASE_URL=sqlite:////tmp/tm.db TALENTMATCH_ARTIFACTS_DIR=/tmp/artifacts \\
        .venv/bin/python -m benchmarks.candidates_bench --requests 500
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import random
import subprocess
import sys
import time
from typing import Any

import httpx
from sqlalchemy import func, select

from benchmarks.common import percentiles, print_table, write_result
from benchmarks.http_bench import HOST, free_port, wait_ready
from service.settings import get_settings
from service.store.api_keys import create_api_key, revoke_api_key
from service.store.session import make_engine, transaction
from service.store.tables import Graduate, Vacancy


def _timed(client: httpx.Client, url: str, headers: dict[str, str]) -> float:
    start = time.perf_counter()
    response = client.get(url, headers=headers)
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url}: {response.status_code} {response.text[:200]}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    settings = get_settings()
    engine = make_engine(settings.database_url)
    with transaction(engine) as session:
        key, plaintext = create_api_key(session=session, role="admin", name="candidates benchmark")
        key_id = key.key_id
        vacancy_ids = list(session.scalars(select(Vacancy.vacancy_id).where(Vacancy.status == "open")))
        enterprise_id = session.scalar(select(Vacancy.enterprise_id).limit(1))
        seeking = session.scalar(
            select(func.count()).select_from(Graduate).where(Graduate.status == "seeking")
        )
    headers = {"Authorization": f"Bearer {plaintext}"}
    rng = random.Random(args.seed)
    port = free_port()
    base = f"http://{HOST}:{port}"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "service.app:create_app",
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env={**os.environ},
    )
    rows: list[dict[str, Any]] = []
    load_before = os.getloadavg()
    try:
        try:
            wait_ready(base, process, timeout=120)
        except RuntimeError as error:
            raise SystemExit(f"{error} (run `talentmatch bootstrap` first)") from None
        with httpx.Client(base_url=base, timeout=60) as client:
            first = _timed(
                client, f"/api/v1/vacancies/{vacancy_ids[0]}/candidates?limit={args.limit}", headers
            )
            sequential = [
                _timed(
                    client,
                    f"/api/v1/vacancies/{rng.choice(vacancy_ids)}/candidates?limit={args.limit}",
                    headers,
                )
                for _ in range(args.requests)
            ]
            rows.append({"case": "sequential", **percentiles(sequential)})
            for workers in (2, 4):
                urls = [
                    f"/api/v1/vacancies/{rng.choice(vacancy_ids)}/candidates?limit={args.limit}"
                    for _ in range(args.requests)
                ]
                with concurrent.futures.ThreadPoolExecutor(workers) as pool:
                    samples = list(pool.map(lambda u: _timed(client, u, headers), urls))
                rows.append({"case": f"{workers} concurrent clients", **percentiles(samples)})
            fresh = []
            for i in range(5):
                posted = client.post(
                    "/api/v1/vacancies",
                    json={
                        "enterprise_id": enterprise_id,
                        "title": f"基准岗位 {i}",
                        "district": "越城区",
                        "description": "熟悉引线键合和倒装焊工艺，有SPC经验",
                    },
                    headers=headers,
                ).json()
                fresh.append(_timed(client, f"/api/v1/vacancies/{posted['vacancy_id']}/candidates", headers))
                client.post(f"/api/v1/vacancies/{posted['vacancy_id']}/close", headers=headers)
            rows.append({"case": "first request after a post (index rebuild)", **percentiles(fresh)})
    finally:
        process.terminate()
        process.wait(timeout=30)
        with transaction(engine) as session:
            revoke_api_key(session=session, key_id=key_id)
        engine.dispose()
    print(f"{seeking} seeking graduates, {len(vacancy_ids)} open vacancies; first request {first:.0f} ms")
    print_table("GET /api/v1/vacancies/{id}/candidates (one uvicorn worker, 2 cores)", rows)
    write_result(
        "candidates",
        {
            "seeking_graduates": seeking,
            "open_vacancies": len(vacancy_ids),
            "limit": args.limit,
            "first_request_ms": round(first, 1),
            "rows": rows,
            "load_average_before_after": [load_before[0], os.getloadavg()[0]],
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
