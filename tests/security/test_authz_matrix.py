"""The authorization matrix (OWASP API1 BOLA, API2 authentication, API5 function-level authorization).

Every ``/api/v1`` route (enumerated from the app, so a new route without a row here fails) is called by
{no key, revoked key, admin, hr of E1, hr of E2, school of S1, school of S2} on {its own resource, a foreign
tenant's resource} and must answer exactly the documented status (docs/api.md): 401 for a missing or
revoked key, 403 for a role never allowed on the route, 404 for another tenant's resource (byte-for-byte
the answer for an id that does not exist), 2xx otherwise. No 401/403/404 body leaks the foreign resource.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts

from tests.bundles import ENTERPRISES, PROGRAMS, SCHOOLS, VACANCIES
from tests.service.api.conftest import Api

PRINCIPALS = ("none", "revoked", "admin", "hr_e1", "hr_e2", "school_s1", "school_s2")
SCOPES = ("own", "foreign")

# The resource a principal calls "own" and "foreign", per kind of resource. Admin has no tenant: both
# are its own. Graduates differ per principal so that an erasure by one does not change another's answer.
RESOURCES: dict[str, dict[str, tuple[str, str]]] = {
    "vacancy": {
        "admin": ("V2", "V5"),
        "hr_e1": ("V1", "V3"),
        "hr_e2": ("V3", "V1"),
        "school_s1": ("V1", "V3"),
        "school_s2": ("V3", "V1"),
    },
    "program": {
        "admin": ("P2", "P3"),
        "hr_e1": ("P1", "P3"),
        "hr_e2": ("P3", "P1"),
        "school_s1": ("P1", "P3"),
        "school_s2": ("P3", "P1"),
    },
    "graduate": {
        "admin": ("G02", "G10"),
        "hr_e1": ("G01", "G09"),
        "hr_e2": ("G09", "G01"),
        "school_s1": ("G01", "G09"),
        "school_s2": ("G09", "G01"),
    },
}
TENANT_ENTERPRISE = {"hr_e1": "E1", "hr_e2": "E2", "admin": "E1"}
FOREIGN_ENTERPRISE = {"hr_e1": "E2", "hr_e2": "E1", "admin": "E2"}
MISSING_ID = {"vacancy": "V404", "program": "P404", "graduate": "G404"}

ALL = frozenset({"admin", "hr", "school"})
ADMIN = frozenset({"admin"})
HR = frozenset({"admin", "hr"})
SCHOOL = frozenset({"admin", "school"})
# Anyone, with or without a key (the algorithm notice and model cards): no 401, 403 or 404 by principal.
PUBLIC = frozenset({"anyone"})


def _graduates_csv(program_id: str, graduate_id: str) -> bytes:
    header = "graduate_id,program_id,education,major,skills,preferred_districts,available_from,status\n"
    row = f"{graduate_id},{program_id},associate,微电子技术,lithography;spc,越城区,2026-06-30,seeking\n"
    return (header + row).encode("utf-8")


def _post_vacancy(principal: str, scope: str, _: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"title": "测试岗位", "district": "越城区", "required_skills": ["spc"]}
    if principal in FOREIGN_ENTERPRISE:  # hr names the other enterprise; admin names either
        body["enterprise_id"] = (FOREIGN_ENTERPRISE if scope == "foreign" else TENANT_ENTERPRISE)[principal]
        if principal != "admin" and scope == "own":
            body.pop("enterprise_id")
    return {"json": body}


def _feedback(principal: str, scope: str, _: str | None) -> dict[str, Any]:
    # G10 (bachelor, seeking) is a candidate of every open vacancy; HR records outcomes only for candidates.
    return {"json": {"graduate_id": "G10", "event": "shortlisted"}}


# An outcome HR recorded on each vacancy long ago: undoing it is refused (409) past the undo window. V2
# has none (a 404 naming the outcome, on the caller's own vacancy).
OLD_OUTCOME = {"V1": ("G01", "shortlisted"), "V3": ("G05", "shortlisted"), "V5": ("G09", "shortlisted")}


def _undo(principal: str, scope: str, vacancy_id: str | None) -> dict[str, Any]:
    graduate, event = OLD_OUTCOME.get(str(vacancy_id), ("G03", "shortlisted"))
    return {"json": {"graduate_id": graduate, "event": event}}


def _patch(principal: str, scope: str, _: str | None) -> dict[str, Any]:
    return {"json": {"headcount": 5}}


def _upload(principal: str, scope: str, program_id: str | None) -> dict[str, Any]:
    content = _graduates_csv(str(program_id), f"GNEW_{principal}_{scope}")
    return {"files": {"file": ("graduates.csv", io.BytesIO(content), "text/csv")}}


def _vacancy_upload(principal: str, scope: str, _: str | None) -> dict[str, Any]:
    content = "title,district,required_skills\n测试岗位,越城区,SPC\n".encode()
    request: dict[str, Any] = {"files": {"file": ("vacancies.csv", io.BytesIO(content), "text/csv")}}
    if principal in FOREIGN_ENTERPRISE and (principal == "admin" or scope == "foreign"):
        # admin names either enterprise; hr naming the other one is refused (403)
        request["params"] = {
            "enterprise_id": (FOREIGN_ENTERPRISE if scope == "foreign" else TENANT_ENTERPRISE)[principal]
        }
    return request


@dataclass(frozen=True)
class Row:
    """What a route allows: the roles, the kind of resource in its path, and the success statuses."""

    roles: frozenset[str]
    kind: str | None = None
    ok: tuple[int, ...] = (200,)
    request: Callable[[str, str, str | None], dict[str, Any]] | None = None
    # For a route without a resource in its path: the foreign scope is a tenant named in the body,
    # answered with this status for a non-admin key (None: no foreign scope, the listing is checked).
    foreign_status: int | None = None
    foreign_ids: tuple[str, ...] = field(default=())
    # Allowed calls on these resources answer these statuses instead of ``ok`` (what the resource holds).
    ok_for: dict[str, tuple[int, ...]] = field(default_factory=dict)


TABLE: dict[tuple[str, str], Row] = {
    ("POST", "/api/v1/vacancies"): Row(HR, ok=(201,), request=_post_vacancy, foreign_status=403),
    ("GET", "/api/v1/vacancies"): Row(HR),
    ("GET", "/api/v1/vacancies/{vacancy_id}"): Row(HR, "vacancy"),
    ("PATCH", "/api/v1/vacancies/{vacancy_id}"): Row(HR, "vacancy", request=_patch),
    ("POST", "/api/v1/vacancies/{vacancy_id}/close"): Row(HR, "vacancy"),
    ("POST", "/api/v1/vacancies/{vacancy_id}/reopen"): Row(HR, "vacancy"),
    ("POST", "/api/v1/vacancies/{vacancy_id}/feedback"): Row(HR, "vacancy", ok=(200, 201), request=_feedback),
    ("GET", "/api/v1/vacancies/{vacancy_id}/feedback"): Row(HR, "vacancy"),
    ("POST", "/api/v1/vacancies/{vacancy_id}/feedback/undo"): Row(
        HR, "vacancy", ok=(409,), request=_undo, ok_for={"V2": (404,)}
    ),
    ("GET", "/api/v1/vacancies/{vacancy_id}/candidates"): Row(HR, "vacancy"),
    ("GET", "/api/v1/vacancies/{vacancy_id}/candidates/export"): Row(HR, "vacancy"),
    ("GET", "/api/v1/imports/vacancies/template"): Row(HR),
    ("POST", "/api/v1/imports/vacancies"): Row(HR, request=_vacancy_upload, foreign_status=403),
    ("GET", "/api/v1/skills"): Row(ALL),
    ("GET", "/api/v1/admin/audit"): Row(ADMIN),
    ("GET", "/api/v1/admin/outcomes"): Row(ADMIN),
    ("GET", "/api/v1/algorithm"): Row(PUBLIC),
    # Called with the template itself as the version: no such version, the same 404 for everyone.
    ("GET", "/api/v1/models/{version}/card"): Row(PUBLIC, ok=(404,)),
    ("GET", "/api/v1/admin/models"): Row(ADMIN),
    ("POST", "/api/v1/admin/models/reload"): Row(ADMIN),
    ("GET", "/api/v1/programs"): Row(SCHOOL),
    ("GET", "/api/v1/programs/{program_id}"): Row(SCHOOL, "program"),
    ("GET", "/api/v1/programs/{program_id}/graduates"): Row(SCHOOL, "program"),
    ("GET", "/api/v1/programs/{program_id}/placements"): Row(SCHOOL, "program"),
    ("GET", "/api/v1/programs/{program_id}/placed"): Row(SCHOOL, "program"),
    ("GET", "/api/v1/programs/{program_id}/skill-gaps"): Row(SCHOOL, "program"),
    ("POST", "/api/v1/programs/{program_id}/graduates/import"): Row(SCHOOL, "program", request=_upload),
    ("GET", "/api/v1/programs/{program_id}/graduates/template"): Row(SCHOOL, "program"),
    ("GET", "/api/v1/programs/{program_id}/placements/export"): Row(SCHOOL, "program"),
    ("GET", "/api/v1/graduates/{graduate_id}"): Row(SCHOOL, "graduate"),
    ("GET", "/api/v1/graduates/{graduate_id}/recommendations"): Row(SCHOOL, "graduate"),
    ("DELETE", "/api/v1/graduates/{graduate_id}"): Row(SCHOOL, "graduate", ok=(204,)),
}

# Words of each tenant's resources that must never appear in an answer refusing them.
FOREIGN_WORDS: dict[str, list[str]] = {
    **{v[0]: [v[2], *([v[14]] if len(v[14]) > 3 else [])] for v in VACANCIES},
    **{p[0]: [p[2]] for p in PROGRAMS},
}
ENTERPRISE_NAMES = [e[1] for e in ENTERPRISES]
SCHOOL_NAMES = [s[1] for s in SCHOOLS]
# Listings: ids a principal must never see in a 2xx answer of a collection route.
NOT_VISIBLE: dict[str, set[str]] = {
    "hr_e1": {"V3", "V4", "V5"},
    "hr_e2": {"V1", "V2", "V6"},
    "school_s1": {"P3", "G09", "G10", "G11", "G12"},
    "school_s2": {"P1", "P2", "G01", "G02", "G03"},
}


def api_routes(app: Any) -> set[tuple[str, str]]:
    """(method, path template) of every ``/api/v1`` route of the app."""
    found = set()
    for context in iter_route_contexts(app.routes):
        path = getattr(context, "path", "")
        for method in getattr(context, "methods", None) or ():
            if path.startswith("/api/v1") and method != "HEAD":
                found.add((method, path))
    return found


def expected(row: Row, principal: str, scope: str) -> tuple[int, ...]:
    if row.roles is PUBLIC:
        return row.ok
    if principal in ("none", "revoked"):
        return (401,)
    if principal.split("_")[0] not in row.roles:
        return (403,)
    if scope == "foreign" and principal != "admin":
        if row.kind is not None:
            return (404,)
        if row.foreign_status is not None:
            return (row.foreign_status,)
    return row.ok


def _headers(api: Api, principal: str) -> dict[str, str]:
    return {} if principal == "none" else dict(api.headers[principal])


def _resource(row: Row, principal: str, scope: str) -> str | None:
    if row.kind is None:
        return None
    own, foreign = RESOURCES[row.kind].get(principal, RESOURCES[row.kind]["admin"])
    return own if scope == "own" else foreign


def _call(api: Api, method: str, path: str, row: Row, principal: str, scope: str, resource: str | None):
    url = path if resource is None else path.replace("{" + f"{row.kind}_id" + "}", resource)
    kwargs = row.request(principal, scope, resource) if row.request else {}
    return api.client.request(method, url, headers=_headers(api, principal), **kwargs)


def test_every_api_route_has_a_row(api: Api) -> None:
    routes = api_routes(api.client.app)
    assert routes, "no /api/v1 routes found"
    missing = sorted(routes - set(TABLE))
    stale = sorted(set(TABLE) - routes)
    assert not missing, f"routes without a row in the authorization matrix: {missing}"
    assert not stale, f"rows for routes that no longer exist: {stale}"


@pytest.mark.parametrize(("method", "path"), sorted(TABLE), ids=lambda v: str(v))
def test_matrix(api_with_model: Api, method: str, path: str) -> None:
    api = api_with_model
    row = TABLE[(method, path)]
    cases = [(p, s, expected(row, p, s)) for p in PRINCIPALS for s in SCOPES]
    # Refusals first: they must change nothing, so the allowed (possibly destructive) calls come after.
    cases.sort(key=lambda case: 0 if case[2][0] >= 400 else 1)
    wrong = []
    for principal, scope, statuses in cases:
        resource = _resource(row, principal, scope)
        statuses = row.ok_for.get(str(resource), statuses) if statuses == row.ok else statuses
        response = _call(api, method, path, row, principal, scope, resource)
        if response.status_code not in statuses:
            wrong.append(f"{principal}/{scope} on {resource}: {response.status_code} not {statuses}")
            continue
        text = response.text
        if response.status_code in (401, 403, 404):
            assert set(response.json()["error"]) == {"code", "message", "details"}
            _assert_no_leak(text, resource)
            if response.status_code in (401, 403):
                assert resource is None or resource not in text, text
        if response.status_code == 404 and row.kind is not None and str(resource) not in row.ok_for:
            _assert_same_as_missing(api, method, path, row, principal, scope, resource, response)
        if 200 <= response.status_code < 300 and principal in NOT_VISIBLE and row.kind is None:
            leaked = {i for i in NOT_VISIBLE[principal] if f'"{i}"' in text}
            assert not leaked, f"{principal} sees foreign {leaked} in {method} {path}"
    assert not wrong, "\n".join(wrong)


def _assert_no_leak(text: str, resource: str | None) -> None:
    for word in FOREIGN_WORDS.get(resource or "", []):
        assert word not in text, (word, text)
    for name in ENTERPRISE_NAMES + SCHOOL_NAMES:
        assert name not in text, (name, text)


def _assert_same_as_missing(
    api: Api, method: str, path: str, row: Row, principal: str, scope: str, resource: str | None, found: Any
) -> None:
    assert row.kind is not None and resource is not None
    missing_id = MISSING_ID[row.kind]
    missing = _call(api, method, path, row, principal, scope, missing_id)
    assert missing.status_code == found.status_code
    assert found.text.replace(resource, "X") == missing.text.replace(missing_id, "X")
    assert {k: v for k, v in found.headers.items() if k not in ("x-request-id", "content-length")} == {
        k: v for k, v in missing.headers.items() if k not in ("x-request-id", "content-length")
    }


def test_listings_are_scoped_to_the_tenant(api_with_model: Api) -> None:
    api = api_with_model
    vacancies = api.client.get("/api/v1/vacancies?limit=100", headers=api.headers["hr_e1"]).json()
    assert {v["vacancy_id"] for v in vacancies["items"]} == {"V1", "V2", "V6"}
    programs = api.client.get("/api/v1/programs?limit=100", headers=api.headers["school_s2"]).json()
    assert {p["program_id"] for p in programs["items"]} == {"P3"}
    # HR reaches graduates only as candidates of its own vacancies.
    candidates = api.client.get("/api/v1/vacancies/V1/candidates", headers=api.headers["hr_e1"])
    assert candidates.status_code == 200
    assert api.client.get("/api/v1/graduates/G01", headers=api.headers["hr_e1"]).status_code == 403


def test_candidate_answers_carry_no_more_than_documented(api_with_model: Api) -> None:
    """API3 (property-level authorization): HR sees a candidate's study and skills, not their status,
    districts, availability or major, and nothing beyond the documented fields."""
    api = api_with_model
    body = api.client.get("/api/v1/vacancies/V1/candidates", headers=api.headers["hr_e1"]).json()
    documented = {
        "graduate_id",
        "score",
        "program_id",
        "program_name",
        "school_name",
        "education",
        "skills",
        "matched_skills",
        "missing_skills",
        "reasons",
    }
    assert body["items"]
    for item in body["items"]:
        assert set(item) == documented
