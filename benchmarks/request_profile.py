"""Where one candidates request's time goes in the server, for two source trees side by side in one run.

``python -m benchmarks.request_profile --tree before=/tmp/old --tree after=. --scale small --scale medium``
``python -m benchmarks.request_profile --tree before=/tmp/old --tree after=. --scale medium --clients 8
--workers 2``

For each scale, every tree's server at once, each on a fresh copy of the scale's demo
store (``<cache>/<scale>/store.db``, as the HTTP benchmark imports it) and its model, ``talentmatch serve``
run from that tree (one worker, rate limit off), an admin key; the first request (index build) and a warm-up
are left out. Then ``GET /api/v1/vacancies/{id}/candidates?limit=20`` one request at a time over a kept-alive
connection, for random open vacancies (seed 7), each request sent to every server in turn so that all trees
see the same moments of a shared machine: a pass without the profiler for the latency, then a pass with
``py-spy record`` attached to every server (its samples of active threads).

Reported per tree: p50/p99 and mean ms per request (client side, unprofiled pass), the server process's CPU
time per request over that pass (every thread, from /proc), the server's sampled time
per request by stage (``STAGES``), and the functions with the most inclusive and self time per request.

With ``--clients N`` (N > 1) the trees are loaded in turn instead: ``--rounds`` rounds, each giving every tree
``--seconds`` of N concurrent clients (random open vacancies, the HTTP benchmark's load generator) while the
other trees' servers sit idle, so each tree has the machine to itself for its turn and all trees see the
same stretch of time; ``--workers W`` starts ``talentmatch serve --workers W``. Reported per tree and round:
requests/s, p50/p99; then one more round under ``py-spy record --subprocesses`` (every worker), the server's
CPU per request over it (the server and its workers, from /proc) and the stages as above.
py-spy is a measuring tool only (``pip install -e '.[bench]'``); without it only latencies are reported.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchmarks.common import percentiles, print_table, write_result
from benchmarks.http_bench import free_port, stop_server, wait_ready, warm_every_worker
from benchmarks.loadgen import CLIENTS, load
from benchmarks.world import CACHE_ROOT, SCALES, Bench

HOST = "127.0.0.1"
# Leaf functions of a waiting thread (py-spy counts some waits as active).
IDLE = frozenset(
    {"EpollSelector.select", "select", "Condition.wait", "wait", "Event.wait", "_wait_for_tstate_lock"}
)
RATE = 400  # py-spy samples per second
# A sample counts for the first stage with a marker in any of its frames (function name and file), in order.
STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("audit writer (background thread)", ("AuditBuffer._run",)),
    ("API key lookup", ("authenticate", "key_cache.py", "api_keys.py")),
    ("audit", ("audit",)),
    ("matcher (models/)", ("models/",)),
    ("snapshot and data version", ("snapshot", "data_version", "_latest")),
    ("vacancy read", ("get_vacancy",)),
    ("commit / session close", ("commit", "close (sqlalchemy", "_close_impl")),
    ("use case, other", ("usecases/",)),
    ("response model and JSON", ("pydantic", "serialize_response", "jsonable_encoder", "json", "_public")),
    ("other SQL (session, pool)", ("sqlalchemy",)),
    ("HTTP and framework", ("uvicorn", "starlette", "fastapi", "h11", "asyncio", "anyio")),
)


def _serve(
    tree: Path, env: dict[str, str], port: int, log: Path, *, workers: int = 1, extra: list[str] | None = None
) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-c", "import sys; from service.cli import main; sys.exit(main())"]
    with log.open("wb") as handle:
        return subprocess.Popen(
            [*command, "serve", "--host", HOST, "--port", str(port), "--workers", str(workers)]
            + list(extra or []),
            cwd=tree,
            env={**env, "PYTHONPATH": str(tree)},
            stdout=handle,
            stderr=subprocess.STDOUT,
        )


def _check_tree(tree: Path, env: dict[str, str]) -> None:
    """The server must import the service from ``tree``, not from the editable install."""
    out = subprocess.run(
        [sys.executable, "-c", "import service; print(service.__file__)"],
        cwd=tree,
        env={**env, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not Path(out).resolve().is_relative_to(tree.resolve()):
        raise RuntimeError(f"{tree}: the service imports from {out}")


def _requests(client: httpx.Client, paths: list[str], headers: dict[str, str]) -> list[float]:
    samples = []
    for path in paths:
        start = time.perf_counter()
        response = client.get(path, headers=headers)
        samples.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}: {response.text[:300]}")
    return samples


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all its threads) and of its live child processes (the
    workers of ``--workers N``) so far."""
    total = 0.0
    for process in [pid, *_children(pid)]:
        try:
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = task / "children"
        if children.exists():
            found += [int(c) for c in children.read_text().split()]
    return found


def _frames(stack: str) -> list[str]:
    return [f for f in stack.split(";") if f]


def summarise(raw: Path, requests: int, cpu_ms: float | None = None, top: int = 12) -> dict[str, Any]:
    """Stages, top inclusive and self functions per request from py-spy's raw (collapsed) output: each as its
    share of the samples times ``cpu_ms`` (the server's CPU per request over the profiled pass), which does
    not count a thread waiting for a core on a busy machine as work; without it, samples / rate."""
    stages: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = _frames(stack)
        if frames and frames[-1].partition(" (")[0] in IDLE:
            continue  # a thread waiting (the event loop's poll, an idle worker thread), not working
        if any("ModelHolder._poll" in f for f in frames):
            continue  # the model holder's poll of CURRENT, not the request
        n = int(count)
        total += n
        stage = next((name for name, marks in STAGES if any(m in f for f in frames for m in marks)), "other")
        stages[stage] += n
        for name in dict.fromkeys(_function(f) for f in frames):
            inclusive[name] += n
        if frames:
            own[_function(frames[-1])] += n

    def per_request(n: int) -> float:
        if cpu_ms is not None:
            return round(n / total * cpu_ms, 3) if total else 0.0
        return round(n / RATE / requests * 1000, 3)

    service_code = [(f, n) for f, n in inclusive.most_common() if _ours(f)]
    return {
        "samples": total,
        "sampled_ms_per_request": round(total / RATE / requests * 1000, 3),
        "cpu_ms_per_request": cpu_ms,
        "stages": [
            {"stage": s, "ms": per_request(n), "share": round(n / total, 3)} for s, n in stages.most_common()
        ]
        if total
        else [],
        "top_inclusive_ours": [{"function": f, "ms": per_request(n)} for f, n in service_code[:top]],
        "top_self": [{"function": f, "ms": per_request(n)} for f, n in own.most_common(top)],
    }


def _function(frame: str) -> str:
    """``name (path/to/file.py)`` without the line number, the path from the package on."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for anchor in ("/site-packages/", "/service/", "/models/", "/training/"):
        if anchor in path:
            head = anchor.strip("/") + "/" if anchor != "/site-packages/" else ""
            path = head + path.split(anchor, 1)[1]
            break
    return f"{name} ({path})"


def _ours(function: str) -> bool:
    return any(f"({p}" in function for p in ("service/", "models/"))


@dataclass
class Server:
    """One tree's server on its own copy of the store."""

    label: str
    tree: Path
    folder: Path
    process: subprocess.Popen[bytes]
    client: httpx.Client
    headers: dict[str, str]
    latencies: list[float] = field(default_factory=list)
    cpu_ms: float = 0.0


@dataclass(frozen=True)
class Tree:
    """A source tree to serve under ``label``, with extra environment (``--env LABEL:NAME=VALUE``) and
    ``talentmatch serve`` arguments (``--serve-arg LABEL:ARG``): the same tree under two labels compares two
    settings side by side."""

    label: str
    path: Path
    env: dict[str, str] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)


def _start(tree: Tree, bench: Bench, workdir: Path, *, workers: int = 1) -> tuple[Server, list[str]]:
    """A fresh copy of the scale's store with an admin key, and ``talentmatch serve`` from ``tree`` on it;
    returns the server (ready) and the open vacancies."""
    from sqlalchemy import select

    from service.store.api_keys import create_api_key
    from service.store.session import make_engine, transaction
    from service.store.tables import Vacancy

    folder = workdir / f"{bench.scale}-{tree.label}"
    folder.mkdir(parents=True)
    store = folder / "store.db"
    shutil.copyfile(bench.store_path, store)
    url = f"sqlite:///{store}"
    engine = make_engine(url)
    with transaction(engine) as session:
        _, plaintext = create_api_key(session=session, role="admin", name="request profile")
        vacancies = sorted(session.scalars(select(Vacancy.vacancy_id).where(Vacancy.status == "open")))
    engine.dispose()
    env = {
        **os.environ,
        "TALENTMATCH_DATABASE_URL": url,
        "TALENTMATCH_ARTIFACTS_DIR": str(bench.artifacts_dir.resolve()),
        "TALENTMATCH_AUDIT_JOURNAL_DIR": str(folder / "audit-journal"),
        "TALENTMATCH_RATE_LIMIT_PER_MINUTE": "0",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        **tree.env,
    }
    _check_tree(tree.path, env)
    port = free_port()
    base = f"http://{HOST}:{port}"
    log = folder / "serve.log"
    process = _serve(tree.path, env, port, log, workers=workers, extra=tree.args)
    try:
        wait_ready(base, process, 600, log=log)
    except Exception:
        process.kill()
        raise
    client = httpx.Client(base_url=base, timeout=120)
    headers = {"Authorization": f"Bearer {plaintext}"}
    return Server(tree.label, tree.path, folder, process, client, headers), vacancies


def _interleaved(servers: list[Server], paths: list[str]) -> None:
    """Each path to every server in turn (so all see the same moment of a shared machine); latencies and
    CPU per request recorded on each."""
    for server in servers:
        server.latencies = []
        server.cpu_ms = _cpu_seconds(server.process.pid)
    for path in paths:
        for server in servers:
            server.latencies += _requests(server.client, [path], server.headers)
    for server in servers:
        server.cpu_ms = (_cpu_seconds(server.process.pid) - server.cpu_ms) * 1000 / len(paths)


def profile_scale(
    trees: list[Tree], bench: Bench, *, requests: int, spy: Path | None, workdir: Path
) -> list[dict[str, Any]]:
    """Every tree's server at one scale, requests interleaved: an unprofiled pass (latency, CPU), then a pass
    under py-spy (one recorder per server)."""
    servers: list[Server] = []
    try:
        vacancies: list[str] = []
        for tree in trees:
            server, vacancies = _start(tree, bench, workdir)
            servers.append(server)
        rng = random.Random(7)
        paths = [f"/api/v1/vacancies/{rng.choice(vacancies)}/candidates?limit=20" for _ in range(requests)]
        for server in servers:
            _requests(server.client, paths[:1], server.headers)  # the index build
        _interleaved(servers, paths[: min(50, requests)])  # warm-up
        _interleaved(servers, paths)
        rows: list[dict[str, Any]] = [
            {
                "tree": s.label,
                "requests": requests,
                **percentiles(s.latencies),
                "server_cpu_ms": round(s.cpu_ms, 3),
            }
            for s in servers
        ]
        if spy is not None:
            _profiled(spy, servers, lambda: _interleaved(servers, paths))
            for row, server in zip(rows, servers, strict=True):
                row["profile"] = summarise(server.folder / "py-spy.raw", requests, round(server.cpu_ms, 3))
                row["profile"]["profiled_mean_ms"] = round(sum(server.latencies) / requests, 3)
        return rows
    finally:
        for server in servers:
            server.client.close()
            stop_server(server.process)


def _base(server: Server) -> str:
    return str(server.client.base_url).rstrip("/")


def _profiled(spy: Path, servers: list[Server], action: Any, *, subprocesses: bool = False) -> list[Path]:
    """Run ``action()`` with ``py-spy record`` attached to every server (and its workers); the raw files."""
    recorders, raws = [], []
    for server in servers:
        raw = server.folder / "py-spy.raw"
        command = [str(spy), "record", "-p", str(server.process.pid), "-r", str(RATE), "-f", "raw"]
        command += ["--subprocesses"] if subprocesses else []
        recorders.append(
            subprocess.Popen(
                [*command, "-o", str(raw), "--nonblocking"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        raws.append(raw)
    time.sleep(1.0)  # attached
    action()
    for recorder in recorders:
        recorder.send_signal(signal.SIGINT)
        recorder.wait(timeout=60)
    return raws


def load_scale(
    trees: list[Tree],
    bench: Bench,
    *,
    clients: int,
    workers: int,
    seconds: float,
    rounds: int,
    spy: Path | None,
    workdir: Path,
    load_clients: tuple[str, ...] = ("lean",),
) -> list[dict[str, Any]]:
    """Every tree's server at one scale, loaded in turn by ``clients`` concurrent clients for ``seconds``
    per turn, ``rounds`` rounds; then one profiled round (when py-spy is there). With several
    ``load_clients`` (load generators, :data:`benchmarks.loadgen.CLIENTS`) every round gives each tree a
    turn with each, one row per tree and generator; the profiled round uses the first."""
    servers: list[Server] = []
    try:
        vacancies: list[str] = []
        for tree in trees:
            server, vacancies = _start(tree, bench, workdir, workers=workers)
            servers.append(server)
        paths = [f"/api/v1/vacancies/{v}/candidates?limit=20" for v in vacancies]
        for server in servers:  # every worker's index build, and a warm-up
            warm_every_worker(_base(server), server.headers, paths, 20 * workers)
            asyncio.run(
                load(_base(server), server.headers, paths, clients=clients, seconds=5.0, max_requests=10**9)
            )
        measured: dict[tuple[str, str], list[dict[str, Any]]] = {
            (s.label, c): [] for s in servers for c in load_clients
        }

        def one_round(generators: tuple[str, ...] = load_clients) -> None:
            for server in servers:
                for generator in generators:
                    started = _cpu_seconds(server.process.pid)
                    result = asyncio.run(
                        load(
                            _base(server),
                            server.headers,
                            paths,
                            clients=clients,
                            seconds=seconds,
                            max_requests=10**9,
                            client=generator,
                        )
                    )
                    cpu = (_cpu_seconds(server.process.pid) - started) * 1000 / result["requests"]
                    result["server_cpu_ms"] = round(cpu, 3)
                    result["load_1min"] = round(os.getloadavg()[0], 2)
                    measured[server.label, generator].append(result)

        for _ in range(rounds):
            one_round()
        rows = []
        raws = (
            _profiled(spy, servers, lambda: one_round(load_clients[:1]), subprocesses=workers > 1)
            if spy is not None
            else []
        )
        for (label, generator), runs in measured.items():
            index = [s.label for s in servers].index(label)
            plain = runs[:rounds]
            row: dict[str, Any] = {
                "tree": label if len(load_clients) == 1 else f"{label} ({generator})",
                "load_generator": generator,
                "clients": clients,
                "workers": workers,
                "rounds": runs,
                "requests_per_s": [r["requests_per_s"] for r in plain],
                "p50_ms": [round(r["p50_ms"], 1) for r in plain],
                "p99_ms": [round(r["p99_ms"], 1) for r in plain],
                "server_cpu_ms": [r["server_cpu_ms"] for r in plain],
                "client_cpu_ms": [r["client_cpu_ms_per_request"] for r in plain],
                "errors": sum(r["errors"] for r in runs),
            }
            if raws and len(runs) > rounds:
                profiled = runs[-1]
                row["profile"] = summarise(raws[index], profiled["requests"], profiled["server_cpu_ms"])
                row["profile"]["profiled_requests_per_s"] = profiled["requests_per_s"]
            rows.append(row)
        return rows
    finally:
        for server in servers:
            server.client.close()
            stop_server(server.process)


def audit_batch_cost(bench: Bench, workdir: Path, *, entries: int = 50, repeat: int = 20) -> dict[str, Any]:
    """CPU time of writing one batch of ``entries`` candidate-list audit entries (20 graduates each, as the
    server's writer thread does), on a copy of the scale's store: the background cost a read adds."""
    from sqlalchemy import select

    from service.store.audit_buffer import AuditRecord, write_records
    from service.store.session import make_engine, make_sessionmaker
    from service.store.tables import Graduate

    store = workdir / f"{bench.scale}-audit.db"
    shutil.copyfile(bench.store_path, store)
    engine = make_engine(f"sqlite:///{store}")
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        seeking = list(session.scalars(select(Graduate.graduate_id).where(Graduate.status == "seeking")))
    rng = random.Random(7)
    costs = []
    for _ in range(repeat):
        batch = [
            AuditRecord.of(
                key_id="k",
                action="list_candidates",
                resource="vacancy:V1",
                detail={"graduates": rng.sample(seeking, 20)},
            )
            for _ in range(entries)
        ]
        started = time.process_time()
        with sessions() as session:
            write_records(session, batch)
            session.commit()
        costs.append((time.process_time() - started) * 1000)
    engine.dispose()
    per_batch = sorted(costs)[len(costs) // 2]
    return {
        "entries": entries,
        "batch_cpu_ms_p50": round(per_batch, 2),
        "per_entry_ms": round(per_batch / entries, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.request_profile", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--tree", action="append", required=True, metavar="LABEL=PATH")
    parser.add_argument("--scale", action="append", choices=SCALES)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--cache-dir", type=Path, default=CACHE_ROOT)
    parser.add_argument("--results-dir", type=Path, default=None)
    parser.add_argument("--keep", type=Path, default=None, help="work here and keep the files")
    parser.add_argument("--clients", type=int, default=1, help="> 1: concurrent clients, trees in turn")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=20.0, help="per tree and round (--clients > 1)")
    parser.add_argument("--rounds", type=int, default=2, help="unprofiled rounds (--clients > 1)")
    parser.add_argument(
        "--env", action="append", default=[], metavar="LABEL:NAME=VALUE", help="extra env for a tree's server"
    )
    parser.add_argument(
        "--serve-arg", action="append", default=[], metavar="LABEL:ARG", help="e.g. before:--http=h11"
    )
    parser.add_argument(
        "--client",
        action="append",
        choices=CLIENTS,
        help="load generator (--clients > 1; repeat to compare them side by side); default lean",
    )
    args = parser.parse_args(argv)
    trees = [Tree(label, Path(path).resolve()) for label, _, path in (t.partition("=") for t in args.tree)]
    by_label = {tree.label: tree for tree in trees}
    for item in args.env:
        label, _, assignment = item.partition(":")
        name, _, value = assignment.partition("=")
        by_label[label].env[name] = value
    for item in args.serve_arg:
        label, _, argument = item.partition(":")
        by_label[label].args.append(argument)
    spy_path = Path(sys.executable).with_name("py-spy")
    spy = spy_path if spy_path.exists() else None
    results: dict[str, Any] = {
        "trees": {t.label: str(t.path) for t in trees},
        "requests": args.requests,
        "clients": args.clients,
        "workers": args.workers,
        "scales": {},
    }
    with tempfile.TemporaryDirectory(prefix="request-profile-") as tmp:
        workdir = args.keep if args.keep is not None else Path(tmp)  # --keep: stores, logs, py-spy samples
        for scale in args.scale or ["small"]:
            if args.clients > 1 or args.workers > 1:
                rows = load_scale(
                    trees,
                    Bench(scale, cache_root=args.cache_dir),
                    clients=args.clients,
                    workers=args.workers,
                    seconds=args.seconds,
                    rounds=args.rounds,
                    spy=spy,
                    workdir=workdir,
                    load_clients=tuple(args.client or ["lean"]),
                )
                results["scales"][scale] = {"trees": rows}
                _printload(scale, rows)
                continue
            rows = profile_scale(
                trees,
                Bench(scale, cache_root=args.cache_dir),
                requests=args.requests,
                spy=spy,
                workdir=workdir,
            )
            for row in rows:
                row["load_1min"] = round(os.getloadavg()[0], 2)
            batch = audit_batch_cost(Bench(scale, cache_root=args.cache_dir), workdir)
            results["scales"][scale] = {"trees": rows, "audit_batch": batch}
            _print(scale, rows)
            print(f"\naudit writer, {scale}: {batch['entries']} entries, {batch['batch_cpu_ms_p50']} ms CPU")
    name = "request_profile" if args.clients <= 1 and args.workers <= 1 else "request_load"
    write_result(name, results, args.results_dir)
    return 0


def _printload(scale: str, rows: list[dict[str, Any]]) -> None:
    print_table(
        f"GET candidates, concurrent clients, {scale}",
        [
            {
                "tree": r["tree"],
                "clients": r["clients"],
                "workers": r["workers"],
                "req/s": r["requests_per_s"],
                "p50 ms": r["p50_ms"],
                "p99 ms": r["p99_ms"],
                "server CPU ms": r["server_cpu_ms"],
                "client CPU ms": r["client_cpu_ms"],
                "errors": r["errors"],
            }
            for r in rows
        ],
    )
    _print_profiles(scale, rows)


def _print(scale: str, rows: list[dict[str, Any]]) -> None:
    print_table(
        f"GET candidates, one at a time, {scale}",
        [
            {k: r.get(k) for k in ("tree", "p50_ms", "p99_ms", "mean_ms", "server_cpu_ms", "load_1min")}
            for r in rows
        ],
    )
    _print_profiles(scale, rows)


def _print_profiles(scale: str, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        profile = row.get("profile")
        if not profile:
            continue
        print_table(f"{scale} {row['tree']}: server time per request by stage", profile["stages"])
        print_table(f"{scale} {row['tree']}: top inclusive (service, models)", profile["top_inclusive_ours"])
        print_table(f"{scale} {row['tree']}: top self", profile["top_self"])


if __name__ == "__main__":
    raise SystemExit(main())
