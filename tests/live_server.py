"""A real uvicorn process serving the app on a free loopback port, for the tests that need real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from tests.service.api.conftest import seed

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(
    base: str,
    process: subprocess.Popen[bytes],
    log: Path,
    *,
    ready: Callable[[dict[str, Any]], bool],
    timeout: float,
) -> None:
    """Poll ``/healthz`` until ``ready(health)``; fail the test with the log if the server exits or stalls."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            response = httpx.get(f"{base}/healthz", timeout=2)
            if response.status_code == 200 and ready(response.json()):
                return
        except (httpx.HTTPError, ValueError):
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            state = (
                f"exited with {process.returncode}"
                if process.poll() is not None
                else f"not ready in {timeout}s"
            )
            pytest.fail(f"uvicorn {state}:\n" + log.read_text(errors="replace")[-3000:])
        time.sleep(0.2)


@contextmanager
def running_server(
    env: Mapping[str, str],
    log: Path,
    *,
    ready: Callable[[dict[str, Any]], bool] = lambda health: True,
    timeout: float = 60.0,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Start ``uvicorn service.app:create_app --factory`` with ``env`` added to this process's environment.

    Yields the base URL and the process once ``/healthz`` answers and ``ready(health)`` holds; terminates
    the process afterwards.
    """
    port = free_port()
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "service.app:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
            env={**os.environ, **env},
            cwd=REPO,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, process, log, ready=ready, timeout=timeout)
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def seeded_server(
    engine: Engine, tmp_path: Path, env: Mapping[str, str], *, timeout: float
) -> Iterator[tuple[str, dict[str, dict[str, str]]]]:
    """The tiny market and the test keys seeded into ``engine``'s store, served by :func:`running_server`
    with ``env`` added (artifacts in ``tmp_path``); yields the base URL and the keys' headers by name."""
    _, headers = seed(engine)
    env = {
        "TALENTMATCH_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "TALENTMATCH_ARTIFACTS_DIR": str(tmp_path / "artifacts"),
        **env,
    }
    with running_server(env, tmp_path / "server.log", timeout=timeout) as (base, _):
        yield base, headers
