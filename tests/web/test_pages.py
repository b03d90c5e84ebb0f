"""The pages in-process (TestClient) on ``tiny_market()``: sign-in, CSRF, headers, forms, access, errors."""

from __future__ import annotations

import io
import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from service.app import create_app
from service.settings import Settings
from service.store.api_keys import create_api_key, revoke_api_key
from service.store.market import import_market
from service.store.session import make_sessionmaker, transaction
from service.store.tables import Graduate, Interaction, Vacancy
from tests.bundles import tiny_market
from tests.web.conftest import CSRF, SESSION_SECRET, Web

ERROR = re.compile(r'class="error" id="([^"]+)">([^<]+)<')


def form_errors(html: str) -> dict[str, str]:
    return {field.removesuffix("-error"): message for field, message in ERROR.findall(html)}


# ------------------------------------------------------------------------------------------------ sign-in
def test_sign_in_page_is_chinese_with_security_headers(web: Web) -> None:
    response = web.client.get("/")
    assert response.status_code == 200
    assert '<html lang="zh-CN">' in response.text
    assert 'for="api_key"' in response.text
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert "<script" not in response.text


def test_signing_in_sets_a_signed_httponly_lax_cookie_and_goes_home_by_role(web: Web) -> None:
    token = web.csrf()
    response = web.client.post(
        "/signin", data={"api_key": web.keys["hr"], "csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/vacancies"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert web.keys["hr"].split("_", 2)[2] not in response.headers["set-cookie"]  # the secret is never stored
    assert web.client.get("/", follow_redirects=False).headers["location"] == "/vacancies"
    for role, home in (("school", "/programs"), ("admin", "/admin")):
        web.sign_in(role)
        assert web.client.get("/", follow_redirects=False).headers["location"] == home


def test_a_wrong_or_empty_key_is_shown_next_to_the_field(web: Web) -> None:
    token = web.csrf()
    response = web.client.post("/signin", data={"api_key": "tm_abc_wrong", "csrf_token": token})
    assert response.status_code == 401
    assert form_errors(response.text) == {"api_key": "密钥无效或已被吊销，请检查后重试。"}
    assert "tm_abc_wrong" not in response.text
    response = web.client.post("/signin", data={"api_key": "  ", "csrf_token": token})
    assert form_errors(response.text) == {"api_key": "请输入 API 密钥。"}


def test_posts_without_the_session_csrf_token_are_refused(web: Web) -> None:
    web.sign_in("hr")
    for data in ({}, {"csrf_token": "forged"}):
        response = web.client.post("/vacancies/new", data={**data, "title": "x", "action": "extract"})
        assert response.status_code == 403
        assert "表单已过期" in response.text
    response = web.client.post("/signin", data={"api_key": web.keys["hr"]})
    assert response.status_code == 403


def test_sign_out_ends_the_session_and_a_revoked_key_ends_it_too(web: Web) -> None:
    web.sign_in("hr")
    token = web.csrf("/vacancies")
    response = web.client.post("/signout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert web.client.get("/vacancies", follow_redirects=False).headers["location"] == "/"
    assert "您已退出" in web.client.get("/").text

    web.sign_in("hr")
    with transaction(web.engine) as session:
        key_id = web.keys["hr"].split("_")[1]
        revoke_api_key(session=session, key_id=key_id)
    response = web.client.get("/vacancies", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_language_switch_sticks_and_refuses_foreign_redirects(web: Web) -> None:
    response = web.client.get("/lang/en", params={"next": "/"})
    assert '<html lang="en">' in response.text and "Sign in" in response.text
    assert '<html lang="en">' in web.client.get("/").text
    for target in ("//evil.example/", "https://evil.example/", "/\\evil"):
        response = web.client.get("/lang/zh", params={"next": target}, follow_redirects=False)
        assert response.headers["location"] == "/"
    assert '<html lang="zh-CN">' in web.client.get("/").text


# ------------------------------------------------------------------------------------------------ HR
def test_posting_a_vacancy_extracts_skills_keeps_input_and_saves(web: Web) -> None:
    web.sign_in("hr")
    token = web.csrf("/vacancies/new")
    fields = {
        "csrf_token": token,
        "title": "封装工程师",
        "description": "熟悉引线键合和倒装焊工艺，有SPC经验，会Verilog优先",
        "district": "越城区",
        "headcount": "2",
        "salary_min": "6000",
        "salary_max": "9000",
        "min_education": "associate",
    }
    response = web.client.post("/vacancies/new", data={**fields, "action": "extract"})
    assert response.status_code == 200
    assert re.findall(r'name="skill" value="([^"]+)"', response.text) == [
        "wire_bonding",
        "flip_chip",
        "spc",
        "verilog",
    ]
    assert re.findall(r'name="preferred" value="([^"]+)" checked', response.text) == ["verilog"]
    assert "熟悉引线键合和倒装焊工艺，有SPC经验，会Verilog优先</textarea>" in response.text
    assert 'value="6000"' in response.text

    # Save with errors: each shown next to its field, everything typed kept.
    bad = {**fields, "district": "", "headcount": "两个", "salary_max": "-100", "add_skills": "量子隧穿, ATE"}
    response = web.client.post(
        "/vacancies/new", data={**bad, "action": "save", "extracted": "1", "skill": ["wire_bonding", "spc"]}
    )
    assert response.status_code == 422
    errors = form_errors(response.text)
    assert set(errors) == {"district", "headcount", "salary_max", "add_skills"}
    assert "量子隧穿" in errors["add_skills"]
    assert 'value="两个"' in response.text and 'value="量子隧穿, ATE"' in response.text
    assert re.findall(r'name="skill" value="([^"]+)"', response.text) == ["wire_bonding", "spc", "ate_test"]

    response = web.client.post(
        "/vacancies/new",
        data={
            **fields,
            "action": "save",
            "extracted": "1",
            "skill": ["wire_bonding", "spc", "verilog"],
            "preferred": ["verilog"],
            "add_skills": "刻蚀",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    vacancy_id = response.headers["location"].rsplit("/", 1)[-1]
    with make_sessionmaker(web.engine)() as session:
        vacancy = session.get(Vacancy, vacancy_id)
        assert vacancy is not None and vacancy.enterprise_id == "E1"
        assert [(s.skill_id, s.required) for s in vacancy.skills] == [
            ("wire_bonding", True),
            ("spc", True),
            ("etching", True),
            ("verilog", False),
        ]
        assert (vacancy.headcount, vacancy.salary_min, vacancy.salary_max) == (2, 6000, 9000)


def test_saving_without_any_skill_is_an_error_on_the_skills(web: Web) -> None:
    web.sign_in("hr")
    token = web.csrf("/vacancies/new")
    data = {
        "csrf_token": token,
        "title": "杂工",
        "district": "越城区",
        "headcount": "1",
        "min_education": "secondary",
    }
    response = web.client.post("/vacancies/new", data={**data, "action": "save", "extracted": "1"})
    assert response.status_code == 422
    assert form_errors(response.text) == {"skills": "至少需要一项技能。"}


def test_hr_sees_only_its_own_vacancies_and_a_foreign_one_is_a_404_page(web: Web) -> None:
    with make_sessionmaker(web.engine)() as session:
        own = set(session.scalars(select(Vacancy.vacancy_id).where(Vacancy.enterprise_id == "E1")))
        foreign = sorted(session.scalars(select(Vacancy.vacancy_id).where(Vacancy.enterprise_id != "E1")))
    before = _foreign_state(web, foreign)
    web.sign_in("hr")
    listing = web.client.get("/vacancies").text
    assert own and all(v in listing for v in own)
    assert not any(f'href="/vacancies/{v}"' in listing for v in foreign)
    token = web.csrf("/vacancies")
    for vacancy_id in [*foreign[:2], "V_NOPE"]:
        for method, path, data in (
            ("GET", f"/vacancies/{vacancy_id}", None),
            ("POST", f"/vacancies/{vacancy_id}/feedback", {"graduate_id": "G01", "event": "hired"}),
            (
                "POST",
                f"/vacancies/{vacancy_id}/feedback",
                {"graduate_id": "G01", "event": "hired", "confirmed": "yes"},
            ),
            ("POST", f"/vacancies/{vacancy_id}/close", {}),
            ("POST", f"/vacancies/{vacancy_id}/close", {"confirmed": "yes"}),
            ("POST", f"/vacancies/{vacancy_id}/feedback/undo", {"graduate_id": "G01", "event": "hired"}),
        ):
            response = web.client.request(
                method, path, data=None if data is None else {**data, "csrf_token": token}
            )
            assert response.status_code == 404, (method, path)
            assert "找不到页面" in response.text and "Traceback" not in response.text
    assert _foreign_state(web, foreign) == before


def _foreign_state(web: Web, vacancy_ids: list[str]) -> tuple[int, list[str]]:
    with make_sessionmaker(web.engine)() as session:
        interactions = len(
            session.scalars(select(Interaction.id).where(Interaction.vacancy_id.in_(vacancy_ids))).all()
        )
        statuses = list(session.scalars(select(Vacancy.status).where(Vacancy.vacancy_id.in_(vacancy_ids))))
    return interactions, statuses


def test_roles_cannot_open_other_roles_pages(web: Web) -> None:
    web.sign_in("hr")
    for path in ("/programs", "/programs/P1/placement", "/graduates/G01", "/admin"):
        response = web.client.get(path)
        assert response.status_code == 403, path
        assert "无权访问" in response.text
    web.sign_in("school")
    for path in ("/vacancies", "/vacancies/new", "/admin"):
        assert web.client.get(path).status_code == 403, path


def test_candidates_page_without_a_model_is_a_friendly_503(web: Web) -> None:
    web.sign_in("hr")
    response = web.client.get("/vacancies/V1")
    assert response.status_code == 503
    assert "模型尚未就绪" in response.text and "Traceback" not in response.text


def test_candidates_page_shows_bars_chips_reasons_and_records_outcomes(web_with_model: Web) -> None:
    web = web_with_model
    web.sign_in("hr")
    response = web.client.get("/vacancies/V1")
    assert response.status_code == 200
    html = response.text
    graduates = re.findall(r'<li class="candidate" data-graduate="([^"]+)"', html)
    assert graduates
    assert '<svg class="bar" role="img"' in html and re.search(r"<strong>\d+%</strong>", html)
    assert 'class="chip matched"' in html or 'class="chip missing"' in html
    assert '<ul class="reasons">' in html
    token = web.csrf("/vacancies/V1")
    for event in ("shortlisted", "shortlisted", "interviewed"):
        response = web.client.post(
            "/vacancies/V1/feedback",
            data={
                "csrf_token": token,
                "graduate_id": graduates[0],
                "event": event,
                "back": "/vacancies/V1?page=1",
            },
            follow_redirects=False,
        )
        assert response.status_code == 303 and response.headers["location"] == "/vacancies/V1?page=1"
    page = web.client.get("/vacancies/V1").text
    assert "已记录" in page
    with make_sessionmaker(web.engine)() as session:
        events = session.scalars(
            select(Interaction.event).where(
                Interaction.vacancy_id == "V1", Interaction.graduate_id == graduates[0]
            )
        ).all()
    assert sorted(e for e in events if e in ("shortlisted", "interviewed")) == ["interviewed", "shortlisted"]
    # An unknown event is a bad request, not a 500.
    response = web.client.post(
        "/vacancies/V1/feedback", data={"csrf_token": token, "graduate_id": "G01", "event": "x"}
    )
    assert response.status_code == 400


def test_english_candidates_page_translates_reasons(web_with_model: Web) -> None:
    web = web_with_model
    web.sign_in("hr")
    web.client.get("/lang/en")
    html = web.client.get("/vacancies/V1").text
    assert '<html lang="en">' in html and "Record" in html
    assert "其他因素" not in html


# ------------------------------------------------------------------------------------------------ school
def test_school_pages_render_for_own_programmes_and_404_for_others(web_with_model: Web) -> None:
    web = web_with_model
    web.sign_in("school")
    listing = web.client.get("/programs").text
    assert 'href="/programs/P1"' in listing and 'href="/programs/P3"' not in listing
    for path in ("/programs/P1", "/programs/P1/placement", "/programs/P1/skill-gaps"):
        response = web.client.get(path)
        assert response.status_code == 200, path
    placement = web.client.get("/programs/P1/placement").text
    assert '<svg class="chart" role="img"' in placement
    for used, capacity in re.findall(r'data-used="(\d+)" data-capacity="(\d+)"', placement):
        assert int(used) <= int(capacity)
    for path in ("/programs/P3", "/programs/P3/placement", "/programs/P3/skill-gaps"):
        assert web.client.get(path).status_code == 404, path
    with make_sessionmaker(web.engine)() as session:
        own = session.scalars(select(Graduate.graduate_id).where(Graduate.program_id == "P1")).first()
        other = session.scalars(select(Graduate.graduate_id).where(Graduate.program_id == "P3")).first()
    assert web.client.get(f"/graduates/{own}").status_code == 200
    assert web.client.get(f"/graduates/{other}").status_code == 404


def test_placement_with_the_whole_school_shows_only_this_programmes_part(web_with_model: Web) -> None:
    web = web_with_model
    web.sign_in("school")
    page = web.client.get("/programs/P1/placement", params={"scope": "school", "min_score": "0"})
    assert page.status_code == 200
    assert re.search(r'id="scope" name="scope" type="checkbox" value="school" checked', page.text)
    with make_sessionmaker(web.engine)() as session:
        others = session.scalars(
            select(Graduate.graduate_id).where(Graduate.program_id != "P1", Graduate.status == "seeking")
        ).all()
        mine = session.scalars(
            select(Graduate.graduate_id).where(Graduate.program_id == "P1", Graduate.status == "seeking")
        ).all()
    assert mine and all(f">{g}<" in page.text for g in mine)  # each of this programme's, listed
    assert others and not any(f">{g}<" in page.text for g in others)
    plain = web.client.get("/programs/P1/placement", params={"min_score": "0"}).text
    assert 'value="school" checked' not in plain


def test_placement_min_score_is_validated_next_to_the_field(web_with_model: Web) -> None:
    web = web_with_model
    web.sign_in("school")
    response = web.client.get("/programs/P1/placement", params={"min_score": "150"})
    assert response.status_code == 422
    assert form_errors(response.text) == {"min_score": "请输入 0 到 100 之间的百分数，例如 30 或 30%。"}
    assert 'value="150"' in response.text
    # Typed as a percentage, with or without the sign (full-width too), like every score on the pages.
    for typed in ("30%", "30", "３０％", " 30 % "):
        page = web.client.get("/programs/P1/placement", params={"min_score": typed})
        assert page.status_code == 200 and 'value="30%"' in page.text, typed


def test_graduate_upload_errors_are_listed_at_the_top_and_nothing_is_imported(web: Web) -> None:
    web.sign_in("school")
    token = web.csrf("/programs/P1")
    header = "graduate_id,program_id,education,major,skills,preferred_districts,available_from,status"
    bad = f"{header}\nG99,P1,高中,x,,,,seeking\n"
    response = web.client.post(
        "/programs/P1/graduates/import",
        data={"csrf_token": token},
        files={"file": ("graduates.csv", io.BytesIO(bad.encode()), "text/csv")},
    )
    assert response.status_code == 422
    text = response.text
    assert "第 2 行 · C 列（education）：“高中”不是可选值" in text
    # Above the graduate table, not under it.
    assert text.index('id="upload-errors"') < text.index("<table")
    with make_sessionmaker(web.engine)() as session:
        assert session.get(Graduate, "G99") is None


PREVIEW_FIELDS = re.compile(r'name="payload" value="([^"]+)".*?name="signature" value="([^"]+)"', re.S)


def test_graduate_upload_is_previewed_then_confirmed_and_the_carried_rows_cannot_be_altered(web: Web) -> None:
    web.sign_in("school")
    token = web.csrf("/programs/P1")
    content = (
        "学号,学历,技能,可入职日期,状态\nG98,大专,光刻；SPC,2026年7月1日,求职中\nG01,本科,光刻,,求职中\n"
    )
    preview = web.client.post(
        "/programs/P1/graduates/import",
        data={"csrf_token": token},
        files={"file": ("graduates.csv", io.BytesIO(content.encode("gb18030")), "text/csv")},
    )
    assert preview.status_code == 200, preview.text
    assert "将新增 1 条，更新 1 条，0 条不变。" in preview.text
    with make_sessionmaker(web.engine)() as session:
        assert session.get(Graduate, "G98") is None  # the preview wrote nothing
    found = PREVIEW_FIELDS.search(preview.text)
    assert found
    payload, signature = found[1], found[2]
    url = "/programs/P1/graduates/import/confirm"
    altered = web.client.post(
        url, data={"csrf_token": token, "payload": payload[:-4] + "AAAA", "signature": signature}
    )
    assert altered.status_code == 422 and "预览已失效或被改动" in altered.text
    confirmed = web.client.post(
        url, data={"csrf_token": token, "payload": payload, "signature": signature}, follow_redirects=False
    )
    assert (confirmed.status_code, confirmed.headers["location"]) == (303, "/programs/P1")
    assert "已导入：新增 1，更新 1。" in web.client.get("/programs/P1").text
    with make_sessionmaker(web.engine)() as session:
        graduate = session.get(Graduate, "G98")
        assert graduate is not None and graduate.education == "associate"
        assert str(graduate.available_from) == "2026-07-01"
    # Another session cannot replay the rows (signed for this one).
    web.sign_in("school")
    other = web.client.post(
        url, data={"csrf_token": web.csrf("/programs/P1"), "payload": payload, "signature": signature}
    )
    assert other.status_code == 422


def test_hr_uploads_vacancies_in_bulk_and_downloads_a_shortlist(web_with_model: Web) -> None:
    web = web_with_model
    web.sign_in("hr")
    listing = web.client.get("/vacancies")
    assert 'href="/vacancies/import"' in listing.text
    form = web.client.get("/vacancies/import")
    assert form.status_code == 200 and 'href="/vacancies/import/template"' in form.text
    template = web.client.get("/vacancies/import/template")
    assert template.headers["content-type"].startswith("application/vnd.openxmlformats")
    token = web.csrf("/vacancies/import")
    preview = web.client.post(
        "/vacancies/import",
        data={"csrf_token": token},
        files={"file": ("vacancies.xlsx", io.BytesIO(template.content), "application/octet-stream")},
    )
    assert preview.status_code == 200, preview.text
    assert "将新增 1 条，更新 0 条，0 条不变。" in preview.text and "封装工艺工程师" in preview.text
    found = PREVIEW_FIELDS.search(preview.text)
    assert found
    done = web.client.post(
        "/vacancies/import/confirm",
        data={"csrf_token": token, "payload": found[1], "signature": found[2]},
        follow_redirects=False,
    )
    assert (done.status_code, done.headers["location"]) == (303, "/vacancies")
    assert "封装工艺工程师" in web.client.get("/vacancies").text
    page = web.client.get("/vacancies/V1")
    assert 'href="/vacancies/V1/candidates/export"' in page.text
    shortlist = web.client.get("/vacancies/V1/candidates/export")
    assert shortlist.status_code == 200 and shortlist.content.startswith(b"PK")
    assert 'filename="shortlist-V1.xlsx"' in shortlist.headers["content-disposition"]


def test_a_refused_vacancy_text_is_named_at_the_top_of_the_upload_page(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    from tests.web.conftest import _make_web

    made = _make_web(sqlite_engine, tmp_path, None, posting_check="refuse")
    web = next(made)
    try:
        web.sign_in("hr")
        content = "title,district,required_skills,description\n操作工,越城区,SPC,限男性\n".encode("gb18030")
        response = web.client.post(
            "/vacancies/import",
            data={"csrf_token": web.csrf("/vacancies/import")},
            files={"file": ("vacancies.csv", io.BytesIO(content), "text/csv")},
        )
        assert response.status_code == 422
        text = response.text
        assert text.index('id="upload-errors"') < text.index('id="upload"')
        assert "第 2 行 · D 列（description）：“限男性”：" in text
    finally:
        made.close()


def test_erasing_a_graduate_needs_confirmation_and_removes_them(web: Web) -> None:
    with make_sessionmaker(web.engine)() as session:
        graduate_id = session.scalars(select(Graduate.graduate_id).where(Graduate.program_id == "P1")).first()
    web.sign_in("school")
    token = web.csrf("/programs/P1")
    response = web.client.post(
        f"/graduates/{graduate_id}/erase", data={"csrf_token": token}, follow_redirects=False
    )
    assert response.headers["location"] == f"/graduates/{graduate_id}"
    response = web.client.post(
        f"/graduates/{graduate_id}/erase",
        data={"csrf_token": token, "confirm": "yes"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/programs/P1"
    with make_sessionmaker(web.engine)() as session:
        assert session.get(Graduate, graduate_id) is None
        assert not session.scalars(select(Interaction).where(Interaction.graduate_id == graduate_id)).all()


# ------------------------------------------------------------------------------------------ admin, errors
def test_admin_page_shows_counts_without_a_model(web: Web) -> None:
    web.sign_in("admin")
    response = web.client.get("/admin")
    assert response.status_code == 200
    assert "还没有训练好的模型" in response.text
    assert re.search(r'<span class="value">12</span><span class="label">毕业生</span>', response.text)


def test_unknown_pages_are_friendly_and_the_api_keeps_its_json_errors(web: Web) -> None:
    response = web.client.get("/no/such/page")
    assert response.status_code == 404 and "找不到页面" in response.text
    assert response.headers["content-type"].startswith("text/html")
    response = web.client.get("/api/v1/vacancies")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert "content-security-policy" not in response.headers
    response = web.client.get("/api/v1/no-such-route")
    assert response.json()["error"]["code"] == "not_found"


def test_hiring_from_the_page_places_the_graduate(web_with_model: Web) -> None:
    web = web_with_model
    web.sign_in("hr")
    html = web.client.get("/vacancies/V1").text
    graduate_id = re.findall(r'<li class="candidate" data-graduate="([^"]+)"', html)[0]
    token = web.csrf("/vacancies/V1")
    response = web.client.post(
        "/vacancies/V1/feedback",
        data={"csrf_token": token, "graduate_id": graduate_id, "event": "hired", "confirmed": "yes"},
    )
    assert response.status_code == 200 and "已录用" in response.text
    with make_sessionmaker(web.engine)() as session:
        graduate = session.get(Graduate, graduate_id)
        assert graduate is not None and graduate.status == "placed"


def test_admin_posts_for_a_chosen_enterprise(web: Web) -> None:
    web.sign_in("admin")
    page = web.client.get("/vacancies/new").text
    assert 'id="enterprise_id"' in page and 'value="E2"' in page
    token = web.csrf("/vacancies/new")
    data = {
        "csrf_token": token,
        "title": "测试工程师",
        "district": "滨海新区",
        "headcount": "1",
        "min_education": "associate",
        "action": "save",
        "extracted": "1",
        "skill": ["ate_test"],
    }
    response = web.client.post("/vacancies/new", data=data)
    assert response.status_code == 422 and form_errors(response.text) == {"enterprise_id": "请选择一项。"}
    response = web.client.post("/vacancies/new", data={**data, "enterprise_id": "E2"}, follow_redirects=False)
    assert response.status_code == 303
    with make_sessionmaker(web.engine)() as session:
        vacancy = session.get(Vacancy, response.headers["location"].rsplit("/", 1)[-1])
        assert vacancy is not None and vacancy.enterprise_id == "E2"


class BrokenHolder:
    def get(self) -> None:
        raise RuntimeError("secret internals")


def test_an_unexpected_error_is_a_friendly_500_page(sqlite_engine: Engine, tmp_path: Path) -> None:
    with transaction(sqlite_engine) as session:
        import_market(session=session, data=tiny_market())
        _, key = create_api_key(session=session, role="hr", enterprise_id="E1")
    settings = Settings(
        database_url=sqlite_engine.url.render_as_string(hide_password=False),
        artifacts_dir=tmp_path,
        session_secret=SESSION_SECRET,
    )
    with TestClient(
        create_app(settings, model_holder=BrokenHolder()), raise_server_exceptions=False
    ) as client:
        token = CSRF.search(client.get("/").text)
        assert token
        client.post("/signin", data={"api_key": key, "csrf_token": token[1]})
        response = client.get("/vacancies/V1")
    assert response.status_code == 500
    assert "服务器出错" in response.text
    assert "secret internals" not in response.text and "Traceback" not in response.text
