"""The request path's compute lane: at most ``TALENTMATCH_COMPUTE_THREADS`` answers at once per worker."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import anyio
import pytest
from sqlalchemy import Engine

from service.api.compute import make_limiter, run_compute
from tests.asyncio_thread import run_in_thread
from tests.service.api.conftest import Template, make_seeded_api
from training.registry import LoadedModel


def _most_at_once(limiter: Any, requests: int = 6) -> int:
    """Run ``requests`` answers of 50 ms concurrently through :func:`run_compute`; the most that ran at
    the same moment."""
    lock = threading.Lock()
    running = most = 0

    def answer() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1

    async def main() -> None:
        request = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(compute_limiter=limiter)))
        async with anyio.create_task_group() as group:
            for _ in range(requests):
                group.start_soon(run_compute, request, answer)

    run_in_thread(anyio.run, main)
    return most


def test_one_thread_computes_one_answer_at_a_time() -> None:
    assert _most_at_once(make_limiter(1)) == 1


def test_two_threads_compute_two_at_a_time() -> None:
    assert _most_at_once(make_limiter(2)) == 2


def test_zero_uses_the_shared_pool() -> None:
    assert make_limiter(0) is None
    assert _most_at_once(None) > 2


@pytest.mark.parametrize("threads", [1, 3])
def test_the_app_takes_the_setting(
    threads: int, seeded_sqlite: Engine, seeded_template: Template, tmp_path: Path, tiny_model: LoadedModel
) -> None:
    apis = make_seeded_api(
        seeded_sqlite, seeded_template, tmp_path, model=tiny_model, compute_threads=threads
    )
    for api in apis:
        limiter = api.client.app.state.compute_limiter  # type: ignore[attr-defined]
        assert limiter.total_tokens == threads
        response = api.client.get("/api/v1/vacancies/V1/candidates", headers=api.headers["hr_e1"])
        assert response.status_code == 200, response.text
        assert response.json()["items"]
