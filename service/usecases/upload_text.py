"""What an upload's problems say, in Simplified Chinese (the default) and English.

An upload (a programme's graduates, HR's vacancies) is read by :mod:`service.usecases.tabular`, which reports
each problem as a :class:`UploadProblem`: where it is as a spreadsheet shows it (row 3, column C) and a code
with its values. :meth:`UploadProblem.text` says it in one language, e.g.
"第 3 行 · C 列（available_from）：…" or "Row 3 · column C (available_from): …". The API answers in the
request's language (Accept-Language), the pages in the page's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

# code -> (Chinese, English); ``{value}``-style placeholders come from the problem's values.
MESSAGES: dict[str, tuple[str, str]] = {
    "empty_file": (
        "文件为空：请上传含表头和至少一行数据的 .xlsx 或 .csv 文件。",
        "The file is empty: upload an .xlsx or .csv file with a header row and at least one data row.",
    ),
    "no_rows": ("文件只有表头，没有数据行。", "The file has a header but no data rows."),
    "too_large": ("文件不能超过 {limit} 字节。", "The file may be at most {limit} bytes."),
    "bad_xlsx": (
        "无法读取这个 Excel 文件（{reason}）：请用 Excel 另存为 .xlsx 后重试。",
        "This Excel file cannot be read ({reason}): save it again as .xlsx and retry.",
    ),
    "xlsx_too_big": (
        "Excel 文件解压后超过 {limit} MB，无法读取。",
        "The Excel file unpacks to more than {limit} MB and cannot be read.",
    ),
    "old_xls": (
        "不支持旧版 .xls 文件：请在 Excel 中另存为 .xlsx 或“CSV UTF-8”。",
        "Old .xls files are not supported: save it in Excel as .xlsx or 'CSV UTF-8'.",
    ),
    "encoding": (
        "无法识别文件编码：请另存为 .xlsx、“CSV UTF-8”或 GB18030（GBK）编码的 CSV。",
        "The file's encoding is not recognised: save it as .xlsx, 'CSV UTF-8' or a GB18030 (GBK) CSV.",
    ),
    "nul": (
        "文件中有空字符（NUL），不是 CSV 文本文件。",
        "The file contains NUL characters; it is not a CSV text file.",
    ),
    "bad_csv": ("CSV 格式有误：{reason}。", "The CSV is not valid: {reason}."),
    "too_many_columns": (
        "表头有 {n} 列，最多读取 {limit} 列。",
        "The header has {n} columns; at most {limit} are read.",
    ),
    "too_many_rows": ("数据超过 {limit} 行，请分批上传。", "More than {limit} data rows: upload in parts."),
    "unknown_column": (
        "无法识别的列“{name}”；可用的列：{columns}。",
        "Unknown column '{name}'; the columns are: {columns}.",
    ),
    "duplicate_column": ("这一列在表头中出现了两次。", "This column appears twice in the header."),
    "missing_column": ("缺少必填列。", "This required column is missing."),
    "long_row": ("这一行的单元格比表头多（表头 {n} 列）。", "The row has more cells than the header ({n})."),
    "required": ("必填，单元格为空。", "Required; the cell is empty."),
    "too_long": ("太长（{n} 个字，最多 {limit} 个）。", "Too long ({n} characters; at most {limit})."),
    "entry_too_long": (
        "“{value}”太长（最多 {limit} 个字）。",
        "'{value}' is too long (at most {limit} characters).",
    ),
    "bad_id": (
        "“{value}”不是有效的编号：编号为 1–64 个英文字母、数字或 . _ -，以字母或数字开头。",
        "'{value}' is not a valid id: 1-64 ASCII letters, digits, '.', '_' or '-', starting with a letter "
        "or a digit.",
    ),
    "duplicate_id": (
        "编号“{value}”重复（第 {first} 行已有）。",
        "Duplicate id '{value}' (first in row {first}).",
    ),
    "bad_choice": (
        "“{value}”不是可选值；可填：{choices}。",
        "'{value}' is not allowed; use one of: {choices}.",
    ),
    "unknown_skill": ("未知技能“{value}”。", "Unknown skill '{value}'."),
    "unknown_skill_hint": (
        "未知技能“{value}”；您是不是要找“{hint}”？",
        "Unknown skill '{value}'; did you mean '{hint}'?",
    ),
    "bad_date": (
        "“{value}”不是有效日期；可写作 2026-07-01、2026/07/01、2026/7/1 或 2026年7月1日。",
        "'{value}' is not a valid date; write 2026-07-01, 2026/07/01, 2026/7/1 or 2026年7月1日.",
    ),
    "bad_int": ("“{value}”不是整数。", "'{value}' is not a whole number."),
    "int_range": (
        "必须在 {low} 到 {high} 之间（现为 {value}）。",
        "Must be between {low} and {high} (got {value}).",
    ),
    "hidden_chars_line": (
        "须为单行文字，不能包含控制字符或文字方向控制字符（如 U+202E）。",
        "Must be a single line without control or text-direction characters (e.g. U+202E).",
    ),
    "hidden_chars": (
        "不能包含控制字符或文字方向控制字符（如 U+202E）。",
        "Must not contain control or text-direction characters (e.g. U+202E).",
    ),
    "other_program": (
        "应为本次上传的培养项目“{program}”（也可留空）。",
        "Must be '{program}', the programme of this upload (or left empty).",
    ),
    "graduate_elsewhere": (
        "该毕业生属于本校另一培养项目“{program}”，请在那里上传。",
        "This graduate belongs to your programme '{program}'; upload them there.",
    ),
    "program_full": (
        "导入后该项目将有 {would_have} 名毕业生，超过每个项目最多 {limit} 名的上限"
        "（TALENTMATCH_MAX_PROGRAM_GRADUATES），未导入任何数据。",
        "The programme would have {would_have} graduates, over the cap of {limit} per programme "
        "(TALENTMATCH_MAX_PROGRAM_GRADUATES); nothing was imported.",
    ),
    "skill_twice": (
        "“{value}”同时列为必备技能和优先技能，请只列一次。",
        "'{value}' is listed as both required and preferred; list a skill once.",
    ),
    "salary_order": (
        "最低月薪 {low} 高于最高月薪 {high}。",
        "salary_min {low} is above salary_max {high}.",
    ),
    "unknown_vacancy": (
        "本企业没有编号为“{value}”的岗位；新增岗位请留空 vacancy_id。",
        "Your enterprise has no vacancy '{value}'; leave vacancy_id empty to add a new one.",
    ),
    "vacancy_not_open": (
        "岗位“{value}”{status}，不能修改。",
        "Vacancy '{value}' is {status} and cannot be edited.",
    ),
    "headcount_below_hires": (
        "招聘人数不能少于已录用的 {hired} 人。",
        "The headcount must be at least the {hired} graduate(s) already hired.",
    ),
    "posting": ("“{text}”：{zh}", "'{text}': {en}"),
    "posting_refused": (
        "{n} 行岗位的文字含可能构成歧视的要求（TALENTMATCH_POSTING_CHECK=refuse），未导入任何数据：{first}",
        "{n} row(s) state requirements that may discriminate (TALENTMATCH_POSTING_CHECK=refuse); nothing "
        "was written: {first}",
    ),
    "raw": ("{message}", "{message}"),
    "summary": (
        "文件有 {n} 处问题，未导入任何数据：{first}",
        "{n} problem(s) in the file, nothing imported: {first}",
    ),
}
# The location of a problem, as a spreadsheet shows it.
PLACES: dict[str, tuple[str, str]] = {
    "cell": ("第 {row} 行 · {letter} 列（{field}）：", "Row {row} · column {letter} ({field}): "),
    "column": ("{letter} 列（{field}）：", "Column {letter} ({field}): "),
    "named": ("“{field}”列：", "Column '{field}': "),
    "row": ("第 {row} 行：", "Row {row}: "),
    "file": ("", ""),
}
WORDS: dict[str, tuple[str, str]] = {
    "status.closed": ("已关闭", "closed"),
    "status.filled": ("已招满", "filled"),
    "list.separator": ("、", ", "),
}


def normalise_language(value: str | None) -> str:
    """``"en"``, ``"en-US"`` → ``"en"``; anything else → Chinese."""
    short = (value or "").strip().lower().split("-")[0].split("_")[0]
    return short if short in LANGUAGES else DEFAULT_LANGUAGE


def accept_language(header: str | None) -> str:
    """The language an ``Accept-Language`` header prefers most among ours (Chinese when it names neither)."""
    best, best_q = DEFAULT_LANGUAGE, -1.0
    for part in (header or "").split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        short = tag.strip().lower().split("-")[0]
        if short not in LANGUAGES:
            continue
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if q > best_q:
            best, best_q = short, q
    return best


def say(code: str, lang: str, /, **values: object) -> str:
    """The message ``code`` in ``lang``, its placeholders filled."""
    pair = MESSAGES.get(code, MESSAGES["raw"])
    text = pair[1] if lang == "en" else pair[0]
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError):
        return text


def word(key: str, lang: str) -> str:
    pair = WORDS.get(key)
    return key if pair is None else (pair[1] if lang == "en" else pair[0])


def column_letter(position: int) -> str:
    """Excel's name of the 0-based column ``position``: 0 → A, 25 → Z, 26 → AA."""
    letters = ""
    n = position + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@dataclass(frozen=True)
class UploadProblem:
    """One thing wrong with an uploaded file, located as a spreadsheet shows it.

    ``row`` is the sheet's row (the header is row 1; 0: the file as a whole), ``position`` the 0-based column
    (None: no single column, or a column missing from the file), ``field`` the column's name.
    """

    row: int
    position: int | None
    field: str
    code: str
    values: Mapping[str, object] = dataclass_field(default_factory=dict)

    @property
    def letter(self) -> str:
        return "" if self.position is None else column_letter(self.position)

    def message(self, lang: str) -> str:
        return say(self.code, lang, **self.values)

    def place(self, lang: str) -> str:
        if self.row and self.position is not None:
            kind = "cell"
        elif self.position is not None:
            kind = "column"
        elif self.field and self.field != "-":
            kind = "named"
        elif self.row:
            kind = "row"
        else:
            kind = "file"
        pair = PLACES[kind]
        return (pair[1] if lang == "en" else pair[0]).format(
            row=self.row, letter=self.letter, field=self.field
        )

    def text(self, lang: str) -> str:
        """E.g. "第 3 行 · C 列（available_from）：…" or "Row 3 · column C (available_from): …"."""
        return self.place(lang) + self.message(lang)

    def detail(self, lang: str) -> dict[str, object]:
        """The API's shape of the problem: ``row`` and ``letter`` as the spreadsheet shows them, ``column``
        the column's name (``line`` = ``row`` and ``column`` as the CSV-only upload answered)."""
        return {
            "row": self.row,
            "letter": self.letter or "-",
            "line": self.row,
            "column": self.field,
            "field": self.field,
            "code": self.code,
            "message": self.message(lang),
            "text": self.text(lang),
        }


MAX_SHOWN = 200  # problems listed in an answer (the count says how many there are in all)


class UploadInvalid(ValueError):
    """An upload with problems; nothing was written. ``problems`` are in the order of the sheet, ``details``
    (the API's) and the message in ``lang``."""

    def __init__(self, problems: list[UploadProblem], lang: str = DEFAULT_LANGUAGE) -> None:
        self.problems = sorted(problems, key=lambda p: (p.row, -1 if p.position is None else p.position))
        self.lang = normalise_language(lang)
        self.total = len(self.problems)
        self.details = [p.detail(self.lang) for p in self.problems[:MAX_SHOWN]]
        first = self.problems[0].text(self.lang) if self.problems else ""
        super().__init__(say("summary", self.lang, n=self.total, first=first))

    def texts(self, limit: int = MAX_SHOWN) -> list[str]:
        return [p.text(self.lang) for p in self.problems[:limit]]
