"""Hardening: security headers and CSRF on the web pages, CORS off unless configured, keys stored as salted
hashes and compared in constant time, and logs that carry no key, no query string and no personal data."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from service.app import create_app
from service.store.api_keys import authenticate
from service.store.tables import ApiKey
from tests.bundles import GRADUATES, PROGRAMS, SCHOOLS
from tests.service.api.conftest import Api, Template, settings_for
from tests.service.store.test_market import row_counts
from tests.serving import StaticHolder

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PAGE_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}
ORIGIN = "https://hr.example.cn"


def _plaintext(api: Api, name: str) -> str:
    return api.headers[name]["Authorization"].split(" ", 1)[1]


def _sign_in(client: TestClient, key: str) -> str:
    token = CSRF.search(client.get("/").text)
    assert token, "the sign-in page has no CSRF token"
    response = client.post(
        "/signin", data={"api_key": key, "csrf_token": token.group(1)}, follow_redirects=False
    )
    assert response.status_code in (302, 303), response.text[:300]
    page = client.get(response.headers["location"])
    found = CSRF.search(page.text)
    return found.group(1) if found else token.group(1)


def test_pages_carry_the_security_headers(api_with_model: Api) -> None:
    api = api_with_model
    responses = [api.client.get("/"), api.client.get("/no-such-page")]
    with TestClient(api.client.app) as client:
        _sign_in(client, _plaintext(api, "hr_e1"))
        responses += [client.get("/vacancies"), client.get("/vacancies/V1"), client.get("/vacancies/V3")]
    for response in responses:
        for name, value in PAGE_HEADERS.items():
            assert response.headers.get(name) == value, (response.url, name)
        csp = response.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    cookie = api.client.post("/signin").headers.get("set-cookie", "")
    assert "talentmatch_session" not in cookie or "httponly" in cookie.lower()


PAGE_POSTS: dict[str, tuple[str, dict[str, Any]]] = {
    # path template -> (who signs in, form fields besides the token)
    "/signin": ("", {"api_key": "KEY"}),
    "/signout": ("hr_e1", {}),
    "/vacancies/new": ("hr_e1", {"title": "x", "district": "越城区", "action": "save"}),
    "/vacancies/{vacancy_id}/feedback": (
        "hr_e1",
        {"graduate_id": "G05", "event": "hired", "confirmed": "yes"},
    ),
    "/vacancies/{vacancy_id}/feedback/undo": ("hr_e1", {"graduate_id": "G05", "event": "hired"}),
    "/vacancies/{vacancy_id}/close": ("hr_e1", {"confirmed": "yes"}),
    "/vacancies/{vacancy_id}/reopen": ("hr_e1", {}),
    "/programs/{program_id}/graduates/import": ("school_s1", {}),
    "/programs/{program_id}/graduates/import/confirm": ("school_s1", {"payload": "x", "signature": "y"}),
    "/vacancies/import": ("hr_e1", {}),
    "/vacancies/import/confirm": ("hr_e1", {"payload": "x", "signature": "y"}),
    "/graduates/{graduate_id}/erase": ("school_s1", {"confirm": "G01"}),
    "/admin/reload": ("admin", {}),
}
IDS = {"{vacancy_id}": "V1", "{program_id}": "P1", "{graduate_id}": "G01"}


def page_posts(app: Any) -> set[str]:
    found = set()
    for context in iter_route_contexts(app.routes):
        path = getattr(context, "path", "")
        if "POST" in (getattr(context, "methods", None) or ()) and not path.startswith("/api/"):
            found.add(path)
    return found


def test_every_page_form_refuses_a_missing_or_forged_csrf_token(api_with_model: Api) -> None:
    api = api_with_model
    assert page_posts(api.client.app) == set(PAGE_POSTS), "a new page form needs a row here"
    before = row_counts(api.engine)
    for template, (who, fields) in PAGE_POSTS.items():
        path = template
        for placeholder, value in IDS.items():
            path = path.replace(placeholder, value)
        with TestClient(api.client.app) as client:
            if who:
                _sign_in(client, _plaintext(api, who))
            data = {k: (_plaintext(api, "admin") if v == "KEY" else v) for k, v in fields.items()}
            files = {"file": ("graduates.csv", b"graduate_id\n", "text/csv")} if "import" in path else None
            for token in ({}, {"csrf_token": "forged"}, {"csrf_token": ""}):
                response = client.post(path, data={**data, **token}, files=files, follow_redirects=False)
                assert response.status_code == 403, (path, token, response.status_code)
            if who:  # still signed in: a refused form does not end the session either
                assert client.get("/", follow_redirects=False).status_code in (200, 302, 303)
    assert row_counts(api.engine) == before


@pytest.fixture
def cors_api(seeded_sqlite: Engine, seeded_template: Template, tmp_path: Path) -> Iterator[Api]:
    app = create_app(
        settings_for(seeded_sqlite, tmp_path, cors_origins=[ORIGIN]), model_holder=StaticHolder()
    )
    with TestClient(app) as client:
        yield Api(
            client, seeded_sqlite, None, StaticHolder(), seeded_template.key_ids, seeded_template.headers
        )  # type: ignore[arg-type]


def _preflight(client: TestClient, origin: str) -> Any:
    return client.options(
        "/api/v1/vacancies",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )


def test_cors_is_off_unless_configured(api: Api) -> None:
    preflight = _preflight(api.client, ORIGIN)
    assert "access-control-allow-origin" not in preflight.headers
    simple = api.client.get("/api/v1/skills", headers={**api.headers["hr_e1"], "Origin": ORIGIN})
    assert simple.status_code == 200
    assert not any(h.startswith("access-control-") for h in simple.headers)


def test_cors_allows_only_the_configured_origins(cors_api: Api) -> None:
    api = cors_api
    allowed = _preflight(api.client, ORIGIN)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "access-control-allow-credentials" not in allowed.headers  # bearer keys, never cookies
    other = _preflight(api.client, "https://evil.example.com")
    assert other.headers.get("access-control-allow-origin") != "https://evil.example.com"
    simple = api.client.get("/api/v1/skills", headers={**api.headers["hr_e1"], "Origin": ORIGIN})
    assert simple.headers["access-control-allow-origin"] == ORIGIN
    assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()
    # CORS never replaces authentication.
    assert api.client.get("/api/v1/skills", headers={"Origin": ORIGIN}).status_code == 401


def test_keys_are_stored_as_salted_hashes_and_compared_in_constant_time(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    with api.session() as session:
        rows = list(session.scalars(select(ApiKey)))
        secrets = {name: _plaintext(api, name).split("_", 2)[2] for name in api.headers}
        stored = " ".join(f"{r.key_id} {r.salt} {r.key_hash} {r.name}" for r in rows)
        for secret in secrets.values():
            assert secret not in stored
            assert hashlib.sha256(secret.encode()).hexdigest() not in stored  # salted, not a plain hash
        assert len({r.salt for r in rows}) == len(rows)

        compared: list[int] = []
        real = hmac.compare_digest

        def counting(a: Any, b: Any) -> bool:
            compared.append(1)
            return real(a, b)

        monkeypatch.setattr(hmac, "compare_digest", counting)
        admin = _plaintext(api, "admin")
        key_id = admin.split("_")[1]
        for token in (admin, admin[:-1] + "x", f"tm_{'0' * len(key_id)}_{secrets['admin']}"):
            compared.clear()
            authenticate(session=session, token=token)
            assert compared == [1], token[:20]  # one constant-time comparison, known id or not


def test_logs_carry_no_keys_no_queries_and_no_personal_data(
    api_with_model: Api, caplog: pytest.LogCaptureFixture
) -> None:
    api = api_with_model
    c = api.client
    with caplog.at_level(logging.DEBUG):
        for name in ("admin", "hr_e1", "hr_e2", "school_s1", "revoked"):
            c.get("/api/v1/vacancies/V1/candidates?district=越城区&limit=5", headers=api.headers[name])
            c.get("/api/v1/graduates/G01/recommendations?district=越城区", headers=api.headers[name])
            c.get("/api/v1/programs/P1/graduates?status=seeking", headers=api.headers[name])
            c.get("/api/v1/graduates/G09", headers=api.headers[name])
        c.post(
            "/api/v1/vacancies/V1/feedback",
            json={"graduate_id": "G02", "event": "hired"},
            headers=api.headers["hr_e1"],
        )
        c.post("/api/v1/vacancies", json={"title": "x\u0007"}, headers=api.headers["hr_e1"])
        c.post(
            "/api/v1/vacancies",
            content=b"{not json",
            headers={**api.headers["hr_e1"], "Content-Type": "application/json"},
        )
        c.post(
            "/api/v1/programs/P1/graduates/import",
            files={"file": ("g.csv", b"graduate_id,program_id\nG77,P1\n", "text/csv")},
            headers=api.headers["school_s1"],
        )
        c.delete("/api/v1/graduates/G03", headers=api.headers["school_s1"])
        c.get("/api/v1/skills", headers={"Authorization": "Bearer tm_deadbeef0000_not-a-real-secret"})
        with TestClient(c.app) as web:
            _sign_in(web, _plaintext(api, "hr_e1"))
            web.get("/vacancies/V1")
            web.post("/signin", data={"api_key": "tm_abc_wrong-secret-typed", "csrf_token": "x"})
    # The service's log records (the test's own HTTP client logs its requests under httpx: not ours).
    records = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    text = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in records)
    access = [r.getMessage() for r in records if r.name == "talentmatch.access"]
    assert len(access) >= 25
    for line in access:
        assert re.fullmatch(
            r"request_id=[A-Za-z0-9._-]+ method=[A-Z]+ route=\S+ status=\d{3} key=[0-9a-f-]+ ms=[\d.]+", line
        ), line
    for name in api.headers:
        assert _plaintext(api, name) not in text
        assert _plaintext(api, name).split("_", 2)[2] not in text
    assert "not-a-real-secret" not in text and "wrong-secret-typed" not in text
    # No graduate ids, names, majors, districts or query strings: routes are logged as templates.
    for graduate in GRADUATES:
        assert re.search(rf"\b{graduate[0]}\b", text) is None, graduate[0]
        if graduate[3]:
            assert graduate[3] not in text
    for word in [
        "越城区",
        "seeking",
        "district=",
        "status=seeking",
        *[p[2] for p in PROGRAMS],
        *[s[1] for s in SCHOOLS],
    ]:
        assert word not in text, word


def test_error_logs_name_the_route_template_not_ids_or_sql_parameters(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    from sqlalchemy.exc import OperationalError

    app = api.client.app

    def crash(graduate_id: str) -> None:
        raise RuntimeError("boom")

    def locked(graduate_id: str) -> None:
        raise OperationalError(
            "SELECT * FROM graduates WHERE graduate_id = ?", (graduate_id,), Exception("locked")
        )

    app.add_api_route("/api/v1/test-crash/{graduate_id}", crash)  # type: ignore[attr-defined]
    app.add_api_route("/api/v1/test-locked/{graduate_id}", locked)  # type: ignore[attr-defined]
    with TestClient(app, raise_server_exceptions=False) as client, caplog.at_level(logging.DEBUG):
        assert client.get("/api/v1/test-crash/G07").status_code == 500
        assert client.get("/api/v1/test-locked/G07").status_code == 503
    text = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore")))
    assert "/api/v1/test-crash/{graduate_id}" in text and "locked" in text
    assert "G07" not in text
