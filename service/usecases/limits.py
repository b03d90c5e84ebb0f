"""Per-key rate limits, applied when a context is opened for an API request or a web page alike."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from service.usecases.errors import RateLimited


class RateLimiter:
    """A token bucket per key: ``per_minute`` actions a minute, bursts up to the same number.

    Counted per process (each uvicorn worker keeps its own buckets). ``per_minute <= 0`` disables it.
    """

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, last refill time)
        self._lock = threading.Lock()

    def retry_after(self, key_id: str) -> float | None:
        """Take one token for ``key_id``; None when allowed, else seconds until the next token."""
        if self.per_minute <= 0:
            return None
        rate = self.per_minute / 60.0
        with self._lock:
            now = self.clock()
            tokens, last = self._buckets.get(key_id, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - last) * rate)
            if tokens < 1.0:
                self._buckets[key_id] = (tokens, now)
                return (1.0 - tokens) / rate
            self._buckets[key_id] = (tokens - 1.0, now)
            return None

    def check(self, key_id: str) -> None:
        """Take one token for ``key_id`` or raise :class:`RateLimited`."""
        wait = self.retry_after(key_id)
        if wait is not None:
            raise RateLimited(max(1, math.ceil(wait)), self.per_minute)
