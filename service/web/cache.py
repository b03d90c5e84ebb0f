"""A small memo for expensive page answers (placement plans, skill gaps).

Keys always contain the model version and the store's data version, so any write (a posted vacancy, a hire,
an upload, an erasure) or a model swap makes a new key: a cached answer is never stale in what it was computed
from. Entries also expire after ``ttl`` seconds, because "open" depends on the clock (``closes_at``).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class PageCache:
    """Thread-safe LRU with expiry. Two requests missing the same key may both compute it (harmless)."""

    def __init__(
        self, maxsize: int = 64, ttl: float = 600.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.maxsize = maxsize
        self.ttl = ttl
        self.clock = clock
        self._items: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        now = self.clock()
        with self._lock:
            found = self._items.get(key)
            if found is not None and now - found[0] < self.ttl:
                self._items.move_to_end(key)
                self.hits += 1
                return found[1]  # type: ignore[no-any-return]
            self.misses += 1
        value = compute()
        with self._lock:
            self._items[key] = (now, value)
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)
        return value


def page_cache(state: Any) -> PageCache:
    """The app's cache (``app.state.web_cache``), made on first use."""
    cache = getattr(state, "web_cache", None)
    if cache is None:
        cache = PageCache()
        state.web_cache = cache
    return cache
