"""The per-process API key cache (service.usecases.key_cache): a verified key is read from the store once per
TTL, its secret is checked on every request, and a revocation is seen at once in the revoking process and
within the TTL in any other (the ``talentmatch apikey revoke`` command, run as a separate process).

The store is a real migrated SQLite file; the app is the real one over TestClient; the command line is a real
subprocess on the same file.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from service.store import api_keys
from service.store.session import make_sessionmaker, transaction
from service.store.tables import ApiKey
from service.usecases import admin, key_cache
from service.usecases.context import OPERATOR, Services, open_context
from service.usecases.key_cache import KeyCache
from tests.factories import make_api_key
from tests.live_server import REPO
from tests.service.api.conftest import Api, make_api
from tests.statements import recorded_statements

AUDIT = "/api/v1/admin/audit"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@contextmanager
def key_reads() -> Iterator[list[str]]:
    """The SQL statements looking a key up in the api_keys table (by id), on any engine, while the block
    runs; listing every key's name (the audit page does) is not a lookup."""
    with recorded_statements(lambda statement: "FROM api_keys" in statement and "WHERE" in statement) as seen:
        yield seen


@pytest.fixture
def key(sqlite_engine: Engine) -> tuple[str, str]:
    with transaction(sqlite_engine) as session:
        return make_api_key(session, role="admin", name="cached")


def test_a_verified_key_is_read_once_per_ttl_and_its_secret_checked_every_time(
    sqlite_engine: Engine, key: tuple[str, str]
) -> None:
    key_id, plaintext = key
    clock = Clock()
    cache = KeyCache(5.0, clock=clock)
    with make_sessionmaker(sqlite_engine)() as session, key_reads() as reads:
        first = cache.authenticate(session=session, token=plaintext)
        assert first is not None and first.key_id == key_id and first.role == "admin"
        assert len(reads) == 1
        for _ in range(5):
            assert cache.authenticate(session=session, token=plaintext) == first
        # The cached row holds the salted HMAC, never the key: a wrong secret is refused without a read.
        assert cache.authenticate(session=session, token=f"tm_{key_id}_wrong-secret") is None
        assert len(reads) == 1
        clock.now += 4.9
        assert cache.authenticate(session=session, token=plaintext) == first
        assert len(reads) == 1
        clock.now += 0.1  # the entry is 5 s old: read again
        assert cache.authenticate(session=session, token=plaintext) == first
        assert len(reads) == 2
    cached = [repr(stored) for _, stored in cache._entries.values()]
    assert cached and not any(plaintext.split("_", 2)[2] in text for text in cached)


def test_known_answers_from_the_cache_only(sqlite_engine: Engine, key: tuple[str, str]) -> None:
    """``known`` (what the API's context asks on the event loop) never reads the store: None until the key
    is cached, then the identity for the right secret only, and None again once forgotten or expired."""
    key_id, plaintext = key
    clock = Clock()
    cache = KeyCache(5.0, clock=clock)
    with key_reads() as reads:
        assert cache.known(plaintext) is None
        assert reads == []
    with make_sessionmaker(sqlite_engine)() as session:
        identity = cache.authenticate(session=session, token=plaintext)
    assert identity is not None and cache.known(plaintext) == identity
    assert cache.known(f"tm_{key_id}_wrong-secret") is None and cache.known("not a key") is None
    clock.now += 5.0
    assert cache.known(plaintext) is None
    with make_sessionmaker(sqlite_engine)() as session:
        cache.authenticate(session=session, token=plaintext)
    cache.forget(key_id)
    assert cache.known(plaintext) is None


def test_a_revocation_elsewhere_is_seen_when_the_entry_expires_and_here_at_once(
    sqlite_engine: Engine, key: tuple[str, str]
) -> None:
    key_id, plaintext = key
    clock = Clock()
    cache = KeyCache(5.0, clock=clock)
    sessions = make_sessionmaker(sqlite_engine)
    with sessions() as session:
        assert cache.authenticate(session=session, token=plaintext) is not None
    with transaction(sqlite_engine) as session:  # another process's revocation: this cache is not told
        api_keys.revoke_api_key(session=session, key_id=key_id)
    with sessions() as session:
        assert cache.authenticate(session=session, token=plaintext) is not None  # within the TTL
        clock.now += 5.0
        assert cache.authenticate(session=session, token=plaintext) is None
    # Revoked, unknown and wrongly presented keys are never cached: each is read every time.
    with sessions() as session, key_reads() as reads:
        for token in (plaintext, plaintext, "tm_000000000000_secret", "tm_000000000000_secret"):
            assert cache.authenticate(session=session, token=token) is None
        assert len(reads) == 4 and len(cache) == 0

    with transaction(sqlite_engine) as session:
        other_id, other = make_api_key(session, role="admin", name="revoked here")
    with sessions() as session:
        assert cache.authenticate(session=session, token=other) is not None
        api_keys.revoke_api_key(session=session, key_id=other_id)
        session.commit()
        cache.forget(other_id)
        assert cache.authenticate(session=session, token=other) is None


def test_a_row_read_before_a_revocation_here_is_not_cached_after_it(
    sqlite_engine: Engine, key: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request that read the key's row just before this process revoked it must not put the stale, live
    row back into the cache after ``forget``."""
    key_id, plaintext = key
    cache = KeyCache(60.0)
    real_load = key_cache.load_key

    def load_then_revoke(*, session: Any, key_id: str) -> Any:
        stored = real_load(session=session, key_id=key_id)
        with transaction(sqlite_engine) as other:
            api_keys.revoke_api_key(session=other, key_id=key_id)
        cache.forget(key_id)
        return stored

    monkeypatch.setattr(key_cache, "load_key", load_then_revoke)
    with make_sessionmaker(sqlite_engine)() as session:
        assert cache.authenticate(session=session, token=plaintext) is not None  # the row it read was live
    monkeypatch.setattr(key_cache, "load_key", real_load)
    assert len(cache) == 0
    with make_sessionmaker(sqlite_engine)() as session:
        assert cache.authenticate(session=session, token=plaintext) is None


def test_a_zero_ttl_reads_the_store_every_time(sqlite_engine: Engine, key: tuple[str, str]) -> None:
    _, plaintext = key
    cache = KeyCache(0.0)
    with make_sessionmaker(sqlite_engine)() as session, key_reads() as reads:
        for _ in range(3):
            assert cache.authenticate(session=session, token=plaintext) is not None
    assert len(reads) == 3 and len(cache) == 0


def _api(engine: Engine, tmp_path: Path, ttl: float) -> Iterator[Api]:
    """The app on a seeded store (``tests.service.api.conftest``) with this TTL."""
    yield from make_api(engine, tmp_path, key_cache_seconds=ttl)


def _services(api: Api) -> Services:
    return api.client.app.state.services  # type: ignore[attr-defined,no-any-return]


def test_the_server_reads_a_key_once_and_refuses_it_at_once_when_it_revokes_it(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    for api in _api(sqlite_engine, tmp_path, ttl=300.0):
        headers = api.headers["admin"]
        with key_reads() as reads:
            for _ in range(4):
                assert api.client.get(AUDIT, headers=headers).status_code == 200
        assert len(reads) == 1
        # The revocation goes through the use case in the server's process (as an admin page would).
        with api.sessions() as session:
            admin.revoke_key(open_context(_services(api), session, OPERATOR, via="cli"), api.key_ids["admin"])
        response = api.client.get(AUDIT, headers=headers)
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] == "unauthorized"
        assert api.client.get(AUDIT, headers=api.headers["hr_e1"]).status_code == 403  # others unaffected


def test_a_key_revoked_by_the_command_line_is_refused_within_the_ttl(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    ttl = 1.0
    for api in _api(sqlite_engine, tmp_path, ttl=ttl):
        headers = api.headers["admin"]
        assert api.client.get(AUDIT, headers=headers).status_code == 200
        url = sqlite_engine.url.render_as_string(hide_password=False)
        command = [sys.executable, "-c", "import sys; from service.cli import main; sys.exit(main())"]
        revoke = subprocess.Popen(
            [*command, "apikey", "revoke", api.key_ids["admin"]],
            cwd=REPO,
            env={**os.environ, "TALENTMATCH_DATABASE_URL": url},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        # Keep the key's entry fresh while the command starts and revokes.
        while revoke.poll() is None:
            assert api.client.get(AUDIT, headers=headers).status_code in (200, 401)
            time.sleep(0.05)
        revoked_by = time.monotonic()
        output = revoke.stdout.read().decode() if revoke.stdout else ""
        assert revoke.returncode == 0, output
        with api.sessions() as session:
            assert session.get(ApiKey, api.key_ids["admin"]).revoked_at is not None  # type: ignore[union-attr]
        status = 200
        while status == 200 and time.monotonic() - revoked_by < ttl + 2.0:
            status = api.client.get(AUDIT, headers=headers).status_code
            refused_after = time.monotonic() - revoked_by
            time.sleep(0.02)
        assert status == 401
        assert refused_after <= ttl + 0.5, f"still accepted {refused_after:.2f} s after the revocation"


def test_settings_bound_the_ttl() -> None:
    from pydantic import ValidationError

    from service.settings import Settings

    assert Settings().key_cache_seconds == 5.0
    with pytest.raises(ValidationError):
        Settings(key_cache_seconds=-1)
