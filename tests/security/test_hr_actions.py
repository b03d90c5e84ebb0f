"""HR's actions through real HTTP, the API and the pages alike (issue 13's findings 1, 4, 10 and 12).

- Outcomes only for a vacancy's candidates or its pipeline; any other graduate id answers exactly as an
  unknown one (finding 1).
- Free text is capped before any skill extraction, on the posting form's "extract" step, its "add skills"
  box and the API (finding 4).
- HR never learns a graduate's preferred districts: no reason names one, and an hr key may not filter
  candidates by district (finding 10).
- Vacancy titles and descriptions refuse control and bidirectional formatting characters (finding 12).

Tenants of ``tiny_market``: E1 has V1 (associate and above), V2, V6 (filled); E2 has V3 (secondary and
above), V4 (closed), V5. Graduates: G05 secondary seeking, G04 placed, G08 withdrawn, G09..G11 bachelor or
master seeking (school S2), G12 placed and hired on V1.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from models.columns import Columns as C
from service.app import create_app
from service.settings import Settings
from service.store.api_keys import create_api_key
from service.store.market import import_market
from service.store.session import make_sessionmaker, transaction
from service.store.tables import AuditEntry, Graduate, Interaction, Vacancy
from tests.models.conftest import FAST, small_market
from tests.service.api.conftest import Api
from tests.serving import StaticHolder
from tests.web.conftest import SESSION_SECRET, Web, _make_web

ERROR = re.compile(r'class="error" id="([^"]+)">([^<]+)<')
FLASH = re.compile(r'class="flash flash-(\w+)"[^>]*>([^<]+)<')


@pytest.fixture
def pages(sqlite_engine: Engine, tmp_path: Path) -> Iterator[Web]:
    """The pages in-process on ``tiny_market`` (tests/web's ``web``), no model served."""
    yield from _make_web(sqlite_engine, tmp_path, None)


def form_errors(html: str) -> dict[str, str]:
    return {field.removesuffix("-error"): message for field, message in ERROR.findall(html)}


def _feedback(api: Api, key: str, vacancy_id: str, graduate_id: str, event: str = "shortlisted") -> Any:
    return api.client.post(
        f"/api/v1/vacancies/{vacancy_id}/feedback",
        json={"graduate_id": graduate_id, "event": event},
        headers=api.headers[key],
    )


def _same_answer(found: Any, graduate_id: str, unknown: Any, unknown_id: str) -> None:
    assert found.status_code == unknown.status_code == 404
    assert found.json()["error"]["code"] == "graduate_not_found"
    assert found.text.replace(graduate_id, "X") == unknown.text.replace(unknown_id, "X")
    ignored = ("x-request-id", "content-length")
    assert {k: v for k, v in found.headers.items() if k not in ignored} == {
        k: v for k, v in unknown.headers.items() if k not in ignored
    }


def _interactions(api: Api) -> int:
    with api.session() as session:
        return int(session.scalar(select(func.count()).select_from(Interaction)) or 0)


# ---------------------------------------------------------------------------------------- 1: outcomes, API
@pytest.mark.parametrize("event", ["shortlisted", "hired"])
def test_outcomes_for_non_candidates_answer_as_an_unknown_graduate(api: Api, event: str) -> None:
    before = _interactions(api)
    unknown = _feedback(api, "hr_e1", "V1", "G999", event)
    # Below V1's education (G05), placed elsewhere (G04), withdrawn (G08): none a candidate, none in V1's
    # pipeline. The answer must not tell them from an id that does not exist.
    for graduate_id in ("G05", "G04", "G08"):
        _same_answer(_feedback(api, "hr_e1", "V1", graduate_id, event), graduate_id, unknown, "G999")
    assert _interactions(api) == before
    with api.session() as session:
        assert session.get(Graduate, "G05").status == "seeking"  # type: ignore[union-attr]


def test_a_closed_vacancy_tells_no_more_than_an_open_one(api: Api) -> None:
    """On a closed vacancy a non-candidate is still a 404 like an unknown id, not a 409 that would say the
    graduate exists; a graduate in its pipeline gets the 409."""
    unknown = _feedback(api, "hr_e2", "V4", "G999")
    _same_answer(
        _feedback(api, "hr_e2", "V4", "G05"), "G05", unknown, "G999"
    )  # secondary; V4 wants associate
    in_pipeline = _feedback(api, "hr_e2", "V4", "G06")
    assert in_pipeline.status_code == 409 and in_pipeline.json()["error"]["code"] == "vacancy_closed"


def test_candidates_of_any_school_and_the_pipeline_may_be_recorded(api: Api) -> None:
    other_school = _feedback(api, "hr_e1", "V1", "G09")  # S2, bachelor, seeking: passes V1's filters
    assert other_school.status_code == 201, other_school.text
    in_pipeline = _feedback(api, "hr_e1", "V1", "G12", "interviewed")  # placed, but hired on V1 before
    assert in_pipeline.status_code == 201, in_pipeline.text
    secondary_ok = _feedback(api, "hr_e2", "V3", "G05")  # V3 takes secondary education
    assert secondary_ok.status_code == 200  # already shortlisted in the store: idempotent
    audit = api.client.get("/api/v1/admin/audit?action=record_outcome", headers=api.headers["admin"]).json()
    recorded = {(e["resource"], '"G09"' in e["detail"]) for e in audit["items"]}
    assert ("vacancy:V1", True) in recorded and audit["total"] == 3


# -------------------------------------------------------------------------------------- 1: outcomes, pages
def _flash_after(web: Web, vacancy_id: str, graduate_id: str, token: str) -> tuple[int, str]:
    response = web.client.post(
        f"/vacancies/{vacancy_id}/feedback",
        data={"csrf_token": token, "graduate_id": graduate_id, "event": "shortlisted", "back": "/vacancies"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/vacancies"
    flashes = FLASH.findall(web.client.get("/vacancies").text)
    assert len(flashes) == 1, flashes
    return response.status_code, f"{flashes[0][0]}: {flashes[0][1]}"


def _recorded(web: Web, vacancy_id: str) -> int:
    with make_sessionmaker(web.engine)() as session:
        count = select(func.count()).select_from(Interaction).where(Interaction.vacancy_id == vacancy_id)
        return int(session.scalar(count) or 0)


def test_page_outcomes_for_non_candidates_answer_as_an_unknown_graduate(pages: Web) -> None:
    web = pages
    web.sign_in("hr")
    token = web.csrf("/vacancies")
    before = _recorded(web, "V1")
    unknown = _flash_after(web, "V1", "G999", token)
    assert "找不到毕业生" in unknown[1] and unknown[1].startswith("error")
    for graduate_id in ("G05", "G04", "G08"):
        status, text = _flash_after(web, "V1", graduate_id, token)
        assert (status, text.replace(graduate_id, "X")) == (unknown[0], unknown[1].replace("G999", "X"))
    assert _recorded(web, "V1") == before
    status, text = _flash_after(web, "V1", "G09", token)
    assert text.startswith("info") and "G09" in text


# ------------------------------------------------------------------------------------- 4: capped extraction
def _new_vacancy_form(web: Web, **fields: Any) -> dict[str, Any]:
    return {
        "csrf_token": web.csrf("/vacancies/new"),
        "title": "封装工程师",
        "district": "越城区",
        "headcount": "1",
        "min_education": "associate",
        "description": "熟悉SPC",
        **fields,
    }


def test_a_megabyte_description_is_refused_before_extraction(pages: Web) -> None:
    web = pages
    web.sign_in("hr")
    # ~1 MB (just under the body limit), full of a skill name: had extraction run, the form would list it.
    description = "SPC " * 245_000
    response = web.client.post(
        "/vacancies/new", data=_new_vacancy_form(web, description=description, action="extract")
    )
    assert response.status_code == 422
    assert form_errors(response.text) == {"description": "最多 20000 个字。"}
    assert 'name="skill"' not in response.text and 'name="extracted"' not in response.text


def test_the_add_skills_box_is_capped_on_extract_and_on_save(pages: Web) -> None:
    web = pages
    web.sign_in("hr")
    typed = "SPC, " * 500  # 2,500 characters
    extract = web.client.post(
        "/vacancies/new", data=_new_vacancy_form(web, add_skills=typed, action="extract")
    )
    assert extract.status_code == 422
    assert form_errors(extract.text) == {"add_skills": "最多 2000 个字。"}
    assert 'name="skill"' not in extract.text
    save = web.client.post(
        "/vacancies/new",
        data=_new_vacancy_form(web, add_skills=typed, action="save", extracted="1", skill=["spc"]),
    )
    assert save.status_code == 422 and form_errors(save.text) == {"add_skills": "最多 2000 个字。"}
    with make_sessionmaker(web.engine)() as session:
        assert (
            session.scalar(select(func.count()).select_from(Vacancy).where(Vacancy.title == "封装工程师"))
            == 0
        )


def test_the_api_caps_the_description_before_extraction(api: Api) -> None:
    body = {"title": "封装工程师", "district": "越城区", "description": "SPC " * 5001}  # 20,004 characters
    response = api.client.post("/api/v1/vacancies", json=body, headers=api.headers["hr_e1"])
    assert response.status_code == 422
    assert [d["field"] for d in response.json()["error"]["details"]] == ["body.description"]
    huge = api.client.post(
        "/api/v1/vacancies", json={**body, "description": "SPC " * 240_000}, headers=api.headers["hr_e1"]
    )
    assert huge.status_code in (413, 422)


# ------------------------------------------------------------------------------ 10: graduates' preferences
@dataclass
class PreferenceWorld:
    """tests/models' small market, where graduates apply mostly in districts they prefer, in a store served
    by a real matcher trained on it: its reasons often say "prefers this district"."""

    api: Api
    pages: Web
    vacancies: list[str]  # the HR key's enterprise's open vacancies
    district: str


@pytest.fixture
def preference_world(sqlite_engine: Engine, tmp_path: Path) -> Iterator[PreferenceWorld]:
    from models.matcher import Matcher
    from training.registry import LoadedModel

    market = small_market()
    enterprise = "E2"
    with transaction(sqlite_engine) as session:
        import_market(session=session, data=market)
        _, hr_key = create_api_key(session=session, role="hr", enterprise_id=enterprise, name="HR")
        _, admin_key = create_api_key(session=session, role="admin", name="admin")
    model = LoadedModel(version="preferences-1", matcher=Matcher(FAST).fit(market), manifest={})
    settings = Settings(
        database_url=sqlite_engine.url.render_as_string(hide_password=False),
        artifacts_dir=tmp_path / "artifacts",
        session_secret=SESSION_SECRET,
        rate_limit_per_minute=0,
    )
    keys = {"hr": hr_key, "admin": admin_key}
    holder = StaticHolder(model)
    with TestClient(create_app(settings, model_holder=holder)) as client:
        api = Api(client, sqlite_engine, make_sessionmaker(sqlite_engine), holder)
        api.headers = {name: {"Authorization": f"Bearer {key}"} for name, key in keys.items()}
        vacancies = market.vacancies
        own = vacancies[(vacancies[C.enterprise] == enterprise) & (vacancies[C.status] == "open")]
        yield PreferenceWorld(
            api, Web(client, sqlite_engine, keys), sorted(own[C.vacancy]), str(own[C.district].iloc[0])
        )


def _reason_codes(api: Api, key: str, vacancy_id: str) -> set[str]:
    response = api.client.get(
        f"/api/v1/vacancies/{vacancy_id}/candidates?limit=100&include_below_floor=true",
        headers=api.headers[key],
    )
    assert response.status_code == 200, response.text
    return {r["code"] for item in response.json()["items"] for r in item["reasons"]}


def test_hr_sees_no_preferred_district_reason_and_cannot_filter_by_it(
    preference_world: PreferenceWorld,
) -> None:
    api, vacancies = preference_world.api, preference_world.vacancies
    admin_codes = set().union(*(_reason_codes(api, "admin", v) for v in vacancies))
    assert "district_preference" in admin_codes  # the model does explain by it: HR's view is filtered
    hr_codes = set().union(*(_reason_codes(api, "hr", v) for v in vacancies))
    assert "district_preference" not in hr_codes and "required_skills" in hr_codes

    url = f"/api/v1/vacancies/{vacancies[0]}/candidates"
    refused = api.client.get(url, params={"district": preference_world.district}, headers=api.headers["hr"])
    assert refused.status_code == 403
    assert refused.json()["error"]["details"][0]["field"] == "query.district"
    # The same refusal whatever the district, so it says nothing of who prefers it.
    nowhere = api.client.get(url, params={"district": "火星"}, headers=api.headers["hr"])
    assert nowhere.status_code == 403 and nowhere.json()["error"] == refused.json()["error"]
    # Admin may read a graduate's record anyway and keeps the filter.
    admin = api.client.get(url, params={"district": preference_world.district}, headers=api.headers["admin"])
    assert admin.status_code == 200


def test_hr_pages_show_no_preferred_district_nor_its_filter(
    preference_world: PreferenceWorld,
) -> None:
    web, vacancies = preference_world.pages, preference_world.vacancies
    preference = "意向工作地区与岗位一致"  # the district_preference reason on the page
    web.sign_in("admin")
    admin_pages = [web.client.get(f"/vacancies/{v}").text for v in vacancies]
    assert any(preference in html for html in admin_pages)
    assert 'name="district"' in admin_pages[0]
    web.sign_in("hr")
    hr_pages = [web.client.get(f"/vacancies/{v}") for v in vacancies]
    assert all(page.status_code == 200 and preference not in page.text for page in hr_pages)
    assert any('data-graduate="' in page.text for page in hr_pages)
    assert 'name="district"' not in hr_pages[0].text
    refused = web.client.get(f"/vacancies/{vacancies[0]}", params={"district": preference_world.district})
    assert refused.status_code == 403


# ------------------------------------------------------------------------------- 12: hidden characters
HIDDEN = ["\u202e", "\u202a", "\u2066", "\u2069", "\u200f", "\x85", "\x07", "\x1b"]


@pytest.mark.parametrize("char", HIDDEN, ids=lambda c: f"U+{ord(c):04X}")
def test_api_refuses_hidden_characters_in_title_and_description(api: Api, char: str) -> None:
    headers = api.headers["hr_e1"]
    base = {"title": "封装工程师", "district": "越城区", "required_skills": ["spc"]}
    for field, value in (("title", f"工程师{char}gpj.exe"), ("description", f"熟悉SPC{char}")):
        response = api.client.post("/api/v1/vacancies", json={**base, field: value}, headers=headers)
        assert response.status_code == 422, (field, response.text)
        assert [d["field"] for d in response.json()["error"]["details"]] == [f"body.{field}"]
        patched = api.client.patch("/api/v1/vacancies/V1", json={field: value}, headers=headers)
        assert patched.status_code == 422, (field, patched.text)
    with api.session() as session:
        assert session.scalar(select(func.count()).select_from(Vacancy)) == 6  # tiny_market's, unchanged
        assert session.get(Vacancy, "V1").title == "光刻工艺工程师"  # type: ignore[union-attr]


def test_api_keeps_line_breaks_and_tabs_in_descriptions(api: Api) -> None:
    body = {
        "title": "封装工程师 🚀",
        "district": "越城区",
        "description": "职责：\r\n1. 引线键合\n2.\t倒装焊",
    }
    response = api.client.post("/api/v1/vacancies", json=body, headers=api.headers["hr_e1"])
    assert response.status_code == 201, response.text
    assert response.json()["description"] == "职责：\n1. 引线键合\n2.\t倒装焊"
    assert response.json()["required_skills"] == ["wire_bonding", "flip_chip"]


def test_page_refuses_hidden_characters_naming_the_field(pages: Web) -> None:
    web = pages
    web.sign_in("hr")
    data = _new_vacancy_form(
        web,
        title="工程师\u202egpj.exe",
        description="熟悉SPC\u2066",
        action="save",
        extracted="1",
        skill=["spc"],
    )
    response = web.client.post("/vacancies/new", data=data)
    assert response.status_code == 422
    errors = form_errors(response.text)
    assert set(errors) == {"title", "description"}
    assert "U+202E" in errors["title"] and "控制字符" in errors["description"]
    # A textarea's CR LF line breaks are fine.
    ok = web.client.post(
        "/vacancies/new",
        data={**data, "title": "工程师", "description": "熟悉SPC\r\n会倒装焊"},
        follow_redirects=False,
    )
    assert ok.status_code == 303, form_errors(ok.text)


# ------------------------------------------------------------------------------------ reopen, pages
def test_page_reopens_a_closed_vacancy_and_explains_a_refusal(pages: Web) -> None:
    web = pages
    web.sign_in("hr")
    token = web.csrf("/vacancies")
    web.client.post("/vacancies/V2/close", data={"csrf_token": token, "confirmed": "yes"})
    response = web.client.post("/vacancies/V2/reopen", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert FLASH.findall(web.client.get("/vacancies").text) == [("info", "岗位已重新开放。")]
    with make_sessionmaker(web.engine)() as session:
        assert session.get(Vacancy, "V2").status == "open"  # type: ignore[union-attr]
        audited = select(AuditEntry.action).where(AuditEntry.resource == "vacancy:V2")
        assert list(session.scalars(audited.order_by(AuditEntry.id))) == ["close_vacancy", "reopen_vacancy"]
    refused = web.client.post("/vacancies/V6/reopen", data={"csrf_token": token}, follow_redirects=False)
    assert refused.status_code == 303
    flashes = FLASH.findall(web.client.get("/vacancies").text)
    assert flashes == [("error", "岗位已招满，不能重新开放。")]
    foreign = web.client.post("/vacancies/V4/reopen", data={"csrf_token": token})
    assert foreign.status_code == 404
