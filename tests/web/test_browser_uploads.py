"""Uploads in a real browser (Debian's Chromium via Playwright) against a real uvicorn server, as a school
officer does them: an Excel file with Chinese values → the preview → confirm; a CSV saved by Chinese Windows
Excel (GB18030); a file with mistakes → the problems at the top of the page, in Chinese, by row and column.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from service.store.session import make_sessionmaker
from service.store.tables import Graduate
from tests.web.conftest import LiveServer, screenshot, sign_in

pytestmark = pytest.mark.browser

HEADER = ["学号", "学历", "专业", "技能", "意向地区", "可入职日期", "状态"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(rows: list[list[Any]]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _graduates(server: LiveServer, own_ids: list[str]) -> dict[str, Graduate]:
    with make_sessionmaker(server.engine)() as session:
        rows = session.scalars(
            select(Graduate).where(Graduate.student_id.in_(own_ids)).options(selectinload(Graduate.skills))
        ).all()
        return {str(g.student_id): g for g in rows}


def _open_programme(page: Any, server: LiveServer) -> str:
    sign_in(page, server, server.keys["school"])
    program = server.ids["program"]
    page.goto(server.url(f"/programs/{program}"))
    return program


def _upload(page: Any, name: str, content: bytes, mime: str) -> None:
    page.get_by_label("毕业生文件（.xlsx 或 .csv）").set_input_files(
        {"name": name, "mimeType": mime, "buffer": content}
    )
    page.get_by_role("button", name="上传并预览").click()


def test_an_excel_file_with_chinese_values_is_previewed_then_confirmed(
    page: Any, live_server: LiveServer
) -> None:
    program = _open_programme(page, live_server)
    template = page.get_by_role("link", name=re.compile("下载 Excel 模板"))
    assert template.get_attribute("href") == f"/programs/{program}/graduates/template"
    content = _xlsx(
        [
            HEADER,
            [
                "XL2026001",
                "大专",
                "微电子技术",
                "引线键合；SPC、光刻",
                "越城、柯桥区",
                "2026/07/01",
                "求职中",
            ],
            ["XL2026002", "本科", "集成电路设计", "打线", "", "2026年7月1日", "求职中"],
        ]
    )
    _upload(page, "毕业生.xlsx", content, XLSX)
    page.wait_for_url(re.compile(rf"/programs/{program}/graduates/import$"))
    assert page.get_by_role("heading", name="导入预览").is_visible()
    assert page.locator(".upload-summary").inner_text() == "将新增 2 条，更新 0 条，0 条不变。"
    rows = page.locator("table.upload-rows tbody tr")
    assert rows.count() == 2
    assert "XL2026001" in rows.first.inner_text() and "大专" in rows.first.inner_text()
    assert "越城区、柯桥区" in rows.first.inner_text()
    assert _graduates(live_server, ["XL2026001", "XL2026002"]) == {}  # nothing written by the preview
    screenshot(page, "school_upload_preview")

    page.get_by_role("button", name="确认导入").click()
    page.wait_for_url(re.compile(rf"/programs/{program}$"))
    assert page.get_by_role("status").filter(has_text="已导入：新增 2，更新 0。").is_visible()
    stored = _graduates(live_server, ["XL2026001", "XL2026002"])
    assert set(stored) == {"XL2026001", "XL2026002"}
    first = stored["XL2026001"]
    assert (first.program_id, first.education, first.status) == (program, "associate", "seeking")
    assert str(first.available_from) == "2026-07-01"
    assert stored["XL2026002"].education == "bachelor"


def test_a_gb18030_csv_from_chinese_windows_excel_is_read(page: Any, live_server: LiveServer) -> None:
    program = _open_programme(page, live_server)
    text = "\r\n".join([",".join(HEADER), "GB2026001,中专,电子技术,焊线、SPC,上虞,2026/9/1,求职中", ""])
    _upload(page, "graduates.csv", text.encode("gb18030"), "text/csv")
    assert page.locator(".upload-summary").inner_text() == "将新增 1 条，更新 0 条，0 条不变。"
    assert "上虞区" in page.locator("table.upload-rows tbody tr").first.inner_text()
    page.get_by_role("button", name="确认导入").click()
    page.wait_for_url(re.compile(rf"/programs/{program}$"))
    stored = _graduates(live_server, ["GB2026001"])["GB2026001"]
    assert stored.education == "secondary" and str(stored.available_from) == "2026-09-01"
    assert [s.skill_id for s in stored.skills] == ["wire_bonding", "spc"]


def test_a_bad_file_shows_its_problems_at_the_top_in_chinese(page: Any, live_server: LiveServer) -> None:
    program = _open_programme(page, live_server)
    content = _xlsx(
        [
            HEADER,
            ["BAD2026001", "大专", "", "引线键合", "", "2026/07/01", "求职中"],
            ["BAD2026002", "高中", "", "引线建合", "", "2026/02/30", "在职"],
        ]
    )
    _upload(page, "毕业生.xlsx", content, XLSX)
    errors = page.locator("#upload-errors")
    assert errors.is_visible()
    box = errors.bounding_box()
    assert box is not None and box["y"] < 400, box  # at the top of the page, seen without scrolling
    text = errors.inner_text()
    assert "文件有误，未导入任何数据" in text
    assert "第 3 行 · B 列（education）：“高中”不是可选值" in text
    assert "第 3 行 · D 列（skills）：未知技能“引线建合”；您是不是要找“引线键合”？" in text
    assert "第 3 行 · F 列（available_from）：“2026/02/30”不是有效日期" in text
    assert "第 3 行 · G 列（status）：“在职”不是可选值" in text
    assert page.url.endswith(f"/programs/{program}/graduates/import")
    assert _graduates(live_server, ["BAD2026001", "BAD2026002"]) == {}  # all or nothing
    screenshot(page, "school_upload_errors", top=True)


def test_hr_uploads_vacancies_from_excel_previewed_then_confirmed(page: Any, live_server: LiveServer) -> None:
    sign_in(page, live_server, live_server.keys["hr"])
    page.wait_for_url(re.compile(r"/vacancies$"))
    page.get_by_role("link", name="批量导入岗位").click()
    page.wait_for_url(re.compile(r"/vacancies/import$"))
    header = ["岗位名称", "工作地区", "必备技能", "最低学历", "招聘人数", "截止日期", "岗位描述"]
    content = _xlsx(
        [
            header,
            ["引线键合技术员（批量）", "越城", "引线键合、SPC", "大专", 2, "2027年3月31日", "负责打线工艺"],
        ]
    )
    page.get_by_label("岗位文件（.xlsx 或 .csv）").set_input_files(
        {"name": "岗位.xlsx", "mimeType": XLSX, "buffer": content}
    )
    page.get_by_role("button", name="上传并预览").click()
    assert page.locator(".upload-summary").inner_text() == "将新增 1 条，更新 0 条，0 条不变。"
    assert "越城区" in page.locator("table.upload-rows tbody tr").first.inner_text()
    page.get_by_role("button", name="确认导入").click()
    page.wait_for_url(re.compile(r"/vacancies$"))
    assert page.get_by_role("status").filter(has_text="已导入：新增 1 个岗位，更新 0 个。").is_visible()
    assert page.get_by_text("引线键合技术员（批量）").first.is_visible()
