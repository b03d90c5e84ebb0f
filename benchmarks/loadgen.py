"""A lean HTTP/1.1 load generator: kept-alive loopback connections, each sending one ``GET`` at a time.

The benchmarks measure the server, but the load generator shares its 2 cores. httpx spends about a millisecond
of CPU per request on parsing, header models and its connection pool; this client writes pre-encoded request
bytes and reads a response by its ``Content-Length`` (or its chunks), tens of microseconds per request, in
the manner of ``wrk``. Its own CPU per request is measured (``client_cpu_ms_per_request``) so the figures show
what was left for the server.

``python -m benchmarks.loadgen http://127.0.0.1:8000 /api/v1/vacancies/V00001/candidates --header
'Authorization: Bearer tm_...' --clients 8 --seconds 10``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from benchmarks.common import percentiles


class HttpError(Exception):
    """The server answered something this client cannot read as an HTTP/1.1 response."""


def _request_bytes(host: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    return "\r\n".join(lines).encode("latin-1")


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response; its status and whether the server keeps the connection open."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split(" ", 2)[1])
    except (IndexError, ValueError) as error:
        raise HttpError(f"bad status line {lines[0][:80]!r}") from error
    length = None
    chunked = False
    keep_alive = True
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
        elif name == "connection" and value.strip().lower() == "close":
            keep_alive = False
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length is not None:
        await reader.readexactly(length)
    else:
        await reader.read()
        keep_alive = False
    return status, keep_alive


class _Connection:
    """One kept-alive connection, opened on first use and again after the server closed it."""

    def __init__(self, host: str, port: int, encoded: dict[str, bytes]) -> None:
        self.host, self.port, self.encoded = host, port, encoded
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, path: str) -> str:
        """``GET path``; the status, or the kind of transport error."""
        try:
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            assert self.reader is not None
            self.writer.write(self.encoded[path])
            status, keep_alive = await _read_response(self.reader)
            if not keep_alive:
                self.close()
            return str(status)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, HttpError) as error:
            self.close()
            return type(error).__name__

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


Send = Callable[[str], Awaitable[str]]


async def drive(
    senders: list[Send],
    paths: list[str],
    *,
    seconds: float,
    max_requests: int,
    seed: int = 0,
    samples: list[float] | None = None,
) -> dict[str, Any]:
    """One concurrent client per sender, each sending a random one of ``paths`` (client ``i`` draws from
    ``random.Random(seed + i)``) one at a time until ``seconds`` pass or ``max_requests`` were issued in all.

    Returns requests/s, latency percentiles (ms), errors (any answer but "200", by kind) and the CPU time of
    this process per request (the load generator's own, when nothing else runs in it). Each latency (ms) is
    also appended to ``samples`` when given (to pool several runs' percentiles).
    """
    samples = [] if samples is None else samples
    already = len(samples)
    errors: dict[str, int] = {}
    issued = 0
    deadline = time.perf_counter() + seconds

    async def client(number: int, send: Send) -> None:
        nonlocal issued
        rng = random.Random(seed + number)
        while issued < max_requests and time.perf_counter() < deadline:
            issued += 1
            start = time.perf_counter()
            kind = await send(rng.choice(paths))
            samples.append((time.perf_counter() - start) * 1000)
            if kind != "200":
                errors[kind] = errors.get(kind, 0) + 1

    cpu = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(client(i, send) for i, send in enumerate(senders)))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    return summary(len(senders), elapsed, samples[already:], errors, cpu)


def summary(
    clients: int, seconds: float, samples: list[float], error_kinds: dict[str, int], cpu_seconds: float
) -> dict[str, Any]:
    """The row :func:`drive` returns, of ``samples`` (ms) taken by ``clients`` clients over ``seconds``, with
    this process's ``cpu_seconds`` (also for several runs pooled into one)."""
    return {
        "clients": clients,
        "seconds": round(seconds, 2),
        "requests": len(samples),
        "requests_per_s": round(len(samples) / seconds, 1) if seconds else None,
        **percentiles(samples or [float("nan")]),
        "errors": sum(error_kinds.values()),
        "error_kinds": error_kinds,
        "client_cpu_ms_per_request": round(cpu_seconds * 1000 / len(samples), 3) if samples else None,
    }


CLIENTS = ("lean", "httpx")


async def load(
    base: str,
    headers: dict[str, str],
    paths: list[str],
    *,
    clients: int,
    seconds: float,
    max_requests: int,
    seed: int = 0,
    client: str = "lean",
    samples: list[float] | None = None,
) -> dict[str, Any]:
    """``clients`` connections to ``base`` sending ``GET`` for random ``paths`` (:func:`drive`, which also
    appends each latency to ``samples`` when given). ``client``
    "lean": kept-alive connections of this module (tens of microseconds of CPU per request, like ``wrk``);
    "httpx": an ``httpx.AsyncClient``, kept to compare the two (about a millisecond per request, on the
    same cores as the server)."""
    if client == "httpx":
        return await _httpx_load(base, headers, paths, clients, seconds, max_requests, seed, samples)
    if client != "lean":
        raise ValueError(f"client must be one of {CLIENTS}, got {client!r}")
    split = urlsplit(base)
    host, port = split.hostname or "127.0.0.1", split.port or 80
    encoded = {path: _request_bytes(split.netloc, path, headers) for path in paths}
    connections = [_Connection(host, port, encoded) for _ in range(clients)]
    try:
        return await drive(
            [c.send for c in connections],
            paths,
            seconds=seconds,
            max_requests=max_requests,
            seed=seed,
            samples=samples,
        )
    finally:
        for connection in connections:
            connection.close()


async def _httpx_load(
    base: str,
    headers: dict[str, str],
    paths: list[str],
    clients: int,
    seconds: float,
    cap: int,
    seed: int,
    samples: list[float] | None,
) -> dict[str, Any]:
    import httpx

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as session:

        async def send(path: str) -> str:
            try:
                return str((await session.get(path, headers=headers)).status_code)
            except httpx.HTTPError as error:
                return type(error).__name__

        return await drive(
            [send] * clients, paths, seconds=seconds, max_requests=cap, seed=seed, samples=samples
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.loadgen", description=__doc__.splitlines()[0])
    parser.add_argument("base", help="e.g. http://127.0.0.1:8000")
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--header", action="append", default=[], metavar="'NAME: VALUE'")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--max-requests", type=int, default=10**9)
    args = parser.parse_args(argv)
    headers = dict(h.split(":", 1) for h in args.header)
    result = asyncio.run(
        load(
            args.base,
            {k.strip(): v.strip() for k, v in headers.items()},
            args.paths,
            clients=args.clients,
            seconds=args.seconds,
            max_requests=args.max_requests,
        )
    )
    print(json.dumps(result, indent=2))
    return 0 if not result["errors"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
