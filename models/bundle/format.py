"""The CSV bundle's contract: its files, columns, limits, and how problems are reported.

A bundle is a folder of UTF-8 CSV files, one per entity (see ``BUNDLE_FILES``), with a header row.
Lists are ``;``-separated; dates are ISO 8601; every id matches :data:`models.ids.ID_PATTERN`.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from models.columns import Columns as C
from models.data import ENTITY_COLUMNS

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
NEEDS_QUOTE = re.compile(r"^'*[=+\-@\t\r]")
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
