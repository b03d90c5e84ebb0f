"""Reading a spreadsheet a person saved: the uploads of a programme's graduates and of HR's vacancies.

A file is an Excel workbook (.xlsx, its first sheet) or a CSV in UTF-8, UTF-8 with a BOM (Excel's "CSV UTF-8")
or GB18030 (what Chinese Windows Excel writes as "CSV"). Row 1 is the header: each column by its name
(``available_from``) or its Chinese or English label (可入职日期, Available from). Values may be written as
people write them: skills by id, Chinese or English name or alias (引线键合, Wire bonding); education as
中专/大专/本科/硕士/博士 or the ids; a graduate's status as 求职中/已就业/放弃; districts by name or short
name (越城 → 越城区); lists separated by ``;``, ``；``, ``、``, ``，`` or line breaks; dates as 2026-07-01,
2026/07/01, 2026/7/1 or 2026年7月1日 (or a date cell). Every problem is reported at once, by row and column as
the spreadsheet shows them (:class:`~service.usecases.upload_text.UploadProblem`).

The reader is pure: it takes the file's bytes, the columns (:class:`Column`) and the names known
(:class:`Vocabulary`), and returns canonical rows (ids, ISO dates, lists) for the use cases to check against
the store and write.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from models.ids import ID_MAX_LENGTH, is_valid_id
from service.usecases.inputs import vacancy_line, vacancy_text
from service.usecases.upload_text import UploadInvalid, UploadProblem, column_letter

MAX_COLUMNS = 100
MAX_ROWS = 20_000
MAX_HINTS = 50
MAX_XLSX_UNPACKED = 50_000_000  # bytes a workbook may unpack to (a zip bomb is refused before reading)
XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls
LIST_SPLIT = re.compile(r"[;；、，\n\r]+")
_DATE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]00:00(?::00(?:\.0+)?)?)?$"
)
_QUOTED_FORMULA = re.compile(r"^'+[=+\-@\t\r]")

EDUCATION_WORDS: dict[str, tuple[str, ...]] = {
    "secondary": ("中专", "中职", "职高", "技校", "secondary", "secondary vocational"),
    "associate": ("大专", "专科", "高职", "associate", "junior college"),
    "bachelor": ("本科", "学士", "bachelor", "undergraduate"),
    "master": ("硕士", "研究生", "master"),
    "doctor": ("博士", "doctor", "phd", "ph.d.", "doctorate"),
}
STATUS_WORDS: dict[str, tuple[str, ...]] = {
    "seeking": ("求职中", "待就业", "seeking"),
    "placed": ("已就业", "就业", "placed", "employed"),
    "withdrawn": ("放弃", "放弃求职", "已退出", "退出", "withdrawn"),
}
# Shaoxing's districts with their short and English names; a district not listed is kept as written.
DISTRICT_WORDS: dict[str, tuple[str, ...]] = {
    "越城区": ("越城", "yuecheng", "yuecheng district"),
    "柯桥区": ("柯桥", "keqiao", "keqiao district"),
    "上虞区": ("上虞", "shangyu", "shangyu district"),
    "诸暨市": ("诸暨", "zhuji"),
    "嵊州市": ("嵊州", "shengzhou"),
    "新昌县": ("新昌", "xinchang"),
    "滨海新区": ("滨海", "绍兴滨海新区", "binhai", "binhai new area"),
}
# Chinese labels of the choices, as the template's drop-down lists show them.
CHOICE_LABELS: dict[str, dict[str, str]] = {
    "education": {
        "secondary": "中专",
        "associate": "大专",
        "bachelor": "本科",
        "master": "硕士",
        "doctor": "博士",
    },
    "status": {"seeking": "求职中", "placed": "已就业", "withdrawn": "放弃"},
}
CHOICES: dict[str, dict[str, tuple[str, ...]]] = {"education": EDUCATION_WORDS, "status": STATUS_WORDS}


def fold(text: str) -> str:
    """The form names are compared in: full-width letters and digits as ASCII, case and spaces ignored."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


# Each choice's names as compared (folded), for one lookup per cell.
CHOICE_KEYS: dict[str, dict[str, str]] = {
    kind: {fold(name): value for value, names in words.items() for name in (value, *names)}
    for kind, words in CHOICES.items()
}


@dataclass(frozen=True)
class Column:
    """One column of an upload: its name, labels, what a cell holds and an example value.

    kind: ``id`` (the row's key), ``text`` (``rule`` ``line`` or ``block`` for vacancy text), ``choice``
    (``choices``: ``education`` or ``status``), ``skills``, ``districts``, ``date`` or ``int``.
    """

    name: str
    kind: str
    zh: str
    en: str
    required: bool = False
    choices: str = ""
    max_length: int | None = None
    low: int | None = None
    high: int | None = None
    rule: str = ""
    example: str = ""


@dataclass
class Vocabulary:
    """Names a cell may use for a skill (id, Chinese or English name, alias) and for a district."""

    skills: dict[str, str] = field(default_factory=dict)  # folded name -> skill_id
    skill_labels: dict[str, str] = field(default_factory=dict)  # skill_id -> its Chinese name (hints)
    districts: dict[str, str] = field(default_factory=dict)  # folded name -> district

    @classmethod
    def build(cls, skills: Iterable[tuple[str, Sequence[str], Sequence[str]]]) -> Vocabulary:
        """From the taxonomy's ``(skill_id, (name_zh, name_en), aliases)`` entries."""
        vocabulary = cls()
        for skill_id, names, aliases in skills:
            for name in (*aliases, *names[1:], *names[:1], skill_id):  # ids and Chinese names win a clash
                if name:
                    vocabulary.skills[fold(name)] = skill_id
            vocabulary.skill_labels[skill_id] = names[0] if names and names[0] else skill_id
        for district, words in DISTRICT_WORDS.items():
            for name in (*words, district):
                vocabulary.districts[fold(name)] = district
        return vocabulary

    def skill_hint(self, value: str) -> str | None:
        """The skill name closest to a name matching none (for "did you mean …?")."""
        found = difflib.get_close_matches(fold(value), list(self.skills), n=1, cutoff=0.6)
        return self.skill_labels.get(self.skills[found[0]], found[0]) if found else None


@dataclass(frozen=True)
class Sheet:
    """The header and the data rows of a file, each row with its number as the spreadsheet shows it."""

    header: list[str]
    rows: list[tuple[int, list[str]]]


@dataclass(frozen=True)
class Row:
    """One data row in canonical form: ids, lists of ids or names, ``date``, ``int`` or None."""

    number: int
    values: dict[str, Any]


@dataclass
class Table:
    """What :func:`read_upload` found: canonical rows, the column positions and every problem."""

    rows: list[Row]
    positions: dict[str, int]
    problems: list[UploadProblem]

    def problem(self, row: int, name: str, code: str, **values: object) -> None:
        self.problems.append(UploadProblem(row, self.positions.get(name), name, code, values))


# ------------------------------------------------------------------------------------------- the file
def _file_problem(code: str, **values: object) -> UploadInvalid:
    return UploadInvalid([UploadProblem(0, None, "-", code, values)])


def read_sheet(content: bytes) -> Sheet:
    """Split a file into header and rows (:class:`UploadInvalid` when it cannot be read at all)."""
    if not content.strip():
        raise _file_problem("empty_file")
    if content.startswith(XLSX_MAGIC):
        return _read_xlsx(content)
    if content.startswith(OLE_MAGIC):
        raise _file_problem("old_xls")
    return _read_csv(_decode(content))


def _decode(content: bytes) -> str:
    if content.startswith(codecs.BOM_UTF8):
        try:
            return content[len(codecs.BOM_UTF8) :].decode("utf-8")
        except UnicodeDecodeError as error:
            raise _file_problem("encoding") from error
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = content.decode("gb18030")
    except UnicodeDecodeError as error:
        raise _file_problem("encoding") from error
    if not _reads_as_chinese(text):
        raise _file_problem("encoding")
    return text


def _reads_as_chinese(text: str) -> bool:
    """Whether text decoded as GB18030 is plausibly Chinese: most of its characters are GB2312's common ones.

    Bytes of another 8-bit encoding (Latin-1's "É" before a letter) decode as rare characters outside it."""
    counts: dict[str, int] = {}
    for character in text:
        if ord(character) > 127:
            counts[character] = counts.get(character, 0) + 1
    if not counts:
        return True
    common = 0
    for character, n in counts.items():  # each distinct character tried once
        try:
            character.encode("gb2312")
        except UnicodeEncodeError:
            continue
        common += n
    return common * 2 >= sum(counts.values())


def _read_csv(text: str) -> Sheet:
    if "\x00" in text:
        raise _file_problem("nul")
    header_line = text.split("\n", 1)[0]
    if header_line.count(",") >= MAX_COLUMNS * 2:  # refused before splitting a million empty cells
        raise _file_problem("too_many_columns", n=header_line.count(",") + 1, limit=MAX_COLUMNS)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    try:
        for number, cells in enumerate(reader, start=1):
            if header is None:
                header = cells
                continue
            if len(rows) >= MAX_ROWS:
                raise _file_problem("too_many_rows", limit=MAX_ROWS)
            rows.append((number, cells))
    except csv.Error as error:
        raise UploadInvalid(
            [UploadProblem(reader.line_num, None, "-", "bad_csv", {"reason": str(error)})]
        ) from error
    if header is None:
        raise _file_problem("empty_file")
    return Sheet(header, rows)


def _read_xlsx(content: bytes) -> Sheet:
    from openpyxl import load_workbook  # imported on use: only an .xlsx upload needs it

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError) as error:
        raise _file_problem("bad_xlsx", reason=type(error).__name__) from error
    if unpacked > MAX_XLSX_UNPACKED:
        raise _file_problem("xlsx_too_big", limit=MAX_XLSX_UNPACKED // 1_000_000)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds (KeyError, InvalidFileException, XML errors)
        raise _file_problem("bad_xlsx", reason=type(error).__name__) from error
    try:
        sheet = workbook.worksheets[0]
        header: list[str] | None = None
        rows: list[tuple[int, list[str]]] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell_text(v) for v in values[: MAX_COLUMNS + 10]]
            if header is None:
                if len(values) > MAX_COLUMNS and any(values[MAX_COLUMNS:]):
                    raise _file_problem("too_many_columns", n=len(values), limit=MAX_COLUMNS)
                header = cells
                continue
            if not any(cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise _file_problem("too_many_rows", limit=MAX_ROWS)
            rows.append((number, cells))
    except UploadInvalid:
        raise
    except Exception as error:
        raise _file_problem("bad_xlsx", reason=type(error).__name__) from error
    finally:
        workbook.close()
    if header is None:
        raise _file_problem("empty_file")
    return Sheet(header, rows)


def _cell_text(value: object) -> str:
    """A cell as text: a date cell as an ISO date (with its time when it has one), 12.0 as 12."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# ------------------------------------------------------------------------------------------- the header
def _header_names(columns: Sequence[Column]) -> dict[str, str]:
    names: dict[str, str] = {}
    for column in columns:
        for name in (column.name, column.zh, column.en):
            names[fold(name)] = column.name
    return names


def _header_key(cell: str) -> str:
    """A header cell's name: ``可入职日期（available_from）`` and ``available_from`` both name the column."""
    inside = re.search(r"[（(]\s*([A-Za-z_]+)\s*[)）]\s*\*?$", cell)
    return fold(inside.group(1) if inside else cell.strip().rstrip("*").strip())


def map_header(header: list[str], columns: Sequence[Column], table: Table) -> None:
    """Fill ``table.positions``; unknown, doubled and missing required columns are problems of row 1."""
    names = _header_names(columns)
    for position, cell in enumerate(header):
        if not cell.strip():
            continue
        name = names.get(_header_key(cell))
        if name is None:
            allowed = ", ".join(c.name for c in columns)
            table.problems.append(
                UploadProblem(
                    1,
                    position,
                    cell.strip()[:60],
                    "unknown_column",
                    {"name": cell.strip()[:60], "columns": allowed},
                )
            )
        elif name in table.positions:
            table.problems.append(UploadProblem(1, position, name, "duplicate_column"))
        else:
            table.positions[name] = position
    for column in columns:
        if column.required and column.name not in table.positions:
            table.problems.append(UploadProblem(1, None, column.name, "missing_column"))


# ------------------------------------------------------------------------------------------- the cells
def split_list(text: str) -> list[str]:
    """``a；b、c, d`` style lists: ``;``, ``；``, ``、``, ``，`` or line breaks between entries."""
    return [part.strip() for part in LIST_SPLIT.split(text) if part.strip()]


def parse_date(text: str) -> date | None:
    """2026-07-01, 2026/07/01, 2026/7/1, 2026.7.1 or 2026年7月1日 (a midnight time allowed); None if none."""
    found = _DATE.match(unicodedata.normalize("NFKC", text).strip())
    if not found:
        return None
    try:
        return date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
    except ValueError:
        return None


def parse_int(text: str) -> int | None:
    """12, １２, 12.0, 1,200 or 1 200 as an int; None when it is not a whole number."""
    cleaned = unicodedata.normalize("NFKC", text).strip().replace(",", "").replace(" ", "")
    if re.fullmatch(r"-?\d+(\.0+)?", cleaned):
        return int(cleaned.split(".")[0])
    return None


def _quote(value: str) -> str:
    return value if len(value) <= 40 else value[:37] + "..."


class _Cells:
    """Turns the cells of one column into canonical values, adding a problem per bad cell."""

    def __init__(self, table: Table, vocabulary: Vocabulary) -> None:
        self.table = table
        self.vocabulary = vocabulary
        self.hints = MAX_HINTS  # "did you mean" costs a fuzzy search of every name: the first few only

    def value(self, column: Column, number: int, raw: str) -> Any:
        text = raw.strip() if column.kind != "text" else raw
        if not text.strip():
            if column.required:
                self.table.problem(number, column.name, "required")
            return [] if column.kind in ("skills", "districts") else None
        kind = column.kind
        if kind == "id":
            return self._id(column, number, text.strip())
        if kind == "text":
            return self._text(column, number, text)
        if kind == "choice":
            return self._choice(column, number, text.strip())
        if kind == "skills":
            return self._skills(column, number, text)
        if kind == "districts":
            return self._districts(column, number, text)
        if kind == "date":
            found = parse_date(text)
            if found is None:
                self.table.problem(number, column.name, "bad_date", value=_quote(text.strip()))
            return found
        if kind == "int":
            return self._int(column, number, text)
        raise ValueError(f"unknown column kind {kind!r}")

    def _id(self, column: Column, number: int, text: str) -> str | None:
        text = unicodedata.normalize("NFKC", text)
        if len(text) > ID_MAX_LENGTH or not is_valid_id(text):
            self.table.problem(number, column.name, "bad_id", value=_quote(text))
            return None
        return text

    def _text(self, column: Column, number: int, text: str) -> str | None:
        if _QUOTED_FORMULA.match(text):  # a formula quoted by the bundle export: the text as written
            text = text[1:]
        if column.rule in ("line", "block"):
            try:
                text = vacancy_line(text) if column.rule == "line" else vacancy_text(text).strip()
            except ValueError:
                code = "hidden_chars_line" if column.rule == "line" else "hidden_chars"
                self.table.problem(number, column.name, code)
                return None
        else:
            text = text.strip()
        if column.max_length is not None and len(text) > column.max_length:
            self.table.problem(number, column.name, "too_long", n=len(text), limit=column.max_length)
            return None
        return text

    def _choice(self, column: Column, number: int, text: str) -> str | None:
        found = CHOICE_KEYS[column.choices].get(fold(text))
        if found is not None:
            return found
        words = CHOICES[column.choices]
        labels = CHOICE_LABELS[column.choices]
        shown = " / ".join(f"{labels[v]} {v}" for v in words)
        self.table.problem(number, column.name, "bad_choice", value=_quote(text), choices=shown)
        return None

    def _skills(self, column: Column, number: int, text: str) -> list[str]:
        found: list[str] = []
        for entry in split_list(text):
            skill = self.vocabulary.skills.get(fold(entry))
            if skill is None:
                hint = self.vocabulary.skill_hint(entry) if self.hints > 0 else None
                self.hints -= 1
                if hint:
                    self.table.problem(
                        number, column.name, "unknown_skill_hint", value=_quote(entry), hint=hint
                    )
                else:
                    self.table.problem(number, column.name, "unknown_skill", value=_quote(entry))
                continue
            found.append(skill)
        return list(dict.fromkeys(found))

    def _districts(self, column: Column, number: int, text: str) -> list[str]:
        found: list[str] = []
        limit = column.max_length or 100
        for entry in split_list(text):
            district = self.vocabulary.districts.get(fold(entry), entry)
            if len(district) > limit:
                self.table.problem(number, column.name, "entry_too_long", value=_quote(entry), limit=limit)
                continue
            found.append(district)
        return list(dict.fromkeys(found))

    def _int(self, column: Column, number: int, text: str) -> int | None:
        value = parse_int(text)
        if value is None:
            self.table.problem(number, column.name, "bad_int", value=_quote(text.strip()))
            return None
        low = column.low if column.low is not None else -(2**31)
        high = column.high if column.high is not None else 2**31
        if not low <= value <= high:
            self.table.problem(number, column.name, "int_range", low=low, high=high, value=value)
            return None
        return value


def read_upload(content: bytes, columns: Sequence[Column], vocabulary: Vocabulary) -> Table:
    """Read a whole upload into canonical rows; every problem found is in ``problems`` (nothing raised
    but for a file that cannot be read at all: :class:`UploadInvalid`)."""
    sheet = read_sheet(content)
    table = Table([], {}, [])
    map_header(sheet.header, columns, table)
    if any(p.row == 1 and p.code in ("unknown_column", "duplicate_column") for p in table.problems):
        return table  # the columns are unclear: checking the cells against them would mislead
    width = len(sheet.header)
    while width and not sheet.header[width - 1].strip():
        width -= 1
    cells = _Cells(table, vocabulary)
    seen: dict[str, int] = {}
    key = next((c.name for c in columns if c.kind == "id"), None)
    for number, raw in sheet.rows:
        if not any(cell.strip() for cell in raw):
            continue  # an empty line, as a spreadsheet leaves between blocks
        if any(cell.strip() for cell in raw[width:]):
            table.problems.append(UploadProblem(number, None, "-", "long_row", {"n": width}))
            continue
        values: dict[str, Any] = {}
        for column in columns:
            position = table.positions.get(column.name)
            if position is None:  # a column left out (a missing required one is a problem of the header)
                values[column.name] = [] if column.kind in ("skills", "districts") else None
                continue
            values[column.name] = cells.value(column, number, raw[position] if position < len(raw) else "")
        if key is not None and values.get(key):
            first = seen.setdefault(values[key], number)
            if first != number:
                table.problem(number, key, "duplicate_id", value=values[key], first=first)
        table.rows.append(Row(number, values))
    if not table.rows and not table.problems:
        table.problems.append(UploadProblem(2, None, "-", "no_rows"))
    return table


def letters(positions: Mapping[str, int]) -> dict[str, str]:
    """Each column's Excel letter (for messages and the template)."""
    return {name: column_letter(position) for name, position in positions.items()}


def canonical_csv(columns: Sequence[str], rows: Iterable[tuple[int, Mapping[str, Any]]]) -> bytes:
    """Rows in canonical form (ids, ``;`` lists, ISO dates) as a UTF-8 CSV that :func:`read_upload` reads
    back to the same rows, each on its original row number (blank lines keep the numbering)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    line = 1
    for number, values in sorted(rows, key=lambda r: r[0]):
        while line + 1 < number:
            writer.writerow([])
            line += 1
        cells = []
        for name in columns:
            value = values.get(name)
            if isinstance(value, list | tuple):
                cells.append(";".join(str(v) for v in value))
            elif value is None:
                cells.append("")
            elif isinstance(value, date):
                cells.append(value.isoformat())
            else:
                cells.append(str(value))
        writer.writerow(cells)
        line += 1
    return buffer.getvalue().encode("utf-8")
