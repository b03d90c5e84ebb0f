"""The authorization matrix of the web pages (the API's is ``test_authz_matrix.py``).

Every page route, GET and POST (enumerated from the app, so a new page without a row here fails), is
called by {nobody, a session whose key was revoked, admin, hr of E1, hr of E2, school of S1, school of S2},
each signed in through the real sign-in form, on {its own resource, a foreign tenant's, a missing id}.
Forms carry the session's valid CSRF token, so what answers is the authorization: signed out → 303 to the
sign-in page; a role never allowed → the 403 page; another tenant's resource → the 404 page, identical
(ids aside) to the one for an id that does not exist and naming nothing of the tenant; allowed → 200, or
303 for a form, which does exactly its change to the store. A refused call changes nothing.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from service.store.api_keys import revoke_api_key
from service.store.tables import Graduate, Vacancy
from service.web.i18n import translate
from service.web.pages.auth import HOME_BY_ROLE
from service.web.security import is_page_path
from tests.bundles import ENTERPRISES, PROGRAMS, SCHOOLS, VACANCIES
from tests.factories import make_api_key
from tests.security.test_authz_matrix import (
    ADMIN,
    FOREIGN_ENTERPRISE,
    HR,
    MISSING_ID,
    NOT_VISIBLE,
    PRINCIPALS,
    RESOURCES,
    SCHOOL,
    TENANT_ENTERPRISE,
    _assert_no_leak,
    _upload,
)
from tests.security.test_hardening import CSRF, _plaintext, _sign_in, page_posts
from tests.service.api.conftest import Api
from tests.service.store.test_market import row_counts

SIGNED_OUT = ("none", "revoked")
ENTERPRISE_OF = {v[0]: v[1] for v in VACANCIES}
TITLE = {**{v[0]: v[2] for v in VACANCIES}, **{p[0]: p[2] for p in PROGRAMS}}
# Names of the other tenant, never on a page listing a tenant's own things.
OTHER_TENANT_NAME = {
    "hr_e1": ENTERPRISES[1][1],
    "hr_e2": ENTERPRISES[0][1],
    "school_s1": SCHOOLS[1][1],
    "school_s2": SCHOOLS[0][1],
}
PATH_VALUES = {"code": "zh"}  # path parameters that name no resource


# ---------------------------------------------------------------------------------------------- the store
@dataclass(frozen=True)
class State:
    """What a page may change: row counts, each vacancy's (enterprise, status), each graduate's programme."""

    counts: dict[str, int]
    vacancies: dict[str, tuple[str, str]]
    graduates: dict[str, str]


@dataclass(frozen=True)
class Change:
    counts: dict[str, int]  # table -> rows added (negative: removed), only tables that changed
    vacancies: dict[str, tuple[str, str] | None]  # added or changed (None: removed)
    graduates: dict[str, str | None]

    def __bool__(self) -> bool:
        return bool(self.counts or self.vacancies or self.graduates)


def _state(engine: Engine) -> State:
    with engine.connect() as connection:
        vacancies = connection.execute(select(Vacancy.vacancy_id, Vacancy.enterprise_id, Vacancy.status))
        graduates = connection.execute(select(Graduate.graduate_id, Graduate.program_id))
        return State(
            row_counts(engine),
            {v: (e, s) for v, e, s in vacancies},
            {g: p for g, p in graduates},
        )


def _changed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {k: after.get(k) for k in sorted(before.keys() | after.keys()) if before.get(k) != after.get(k)}


def _change(before: State, after: State) -> Change:
    counts = {
        k: after.counts[k] - before.counts[k] for k in after.counts if after.counts[k] != before.counts[k]
    }
    return Change(
        counts, _changed(before.vacancies, after.vacancies), _changed(before.graduates, after.graduates)
    )


# ---------------------------------------------------------------------------------------------- the table
Form = Callable[[str, str, str | None], dict[str, Any]]
# (principal, scope, resource, the change to the store) -> whether the change is what the form does.
Effect = Callable[[str, str, str | None, Change], bool]


def _no_change(principal: str, scope: str, resource: str | None, change: Change) -> bool:
    return not change


def _vacancy_form(principal: str, scope: str, _: str | None) -> dict[str, Any]:
    data = {
        "title": "测试岗位",
        "district": "越城区",
        "min_education": "associate",
        "headcount": "1",
        "skill": "spc",
        "extracted": "1",
        "action": "save",
    }
    if principal == "admin":  # admin names either enterprise
        data["enterprise_id"] = (FOREIGN_ENTERPRISE if scope == "foreign" else TENANT_ENTERPRISE)["admin"]
    elif scope == "foreign":  # hr has no such field; a forged one must not move the vacancy
        data["enterprise_id"] = FOREIGN_ENTERPRISE.get(principal, "E2")
    return {"data": data}


def _vacancy_posted(principal: str, scope: str, _: str | None, change: Change) -> bool:
    enterprise = FOREIGN_ENTERPRISE if principal == "admin" and scope == "foreign" else TENANT_ENTERPRISE
    new = [v for v in change.vacancies if v not in ENTERPRISE_OF]
    return (
        change.counts == {"vacancies": 1, "vacancy_skills": 1}
        and len(new) == 1
        and change.vacancies[new[0]] == (enterprise[principal], "open")
        and not change.graduates
    )


def _feedback_form(principal: str, scope: str, _: str | None) -> dict[str, Any]:
    # G10 (bachelor, seeking) is a candidate of every open vacancy; HR records outcomes only for candidates.
    return {"data": {"graduate_id": "G10", "event": "shortlisted"}}


def _recorded(principal: str, scope: str, resource: str | None, change: Change) -> bool:
    return change.counts == {"interactions": 1} and not change.vacancies and not change.graduates


def _undone(principal: str, scope: str, resource: str | None, change: Change) -> bool:
    return change.counts == {"interactions": -1} and not change.vacancies and not change.graduates


def _confirmed_form(principal: str, scope: str, _: str | None) -> dict[str, Any]:
    return {"data": {"confirmed": "yes"}}  # the answer to the confirmation step (hr/confirm.html)


def _status_now(status: str) -> Effect:
    def check(principal: str, scope: str, resource: str | None, change: Change) -> bool:
        assert resource is not None
        return not change.counts and change.vacancies == {resource: (ENTERPRISE_OF[resource], status)}

    return check


def _vacancies_upload(principal: str, scope: str, _: str | None) -> dict[str, Any]:
    content = "title,district,required_skills\n测试岗位,越城区,SPC\n".encode()
    form: dict[str, Any] = {"files": {"file": ("vacancies.csv", io.BytesIO(content), "text/csv")}}
    if principal == "admin":
        form["data"] = {"enterprise_id": TENANT_ENTERPRISE["admin"]}
    return form


def _carried(principal: str, scope: str, _: str | None) -> dict[str, Any]:
    # Rows carried from a preview, not signed for this session: refused (422), nothing written. The signed
    # round trip is tests/web's (test_pages, test_browser).
    return {"data": {"payload": "eJwrSS0uUUjOzy0oyk3NKwEAKwcFaQ==", "signature": "0" * 64}}


def _erase_form(principal: str, scope: str, _: str | None) -> dict[str, Any]:
    return {"data": {"confirm": "yes"}}


def _erased(principal: str, scope: str, resource: str | None, change: Change) -> bool:
    return change.counts.get("graduates") == -1 and change.graduates == {resource: None}


@dataclass(frozen=True)
class Row:
    """What a page route allows: the roles (None: anyone, signed in or not), the kind of resource in its
    path, the answer when allowed, and for a form its fields and the change it makes."""

    roles: frozenset[str] | None
    kind: str | None = None
    ok: int = 200
    form: Form | None = None
    effect: Effect = _no_change
    # A route without a resource whose form may name another tenant (checked as the "foreign" scope).
    names_tenant: bool = False
    # Answers that differ from the rule, by principal.
    answers: dict[str, int] = field(default_factory=dict)
    # Own and foreign resources by principal, where they differ from RESOURCES.
    resources: dict[str, tuple[str, str]] = field(default_factory=dict)
    # For a resource-less page a tenant lists its own things on: foreign ids and names are checked absent.
    listing: bool = False


PUBLIC = None
# Reads come first (the dict's order is the order the allowed calls run in), then the forms in an order
# where one does not spoil the next: the feedback before the vacancy closes, the erasure after the
# feedback on the same graduate, the sign-out last.
TABLE: dict[tuple[str, str], Row] = {
    ("GET", "/"): Row(PUBLIC, ok=303, answers={"none": 200, "revoked": 200}),
    ("GET", "/lang/{code}"): Row(PUBLIC, ok=303),
    ("GET", "/algorithm"): Row(PUBLIC),
    # Called with the template itself as the version: no such version, the same 404 page for everyone.
    ("GET", "/algorithm/models/{version}"): Row(PUBLIC, ok=404),
    ("GET", "/vacancies"): Row(HR, listing=True),
    ("GET", "/vacancies/new"): Row(HR, listing=True),
    ("GET", "/vacancies/{vacancy_id}"): Row(HR, "vacancy"),
    ("GET", "/programs"): Row(SCHOOL, listing=True),
    ("GET", "/programs/{program_id}"): Row(SCHOOL, "program"),
    ("GET", "/programs/{program_id}/placement"): Row(SCHOOL, "program"),
    ("GET", "/programs/{program_id}/skill-gaps"): Row(SCHOOL, "program"),
    ("GET", "/programs/{program_id}/graduates/template"): Row(SCHOOL, "program"),
    ("GET", "/programs/{program_id}/placement/export"): Row(SCHOOL, "program"),
    ("GET", "/vacancies/import"): Row(HR),
    ("GET", "/vacancies/import/template"): Row(HR),
    ("GET", "/vacancies/{vacancy_id}/candidates/export"): Row(HR, "vacancy"),
    ("GET", "/programs/{program_id}/placed"): Row(SCHOOL, "program"),
    ("GET", "/graduates/{graduate_id}"): Row(SCHOOL, "graduate"),
    ("GET", "/admin"): Row(ADMIN),
    ("GET", "/admin/fairness"): Row(ADMIN),
    ("POST", "/signin"): Row(PUBLIC, ok=303, answers={"none": 401, "revoked": 401}),
    ("POST", "/vacancies/new"): Row(
        HR, ok=303, form=_vacancy_form, effect=_vacancy_posted, names_tenant=True
    ),
    ("POST", "/vacancies/{vacancy_id}/feedback"): Row(
        HR, "vacancy", ok=303, form=_feedback_form, effect=_recorded
    ),
    # Each outcome just recorded is undone (within the undo window).
    ("POST", "/vacancies/{vacancy_id}/feedback/undo"): Row(
        HR, "vacancy", ok=303, form=_feedback_form, effect=_undone
    ),
    # E1's HR closes and reopens V2: V1's closing date (2026-03-31) would refuse the reopen once past.
    ("POST", "/vacancies/{vacancy_id}/close"): Row(
        HR,
        "vacancy",
        ok=303,
        form=_confirmed_form,
        effect=_status_now("closed"),
        resources={"hr_e1": ("V2", "V3")},
    ),
    ("POST", "/vacancies/{vacancy_id}/reopen"): Row(
        HR, "vacancy", ok=303, effect=_status_now("open"), resources={"hr_e1": ("V2", "V3")}
    ),
    # An upload is previewed (200, nothing written); the confirm writes the rows the preview carried.
    ("POST", "/programs/{program_id}/graduates/import"): Row(SCHOOL, "program", form=_upload),
    ("POST", "/programs/{program_id}/graduates/import/confirm"): Row(
        SCHOOL, "program", ok=422, form=_carried
    ),
    ("POST", "/vacancies/import"): Row(HR, form=_vacancies_upload),
    ("POST", "/vacancies/import/confirm"): Row(HR, ok=422, form=_carried),
    ("POST", "/graduates/{graduate_id}/erase"): Row(
        SCHOOL, "graduate", ok=303, form=_erase_form, effect=_erased
    ),
    ("POST", "/admin/reload"): Row(ADMIN, ok=303),
    ("POST", "/signout"): Row(PUBLIC, ok=303),
}


def page_routes(app: Any) -> set[tuple[str, str]]:
    """(method, path template) of every page route of the app (not the API, docs or health check)."""
    found = set()
    for context in iter_route_contexts(app.routes):
        path = getattr(context, "path", "")
        for method in getattr(context, "methods", None) or ():
            if is_page_path(path) and method != "HEAD":
                found.add((method, path))
    return found


def scopes(row: Row) -> tuple[str, ...]:
    if row.kind is not None:
        return ("own", "foreign", "missing")
    return ("own", "foreign") if row.names_tenant else ("own",)


def expected(row: Row, principal: str, scope: str) -> int:
    if principal in row.answers:
        return row.answers[principal]
    if row.roles is PUBLIC:
        return row.ok
    if principal in SIGNED_OUT:
        return 303  # to the sign-in page
    if principal.split("_")[0] not in row.roles:
        return 403
    if scope == "missing" or (scope == "foreign" and row.kind is not None and principal != "admin"):
        return 404
    return row.ok


def resource_of(row: Row, principal: str, scope: str) -> str | None:
    if row.kind is None:
        return None
    if scope == "missing":
        return MISSING_ID[row.kind]
    by_principal = {**RESOURCES[row.kind], **row.resources}
    own, foreign = by_principal.get(principal, by_principal["admin"])
    return own if scope == "own" else foreign


def url_of(path: str, row: Row, resource: str | None) -> str:
    for name, value in PATH_VALUES.items():
        path = path.replace("{" + name + "}", value)
    return (
        path if row.kind is None or resource is None else path.replace("{" + f"{row.kind}_id" + "}", resource)
    )


# ---------------------------------------------------------------------------------------------- browsers
@dataclass
class Browser:
    """One principal's browser: its cookies, the CSRF token its forms carry and the key it signs in with."""

    client: TestClient
    csrf: str
    key: str

    def normalised(self, text: str, resource: str | None) -> str:
        """The page with this session's CSRF token and the resource id blanked (random tokens may contain
        anything, ids included)."""
        text = text.replace(self.csrf, "TOKEN")
        return text if resource is None else text.replace(resource, "X")


def _fresh_token(client: TestClient) -> str:
    found = CSRF.search(client.get("/").text)
    assert found, "the sign-in page has no CSRF token"
    return found[1]


def _browser(api: Api, principal: str) -> Browser:
    client = TestClient(api.client.app)
    if principal == "none":
        return Browser(client, _fresh_token(client), "")
    if principal == "revoked":
        # An admin key that signs in, then is revoked: its session must end at once.
        with api.session() as session, session.begin():
            key_id, key = make_api_key(session, role="admin", name="revoked later")
        _sign_in(client, key)
        with api.session() as session, session.begin():
            revoke_api_key(session=session, key_id=key_id)
        return Browser(client, _fresh_token(client), key)  # a signed-out browser's token is the form's
    key = _plaintext(api, principal)
    return Browser(client, _sign_in(client, key), key)


@pytest.fixture
def browsers(api_with_model: Api) -> Iterator[dict[str, Browser]]:
    made: dict[str, Browser] = {}
    try:
        for principal in PRINCIPALS:
            made[principal] = _browser(api_with_model, principal)
        yield made
    finally:
        for browser in made.values():
            browser.client.close()


# ---------------------------------------------------------------------------------------------- the tests
def test_every_page_route_has_a_row(api: Api) -> None:
    routes = page_routes(api.client.app)
    assert routes, "no page routes found"
    missing = sorted(routes - set(TABLE))
    stale = sorted(set(TABLE) - routes)
    assert not missing, f"page routes without a row in the authorization matrix: {missing}"
    assert not stale, f"rows for page routes that no longer exist: {stale}"
    # The forms here are the forms whose CSRF token test_hardening checks.
    assert {path for method, path in routes if method == "POST"} == page_posts(api.client.app)


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_page_matrix(api_with_model: Api, browsers: dict[str, Browser], principal: str) -> None:
    api = api_with_model
    browser = browsers[principal]
    order = list(TABLE)
    cases = [
        (key, scope, expected(row, principal, scope)) for key, row in TABLE.items() for scope in scopes(row)
    ]
    # Refusals first: they must change nothing, so the allowed (possibly destructive) calls come after.
    cases.sort(key=lambda case: (_allowed(TABLE[case[0]], principal, case[2]), order.index(case[0])))
    wrong: list[str] = []
    for (method, path), scope, status in cases:
        row = TABLE[(method, path)]
        call = Call(api, browser, method, path, row, principal, scope)
        before = _state(api.engine)
        client, response = call.send(call.resource)
        change = _change(before, _state(api.engine))
        if response.status_code != status:
            wrong.append(f"{call}: {response.status_code}, not {status}")
        elif problem := (call.allowed if _allowed(row, principal, status) else call.refused)(
            client, response, change
        ):
            wrong.append(f"{call}: {problem}")
        if client is not browser.client:
            client.close()
    assert not wrong, f"{principal}:\n" + "\n".join(wrong)


def _allowed(row: Row, principal: str, status: int) -> bool:
    """Whether ``status`` is the route doing its job for ``principal`` (not a refusal)."""
    if row.roles is PUBLIC:
        return principal not in row.answers
    return status == row.ok and principal not in SIGNED_OUT


@dataclass
class Call:
    """One principal calling one route on one scope, and what its answer must show."""

    api: Api
    browser: Browser
    method: str
    path: str
    row: Row
    principal: str
    scope: str

    @property
    def resource(self) -> str | None:
        return resource_of(self.row, self.principal, self.scope)

    def __str__(self) -> str:
        return f"{self.method} {url_of(self.path, self.row, self.resource)} ({self.scope})"

    def send(self, resource: str | None) -> tuple[TestClient, Any]:
        """The request (sign-in from a browser of its own, so the principal's stays as it is)."""
        url = url_of(self.path, self.row, resource)
        if self.path == "/signin":
            client = TestClient(self.api.client.app)
            data = {"api_key": self.browser.key, "csrf_token": _fresh_token(client)}
            return client, client.post(url, data=data, follow_redirects=False)
        client = self.browser.client
        if self.method == "GET":
            return client, client.get(url, follow_redirects=False)
        kwargs = self.row.form(self.principal, self.scope, resource) if self.row.form else {}
        kwargs["data"] = {**kwargs.get("data", {}), "csrf_token": self.browser.csrf}
        return client, client.post(url, follow_redirects=False, **kwargs)

    def refused(self, client: TestClient, response: Any, change: Change) -> str | None:
        if change:
            return f"a refused call changed the store: {change}"
        status, text, resource = response.status_code, response.text, self.resource
        if status == 303 and response.headers["location"] != "/":
            return f"sent to {response.headers['location']}, not the sign-in page"
        if status in (200, 401) and 'name="api_key"' not in text:
            return "not the sign-in page"
        if status == 401 and self.browser.key and self.browser.key in text:
            return "the sign-in page echoes the key"
        if status in (403, 404):
            if translate("error.csrf.title", "zh") in text:
                return "refused for its CSRF token, not for its authorization"
            if translate(f"error.{status}.title", "zh") not in text:
                return f"not the {status} page"
            _assert_no_leak(text, resource)
        if self.scope in ("own", "foreign") and self.row.kind is not None:
            # The same answer whether the resource exists or not: a foreign id looks like a made-up one.
            missing_id = MISSING_ID[self.row.kind]
            before = _state(self.api.engine)
            _, missing = self.send(missing_id)
            if change := _change(before, _state(self.api.engine)):
                return f"the call on a missing id changed the store: {change}"
            same = self.browser.normalised(text, resource) == self.browser.normalised(
                missing.text, missing_id
            )
            if missing.status_code != status or not same:
                return f"answers unlike a missing id (which gets {missing.status_code})"
            if response.headers.get("location") != missing.headers.get("location"):
                return "redirects unlike a missing id"
        return None

    def allowed(self, client: TestClient, response: Any, change: Change) -> str | None:
        if not self.row.effect(self.principal, self.scope, self.resource, change):
            return f"not the change it should make; the store changed by {change}"
        if self.row.listing and self.principal in NOT_VISIBLE:
            text = self.browser.normalised(response.text, None)
            for foreign in NOT_VISIBLE[self.principal]:
                title = TITLE.get(foreign)
                if re.search(rf"(?<![A-Za-z0-9_-]){foreign}(?![A-Za-z0-9_-])", text) or (
                    title and title in text
                ):
                    return f"shows another tenant's {foreign} ({title})"
            if OTHER_TENANT_NAME[self.principal] in text:
                return f"names the other tenant, {OTHER_TENANT_NAME[self.principal]}"
        if response.status_code != 303:
            return None
        location = response.headers["location"]
        home = HOME_BY_ROLE.get(self.principal.split("_")[0], "/")
        if self.path in ("/", "/signin") and location != home:
            return f"goes to {location}, not {home}"
        landing = client.get(location)  # the page it leads to (which shows and clears the flash)
        if landing.status_code != 200:
            return f"leads to {location}, which answers {landing.status_code}"
        if self.path == "/signout" and client.get("/admin", follow_redirects=False).status_code != 303:
            return "signing out did not end the session"
        return None
