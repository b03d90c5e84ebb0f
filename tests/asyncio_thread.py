"""Run a coroutine to completion from a test, whatever event loop the test process already runs.

Playwright's sync API (the browser tests) keeps an event loop running in the main thread of the pytest worker
that ran them, and ``asyncio.run`` refuses to start another there. A thread of its own has no loop.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_in_thread(run: Callable[..., T], *args: Any) -> T:
    """``run(*args)`` (e.g. ``asyncio.run(coroutine)`` or ``anyio.run(function)``) on a fresh thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run, *args).result()


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coroutine)`` on a fresh thread."""
    import asyncio

    return run_in_thread(asyncio.run, coroutine)
