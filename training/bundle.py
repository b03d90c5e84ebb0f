"""The CSV bundle: the data contract between schools, enterprises and talentmatch.

A bundle is a folder of UTF-8 CSV files, one per entity (see ``BUNDLE_FILES``), with a header row.
Lists are ``;``-separated; dates are ISO 8601. :func:`read_bundle` validates a whole bundle
(see :mod:`training.bundle_checks` for the rules) and :func:`write_bundle` writes one,
deterministically.

Cells of text columns that a spreadsheet would run as a formula (they start with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return) are written with a leading ``'``; reading strips one
leading ``'`` in front of such a character again, so export → import is exact.
"""

from __future__ import annotations

import csv
import gc
import io
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.dtypes import StringDType

from models.columns import Columns as C
from models.data import ENTITY_COLUMNS, LIST_COLUMNS, MarketData

BUNDLE_FILES: dict[str, str] = {name: f"{name}.csv" for name in ENTITY_COLUMNS}
# Written in this order so that every reference points at a file written before it.
ENTITY_ORDER = ("skills", "enterprises", "schools", "programs", "graduates", "vacancies", "interactions")
OPTIONAL_COLUMNS: dict[str, frozenset[str]] = {"skills": frozenset({C.aliases})}
LIST_SEPARATOR = ";"
SORT_KEYS: dict[str, list[str]] = {
    "skills": [C.skill],
    "enterprises": [C.enterprise],
    "schools": [C.school],
    "programs": [C.program],
    "graduates": [C.graduate],
    "vacancies": [C.vacancy],
    "interactions": [C.occurred_at, C.graduate, C.vacancy, C.event],
}
# Columns whose cells are never text, so never neutralised.
NON_TEXT_COLUMNS = frozenset(
    {
        C.cohort_year,
        C.headcount,
        C.salary_min,
        C.salary_max,
        C.available_from,
        C.posted_at,
        C.closes_at,
        C.occurred_at,
    }
)
FORMULA_START = "=+-@\t\r"
_NEEDS_QUOTE = re.compile(r"^'*[=+\-@\t\r]")
QUOTED_FORMULA = re.compile(r"^'+[=+\-@\t\r]")
MAX_PROBLEMS = 10_000
SPARE_COLUMNS = 4
# The widest file has 15 columns; a header far wider is noise, refused before parsing it (a 1 MB upload of
# 10^6 empty header cells otherwise takes minutes to parse and check).
MAX_COLUMNS = 100


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a bundle, located as a spreadsheet shows it (header = line 1).

    ``line`` 0 means the file (or folder) as a whole; ``column`` ``-`` means no single column.
    """

    file: str
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.column}: {self.message}"


class BundleError(ValueError):
    """A bundle failed validation; ``problems`` lists what is wrong (up to ``MAX_PROBLEMS``).

    ``total`` counts every problem found, including those not kept.
    """

    def __init__(self, problems: list[Problem], total: int | None = None) -> None:
        self.problems = problems
        self.total = len(problems) if total is None else total
        shown = "; ".join(str(p) for p in problems[:3])
        more = f" (and {self.total - 3} more)" if self.total > 3 else ""
        super().__init__(f"{self.total} problem(s) in the bundle: {shown}{more}")


@dataclass
class KnownIds:
    """Ids that references may point at, e.g. those already in the store.

    A field left as None is not checked (a reference into that entity is accepted as is).
    """

    skills: set[str] | None = None
    programs: set[str] | None = None
    schools: set[str] | None = None
    enterprises: set[str] | None = None
    graduates: set[str] | None = None
    vacancies: set[str] | None = None


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while building millions of small objects.

    Bulk reads and imports create lists and tuples by the million and no reference cycles;
    every few thousand of them the collector would otherwise walk them all again.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def neutralise(text: str) -> str:
    """Prefix ``'`` to a cell a spreadsheet would read as a formula (and to one already so quoted)."""
    return "'" + text if _NEEDS_QUOTE.match(text) else text


def format_cell(value: Any, column: str) -> str:
    """Render one value as the bundle spells it."""
    if column in LIST_COLUMNS:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return ""
        return neutralise(LIST_SEPARATOR.join(str(v) for v in value))
    if value is None or value is pd.NaT:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, pd.Timestamp | datetime):
        ts = pd.Timestamp(value)
        if ts.hour == ts.minute == ts.second == 0 and ts.microsecond == 0 and column == C.available_from:
            return ts.strftime("%Y-%m-%d")
        if ts.microsecond:
            return ts.strftime("%Y-%m-%dT%H:%M:%S.%f")
        return ts.strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if column in NON_TEXT_COLUMNS:
        return str(value)
    return neutralise(str(value))


def _needs_quote(cells: np.ndarray) -> np.ndarray:
    """Mask of cells a spreadsheet would read as a formula (or already quoted such cells)."""
    mask = np.zeros(len(cells), dtype=bool)
    for start in FORMULA_START + "'":
        mask |= np.strings.startswith(cells, start)
    for position in np.flatnonzero(mask):  # few: confirm with the exact rule
        mask[position] = bool(_NEEDS_QUOTE.match(str(cells[position])))
    return mask


def _column_text(series: pd.Series, column: str) -> list[str]:
    """Every cell of one column as :func:`format_cell` renders it, vectorised where it counts."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        text = series.dt.strftime("%Y-%m-%dT%H:%M:%S")
        micro = (series.dt.microsecond != 0).to_numpy(dtype=bool)
        if micro.any():
            text = text.where(~micro, series.dt.strftime("%Y-%m-%dT%H:%M:%S.%f"))
        if column == C.available_from:
            text = text.where(series != series.dt.normalize(), series.dt.strftime("%Y-%m-%d"))
        return text.astype(object).where(series.notna(), "").tolist()
    if pd.api.types.is_integer_dtype(series.dtype) and not isinstance(series.dtype, pd.CategoricalDtype):
        return series.astype(str).tolist()
    if pd.api.types.is_float_dtype(series.dtype):
        return [format_cell(float(v), column) for v in series.to_numpy(dtype="float64")]
    if column in LIST_COLUMNS:
        return [format_cell(v, column) for v in series.tolist()]
    values = series.tolist()
    if not all(type(v) is str for v in values):
        return [format_cell(v, column) for v in values]
    if column in NON_TEXT_COLUMNS:
        return values
    cells = np.array(values, dtype=StringDType())
    for position in np.flatnonzero(_needs_quote(cells)):
        values[position] = "'" + values[position]
    return values


def write_bundle(data: MarketData, directory: str | Path) -> list[Path]:
    """Write ``data`` as a bundle; rows sorted by id so the output is byte-identical for equal data."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for entity in ENTITY_ORDER:
        frame: pd.DataFrame = getattr(data, entity)
        columns = list(ENTITY_COLUMNS[entity])
        frame = frame.sort_values(SORT_KEYS[entity], kind="mergesort") if len(frame) else frame
        texts = [_column_text(frame[column], column) for column in columns]
        path = directory / BUNDLE_FILES[entity]
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(columns)
            writer.writerows(zip(*texts, strict=True))
        written.append(path)
    return written


# --- reading ---------------------------------------------------------------------------------------


class ProblemList:
    """Collects problems; keeps the first ``limit`` and counts the rest."""

    def __init__(self, limit: int = MAX_PROBLEMS) -> None:
        self.limit = limit
        self.items: list[Problem] = []
        self.total = 0

    def add(self, file: str, line: int, column: str, message: str) -> None:
        self.total += 1
        if len(self.items) < self.limit:
            self.items.append(Problem(file, line, column, message))

    def add_rows(self, file: str, lines: Any, column: str, messages: Any) -> None:
        """Add one problem per line; ``messages`` is one string or one per line."""
        lines = list(lines)
        if not lines:
            return
        self.total += len(lines)
        room = self.limit - len(self.items)
        if room <= 0:
            return
        if isinstance(messages, str):
            messages = [messages] * len(lines)
        for line, message in zip(lines[:room], messages, strict=False):
            self.items.append(Problem(file, int(line), column, message))

    def __bool__(self) -> bool:
        return self.total > 0


def _decode(raw: bytes, file: str, problems: ProblemList) -> str | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        problems.add(
            file,
            line,
            "-",
            f"not UTF-8 text (byte 0x{raw[error.start]:02x} at offset {error.start}); save the file as UTF-8",
        )
        return None
    return text.removeprefix("\ufeff")


def read_table(raw: bytes, file: str, problems: ProblemList) -> tuple[list[str], pd.DataFrame] | None:
    """Decode and split one CSV file into its header and a frame of strings.

    The frame's index is the spreadsheet line of each row (the header is line 1); wholly
    empty rows are dropped. Returns None (after adding a problem) when the file cannot be read.
    """
    text = _decode(raw, file, problems)
    if text is None:
        return None
    if not text.strip():
        problems.add(file, 1, "-", "the file is empty; it needs at least the header row")
        return None
    if "\x00" in text:  # no database takes it, and no spreadsheet writes it
        line = text.count("\n", 0, text.index("\x00")) + 1
        problems.add(file, line, "-", "contains a NUL character (is it really a CSV file?)")
        return None
    width = len(next(csv.reader(io.StringIO(text.split("\n", 1)[0]))))
    if width > MAX_COLUMNS:
        problems.add(file, 1, "-", f"the header has {width} columns; at most {MAX_COLUMNS} are read")
        return None
    try:
        # A few spare columns catch rows longer than the header as problems instead of a crash.
        table = pd.read_csv(
            # Bytes, not a StringIO: pandas re-encodes a text buffer chunk by chunk with a growing
            # overflow, which takes minutes on one 50 MB cell.
            io.BytesIO(text.encode("utf-8")),
            encoding="utf-8",
            header=None,
            names=list(range(width + SPARE_COLUMNS)),
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
        )
    except (pd.errors.ParserError, ValueError) as error:
        message = str(error).strip().removeprefix("Error tokenizing data. C error: ")
        match = re.search(r"line (\d+)", message)
        problems.add(file, int(match.group(1)) if match else 0, "-", f"not a valid CSV file: {message}")
        return None
    header = [str(name).strip() for name in table.iloc[0, :width]]
    body = table.iloc[1:]
    body.index = pd.RangeIndex(2, len(table) + 1)
    if len(body):
        spare = body.iloc[:, width:]
        overlong = (spare != "").any(axis=1)
        if overlong.any():
            problems.add_rows(
                file,
                body.index[overlong.to_numpy()],
                "-",
                f"the row has more cells than the header ({width})",
            )
        body = body.iloc[:, :width]
        empty = (body == "").all(axis=1)
        body = body[~empty.to_numpy()]
    else:
        body = body.iloc[:, :width]
    # A column with neither a name nor a value is a spreadsheet's trailing comma, not data.
    keep = [i for i, name in enumerate(header) if name or (body.iloc[:, i] != "").any()]
    if len(keep) < width:
        header = [header[i] for i in keep]
        body = body.iloc[:, keep]
    body.columns = pd.RangeIndex(len(header))
    return header, body


def parse_entity_csv(
    entity: str, source: Path | bytes, *, known: KnownIds | None = None
) -> tuple[pd.DataFrame, list[Problem]]:
    """Validate one entity's CSV file (e.g. a school's graduates upload).

    Parameters
    ----------
    entity
        One of ``BUNDLE_FILES`` (``"graduates"``, ``"vacancies"``, ...).
    source
        A file path or the file's bytes.
    known
        Ids references may point at (usually what the store holds); None checks no references.

    Returns
    -------
    frame, problems
        The rows as MarketData columns and dtypes, and every problem found (empty when valid).
        Use the frame only when there are no problems.
    """
    from training.bundle_checks import check_entity

    if entity not in BUNDLE_FILES:
        raise ValueError(f"unknown entity {entity!r}; expected one of {sorted(BUNDLE_FILES)}")
    file = source.name if isinstance(source, Path) else BUNDLE_FILES[entity]
    problems = ProblemList()
    raw = source.read_bytes() if isinstance(source, Path) else source
    references = _reference_sets(known)
    table = read_table(raw, file, problems)
    frame = None
    if table is not None:
        frame = check_entity(entity, file, *table, references=references, problems=problems)
    if frame is None:
        frame = getattr(MarketData(), entity)
    return frame, problems.items


def _reference_sets(known: KnownIds | None) -> dict[str, Any]:
    if known is None:
        return {}
    return {name: pd.Index(sorted(ids)) for name, ids in vars(known).items() if ids is not None}


def read_bundle(directory: str | Path) -> MarketData:
    """Read and validate a whole bundle; raise :class:`BundleError` listing every problem.

    Files are checked in reference order; a reference into a file that could not be read is
    not checked again (its own problem is reported once). Other files and folders in the
    directory (such as ``ground_truth/``) are ignored.
    """
    with paused_gc():
        return _read_bundle(Path(directory))


def _read_bundle(directory: Path) -> MarketData:
    from training.bundle_checks import check_entity, id_column

    problems = ProblemList()
    if not directory.is_dir():
        problems.add(str(directory), 0, "-", "the bundle folder does not exist")
        raise BundleError(problems.items, problems.total)
    frames: dict[str, pd.DataFrame] = {}
    references: dict[str, Any] = {}
    for entity in ENTITY_ORDER:
        file = BUNDLE_FILES[entity]
        path = directory / file
        if not path.is_file():
            problems.add(file, 0, "-", f"the file is missing from the bundle folder {directory}")
            continue
        if not path.resolve().is_relative_to(directory.resolve()):
            problems.add(file, 0, "-", "is a link to a file outside the bundle folder; copy the file in")
            continue
        table = read_table(path.read_bytes(), file, problems)
        if table is None:
            continue
        frame = check_entity(entity, file, *table, references=references, problems=problems)
        if frame is None:
            continue
        frames[entity] = frame
        key = id_column(entity)
        if key is not None:
            references[entity] = pd.Index(frame[key].unique())
    if problems:
        items = sorted(problems.items, key=lambda p: (_file_rank(p.file), p.line, p.column))
        raise BundleError(items, problems.total)
    return MarketData(**frames)


def _file_rank(file: str) -> int:
    names = [BUNDLE_FILES[e] for e in ENTITY_ORDER]
    return names.index(file) if file in names else -1
