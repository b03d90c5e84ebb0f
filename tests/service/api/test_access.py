"""The access rule for every route: 401 without a live key, 403 for a role never allowed, 404 for
another tenant's resource; and the one error shape for routing errors, limits and crashes."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from tests.service.api.conftest import Api

NEW_VACANCY = {"title": "测试岗位", "district": "越城区", "required_skills": ["spc"]}
FEEDBACK = {"graduate_id": "G05", "event": "shortlisted"}

# (method, path, body) of every /api/v1 route this module owns; own resources of hr_e2 (V3).
ROUTES = [
    ("POST", "/api/v1/vacancies", NEW_VACANCY),
    ("GET", "/api/v1/vacancies", None),
    ("GET", "/api/v1/vacancies/V3", None),
    ("PATCH", "/api/v1/vacancies/V3", {"headcount": 5}),
    ("POST", "/api/v1/vacancies/V3/close", None),
    ("POST", "/api/v1/vacancies/V3/feedback", FEEDBACK),
    ("GET", "/api/v1/vacancies/V3/candidates", None),
    ("GET", "/api/v1/skills?q=SPC", None),
    ("GET", "/api/v1/admin/audit", None),
]
ALLOWED_ROLES = {
    "/api/v1/vacancies": {"admin", "hr"},
    "/api/v1/skills": {"admin", "hr", "school"},
    "/api/v1/admin/audit": {"admin"},
}
# Routes that work without a model answer 2xx; candidates answer 503 with no model served.
NEEDS_MODEL = {"/api/v1/vacancies/V3/candidates"}


def _allowed(path: str, role: str) -> bool:
    for prefix, roles in ALLOWED_ROLES.items():
        if path.split("?")[0].startswith(prefix):
            return role in roles
    raise AssertionError(path)


def _call(api: Api, method: str, path: str, body: object, headers: dict[str, str]):
    if body is not None and method == "POST" and path == "/api/v1/vacancies" and headers.get("_admin"):
        body = {**body, "enterprise_id": "E2"}  # type: ignore[dict-item]
    headers = {k: v for k, v in headers.items() if not k.startswith("_")}
    return api.client.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_missing_malformed_unknown_and_revoked_keys_are_401(
    api: Api, method: str, path: str, body: object
) -> None:
    for headers in (
        {},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer not-a-key"},
        {"Authorization": "Bearer tm_000000000000_secret"},
        {"Authorization": api.headers["admin"]["Authorization"][:-2] + "xx"},  # right id, wrong secret
        api.headers["revoked"],
    ):
        response = _call(api, method, path, body, headers)
        assert response.status_code == 401, (headers, response.text)
        assert response.json()["error"]["code"] == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
@pytest.mark.parametrize("key", ["admin", "hr_e2", "school_s1"])
def test_each_role_on_each_route(api: Api, method: str, path: str, body: object, key: str) -> None:
    role = key.split("_")[0]
    headers = {**api.headers[key], **({"_admin": "1"} if role == "admin" else {})}
    response = _call(api, method, path, body, headers)
    if not _allowed(path, role):
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "forbidden"
    elif path in NEEDS_MODEL:
        assert response.status_code == 503, response.text
        assert response.json()["error"]["code"] == "model_not_ready"
    else:
        assert response.status_code in (200, 201), response.text


@pytest.mark.parametrize(("method", "path", "body"), [r for r in ROUTES if "/V3" in r[1]])
def test_other_enterprise_gets_404_on_every_vacancy_route(
    api: Api, method: str, path: str, body: object
) -> None:
    foreign = _call(api, method, path, body, api.headers["hr_e1"])
    missing = _call(api, method, path.replace("/V3", "/V404"), body, api.headers["hr_e1"])
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["error"]["code"] == missing.json()["error"]["code"]
    assert foreign.json()["error"]["message"].replace("V3", "X") == missing.json()["error"][
        "message"
    ].replace("V404", "X")


def test_unknown_route_and_wrong_method_use_the_error_shape(api: Api) -> None:
    unknown = api.client.get("/api/v1/nothing-here", headers=api.headers["admin"])
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"
    wrong = api.client.delete("/api/v1/skills", headers=api.headers["admin"])
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "method_not_allowed"
    assert set(wrong.json()["error"]) == {"code", "message", "details"}


def test_too_large_body_is_413(api: Api) -> None:
    big = {**NEW_VACANCY, "description": "引线键合" * 300_000}
    response = api.client.post("/api/v1/vacancies", json=big, headers=api.headers["hr_e2"])
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert response.headers["x-request-id"]

    def chunks():
        for _ in range(30):
            yield b"x" * 50_000

    streamed = api.client.post(
        "/api/v1/vacancies",
        content=chunks(),
        headers={**api.headers["hr_e2"], "Content-Type": "application/json"},
    )
    assert streamed.status_code == 413


def test_unexpected_errors_are_500_in_the_shape_without_internals(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    app = api.client.app

    def boom() -> None:
        raise RuntimeError("secret internal detail")

    app.add_api_route("/api/v1/boom", boom)  # type: ignore[attr-defined]
    with TestClient(app, raise_server_exceptions=False) as client, caplog.at_level(logging.ERROR):
        response = client.get("/api/v1/boom", headers={"X-Request-ID": "req-123"})
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "internal_error"
    assert "secret" not in response.text and "Traceback" not in response.text
    assert "req-123" in error["message"]
    assert "secret internal detail" in caplog.text  # logged for the operator


def test_access_log_has_request_id_route_key_id_and_no_secrets(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="talentmatch.access"):
        response = api.client.get(
            "/api/v1/vacancies/V3?status=open", headers={**api.headers["hr_e2"], "X-Request-ID": "abc-1"}
        )
    assert response.headers["x-request-id"] == "abc-1"
    line = [r.getMessage() for r in caplog.records if r.name == "talentmatch.access"][-1]
    assert "request_id=abc-1" in line
    assert "route=/api/v1/vacancies/{vacancy_id}" in line
    assert f"key={api.key_ids['hr_e2']}" in line
    assert "status=200" in line
    secret = api.headers["hr_e2"]["Authorization"].split()[1]
    assert secret not in caplog.text and "status=open" not in caplog.text


def test_unsafe_request_ids_are_replaced(api: Api) -> None:
    response = api.client.get("/healthz", headers={"X-Request-ID": "x" * 200})
    assert len(response.headers["x-request-id"]) == 32


def test_healthz_reports_database_and_no_model(api: Api) -> None:
    assert api.client.get("/healthz").json() == {
        "status": "ok",
        "database": "ok",
        "model_version": None,
        "model_fallback": False,
    }


def test_openapi_documents_errors_and_examples(api: Api) -> None:
    schema = api.client.get("/openapi.json").json()
    post = schema["paths"]["/api/v1/vacancies"]["post"]
    assert {"401", "403", "422"} <= set(post["responses"])
    assert "examples" in schema["components"]["schemas"]["VacancyCreate"]
    assert "ErrorResponse" in schema["components"]["schemas"]
