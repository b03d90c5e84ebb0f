"""Shared fixtures: a migrated store on SQLite and on PostgreSQL, each isolated per test, the Redis server
for the shared rate limits, and the one tiny trained model (``tests.serving``)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from service.store.migrate import upgrade
from service.store.session import make_engine, make_sessionmaker
from service.usecases.limits import RedisRateLimiter
from training.registry import LoadedModel

# Tests train tiny models, for which a second training process costs more (spawn, imports, pickles) than it
# saves: one process unless a test asks for two (tests/training/test_pipeline.py and the crash-safety test
# train with TALENTMATCH_TRAIN_JOBS=2 on purpose).
os.environ.setdefault("TALENTMATCH_TRAIN_JOBS", "1")

POSTGRES_URL = os.environ.get(
    "TALENTMATCH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("TALENTMATCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _postgres_available() -> bool:
    try:
        engine = make_engine(POSTGRES_URL)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001
        return False


def _redis_available() -> bool:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'talentmatch.db'}"


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(sqlite_url(tmp_path))
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards.

    Skips when the server is not reachable, except in CI (CI=true), where it fails.
    """
    if not _postgres_available():
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL}; CI must run the PostgreSQL tests")
        pytest.skip("PostgreSQL is not reachable")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis server's URL (``TALENTMATCH_TEST_REDIS_URL``).

    Skips when the server is not reachable, except in CI (CI=true), where it fails.
    """
    if not _redis_available():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is not reachable at {REDIS_URL}; CI must run the Redis tests")
        pytest.skip("Redis is not reachable")
    return REDIS_URL


@pytest.fixture
def redis_namespace(redis_url: str) -> Iterator[str]:
    """A fresh prefix for this test's key ids: the rate buckets of ``<prefix>...`` are this test's alone,
    and are deleted afterwards."""
    prefix = f"t-{uuid.uuid4().hex[:12]}-"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    stale = list(client.scan_iter(match=f"{RedisRateLimiter.PREFIX}{prefix}*"))
    if stale:
        client.delete(*stale)
    client.close()


@pytest.fixture
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Engine:
    """A migrated, empty store; every test using it runs on SQLite and on PostgreSQL."""
    name = "sqlite_engine" if request.param == "sqlite" else "postgres_engine"
    return request.getfixturevalue(name)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with make_sessionmaker(engine)() as session:
        yield session


# ---------------------------------------------------------------------------------------- on both cores
# `make test` runs the suite on two pytest-xdist workers. A module runs whole on one worker, so its
# module-scoped fixtures (a trained model, a benchmark run, a server) are built once; the browser tests
# (tests/web/test_browser*.py) share one worker, and so the session's live server and Chromium.
BROWSER_TESTS = "tests/web/test_browser"


def xdist_scope(nodeid: str) -> str:
    """The unit of work a worker is handed: the test's module, or all the browser tests together."""
    module = nodeid.split("::", 1)[0]
    return "browser" if module.startswith(BROWSER_TESTS) else module


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    from xdist.scheduler import LoadScopeScheduling

    class ByScope(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return xdist_scope(nodeid)

    config.option.loadscopereorder = False  # hand the units out in collection order, the slow ones first
    return ByScope(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On an xdist worker, the units holding a ``slow`` or ``browser`` test come first, so that no long one
    is left running alone at the end while the other worker idles."""
    if not hasattr(config, "workerinput"):  # a plain pytest run keeps its order
        return
    heavy = {
        xdist_scope(item.nodeid)
        for item in items
        if item.get_closest_marker("slow") or item.get_closest_marker("browser")
    }
    items.sort(key=lambda item: xdist_scope(item.nodeid) not in heavy)  # stable: each unit keeps its order


@pytest.fixture(scope="session")
def tiny_model() -> LoadedModel:
    """The tiny trained model (``tests.serving.tiny_model``), trained once per test process."""
    from tests import serving  # the model code, imported only by the tests that serve a model

    return serving.tiny_model()
