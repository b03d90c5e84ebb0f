"""Nothing important happens in one unguarded click, and the admin page fits the screen (issue 15), walked
in Debian's Chromium against a real uvicorn server as a person would:

- close a vacancy → a confirmation page (cancel keeps it open) → confirm → it is closed and still shows
  its recorded outcomes → reopen;
- hire a candidate → a confirmation page → confirm → the vacancy is filled → undo the hire within the
  window → the seat is free again and the graduate seeks again;
- the admin page at a 1,280 px window and on a phone has no horizontal scroll; its metrics are named, counts
  are integers, the gate header stays on one line; the audit filters by who.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from service.store.session import make_sessionmaker
from service.store.tables import AuditEntry, Graduate, Interaction, Vacancy
from tests.web.conftest import LiveServer, screenshot, sign_in

pytestmark = pytest.mark.browser


def _post_vacancy(server: LiveServer, title: str, headcount: int) -> str:
    """A fresh open vacancy of the hr key's enterprise, without a closing date, through the API."""
    response = httpx.post(
        server.url("/api/v1/vacancies"),
        headers={"Authorization": f"Bearer {server.keys['hr']}"},
        json={
            "title": title,
            "district": "越城区",
            "required_skills": ["wire_bonding"],
            "preferred_skills": ["spc"],
            "min_education": "secondary",
            "headcount": headcount,
        },
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["vacancy_id"])


def _status(server: LiveServer, vacancy_id: str) -> str:
    with make_sessionmaker(server.engine)() as session:
        vacancy = session.get(Vacancy, vacancy_id)
        assert vacancy is not None
        return vacancy.status


def _audited(server: LiveServer, vacancy_id: str) -> list[tuple[str, dict[str, Any]]]:
    """The writes audited on the vacancy, in order (reads are journaled and written in batches)."""
    with make_sessionmaker(server.engine)() as session:
        rows = session.execute(
            select(AuditEntry.action, AuditEntry.detail)
            .where(AuditEntry.resource == f"vacancy:{vacancy_id}", AuditEntry.action.not_like("list_%"))
            .order_by(AuditEntry.id)
        ).all()
    return [(action, json.loads(detail)) for action, detail in rows]


def test_close_asks_first_and_a_closed_vacancy_reopens(page: Any, live_server: LiveServer) -> None:
    vacancy_id = _post_vacancy(live_server, "键合工艺员（关闭测试）", 2)
    sign_in(page, live_server, live_server.keys["hr"])
    page.wait_for_url(re.compile(r"/vacancies$"))
    page.goto(live_server.url(f"/vacancies/{vacancy_id}"))
    # Record one outcome, so the closed page has something to keep showing.
    first = page.locator("li.candidate:not(.other)").first
    graduate_id = str(first.get_attribute("data-graduate"))
    first.get_by_role("button", name=re.compile("^入围")).click()
    page.wait_for_url(re.compile(rf"/vacancies/{vacancy_id}"))

    page.get_by_role("button", name="关闭岗位").click()
    assert page.get_by_role("heading", name=re.compile("^确认关闭岗位")).is_visible()
    screenshot(page, "hr_confirm_close")
    page.get_by_role("link", name="取消").click()  # cancel: nothing changed
    page.wait_for_url(re.compile(rf"/vacancies/{vacancy_id}$"))
    assert _status(live_server, vacancy_id) == "open"

    page.get_by_role("button", name="关闭岗位").click()
    page.get_by_role("button", name="确认关闭").click()
    page.wait_for_url(re.compile(rf"/vacancies/{vacancy_id}$"))
    assert page.get_by_role("status").filter(has_text="岗位已关闭").is_visible()
    assert _status(live_server, vacancy_id) == "closed"
    # The closed page still shows what was recorded.
    outcomes = page.locator("#outcomes")
    assert outcomes.is_visible()
    assert outcomes.locator(f"tr[data-graduate='{graduate_id}'] .badge", has_text="入围").is_visible()
    screenshot(page, "hr_closed_vacancy")

    page.get_by_role("button", name="重新开放岗位").click()
    page.wait_for_url(re.compile(rf"/vacancies/{vacancy_id}$"))
    assert page.get_by_role("status").filter(has_text="岗位已重新开放").is_visible()
    assert _status(live_server, vacancy_id) == "open"
    assert page.locator("li.candidate").count() > 0  # its candidates are back
    actions = [action for action, _ in _audited(live_server, vacancy_id)]
    assert actions[-2:] == ["close_vacancy", "reopen_vacancy"]


def test_a_hire_asks_first_and_can_be_undone(page: Any, live_server: LiveServer) -> None:
    vacancy_id = _post_vacancy(live_server, "键合工艺员（录用测试）", 1)
    sign_in(page, live_server, live_server.keys["hr"])
    page.wait_for_url(re.compile(r"/vacancies$"))
    page.goto(live_server.url(f"/vacancies/{vacancy_id}"))
    first = page.locator("li.candidate:not(.other)").first
    graduate_id = str(first.get_attribute("data-graduate"))

    first.get_by_role("button", name=f"已录用 {graduate_id}").click()
    assert page.get_by_role("heading", name=f"确认录用毕业生 {graduate_id}？").is_visible()
    assert _status(live_server, vacancy_id) == "open"  # nothing happened yet
    screenshot(page, "hr_confirm_hire")
    page.get_by_role("button", name="确认录用").click()
    page.wait_for_url(re.compile(rf"/vacancies/{vacancy_id}"))
    assert page.get_by_role("status").filter(has_text="已记录").is_visible()
    assert _status(live_server, vacancy_id) == "filled"
    assert page.locator(".hires .badge", has_text=graduate_id).is_visible()
    # A filled vacancy offers to reopen with more seats.
    assert page.get_by_label("新的招聘人数").input_value() == "2"
    screenshot(page, "hr_hired")

    undo = page.get_by_role("button", name=f"撤销 {graduate_id} 的“已录用”")
    undo.click()
    page.wait_for_url(re.compile(rf"/vacancies/{vacancy_id}"))
    assert page.get_by_role("status").filter(has_text="已撤销").is_visible()
    assert _status(live_server, vacancy_id) == "open"
    with make_sessionmaker(live_server.engine)() as session:
        graduate = session.get(Graduate, graduate_id)
        assert graduate is not None and graduate.status == "seeking"
        hired = session.scalars(
            select(Interaction).where(Interaction.vacancy_id == vacancy_id, Interaction.event == "hired")
        ).all()
        assert hired == []
    action, detail = _audited(live_server, vacancy_id)[-1]
    assert action == "undo_outcome" and detail["graduate"] == graduate_id and detail["event"] == "hired"
    assert detail["vacancy_status_before"] == "filled" and detail["vacancy_status"] == "open"


NO_HORIZONTAL_SCROLL = "() => document.documentElement.scrollWidth"


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (390, 844)], ids=["1280px", "phone"])
def test_the_admin_page_fits_the_window(
    browser: Any, live_server: LiveServer, width: int, height: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    context.set_default_timeout(20_000)
    page = context.new_page()
    try:
        sign_in(page, live_server, live_server.keys["admin"])
        page.goto(live_server.url("/admin"))
        assert page.evaluate(NO_HORIZONTAL_SCROLL) <= width
        text = page.locator("main").inner_text()
        assert "auc_graduate" not in text and "ndcg_accepted" not in text  # named, not raw keys
        assert "排序质量 NDCG@10" in text
        assert not re.search(r"\b\d+\.0000\b", text)  # counts are integers
        gate = page.locator("th", has_text="质量门槛").first
        box = gate.bounding_box()
        assert box is not None and box["height"] < 40 and box["width"] > 40  # one line, not a column
        if width == 1280:
            screenshot(page, "admin_status", top=True)
            # The audit names the keys and filters by who.
            page.get_by_label("操作者（密钥）").select_option(label="HR 王")
            page.get_by_role("button", name="应用筛选").click()
            page.wait_for_url(re.compile(r"who="))
            cells = page.locator("table.audit tbody tr td:nth-child(2)")
            assert cells.count() > 0
            assert {cells.nth(i).inner_text() for i in range(cells.count())} == {"HR 王"}
            assert page.evaluate(NO_HORIZONTAL_SCROLL) <= width
        else:
            screenshot(page, "admin_status_phone")
    finally:
        context.close()
