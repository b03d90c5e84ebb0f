"""Per-key rate limits, applied when a context is opened for an API request or a web page alike.

Two token buckets with one interface, :class:`RateLimiter`, picked in one place (:func:`build_rate_limiter`):
with ``TALENTMATCH_REDIS_URL`` set, each key's bucket lives in Redis and every worker and replica using that
Redis shares it (:class:`RedisRateLimiter`); without it, each process counts on its own
(:class:`LocalRateLimiter`), so N workers or replicas allow up to N times the rate.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from service.settings import Settings
from service.usecases.errors import RateLimited

log = logging.getLogger(__name__)

# A bucket refills from empty to full in one minute whatever the rate, so a key unused this long is full
# again: Redis may forget it then (plus a second for rounding).
IDLE_EXPIRY_SECONDS = 61


class RateLimiter(ABC):
    """A token bucket per key: ``per_minute`` actions a minute, bursts up to the same number.

    ``per_minute <= 0`` disables it.
    """

    # The check waits on the network (Redis): it may not run on the event loop.
    blocking = False

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute

    @abstractmethod
    def retry_after(self, key_id: str) -> float | None:
        """Take one token for ``key_id``; None when allowed, else seconds until the next token."""

    def check(self, key_id: str) -> None:
        """Take one token for ``key_id`` or raise :class:`RateLimited`."""
        wait = self.retry_after(key_id)
        if wait is not None:
            raise RateLimited(max(1, math.ceil(wait)), self.per_minute)

    def close(self) -> None:  # noqa: B027 - a hook: only a limiter holding connections has work here
        """Release what the limiter holds (connections); the app's shutdown calls it."""


class LocalRateLimiter(RateLimiter):
    """The buckets in this process's memory: each uvicorn worker and each replica has its own budget."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(per_minute)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, last refill time)
        self._lock = threading.Lock()

    def retry_after(self, key_id: str) -> float | None:
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


# The same bucket as LocalRateLimiter's, run atomically inside Redis: no two workers can both take the last
# token. The time is Redis's own (TIME), so the hosts' clocks do not matter. Returns {allowed, wait seconds}.
TOKEN_BUCKET = """
local capacity = tonumber(ARGV[1])
local rate = capacity / 60.0
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local last = tonumber(state[2])
if tokens == nil or last == nil then
  tokens = capacity
  last = now
end
tokens = math.min(capacity, tokens + math.max(0, now - last) * rate)
local allowed = 0
local wait = 0
if tokens < 1 then
  wait = (1 - tokens) / rate
else
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%.6f', now))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return {allowed, string.format('%.17g', wait)}
"""


class RedisRateLimiter(RateLimiter):
    """The buckets in Redis (``talentmatch:rate:<key id>``), shared by every process using that Redis.

    When Redis cannot be reached or answers an error, requests are counted by a per-process bucket instead
    (fail open to the :class:`LocalRateLimiter` behaviour, never an error to the client): a warning says so
    once, without naming any key, and Redis is tried again every ``RETRY_SECONDS``.
    """

    PREFIX = "talentmatch:rate:"
    RETRY_SECONDS = 5.0
    blocking = True

    def __init__(self, per_minute: int, client: redis.Redis) -> None:
        super().__init__(per_minute)
        self.client = client
        self._script = client.register_script(TOKEN_BUCKET)
        self._fallback = LocalRateLimiter(per_minute)
        self._lock = threading.Lock()
        self._down_until: float | None = None  # monotonic time to try Redis again; None while it answers

    def retry_after(self, key_id: str) -> float | None:
        if self.per_minute <= 0:
            return None
        down_until = self._down_until
        if down_until is not None and time.monotonic() < down_until:
            return self._fallback.retry_after(key_id)
        try:
            allowed, wait = self._script(
                keys=[self.PREFIX + key_id], args=[self.per_minute, IDLE_EXPIRY_SECONDS]
            )
        except (redis.RedisError, OSError) as error:
            self._went_down(error)
            return self._fallback.retry_after(key_id)
        if down_until is not None:
            self._came_back()
        return None if int(allowed) else float(wait)

    def close(self) -> None:
        self.client.close()

    def _went_down(self, error: Exception) -> None:
        with self._lock:
            first = self._down_until is None
            self._down_until = time.monotonic() + self.RETRY_SECONDS
        if first:
            log.warning(
                "rate limits: Redis at %s failed (%s); counting per process (each worker its own budget) "
                "until it answers, trying again every %g s",
                self._where(),
                type(error).__name__,
                self.RETRY_SECONDS,
            )

    def _came_back(self) -> None:
        with self._lock:
            back = self._down_until is not None
            self._down_until = None
        if back:
            log.warning("rate limits: Redis at %s answers again; budgets are shared again", self._where())

    def _where(self) -> str:
        """Host and port (or socket path) of the Redis server: never its password."""
        kwargs = self.client.connection_pool.connection_kwargs
        if "path" in kwargs:
            return str(kwargs["path"])
        return f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}"


# Redis is on the request path: a server that does not answer costs at most this long, then the
# per-process bucket answers (and Redis is left alone for RedisRateLimiter.RETRY_SECONDS).
REDIS_TIMEOUT_SECONDS = 0.5


def build_rate_limiter(settings: Settings) -> RateLimiter:
    """The one place the limiter is chosen: shared through Redis when ``TALENTMATCH_REDIS_URL`` is set,
    per process otherwise. Nothing connects here (the first request does)."""
    if settings.redis_url:
        client = redis.Redis.from_url(
            settings.redis_url,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            retry=Retry(NoBackoff(), 1),  # once, at once: a dropped pooled connection, not an outage
        )
        return RedisRateLimiter(settings.rate_limit_per_minute, client)
    return LocalRateLimiter(settings.rate_limit_per_minute)
