"""Excel workbooks the service hands out: an upload's template and the exports (a plan, a shortlist).

A template's first sheet has each column headed "中文名（name）" (the reader accepts the name, either label or
both), an example row and drop-down lists for the choices; a second sheet explains each column in Chinese and
English; a third lists the skills a cell may name. Text that a spreadsheet would run as a formula is written
as text, never as a formula.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from service.usecases.tabular import CHOICE_LABELS, DISTRICT_WORDS, Column
from service.usecases.upload_text import column_letter

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEMPLATE_ROWS = 1000  # rows the drop-down lists cover
KIND_NOTES: dict[str, tuple[str, str]] = {
    "id": ("编号：英文字母、数字或 . _ -", "An id: ASCII letters, digits, '.', '_' or '-'"),
    "text": ("文字", "Text"),
    "skills": (
        "技能编号、中文名、英文名或别名，多个用 ；、，或 ; 分隔（见“技能”表）",
        "Skill ids, Chinese or English names or aliases, separated by ；、， or ; (see the Skills sheet)",
    ),
    "districts": ("地区，多个用 ；、，或 ; 分隔", "Districts, separated by ；、， or ;"),
    "date": (
        "日期：2026-07-01、2026/07/01、2026/7/1 或 2026年7月1日",
        "A date: 2026-07-01, 2026/07/01, 2026/7/1 or 2026年7月1日",
    ),
    "int": ("整数", "A whole number"),
}


@dataclass(frozen=True)
class Sheet:
    """One sheet of an export: its title, header and rows of plain values."""

    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[Any]]


def _set(cell: Any, value: Any) -> None:
    """Write a value; text is always text (a leading "=" would otherwise make openpyxl write a formula)."""
    if isinstance(value, (list, tuple)):
        value = "；".join(str(v) for v in value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.replace(tzinfo=None)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
    elif isinstance(value, (date, datetime)):
        cell.number_format = "yyyy-mm-dd" if not isinstance(value, datetime) else "yyyy-mm-dd hh:mm"


def _fill(worksheet: Any, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    from openpyxl.styles import Font

    for position, name in enumerate(header, start=1):
        cell = worksheet.cell(row=1, column=position)
        _set(cell, name)
        cell.font = Font(bold=True)
    for number, row in enumerate(rows, start=2):
        for position, value in enumerate(row, start=1):
            _set(worksheet.cell(row=number, column=position), value)
    for position, name in enumerate(header, start=1):
        longest = max([len(str(name))] + [len(str(r[position - 1] or "")) for r in rows[:200]])
        worksheet.column_dimensions[column_letter(position - 1)].width = min(60, max(10, longest * 1.6 + 2))
    worksheet.freeze_panes = "A2"


def _save(workbook: Any) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_workbook(sheets: Sequence[Sheet]) -> bytes:
    """An .xlsx with one sheet per :class:`Sheet`."""
    from openpyxl import Workbook

    workbook = Workbook()
    first = True
    for sheet in sheets:
        worksheet = workbook.active if first else workbook.create_sheet()
        first = False
        worksheet.title = sheet.title[:31]
        _fill(worksheet, sheet.header, sheet.rows)
    return _save(workbook)


def header_cell(column: Column) -> str:
    return f"{column.zh}（{column.name}）"


def _choices(column: Column) -> list[str]:
    if column.kind == "choice":
        return list(CHOICE_LABELS[column.choices].values())
    if column.kind == "districts" or column.name == "district":
        return list(DISTRICT_WORDS)
    return []


def template_workbook(
    columns: Sequence[Column], *, sheet_title: str, skills: Sequence[tuple[str, str, str]]
) -> bytes:
    """An upload's template: the columns, the example row, drop-down lists for the choices (education,
    status; districts as suggestions, since a cell may list several), notes on every column and the skills.

    ``skills`` are ``(skill_id, name_zh, name_en)``."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    data = workbook.active
    data.title = sheet_title[:31]
    _fill(data, [header_cell(c) for c in columns], [[c.example for c in columns]])
    notes: Mapping[str, tuple[str, str]] = KIND_NOTES
    for position, column in enumerate(columns):
        letter = column_letter(position)
        cell = data.cell(row=1, column=position + 1)
        zh_note, en_note = notes.get(column.kind, ("", ""))
        cell.comment = Comment(f"{column.zh} / {column.en}\n{zh_note}\n{en_note}", "talentmatch")
        choices = _choices(column)
        if not choices:
            continue
        validation = DataValidation(
            type="list",
            formula1='"' + ",".join(choices) + '"',
            allow_blank=not column.required,
            # districts are suggested only: a cell may list several, or name one not listed
            showErrorMessage=column.kind == "choice",
            errorTitle=column.zh,
            error="请从列表中选择 / choose from the list",
        )
        validation.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
        data.add_data_validation(validation)
        if column.kind == "date":
            for row in range(2, TEMPLATE_ROWS + 2):
                data.cell(row=row, column=position + 1).number_format = "yyyy-mm-dd"
    guide = workbook.create_sheet("说明 Notes")
    rows = []
    for position, column in enumerate(columns):
        zh_note, en_note = KIND_NOTES.get(column.kind, ("", ""))
        if column.kind == "choice":
            labels = CHOICE_LABELS[column.choices]
            zh_note = "可填：" + "、".join(f"{v}（{k}）" for k, v in labels.items())
            en_note = "One of: " + ", ".join(f"{k} ({v})" for k, v in labels.items())
        rows.append(
            [
                column_letter(position),
                column.name,
                column.zh,
                column.en,
                "必填 required" if column.required else "选填 optional",
                zh_note,
                en_note,
            ]
        )
    _fill(guide, ["列 Column", "name", "中文", "English", "必填 Required", "说明", "Notes"], rows)
    skills_sheet = workbook.create_sheet("技能 Skills")
    _fill(skills_sheet, ["skill_id", "中文名", "English"], [list(s) for s in skills])
    return _save(workbook)
