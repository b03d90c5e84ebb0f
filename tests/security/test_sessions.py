"""Server-side web sessions (review findings 2 and 5): the cookie carries only a random session token, and
sign-out, revoking the key, the idle timeout and the lifetime end the session for every copy of the cookie.

Everything goes through the real app over HTTP (TestClient) on a migrated SQLite store; the clock is the
app's own seam (``app.state.web_clock``), set by the test instead of sleeping.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner
from sqlalchemy import Engine, select, update

from service.cli import main
from service.settings import get_settings
from service.store.api_keys import revoke_api_key
from service.store.session import make_sessionmaker, transaction
from service.store.tables import ApiKey, AuditEntry, Vacancy, WebSession
from service.web.security import CLOCK_STATE, SESSION_COOKIE
from tests.web.conftest import CSRF, SESSION_SECRET, Web, _make_web

START = datetime(2026, 3, 2, 9, 0, 0)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def web(sqlite_engine: Engine, tmp_path: Path, clock: Clock) -> Iterator[Web]:
    for made in _make_web(sqlite_engine, tmp_path, None, session_idle_minutes=30, session_lifetime_hours=8):
        setattr(made.client.app.state, CLOCK_STATE, clock)  # type: ignore[attr-defined]
        yield made


def key_id(web: Web, role: str) -> str:
    return web.keys[role].split("_")[1]


def copy_of(web: Web) -> str:
    """A copy of the browser's session cookie, as someone who got hold of it would keep it."""
    return web.client.cookies[SESSION_COOKIE]


def browser(web: Web, cookie: str) -> TestClient:
    """Another browser presenting ``cookie`` (a fresh one each time: the server may rewrite cookies)."""
    other = TestClient(web.client.app)
    other.cookies.set(SESSION_COOKIE, cookie)
    return other


def csrf(client: TestClient, path: str = "/vacancies") -> str:
    found = CSRF.search(client.get(path).text)
    assert found, f"no CSRF token on {path}"
    return found[1]


def status_of(web: Web, vacancy_id: str) -> str:
    with make_sessionmaker(web.engine)() as session:
        vacancy = session.get(Vacancy, vacancy_id)
        assert vacancy is not None
        return vacancy.status


def signed_in(client: TestClient) -> bool:
    response = client.get("/vacancies", follow_redirects=False)
    return response.status_code == 200


def closes(web: Web, cookie: str, vacancy_id: str, token: str) -> bool:
    """Whether a browser with ``cookie`` and the CSRF token ``token`` can close the vacancy."""
    response = browser(web, cookie).post(
        f"/vacancies/{vacancy_id}/close",
        data={"csrf_token": token, "confirmed": "yes"},
        follow_redirects=False,
    )
    closed = status_of(web, vacancy_id) == "closed"
    assert closed == (response.status_code == 303 and response.headers["location"] != "/")
    return closed


def cookie_data(client: TestClient) -> dict[str, object]:
    payload = client.cookies[SESSION_COOKIE].split(".")[0]
    return dict(json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4))))


def sessions_of(web: Web, role: str) -> list[WebSession]:
    with make_sessionmaker(web.engine)() as session:
        return list(session.scalars(select(WebSession).where(WebSession.key_id == key_id(web, role))))


def test_the_cookie_holds_a_random_token_and_the_store_only_its_hash(web: Web) -> None:
    web.sign_in("hr")
    data = cookie_data(web.client)
    assert set(data) == {"sid"}  # no key id, no CSRF token, nothing else
    token = data["sid"]
    assert isinstance(token, str) and len(token) >= 40
    (row,) = sessions_of(web, "hr")
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {row.token_hash, row.key_id}
    assert row.created_at == START and row.expires_at == START + timedelta(hours=8)


def test_a_cookie_forged_with_the_secret_and_a_key_id_signs_nobody_in(web: Web) -> None:
    # Finding 2's root cause: the old cookie was {"key_id": ...} signed with a secret anyone may know.
    signer = TimestampSigner(SESSION_SECRET)
    admin = key_id(web, "admin")
    for forged in ({"key_id": admin}, {"sid": admin}, {"sid": hashlib.sha256(admin.encode()).hexdigest()}):
        value = signer.sign(base64.b64encode(json.dumps(forged).encode())).decode()
        web.client.cookies.clear()
        web.client.cookies.set(SESSION_COOKIE, value)
        response = web.client.get("/admin", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/", forged


def test_a_copied_cookie_stops_working_after_sign_out(web: Web) -> None:
    web.sign_in("hr")
    token = csrf(web.client)
    copy = copy_of(web)
    assert closes(web, copy, "V2", token)  # the copy works while the session lives

    response = web.client.post("/signout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert sessions_of(web, "hr") == []
    # ... and not after sign-out: neither a page nor a form posted with the old CSRF token.
    assert not signed_in(browser(web, copy))
    assert not closes(web, copy, "V1", token)


def test_revoking_the_key_ends_all_its_sessions(web: Web) -> None:
    web.sign_in("hr")
    first, token = copy_of(web), csrf(web.client)
    web.sign_in("hr")  # a second session of the same key
    second = copy_of(web)
    assert len(sessions_of(web, "hr")) == 2
    assert signed_in(browser(web, first)) and signed_in(browser(web, second))
    with transaction(web.engine) as session:
        revoke_api_key(session=session, key_id=key_id(web, "hr"))
    assert sessions_of(web, "hr") == []
    # Deleted, not just refused while the key is revoked: taking the revocation back revives nothing.
    with transaction(web.engine) as session:
        session.execute(update(ApiKey).where(ApiKey.key_id == key_id(web, "hr")).values(revoked_at=None))
    assert not signed_in(browser(web, first)) and not signed_in(browser(web, second))
    assert not closes(web, first, "V1", token)


def test_an_idle_session_ends_and_an_active_one_lives_until_its_lifetime(web: Web, clock: Clock) -> None:
    web.sign_in("hr")
    copy, token = copy_of(web), csrf(web.client)
    clock.advance(minutes=29)
    assert signed_in(web.client)  # 29 min idle: still signed in, and the request counts as activity
    clock.advance(minutes=29)
    assert signed_in(web.client)
    clock.advance(minutes=30)  # 30 min without a request
    assert not closes(web, copy, "V1", token)
    assert not signed_in(web.client)
    assert sessions_of(web, "hr") == []

    web.sign_in("hr")
    for _ in range(23):  # active every 20 minutes: 7 h 40 min
        clock.advance(minutes=20)
        assert signed_in(web.client)
    clock.advance(minutes=20)  # 8 h after sign-in
    assert not signed_in(web.client)


def test_the_csrf_token_belongs_to_one_session(web: Web) -> None:
    web.sign_in("hr")
    first, token_first = copy_of(web), csrf(web.client)
    web.sign_in("hr")
    second, token_second = copy_of(web), csrf(web.client)
    assert token_first != token_second
    assert not closes(web, second, "V1", token_first)
    assert closes(web, first, "V1", token_first)


def test_apikey_revoke_on_the_command_line_signs_the_key_out_everywhere(
    web: Web, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    web.sign_in("school")
    copy = copy_of(web)
    assert signed_in_as_school(browser(web, copy))
    monkeypatch.setenv("TALENTMATCH_DATABASE_URL", web.engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    try:
        assert main(["apikey", "revoke", key_id(web, "school")]) == 0
    finally:
        get_settings.cache_clear()
    assert "web sessions are ended" in capsys.readouterr().out
    assert sessions_of(web, "school") == []
    assert not signed_in_as_school(browser(web, copy))
    with make_sessionmaker(web.engine)() as session:
        (entry,) = session.scalars(select(AuditEntry).where(AuditEntry.action == "revoke_key"))
        assert entry.key_id == "cli" and entry.resource == f"api_keys/{key_id(web, 'school')}"


def signed_in_as_school(client: TestClient) -> bool:
    return client.get("/programs", follow_redirects=False).status_code == 200
