"""The request path's CPU-bound answers (candidates, recommendations) on a few threads of their own.

A candidates answer is a few milliseconds of numpy and Python that holds the interpreter lock nearly all the
time. On anyio's shared pool (40 threads) eight concurrent requests make eight threads take turns at the lock,
each switch a wake-up of the event loop and a cache flush, so a worker spent more CPU per request the more
requests it had in hand. :func:`run_compute` runs them ``TALENTMATCH_COMPUTE_THREADS`` at a time (1 by
default): the others wait on the event loop, where waiting costs nothing, and the loop stays free to accept,
parse and answer other routes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from fastapi import Request

T = TypeVar("T")


def make_limiter(threads: int) -> CapacityLimiter | None:
    """The lane for ``threads`` answers at once; None (anyio's default pool) for 0. Made inside the event
    loop (the app's lifespan)."""
    return CapacityLimiter(threads) if threads > 0 else None


async def run_compute(request: Request, fn: Callable[[], T]) -> T:
    """``fn()`` on a thread, at most ``TALENTMATCH_COMPUTE_THREADS`` of them at once in this worker."""
    limiter = getattr(request.app.state, "compute_limiter", None)
    return await anyio.to_thread.run_sync(fn, limiter=limiter)
