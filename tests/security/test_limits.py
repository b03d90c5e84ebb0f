"""Limits (OWASP API4 unrestricted resource consumption, API6 bulk scraping): a per-key rate limit (429 with
Retry-After, configurable), a body size limit (413) on every route taking a body, and bounded pagination
(limit over 100 → 422) on every route taking ``limit``/``offset``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.security.test_hardening import _plaintext, _sign_in
from tests.service.api.conftest import Api, Template, make_seeded_api

IDS = {"vacancy_id": "V1", "program_id": "P1", "graduate_id": "G01"}


@pytest.fixture
def limited(
    seeded_sqlite: Engine, seeded_template: Template, tmp_path: Path, tiny_model: Any
) -> Iterator[Api]:
    yield from make_seeded_api(
        seeded_sqlite,
        seeded_template,
        tmp_path,
        model=tiny_model,
        rate_limit_per_minute=10,
        max_body_bytes=2_000,
    )


def _operations(api: Api) -> list[tuple[str, str, dict[str, Any]]]:
    """Every operation that takes a key (the public algorithm notice and model cards take none: nothing
    to count against)."""
    schema = api.client.get("/openapi.json").json()
    found = []
    for path, methods in schema["paths"].items():
        if not path.startswith("/api/v1"):
            continue
        for method, spec in methods.items():
            if "401" not in spec.get("responses", {}):
                continue
            url = path
            for name, value in IDS.items():
                url = url.replace("{" + name + "}", value)
            found.append((method.upper(), url, spec))
    return found


def test_a_key_over_its_rate_is_refused_with_retry_after_on_every_route(limited: Api) -> None:
    api = limited
    operations = _operations(api)
    statuses = [
        api.client.request(method, url, headers=api.headers["school_s1"]).status_code
        for method, url, _ in operations
        if method == "GET"
    ]
    assert statuses.count(429) == len(statuses) - 10  # the first 10 pass (whatever they answer), then 429
    for method, url, _ in operations:
        response = api.client.request(method, url, headers=api.headers["school_s1"])
        assert response.status_code == 429, (method, url, response.status_code)
        assert response.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(response.headers["retry-after"]) <= 60
    # Other keys keep their own budget; requests without a valid key never reach the limiter.
    assert api.client.get("/api/v1/skills", headers=api.headers["hr_e1"]).status_code == 200
    assert api.client.get("/api/v1/skills").status_code == 401


def test_bulk_scraping_of_graduates_is_slowed_and_audited(limited: Api) -> None:
    """A school key paging through graduates one by one: at most 100 a page, 10 pages a minute here."""
    api = limited
    seen, statuses = set(), []
    for offset in range(0, 15):
        response = api.client.get(
            f"/api/v1/programs/P1/graduates?limit=1&offset={offset}", headers=api.headers["school_s1"]
        )
        statuses.append(response.status_code)
        if response.status_code == 200:
            seen |= {g["graduate_id"] for g in response.json()["items"]}
    assert statuses[:10] == [200] * 10 and set(statuses[10:]) == {429}
    too_big = api.client.get("/api/v1/programs/P1/graduates?limit=1000", headers=api.headers["school_s2"])
    assert too_big.status_code == 422
    audit = api.client.get(
        "/api/v1/admin/audit?action=list_graduates&limit=100", headers=api.headers["admin"]
    )
    assert audit.json()["total"] == 10  # every page served is on record, with the key that read it


def test_every_body_route_refuses_an_oversized_body_with_413(limited: Api) -> None:
    api = limited
    bodies = [(m, u) for m, u, spec in _operations(api) if "requestBody" in spec]
    assert len(bodies) >= 4
    big_json = b'{"title": "' + b"x" * 5_000 + b'"}'
    for method, url in bodies:
        headers = {**api.headers["admin"], "Content-Type": "application/json"}
        declared = api.client.request(method, url, content=big_json, headers=headers)
        assert declared.status_code == 413, (method, url, declared.text)
        assert declared.json()["error"]["code"] == "payload_too_large"
        streamed = api.client.request(
            method, url, content=iter([b"{", b" " * 1500, b" " * 1500, b"}"]), headers=headers
        )
        assert streamed.status_code == 413, (method, url)
    upload = api.client.post(
        "/api/v1/programs/P1/graduates/import",
        files={"file": ("graduates.csv", b"graduate_id\n" + b"G1\n" * 2_000, "text/csv")},
        headers=api.headers["admin"],
    )
    assert upload.status_code == 413


def test_pagination_is_bounded_on_every_listing(api_with_model: Api) -> None:
    api = api_with_model
    paged = [
        (m, u)
        for m, u, spec in _operations(api)
        if any(p.get("name") == "limit" and p.get("in") == "query" for p in spec.get("parameters", []))
    ]
    assert len(paged) >= 7
    for method, url in paged:
        schema_max = 100
        ok = api.client.request(method, f"{url}?limit={schema_max}", headers=api.headers["admin"])
        assert ok.status_code < 400, (url, ok.text[:200])
        for query, field in (
            ("limit=101", "query.limit"),
            ("limit=0", "query.limit"),
            ("limit=-5", "query.limit"),
        ):
            refused = api.client.request(method, f"{url}?{query}", headers=api.headers["admin"])
            assert refused.status_code == 422, (url, query)
            assert refused.json()["error"]["details"][0]["field"] == field
        if "offset" in url or _takes(api, url, "offset"):
            for query in ("offset=-1", "offset=1000001"):
                refused = api.client.request(method, f"{url}?{query}", headers=api.headers["admin"])
                assert refused.status_code == 422, (url, query)


def _takes(api: Api, url: str, name: str) -> bool:
    for _, u, spec in _operations(api):
        if u == url:
            return any(p.get("name") == name for p in spec.get("parameters", []))
    return False


def test_pages_and_the_api_share_one_rate_limit_and_one_audit_per_key(limited: Api) -> None:
    """Finding 3: a key's web session spends the same budget as its API calls (10 a minute here) and its page
    views are audited like API reads, with its key id and the graduates shown."""
    api = limited
    key_id = api.key_ids["hr_e1"]
    statuses: list[tuple[str, int]] = []
    with TestClient(api.client.app) as browser:
        _sign_in(browser, _plaintext(api, "hr_e1"))  # its landing page is the first request of the key
        for _ in range(6):
            page = browser.get("/vacancies/V1")
            statuses.append(("page", page.status_code))
            call = api.client.get("/api/v1/vacancies/V1/candidates", headers=api.headers["hr_e1"])
            statuses.append(("api", call.status_code))
    served = [s for s in statuses if s[1] == 200]
    assert len(served) == 9, statuses  # 10 tokens: the landing page, then 9 of the 12 requests
    assert statuses[9:] == [("api", 429), ("page", 429), ("api", 429)], statuses
    audit = api.client.get(
        "/api/v1/admin/audit?action=list_candidates&limit=100", headers=api.headers["admin"]
    ).json()["items"]
    mine = [entry for entry in audit if entry["key_id"] == key_id]
    vias = sorted(json.loads(entry["detail"])["via"] for entry in mine)
    assert vias == ["api"] * 4 + ["web"] * 5, vias
    shown = [json.loads(entry["detail"])["graduates"] for entry in mine]
    assert all(isinstance(ids, list) for ids in shown) and any(shown)  # which graduates each read showed
