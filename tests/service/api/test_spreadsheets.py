"""Spreadsheets through the API: graduates and vacancies uploaded as .xlsx or Chinese CSV (preview, then
write), the templates, and the placement plan and shortlist downloads."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import Engine, func, select

from service.store.tables import AuditEntry, Graduate, Vacancy
from tests.service.api.conftest import Api, make_api
from tests.serving import tiny_model

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GRADUATES = "/api/v1/programs/P1/graduates/import"
VACANCIES = "/api/v1/imports/vacancies"


@pytest.fixture
def api_model(sqlite_engine: Engine, tmp_path: Path) -> Iterator[Api]:
    yield from make_api(sqlite_engine, tmp_path, model=tiny_model())


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


CHINESE_ROWS: list[list[Any]] = [
    ["学号", "学历", "专业", "技能", "意向地区", "可入职日期", "状态"],
    ["S100", "大专", "微电子技术", "引线键合；SPC、光刻", "越城、柯桥区", "2026/07/01", "求职中"],
    ["G01", "本科", "微电子技术", "光刻，刻蚀", "越城区", date(2026, 7, 1), "求职中"],
    ["S101", "中专", "", "WB", "", "2026年7月1日", "放弃"],
]


def _graduate(api: Api, own_id: str) -> dict[str, Any]:
    response = api.client.get(f"/api/v1/graduates/{own_id}", headers=api.headers["school_s1"])
    assert response.status_code == 200, response.text
    return dict(response.json())


def _count(api: Api, model: type) -> int:
    with api.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _post(api: Api, url: str, content: bytes, key: str, name: str = "upload.xlsx", **params: Any) -> Any:
    return api.client.post(
        url,
        headers=api.headers[key],
        params=params,
        files={"file": (name, content, "application/octet-stream")},
    )


def test_an_xlsx_with_chinese_values_is_previewed_then_written(api: Api) -> None:
    content = xlsx_bytes(CHINESE_ROWS)
    before = _count(api, Graduate)
    preview = _post(api, GRADUATES, content, "school_s1", preview="true")
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert (body["added"], body["updated"], body["unchanged"], body["preview"]) == (2, 1, 0, True)
    rows = {r["key"]: r for r in body["rows"]}
    assert [r["row"] for r in body["rows"]] == [2, 3, 4]
    assert rows["S100"]["action"] == "add" and rows["G01"]["action"] == "update"
    assert rows["S100"]["values"] == {
        "graduate_id": "S100",
        "program_id": "P1",
        "education": "associate",
        "major": "微电子技术",
        "skills": ["wire_bonding", "spc", "lithography"],
        "preferred_districts": ["越城区", "柯桥区"],
        "available_from": "2026-07-01",
        "status": "seeking",
    }
    assert _count(api, Graduate) == before  # a preview writes nothing

    written = _post(api, GRADUATES, content, "school_s1")
    assert written.status_code == 200, written.text
    assert (written.json()["added"], written.json()["updated"], written.json()["preview"]) == (2, 1, False)
    assert _count(api, Graduate) == before + 2
    s100 = _graduate(api, "S100")
    assert s100["skills"] == ["wire_bonding", "spc", "lithography"]
    assert s100["preferred_districts"] == ["越城区", "柯桥区"] and s100["available_from"] == "2026-07-01"
    assert _graduate(api, "G01")["education"] == "bachelor"
    assert _graduate(api, "S101")["status"] == "withdrawn"
    again = _post(api, GRADUATES, content, "school_s1", preview="true").json()
    assert (again["added"], again["updated"], again["unchanged"]) == (0, 0, 3)


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig", "utf-8"])
def test_a_chinese_csv_in_gb18030_or_utf8_is_read(api: Api, encoding: str) -> None:
    text = "\n".join(",".join(f'"{c}"' if "," in str(c) else str(c) for c in row) for row in CHINESE_ROWS)
    response = _post(api, GRADUATES, text.encode(encoding), "school_s1", name="graduates.csv")
    assert response.status_code == 200, response.text
    assert response.json()["added"] == 2
    assert _graduate(api, "S101")["skills"] == ["wire_bonding"]


def test_errors_name_row_and_column_in_the_request_language(api: Api) -> None:
    rows = [CHINESE_ROWS[0], ["S102", "高中", "", "光刻", "", "2026/7/1", "求职中"]]
    content = xlsx_bytes(rows)
    zh = _post(api, GRADUATES, content, "school_s1").json()["error"]
    assert zh["code"] == "invalid_upload"
    assert zh["details"][0]["text"].startswith("第 2 行 · B 列（education）：“高中”不是可选值")
    en = api.client.post(
        GRADUATES,
        headers={**api.headers["school_s1"], "Accept-Language": "en"},
        files={"file": ("g.xlsx", content, XLSX)},
    ).json()["error"]
    assert en["details"][0]["text"].startswith("Row 2 · column B (education): '高中' is not allowed")


def test_the_graduates_template_has_lists_and_uploads_as_it_is(api: Api) -> None:
    response = api.client.get("/api/v1/programs/P1/graduates/template", headers=api.headers["school_s1"])
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook.worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[0] == "学号（graduate_id）" and "可入职日期（available_from）" in header
    assert [c.value for c in sheet[2]][1] == "P1"  # the example row names the programme
    lists = {str(v.sqref): v.formula1 for v in sheet.data_validations.dataValidation}
    assert lists["C2:C1001"] == '"中专,大专,本科,硕士,博士"'
    assert lists["H2:H1001"] == '"求职中,已就业,放弃"'
    assert {"说明 Notes", "技能 Skills"} <= set(workbook.sheetnames)
    preview = _post(api, GRADUATES, response.content, "school_s1", preview="true")
    assert preview.status_code == 200, preview.text
    assert preview.json()["rows"][0]["values"]["skills"] == ["wire_bonding", "spc"]
    assert (
        api.client.get("/api/v1/programs/P1/graduates/template", headers=api.headers["school_s2"]).status_code
        == 404
    )
    assert (
        api.client.get("/api/v1/programs/P1/graduates/template", headers=api.headers["hr_e1"]).status_code
        == 403
    )


def test_hr_vacancies_upload_previews_adds_and_updates(api: Api) -> None:
    template = api.client.get("/api/v1/imports/vacancies/template", headers=api.headers["hr_e1"])
    assert template.status_code == 200 and template.headers["content-type"] == XLSX
    header = [c.value for c in load_workbook(io.BytesIO(template.content)).worksheets[0][1]]
    rows: list[list[Any]] = [
        header,
        [
            "",
            "封装工艺工程师",
            "",
            "引线键合、倒装焊",
            "SPC",
            "大专",
            "越城",
            3,
            6000,
            9000,
            "2027年3月31日",
            "",
        ],
        [
            "V1",
            "光刻工艺工程师",
            "process_engineer",
            "光刻",
            "统计过程控制",
            "本科",
            "越城区",
            4,
            7000,
            10000,
            "",
            "",
        ],
        ["", "测试工程师", "", "", "", "", "滨海新区", "", "", "", "", "熟悉ATE测试"],
    ]
    content = xlsx_bytes(rows)
    before = _count(api, Vacancy)
    preview = _post(api, VACANCIES, content, "hr_e1", preview="true")
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert (body["added"], body["updated"], body["preview"]) == (2, 1, True)
    assert body["rows"][0]["values"]["district"] == "越城区"
    assert body["rows"][2]["values"]["required_skills"] == ["ate_test"]  # extracted from the description
    assert _count(api, Vacancy) == before
    written = _post(api, VACANCIES, content, "hr_e1")
    assert written.status_code == 200, written.text
    assert len(written.json()["vacancy_ids"]) == 3
    assert _count(api, Vacancy) == before + 2
    v1 = api.client.get("/api/v1/vacancies/V1", headers=api.headers["hr_e1"]).json()
    assert (v1["headcount"], v1["min_education"], v1["closes_at"]) == (4, "bachelor", None)
    new = api.client.get(
        f"/api/v1/vacancies/{written.json()['vacancy_ids'][0]}", headers=api.headers["hr_e1"]
    )
    assert new.json()["required_skills"] == ["wire_bonding", "flip_chip"]
    assert new.json()["closes_at"].startswith("2027-03-31")
    with api.session() as session:
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "import_vacancies"))
        assert entry.resource == "enterprise:E1"


def test_hr_vacancies_upload_refuses_another_enterprises_vacancy_and_bad_cells(api: Api) -> None:
    rows = [
        ["vacancy_id", "title", "district", "headcount", "closes_at"],
        ["V3", "封装工艺技术员", "滨海新区", 2, ""],  # E2's: answered as a missing one
        ["", "", "越城区", "三", "明年"],
    ]
    before = _count(api, Vacancy)
    error = _post(api, VACANCIES, xlsx_bytes(rows), "hr_e1").json()["error"]
    found = {(d["row"], d["letter"], d["code"]) for d in error["details"]}
    assert found == {
        (2, "A", "unknown_vacancy"),
        (3, "B", "required"),
        (3, "D", "bad_int"),
        (3, "E", "bad_date"),
    }
    assert _count(api, Vacancy) == before
    admin = _post(api, VACANCIES, xlsx_bytes(rows[:1] + [["", "岗位", "越城区", 1, ""]]), "admin")
    assert admin.status_code == 403 and admin.json()["error"]["code"] == "enterprise_required"
    assert _post(api, VACANCIES, xlsx_bytes(rows), "school_s1").status_code == 403


def test_the_placement_plan_and_the_shortlist_download_as_xlsx(api_model: Api) -> None:
    api = api_model
    plan = api.client.get("/api/v1/programs/P1/placements", headers=api.headers["school_s1"]).json()
    response = api.client.get("/api/v1/programs/P1/placements/export", headers=api.headers["school_s1"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    assert "placement-P1.xlsx" in response.headers["content-disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    assigned, unassigned = workbook.worksheets
    assert assigned.title == "已安排" and assigned.max_row - 1 == plan["assignments_total"]
    assert unassigned.max_row - 1 == plan["unassigned_total"]
    if plan["assignments"]:
        first = max(plan["assignments"], key=lambda a: a["score"])
        assert [c.value for c in assigned[2]][:2] == [first["graduate_id"], first["vacancy_id"]]
    shortlist = api.client.get(
        "/api/v1/vacancies/V1/candidates/export", headers={**api.headers["hr_e1"], "Accept-Language": "en"}
    )
    assert shortlist.status_code == 200, shortlist.text
    sheet = load_workbook(io.BytesIO(shortlist.content)).worksheets[0]
    assert [c.value for c in sheet[1]][:3] == ["Rank", "Graduate", "Match (%)"]
    candidates = api.client.get(
        "/api/v1/vacancies/V1/candidates",
        params={"limit": 100, "include_below_floor": "true"},
        headers=api.headers["hr_e1"],
    ).json()
    assert [sheet.cell(row=i + 2, column=2).value for i in range(len(candidates["items"]))] == [
        c["graduate_id"] for c in candidates["items"]
    ]
    assert (
        api.client.get("/api/v1/vacancies/V3/candidates/export", headers=api.headers["hr_e1"]).status_code
        == 404
    )


def test_a_vacancy_upload_names_discriminatory_text_by_row(api: Api) -> None:
    rows = [["title", "district", "required_skills", "description"], ["操作工", "越城区", "SPC", "限男性"]]
    preview = _post(api, VACANCIES, xlsx_bytes(rows), "hr_e1", preview="true")
    assert preview.status_code == 200, preview.text
    assert [(w["row"], w["code"], w["span"]["text"]) for w in preview.json()["warnings"]] == [
        (2, "gender", "限男性")
    ]
