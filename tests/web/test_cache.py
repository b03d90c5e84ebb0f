"""The page memo: hits, LRU eviction, expiry."""

from __future__ import annotations

from service.web.cache import PageCache


def test_hits_evicts_least_recent_and_expires() -> None:
    now = [0.0]
    cache = PageCache(maxsize=2, ttl=10.0, clock=lambda: now[0])
    calls: list[str] = []

    def compute(name: str) -> str:
        calls.append(name)
        return name.upper()

    assert cache.get_or_compute("a", lambda: compute("a")) == "A"
    assert cache.get_or_compute("a", lambda: compute("a")) == "A"
    assert calls == ["a"] and (cache.hits, cache.misses) == (1, 1)
    cache.get_or_compute("b", lambda: compute("b"))
    cache.get_or_compute("a", lambda: compute("a"))  # a is now the most recent
    cache.get_or_compute("c", lambda: compute("c"))  # evicts b
    cache.get_or_compute("b", lambda: compute("b"))
    assert calls == ["a", "b", "c", "b"]
    now[0] = 11.0
    cache.get_or_compute("b", lambda: compute("b"))
    assert calls[-1] == "b" and len(calls) == 5
