"""The pages in a real browser (Debian's Chromium via Playwright) against a real uvicorn server.

Each scenario saves screenshots in ``test-artifacts/screenshots/`` (git-ignored).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from service.store.session import make_sessionmaker
from service.store.tables import Interaction, Vacancy
from service.store.vacancies import hires
from tests.web.conftest import LiveServer, screenshot, sign_in

pytestmark = pytest.mark.browser

JOB_TEXT = "熟悉引线键合和倒装焊工艺，有SPC经验。"


def test_hr_posts_a_vacancy_sees_candidates_and_shortlists_one(page: Any, live_server: LiveServer) -> None:
    sign_in(page, live_server, live_server.keys["hr"])
    page.wait_for_url(re.compile(r"/vacancies$"))
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.get_by_role("heading", name="本企业岗位").is_visible()
    screenshot(page, "hr_vacancies")

    page.get_by_role("link", name="发布岗位").first.click()
    page.get_by_label("岗位名称").fill("封装工艺工程师")
    page.get_by_label("岗位描述").fill(JOB_TEXT)
    page.get_by_label("工作地区").fill("越城区")
    page.get_by_label("招聘人数").fill("2")
    page.get_by_role("button", name="提取技能").click()

    # The extracted skills come back as ticked chips; every typed field is still there.
    chips = page.locator("input[name=skill]")
    extracted = {chips.nth(i).get_attribute("value") for i in range(chips.count())}
    assert {"wire_bonding", "flip_chip", "spc"} <= extracted
    assert page.get_by_label("岗位描述").input_value() == JOB_TEXT
    assert page.get_by_label("岗位名称").input_value() == "封装工艺工程师"
    for name in ("引线键合", "倒装焊", "SPC"):
        assert page.locator(".skill-choice label", has_text=name).first.is_visible()
    screenshot(page, "hr_new_vacancy_extracted")

    page.get_by_role("button", name="保存岗位").click()
    page.wait_for_url(re.compile(r"/vacancies/v_[0-9a-f]+"))
    vacancy_id = page.url.rsplit("/", 1)[-1].split("?")[0]
    # What 匹配度 means is said on the page; graduates below the recommendation floor stay folded away.
    assert page.locator("#score-legend").inner_text().startswith("匹配度：预计双方达成的可能性")
    folded = page.locator("#other-candidates li.candidate")
    assert folded.count() == 0 or not folded.first.is_visible()
    cards = page.locator("li.candidate:not(.other)")
    assert cards.count() > 0
    first = cards.first
    graduate_id = first.get_attribute("data-graduate")
    assert graduate_id
    assert re.search(r"\d+%", first.locator(".score").inner_text())
    assert first.locator("svg.bar").count() == 1
    assert first.locator("ul.reasons li").count() >= 1
    screenshot(page, "hr_candidates", top=True)

    first.get_by_role("button", name=re.compile("^入围")).click()
    page.wait_for_url(re.compile(rf"/vacancies/{vacancy_id}"))
    assert page.get_by_role("status").filter(has_text="已记录").is_visible()
    card = page.locator(f"li.candidate[data-graduate='{graduate_id}']")
    assert card.locator(".badge", has_text="入围").is_visible()

    with make_sessionmaker(live_server.engine)() as session:
        vacancy = session.get(Vacancy, vacancy_id)
        assert vacancy is not None and vacancy.enterprise_id == live_server.ids["enterprise"]
        assert {s.skill_id for s in vacancy.skills} >= {"wire_bonding", "flip_chip", "spc"}
        events = session.scalars(
            select(Interaction.event).where(
                Interaction.vacancy_id == vacancy_id, Interaction.graduate_id == graduate_id
            )
        ).all()
    assert events == ["shortlisted"]


def assert_headcounts_respected(page: Any, live_server: LiveServer) -> None:
    """No vacancy in the plan on the page gets more graduates than its remaining headcount."""
    rows = page.locator("#seats tbody tr")
    used: dict[str, int] = {}
    for i in range(rows.count()):
        row = rows.nth(i)
        vacancy_id = str(row.get_attribute("data-vacancy"))
        n, capacity = int(str(row.get_attribute("data-used"))), int(str(row.get_attribute("data-capacity")))
        assert n <= capacity, f"{vacancy_id}: {n} graduates for {capacity} seats"
        used[vacancy_id] = n
    assigned = page.locator("#assignments tbody tr")
    counted: dict[str, int] = {}
    for i in range(assigned.count()):
        vacancy_id = str(assigned.nth(i).get_attribute("data-vacancy"))
        counted[vacancy_id] = counted.get(vacancy_id, 0) + 1
    assert counted == used
    # Against the store too: headcount minus hires.
    with make_sessionmaker(live_server.engine)() as session:
        hired = hires(session=session, vacancy_ids=list(counted))
        for vacancy_id, n in counted.items():
            vacancy = session.get(Vacancy, vacancy_id)
            assert vacancy is not None and vacancy.status == "open"
            assert n <= vacancy.headcount - hired[vacancy_id]


def test_school_officer_opens_a_placement_plan_and_a_graduates_suggestions(
    page: Any, live_server: LiveServer
) -> None:
    sign_in(page, live_server, live_server.keys["school"])
    page.wait_for_url(re.compile(r"/programs$"))
    screenshot(page, "school_programs")
    program_id = live_server.ids["program"]

    page.locator(f"a[href='/programs/{program_id}/placement']").first.click()
    page.wait_for_url(re.compile(rf"/programs/{program_id}/placement"))
    assert page.locator("svg.chart").count() == 1
    assert_headcounts_respected(page, live_server)
    screenshot(page, "school_placement_default")

    # The default minimum is the API's (0.02), typed and shown as a percentage like every score; a lower one
    # places at least as many of the class, and the plan still respects every headcount.
    assert page.get_by_label("最低匹配度（%）").input_value() == "2%"
    assert page.locator("#score-legend").is_visible()
    by_default = page.locator("#assignments tbody tr").count()
    page.get_by_label("最低匹配度（%）").fill("1%")
    page.get_by_role("button", name="应用筛选").click()
    page.wait_for_url(re.compile(r"min_score=1%25"))
    assert page.get_by_label("最低匹配度（%）").input_value() == "1%"
    assert page.locator("#assignments tbody tr").count() >= max(by_default, 1)
    assert_headcounts_respected(page, live_server)
    screenshot(page, "school_placement", top=True)

    graduate_link = page.locator("#assignments tbody tr a").first
    graduate_id = graduate_link.inner_text().strip()
    graduate_link.click()
    page.wait_for_url(re.compile(rf"/graduates/{graduate_id}$"))
    assert page.locator("#score-legend").is_visible()
    assert page.locator("#suggestions li.candidate").count() > 0
    assert page.locator("#suggestions li.candidate .score").first.inner_text().strip().endswith("%")
    screenshot(page, "school_graduate_suggestions")

    page.goto(live_server.url(f"/programs/{program_id}/skill-gaps"))
    assert page.get_by_role("heading", name=re.compile("技能缺口")).is_visible()
    screenshot(page, "school_skill_gaps")


def test_wrong_key_shows_a_friendly_error_page(page: Any, live_server: LiveServer) -> None:
    sign_in(page, live_server, "tm_000000000000_not-a-real-key")
    error = page.locator("#api_key-error")
    assert error.is_visible()
    assert "密钥无效" in error.inner_text()
    assert page.get_by_label("API 密钥").get_attribute("aria-invalid") == "true"
    content = page.content()
    assert "Traceback" not in content and "not-a-real-key" not in content
    screenshot(page, "signin_wrong_key")

    response = page.goto(live_server.url("/vacancies"))
    assert response is not None
    assert page.url.rstrip("/") == live_server.base_url  # not signed in: back to the sign-in page
    assert page.get_by_role("status").filter(has_text="请先登录").is_visible()


def test_hr_cannot_open_another_enterprises_vacancy(page: Any, live_server: LiveServer) -> None:
    sign_in(page, live_server, live_server.keys["hr"])
    page.wait_for_url(re.compile(r"/vacancies$"))
    response = page.goto(live_server.url(f"/vacancies/{live_server.ids['foreign_vacancy']}"))
    assert response is not None and response.status == 404
    assert page.get_by_role("heading", name="找不到页面").is_visible()
    content = page.content()
    assert live_server.ids["foreign_title"] not in content
    assert "Traceback" not in content
    screenshot(page, "hr_foreign_vacancy_404")

    response = page.goto(live_server.url("/programs"))  # a school page: not for HR
    assert response is not None and response.status == 403


def test_admin_sees_model_status_and_switches_to_english(page: Any, live_server: LiveServer) -> None:
    sign_in(page, live_server, live_server.keys["admin"])
    page.wait_for_url(re.compile(r"/admin$"))
    assert page.get_by_role("heading", name="当前模型").is_visible()
    assert page.locator("code").filter(has_text=re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{8}$")).count() >= 1
    screenshot(page, "admin_status")

    page.get_by_role("link", name="English").click()
    page.wait_for_url(re.compile(r"/admin$"))
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="Current model").is_visible()
    screenshot(page, "admin_status_en")
    page.goto(live_server.url("/programs"))
    assert page.get_by_role("heading", name="Our programmes").is_visible()  # the choice sticks


def test_the_sign_in_form_works_with_the_keyboard_alone(page: Any, live_server: LiveServer) -> None:
    page.goto(live_server.url("/"))
    assert page.evaluate("document.activeElement.id") == "api_key"  # the key field has the focus
    page.keyboard.type(live_server.keys["school"])
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/programs$"))
    # Security headers on every page.
    response = page.goto(live_server.url("/programs"))
    assert response is not None
    headers = response.headers
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert "script-src" not in headers["content-security-policy"]
    assert "default-src 'none'" in headers["content-security-policy"]
