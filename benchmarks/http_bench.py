"""Serving over HTTP: ``talentmatch serve`` on 127.0.0.1 under a lean load generator (``benchmarks.loadgen``).

Uses a SQLite store holding the scale's demo world (``<cache>/<scale>/store.db``, imported once) and the
benchmark model (``<cache>/<scale>/artifacts``). Starts ``talentmatch serve`` on a free loopback port (one
uvicorn worker, as shipped; the per-key rate limit is raised so it does not cap the load), creates a
throw-away admin key, then measures ``GET /api/v1/vacancies/{id}/candidates`` (random open vacancies):

- the first request (the service builds its candidate index),
- concurrency 1: sequential requests (bounded by count and time),
- concurrency 8: eight async clients for the scale's duration (30 s at medium/large), bounded in count too.

Reports requests/s, p50/p99 and errors (any non-200 or transport error). The load generator runs on the same
2 cores as the server, so the throughput is a lower bound.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from benchmarks import loadgen
from benchmarks.common import print_table
from benchmarks.world import Bench

TARGETS = {"c1_p99_ms": 30.0, "c8_requests_per_s": 300.0, "c8_errors": 0}
# Where the server's time goes under load (py-spy samples of active threads, when py-spy is installed): a
# sample counts for the first bucket, in this order, with a marker anywhere in its stack.
BUCKETS = (
    ("ranker (trees, contributions)", ("models/ranker.py",)),
    ("retrieval and pair features", ("_retrieval_scores", "_retrieve", "pair_features", "skill_coverage")),
    ("matcher, other", ("models/",)),
    ("audit write", ("audit.py",)),
    ("store reads (data version, vacancy)", ("sqlalchemy",)),
    ("response models (pydantic)", ("pydantic", "fastapi/routing.py", "encoders.py")),
    ("HTTP and framework", ("uvicorn", "starlette", "fastapi", "h11", "asyncio", "anyio")),
)
CONCURRENCY = 8
HOST = "127.0.0.1"  # loopback only


def ensure_store(bench: Bench) -> Path:
    """The scale's SQLite store with the demo world imported (imported here when missing)."""
    from service.store.market import import_market
    from service.store.migrate import upgrade
    from service.store.session import make_engine, transaction

    path = bench.store_path
    ready = path.with_suffix(".ready")
    if ready.exists() and path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    bench.say(f"importing the {bench.scale} world into {path} ...")
    engine = make_engine(f"sqlite:///{path.resolve()}")
    try:
        upgrade(engine)
        with transaction(engine) as session:
            import_market(session=session, data=bench.data())
    finally:
        engine.dispose()
    ready.touch()
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _talentmatch() -> tuple[list[str], Path]:
    """``talentmatch`` run from the same source tree as this benchmark (e.g. a clean worktree of a commit,
    not whatever the editable install points at), and that tree's root as the working directory."""
    import service

    root = Path(service.__file__).resolve().parents[1]
    return [sys.executable, "-c", "import sys; from service.cli import main; sys.exit(main())"], root


def wait_ready(
    base: str, process: subprocess.Popen[bytes], timeout: float, *, log: Path | None = None
) -> None:
    """Poll ``/healthz`` until a trained model (not the keyword fallback) serves; RuntimeError otherwise
    (with the end of the server's ``log`` when given)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = "" if log is None else ":\n" + log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"talentmatch serve exited during start-up (code {process.returncode}){tail}")
        try:
            health = httpx.get(f"{base}/healthz", timeout=5).json()
            if health.get("model_version") and not health.get("model_fallback"):
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"talentmatch serve did not come up with a model within {timeout:.0f} s")


def warm_every_worker(base: str, headers: dict[str, str], paths: list[str], n: int) -> None:
    """``n`` requests for ``paths`` (in turn), each on a connection of its own (``Connection: close``), so
    that every worker of a server builds its candidate index before a measurement. A kept-alive connection
    stays with one worker: warmed over one, the mixed benchmark's second worker built its index inside the
    measured run (191 requests/s, one worker's rate, p99 66 ms). The kernel spreads new connections over the
    workers' sockets at random: with ``n`` of them every worker of two is reached unless ``n`` coin tosses
    all fall the same way (1 in 2**(n-1))."""
    for path in (paths * (n // max(len(paths), 1) + 1))[:n]:
        response = httpx.get(f"{base}{path}", headers={**headers, "Connection": "close"}, timeout=900)
        response.raise_for_status()


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """Terminate ``talentmatch serve`` and wait for it; kill it if it does not stop within 30 s."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def served(env: dict[str, str], log: Path, *, workers: int = 1) -> Iterator[str]:
    """``talentmatch serve`` (this source tree, ``workers`` workers) with ``env`` on a free port, its output
    in ``log``; yields the base URL once a trained model serves, and stops the server afterwards."""
    port = free_port()
    base = f"http://{HOST}:{port}"
    command, root = _talentmatch()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "serve", "--host", HOST, "--port", str(port), "--workers", str(workers)],
            cwd=root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_ready(base, process, timeout=600, log=log)
            yield base
        finally:
            stop_server(process)


def _start_profiler(pid: int, seconds: float) -> tuple[subprocess.Popen[bytes], Path] | None:
    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists() or seconds < 5:
        return None
    out = Path(f"/tmp/talentmatch-http-bench-{pid}.raw")
    command = [str(spy), "record", "-p", str(pid), "-d", str(int(seconds) - 2), "-r", "100"]
    command += ["--format", "raw", "-o", str(out), "--nonblocking"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return process, out


def _finish_profiler(profiler: tuple[subprocess.Popen[bytes], Path] | None) -> dict[str, Any] | None:
    """Shares of the server's samples per bucket (see ``BUCKETS``); None without py-spy."""
    if profiler is None:
        return None
    process, out = profiler
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        return None
    if not out.exists():
        return None
    counts: dict[str, int] = {}
    total = 0
    for line in out.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit() or "ModelHolder._poll" in stack:
            continue  # request handling only (py-spy leaves idle threads out)
        frames = stack.split(";")
        bucket = next(
            (name for name, markers in BUCKETS for f in frames if any(m in f for m in markers)), "other"
        )
        counts[bucket] = counts.get(bucket, 0) + int(count)
        total += int(count)
    out.unlink(missing_ok=True)
    buckets = [
        {"bucket": name, "samples": n, "share": round(n / total, 3)}
        for name, n in sorted(counts.items(), key=lambda kv: -kv[1])
    ]
    return {"samples": total, "buckets": buckets}


def run(bench: Bench) -> dict[str, Any]:
    from sqlalchemy import select

    from service.store.api_keys import create_api_key, revoke_api_key
    from service.store.session import make_engine, transaction
    from service.store.tables import Graduate, Vacancy

    bounds = bench.bounds
    store = ensure_store(bench)
    loaded = bench.model()
    url = f"sqlite:///{store.resolve()}"
    engine = make_engine(url)
    with transaction(engine) as session:
        key, plaintext = create_api_key(session=session, role="admin", name="http benchmark")
        key_id = key.key_id
        vacancy_ids = sorted(session.scalars(select(Vacancy.vacancy_id).where(Vacancy.status == "open")))
        seeking = len(list(session.scalars(select(Graduate.graduate_id).where(Graduate.status == "seeking"))))
    headers = {"Authorization": f"Bearer {plaintext}"}
    paths = [f"/api/v1/vacancies/{v}/candidates?limit=20" for v in vacancy_ids]
    port = free_port()
    base = f"http://{HOST}:{port}"
    env = {
        **os.environ,
        "TALENTMATCH_DATABASE_URL": url,
        "TALENTMATCH_ARTIFACTS_DIR": str(bench.artifacts_dir.resolve()),
        "TALENTMATCH_RATE_LIMIT_PER_MINUTE": "100000000",
    }
    log_path = bench.store_path.with_name("serve.log")
    rows: list[dict[str, Any]] = []
    with log_path.open("wb") as log:
        command, root = _talentmatch()
        process = subprocess.Popen(
            [*command, "serve", "--host", HOST, "--port", str(port)],
            cwd=root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            started = time.perf_counter()
            wait_ready(base, process, timeout=600)
            startup_s = time.perf_counter() - started
            start = time.perf_counter()
            first = httpx.get(f"{base}{paths[0]}", headers=headers, timeout=900)
            first_ms = (time.perf_counter() - start) * 1000
            if first.status_code != 200:
                raise RuntimeError(f"first request answered {first.status_code}: {first.text[:300]}")
            sequential = asyncio.run(
                loadgen.load(
                    base,
                    headers,
                    paths,
                    clients=1,
                    seconds=bounds.http_seconds,
                    max_requests=bounds.http_sequential,
                )
            )
            rows.append({"case": "concurrency 1", **sequential})
            profiler = _start_profiler(process.pid, bounds.http_seconds)
            concurrent = asyncio.run(
                loadgen.load(
                    base,
                    headers,
                    paths,
                    clients=CONCURRENCY,
                    seconds=bounds.http_seconds,
                    max_requests=bounds.http_max_requests,
                )
            )
            rows.append({"case": f"concurrency {CONCURRENCY}", **concurrent})
            profile = _finish_profiler(profiler)
        finally:
            stop_server(process)
            with transaction(engine) as session:
                revoke_api_key(session=session, key_id=key_id)
            engine.dispose()
    print_table(
        f"GET /api/v1/vacancies/{{id}}/candidates over HTTP, {bench.scale}: {seeking:,} seeking graduates, "
        f"{len(vacancy_ids):,} open vacancies "
        f"(server start {startup_s:.1f} s, first request {first_ms:.0f} ms)",
        [{k: v for k, v in row.items() if k != "error_kinds"} for row in rows],
    )
    payload = {
        "seeking_graduates": seeking,
        "open_vacancies": len(vacancy_ids),
        "model_version": loaded.version,
        "server": "talentmatch serve (uvicorn, 1 worker), SQLite store",
        "startup_s": round(startup_s, 2),
        "first_request_ms": round(first_ms, 1),
        "rows": rows,
        "server_profile_at_concurrency_8": profile,
        "targets": TARGETS,
    }
    if profile:
        print_table("Where the server's time went at concurrency 8 (py-spy samples)", profile["buckets"])
    bench.write("http", payload)
    return payload
