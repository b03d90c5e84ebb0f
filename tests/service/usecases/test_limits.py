"""The rate limiters against a real Redis: the Redis bucket keeps the in-process bucket's rules, two limiters
(two workers, two replicas) share one budget, and a Redis that is down or restarted never fails a request."""

from __future__ import annotations

import contextlib
import logging
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from service.settings import Settings
from service.usecases.errors import RateLimited
from service.usecases.limits import (
    IDLE_EXPIRY_SECONDS,
    LocalRateLimiter,
    RedisRateLimiter,
    build_rate_limiter,
)
from tests.live_server import free_port


def limiter(url: str, per_minute: int) -> RedisRateLimiter:
    """A limiter as a worker builds it: its own client and connection pool."""
    built = build_rate_limiter(Settings(redis_url=url, rate_limit_per_minute=per_minute))
    assert isinstance(built, RedisRateLimiter)
    return built


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


def test_the_settings_pick_the_limiter() -> None:
    assert isinstance(build_rate_limiter(Settings(rate_limit_per_minute=5)), LocalRateLimiter)
    assert isinstance(
        build_rate_limiter(Settings(redis_url="redis://127.0.0.1:6379/0", rate_limit_per_minute=5)),
        RedisRateLimiter,
    )


def test_a_key_gets_its_burst_then_waits_for_the_next_token(redis_url: str, redis_namespace: str) -> None:
    shared = limiter(redis_url, 60)  # one token a second
    key = redis_namespace + "k"
    assert [shared.retry_after(key) for _ in range(60)] == [None] * 60
    wait = shared.retry_after(key)
    assert wait is not None and 0.5 < wait <= 1.0  # a second per token, less what refilled meanwhile
    with pytest.raises(RateLimited) as refused:
        shared.check(key)
    assert refused.value.retry_after == 1 and refused.value.per_minute == 60
    time.sleep(wait + 0.1)
    assert shared.retry_after(key) is None
    assert shared.retry_after(key) is not None
    assert shared.retry_after(redis_namespace + "other") is None  # every key has its own budget
    shared.close()


def test_buckets_are_namespaced_and_expire_once_full_again(
    redis_url: str, redis_namespace: str, client: redis.Redis
) -> None:
    shared = limiter(redis_url, 10)
    shared.check(redis_namespace + "k")
    name = f"talentmatch:rate:{redis_namespace}k"
    assert client.hgetall(name).keys() == {b"tokens", b"at"}
    assert float(client.hget(name, "tokens") or -1) == pytest.approx(9.0, abs=0.01)
    assert 55 <= client.ttl(name) <= IDLE_EXPIRY_SECONDS  # an idle minute refills any bucket fully
    client.delete(name)  # what the expiry does: the key starts over with a full bucket
    assert [shared.retry_after(redis_namespace + "k") for _ in range(11)].count(None) == 10
    shared.close()


def test_two_limiters_share_one_budget(redis_url: str, redis_namespace: str) -> None:
    first, second = limiter(redis_url, 10), limiter(redis_url, 10)
    key = redis_namespace + "k"
    taken = [(first if i % 2 else second).retry_after(key) is None for i in range(14)]
    assert taken == [True] * 10 + [False] * 4
    assert first.retry_after(key) is not None and second.retry_after(key) is not None
    # In-process buckets, by contrast, give each worker the whole budget.
    local = [LocalRateLimiter(10), LocalRateLimiter(10)]
    assert sum(local[i % 2].retry_after(key) is None for i in range(14)) == 14
    first.close()
    second.close()


def test_concurrent_takes_from_two_limiters_never_exceed_the_budget(
    redis_url: str, redis_namespace: str
) -> None:
    per_minute, threads, attempts = 120, 8, 30
    limiters = [limiter(redis_url, per_minute), limiter(redis_url, per_minute)]
    key = redis_namespace + "k"
    allowed = [0] * threads
    start = threading.Barrier(threads)

    def worker(index: int) -> None:
        start.wait()
        for _ in range(attempts):
            if limiters[index % 2].retry_after(key) is None:
                allowed[index] += 1

    began = time.monotonic()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    refilled = int((time.monotonic() - began) * per_minute / 60)  # tokens that came back meanwhile
    assert per_minute <= sum(allowed) <= per_minute + refilled, (sum(allowed), refilled)
    for each in limiters:
        each.close()


def test_a_rate_of_zero_never_asks_redis(caplog: pytest.LogCaptureFixture) -> None:
    off = limiter(f"redis://127.0.0.1:{free_port()}/0", 0)  # nothing listens there
    with caplog.at_level(logging.WARNING):
        assert all(off.retry_after("k") is None for _ in range(100))
    assert not caplog.records


def test_an_unreachable_redis_fails_open_to_the_per_process_bucket(caplog: pytest.LogCaptureFixture) -> None:
    down = limiter(f"redis://127.0.0.1:{free_port()}/0", 3)  # nothing listens there
    with caplog.at_level(logging.WARNING, logger="service.usecases.limits"):
        began = time.monotonic()
        assert [down.retry_after("key-id-1") for _ in range(3)] == [None] * 3
        with pytest.raises(RateLimited):  # the per-process budget still holds
            down.check("key-id-1")
        assert down.retry_after("key-id-2") is None
        assert time.monotonic() - began < 2.0
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 1, warnings  # once for the outage, not once per request
    assert "counting per process" in warnings[0] and "127.0.0.1:" in warnings[0]
    assert "key-id" not in warnings[0]


@pytest.fixture
def own_redis(tmp_path: Path, redis_url: str) -> Iterator[tuple[str, Path]]:
    """A second Redis server on a free port of this test's own, to stop and start again."""
    assert shutil.which("redis-server"), "redis-server is not installed"
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    yield url, tmp_path
    with contextlib.suppress(redis.ConnectionError):  # stopped already unless the test failed midway
        stop_redis(url)


def start_redis(url: str, folder: Path) -> None:
    port = url.rsplit(":", 1)[1].split("/")[0]
    subprocess.run(
        ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", port, "--save", "",
         "--appendonly", "no", "--dir", str(folder), "--logfile", str(folder / "redis.log")],
        check=True,
    )  # fmt: skip
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, (folder / "redis.log").read_text()
            time.sleep(0.05)
    client.close()


def stop_redis(url: str) -> None:
    redis.Redis.from_url(url).shutdown(nosave=True)


def test_redis_going_down_and_coming_back(
    own_redis: tuple[str, Path], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, folder = own_redis
    monkeypatch.setattr(RedisRateLimiter, "RETRY_SECONDS", 0.0)  # try Redis again on the next request
    start_redis(url, folder)
    first, second = limiter(url, 4), limiter(url, 4)
    assert [first.retry_after("k"), second.retry_after("k")] == [None, None]  # 2 of the shared 4
    stop_redis(url)
    with caplog.at_level(logging.WARNING, logger="service.usecases.limits"):
        # Each process counts alone meanwhile: a fresh bucket of 4 in each, no error.
        assert [first.retry_after("k") for _ in range(5)].count(None) == 4
        start_redis(url, folder)  # empty: a restarted Redis has neither the buckets nor the script
        assert [first.retry_after("k"), second.retry_after("k")] == [None, None]
        # Shared again, from an empty store: 4 in all, whichever limiter asks.
        assert sum(each.retry_after("k") is None for each in (first, second) * 3) == 2
    messages = [record.getMessage() for record in caplog.records]
    # The second limiter asked nothing during the outage: it just reconnected, silently.
    assert len(messages) == 2, messages
    assert "counting per process" in messages[0] and "answers again" in messages[1]
    first.close()
    second.close()
