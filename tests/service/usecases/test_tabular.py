"""The spreadsheet reader of uploads (service/usecases/tabular.py) and its problems' words
(service/usecases/upload_text.py)."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

import pytest
from openpyxl import Workbook

from service.usecases.graduate_upload import GRADUATE_COLUMNS
from service.usecases.tabular import (
    Table,
    Vocabulary,
    canonical_csv,
    parse_date,
    parse_int,
    read_sheet,
    read_upload,
    split_list,
)
from service.usecases.upload_text import UploadInvalid, accept_language, column_letter

VOCABULARY = Vocabulary.build(
    [
        ("wire_bonding", ("引线键合", "wire bonding"), ["WB", "打线"]),
        ("flip_chip", ("倒装焊", "flip chip"), ["FC"]),
        ("spc", ("统计过程控制", "statistical process control"), ["SPC"]),
        ("lithography", ("光刻", "lithography"), []),
    ]
)
HEADER = [
    "graduate_id",
    "program_id",
    "education",
    "major",
    "skills",
    "preferred_districts",
    "available_from",
    "status",
]


def xlsx(rows: list[list[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    return "\r\n".join(",".join(row) for row in rows).encode(encoding)


def read(content: bytes) -> Table:
    return read_upload(content, GRADUATE_COLUMNS, VOCABULARY)


def texts(table: Table, lang: str) -> list[str]:
    return [p.text(lang) for p in table.problems]


ROW = ["S1", "", "大专", "微电子", "引线键合；SPC、光刻", "越城、柯桥区", "2026/7/1", "求职中"]
EXPECTED = {
    "graduate_id": "S1",
    "program_id": None,
    "education": "associate",
    "major": "微电子",
    "skills": ["wire_bonding", "spc", "lithography"],
    "preferred_districts": ["越城区", "柯桥区"],
    "available_from": date(2026, 7, 1),
    "status": "seeking",
}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_a_csv_in_utf8_with_or_without_bom_or_gb18030_reads_the_same(encoding: str) -> None:
    table = read(csv([HEADER, ROW], encoding))
    assert table.problems == []
    assert [(r.number, r.values) for r in table.rows] == [(2, EXPECTED)]


def test_an_xlsx_reads_date_cells_numbers_and_keeps_excel_row_numbers() -> None:
    rows: list[list[Any]] = [
        HEADER,
        ["S1", None, "大专", "微电子", "引线键合；SPC、光刻", "越城、柯桥区", datetime(2026, 7, 1), "求职中"],
        [],  # an empty row between blocks: skipped, the numbering kept
        [20260002, None, "本科", None, "FC", None, date(2026, 9, 1), "已就业"],
    ]
    table = read(xlsx(rows))
    assert table.problems == []
    assert [r.number for r in table.rows] == [2, 4]
    assert table.rows[0].values == EXPECTED
    second = table.rows[1].values
    assert second["graduate_id"] == "20260002"  # a number cell, not "20260002.0"
    assert (second["education"], second["skills"], second["status"]) == ("bachelor", ["flip_chip"], "placed")
    assert second["available_from"] == date(2026, 9, 1)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("硕士", "master"),
        ("master", "master"),
        ("Master", "master"),
        ("研究生", "master"),
        ("中专", "secondary"),
        ("博士", "doctor"),
        ("PhD", "doctor"),
        ("本科", "bachelor"),
    ],
)
def test_education_by_id_chinese_or_english_name_or_alias(cell: str, expected: str) -> None:
    table = read(csv([HEADER, ["S1", "", cell, "", "", "", "", "seeking"]]))
    assert table.problems == [] and table.rows[0].values["education"] == expected


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("求职中", "seeking"), ("已就业", "placed"), ("放弃", "withdrawn"), ("Placed", "placed")],
)
def test_status_by_chinese_or_english_name(cell: str, expected: str) -> None:
    table = read(csv([HEADER, ["S1", "", "大专", "", "", "", "", cell]]))
    assert table.rows[0].values["status"] == expected


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("wire_bonding", ["wire_bonding"]),  # id
        ("引线键合", ["wire_bonding"]),  # Chinese name
        ("Wire Bonding", ["wire_bonding"]),  # English name, any case
        ("打线", ["wire_bonding"]),  # alias
        ("ＳＰＣ", ["spc"]),  # full-width letters
        ("WB;FC", ["wire_bonding", "flip_chip"]),
        ("WB；FC", ["wire_bonding", "flip_chip"]),
        ("WB、FC", ["wire_bonding", "flip_chip"]),
        ("WB，FC", ["wire_bonding", "flip_chip"]),
        ("WB\nFC", ["wire_bonding", "flip_chip"]),
        ("WB、引线键合；；FC", ["wire_bonding", "flip_chip"]),  # the same skill twice is kept once
    ],
)
def test_skills_by_id_name_or_alias_in_lists_with_any_separator(cell: str, expected: list[str]) -> None:
    table = read(xlsx([HEADER, ["S1", None, "大专", None, cell, None, None, "求职中"]]))
    assert table.problems == [] and table.rows[0].values["skills"] == expected


def test_list_separators_and_district_short_names() -> None:
    assert split_list("a;b；c、d，e\nf") == ["a", "b", "c", "d", "e", "f"]
    table = read(csv([HEADER, ["S1", "", "大专", "", "", "越城；Keqiao、滨海、某新区", "", "求职中"]]))
    assert table.rows[0].values["preferred_districts"] == ["越城区", "柯桥区", "滨海新区", "某新区"]


@pytest.mark.parametrize(
    "text",
    [
        "2026-07-01",
        "2026/07/01",
        "2026/7/1",
        "2026年7月1日",
        "2026.7.1",
        "２０２６/７/１",
        "2026-07-01 00:00:00",
    ],
)
def test_dates_in_the_forms_people_write(text: str) -> None:
    assert parse_date(text) == date(2026, 7, 1)


@pytest.mark.parametrize("text", ["2026/13/01", "2026-02-30", "7/1/2026", "明年", "2026", "2026-07-01 09:30"])
def test_not_dates(text: str) -> None:
    assert parse_date(text) is None


def test_whole_numbers() -> None:
    assert [parse_int(t) for t in ("12", "１２", "12.0", "1,200", "三", "1.5")] == [
        12,
        12,
        12,
        1200,
        None,
        None,
    ]


def test_headers_by_name_chinese_or_english_label_or_both_in_any_order() -> None:
    header = ["状态", "Student id", "学历（education）", "available_from"]
    table = read(csv([header, ["求职中", "S1", "大专", "2026/7/1"]]))
    assert table.problems == []
    assert table.rows[0].values["status"] == "seeking" and table.rows[0].values["graduate_id"] == "S1"
    assert table.positions == {"status": 0, "graduate_id": 1, "education": 2, "available_from": 3}


def test_problems_name_row_and_column_as_excel_shows_them_in_chinese_and_english() -> None:
    rows = [
        HEADER,
        ["S1", "", "高中", "", "引线建合", "", "2026/02/30", "求职中"],
        ["S1", "", "大专", "", "", "", "", ""],
    ]
    table = read(csv(rows))
    assert texts(table, "zh") == [
        "第 2 行 · C 列（education）：“高中”不是可选值；可填：中专 secondary / 大专 associate / "
        "本科 bachelor / 硕士 master / 博士 doctor。",
        "第 2 行 · E 列（skills）：未知技能“引线建合”；您是不是要找“引线键合”？",
        "第 2 行 · G 列（available_from）：“2026/02/30”不是有效日期；可写作 2026-07-01、2026/07/01、"
        "2026/7/1 或 2026年7月1日。",
        "第 3 行 · H 列（status）：必填，单元格为空。",
        "第 3 行 · A 列（graduate_id）：编号“S1”重复（第 2 行已有）。",
    ]
    assert texts(table, "en") == [
        "Row 2 · column C (education): '高中' is not allowed; use one of: 中专 secondary / 大专 associate / "
        "本科 bachelor / 硕士 master / 博士 doctor.",
        "Row 2 · column E (skills): Unknown skill '引线建合'; did you mean '引线键合'?",
        "Row 2 · column G (available_from): '2026/02/30' is not a valid date; write 2026-07-01, 2026/07/01, "
        "2026/7/1 or 2026年7月1日.",
        "Row 3 · column H (status): Required; the cell is empty.",
        "Row 3 · column A (graduate_id): Duplicate id 'S1' (first in row 2).",
    ]


def test_header_problems_unknown_doubled_and_missing_columns() -> None:
    table = read(csv([["graduate_id", "学历", "education", "年龄"], ["S1", "大专", "大专", "20"]]))
    assert texts(table, "en")[:2] == [
        "Row 1 · column C (education): This column appears twice in the header.",
        "Row 1 · column D (年龄): Unknown column '年龄'; the columns are: graduate_id, program_id, "
        "education, major, skills, preferred_districts, available_from, status.",
    ]
    missing = read(csv([["graduate_id", "education"], ["S1", "大专"]]))
    assert texts(missing, "zh") == ["“status”列：缺少必填列。"]
    assert table.rows == []


def test_a_long_row_and_a_bad_id() -> None:
    table = read(
        csv(
            [
                HEADER,
                ["S 1", "", "大专", "", "", "", "", "求职中", "extra"],
                ["S/2", "", "大专", "", "", "", "", "求职中"],
            ]
        )
    )
    assert texts(table, "en")[0] == "Row 2: The row has more cells than the header (8)."
    assert texts(table, "en")[1].startswith("Row 3 · column A (graduate_id): 'S/2' is not a valid id")


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "empty_file"),
        (b"  \n", "empty_file"),
        ("graduate_id,status\n".encode("utf-16"), "encoding"),
        ("graduate_id,major\nS1,Électronique\n".encode("latin-1"), "encoding"),
        (b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "old_xls"),
        (b"PK\x03\x04 not really a zip", "bad_xlsx"),
        (("graduate_id,status\nS1,seeking\n").encode("utf-16-le"), "nul"),
        (("," * 300_000 + "\n").encode(), "too_many_columns"),
        (b'graduate_id,status\n"S1,seeking\n', "bad_csv"),
    ],
)
def test_files_that_cannot_be_read_are_one_clear_problem(content: bytes, code: str) -> None:
    with pytest.raises(UploadInvalid) as raised:
        read_sheet(content)
    assert [p.code for p in raised.value.problems] == [code]
    assert raised.value.details[0]["message"]


def test_header_only_is_a_problem() -> None:
    assert [p.code for p in read(csv([HEADER])).problems] == ["no_rows"]


def test_canonical_csv_reads_back_to_the_same_rows_on_the_same_row_numbers() -> None:
    table = read(xlsx([HEADER, ROW, [], ["S2", None, "硕士", None, "FC", None, None, "放弃"]]))
    again = read(canonical_csv(HEADER, [(r.number, r.values) for r in table.rows]))
    assert again.problems == []
    assert [(r.number, r.values) for r in again.rows] == [(r.number, r.values) for r in table.rows]


def test_column_letters_and_accept_language() -> None:
    assert [column_letter(i) for i in (0, 2, 25, 26, 27, 51, 52)] == ["A", "C", "Z", "AA", "AB", "AZ", "BA"]
    assert accept_language(None) == "zh"
    assert accept_language("en-US,en;q=0.9") == "en"
    assert accept_language("zh-CN,zh;q=0.9,en;q=0.8") == "zh"
    assert accept_language("fr, en;q=0.5") == "en"
    assert accept_language("fr") == "zh"
    assert accept_language("en;q=0.2, zh;q=0.8") == "zh"


def test_a_posting_problem_reads_in_both_languages() -> None:
    from service.usecases.upload_text import UploadProblem

    problem = UploadProblem(
        2, 11, "description", "posting", {"text": "限男性", "zh": "性别要求", "en": "gender"}
    )
    assert problem.text("zh") == "第 2 行 · L 列（description）：“限男性”：性别要求"
    assert problem.text("en") == "Row 2 · column L (description): '限男性': gender"
