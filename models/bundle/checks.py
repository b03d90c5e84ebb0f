"""The bundle's column rules and their vectorised checks.

Every column has a :class:`Field` saying what a cell may hold. :func:`check_entity` checks a
whole file at once with pandas (no Python loop over rows except to split lists), reports each
bad cell as ``file:line: column: message`` and turns the strings into MarketData dtypes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.dtypes import StringDType

from models.bundle.format import LIST_SEPARATOR, OPTIONAL_COLUMNS, QUOTED_FORMULA, ProblemList
from models.columns import (
    EDUCATION_LEVELS,
    EVENTS,
    GRADUATE_STATUSES,
    PROGRAM_KINDS,
    SCHOOL_KINDS,
    SEGMENTS,
    VACANCY_STATUSES,
)
from models.columns import Columns as C
from models.data import ENTITY_COLUMNS
from models.ids import ID_MAX_LENGTH, ID_PATTERN, ID_RULE

ID_LENGTH = ID_MAX_LENGTH
_INTEGER = r"^-?\d+$"
DATE_HINT = "expected an ISO date such as 2026-05-01 or 2026-05-01T09:30:00"


@dataclass(frozen=True)
class Field:
    """What one column's cells may hold.

    kind: ``id`` (this file's key), ``ref`` (another entity's id), ``text``, ``enum``,
    ``ref_list`` (``;``-separated ids), ``text_list``, ``int``, ``date`` (day only) or ``datetime``.
    """

    kind: str
    required: bool = True
    target: str | None = None  # the entity a ref points at
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None


def _id() -> Field:
    return Field("id", max_length=ID_LENGTH)


def _ref(target: str, required: bool = True) -> Field:
    return Field("ref", required=required, target=target, max_length=ID_LENGTH)


SCHEMA: dict[str, dict[str, Field]] = {
    "skills": {
        C.skill: _id(),
        C.name_zh: Field("text", max_length=200),
        C.name_en: Field("text", required=False, max_length=200),
        C.category: Field("text", required=False, max_length=100),
        C.aliases: Field("text_list", required=False, max_length=200),
    },
    "enterprises": {
        C.enterprise: _id(),
        C.name: Field("text", max_length=300),
        C.segment: Field("enum", choices=SEGMENTS),
        C.district: Field("text", required=False, max_length=100),
    },
    "schools": {
        C.school: _id(),
        C.name: Field("text", max_length=300),
        C.kind: Field("enum", choices=SCHOOL_KINDS),
        C.district: Field("text", required=False, max_length=100),
    },
    "programs": {
        C.program: _id(),
        C.school: _ref("schools"),
        C.name: Field("text", max_length=300),
        C.kind: Field("enum", choices=PROGRAM_KINDS),
        C.sponsor: _ref("enterprises", required=False),
        C.cohort_year: Field("int", minimum=1950, maximum=2100),
        C.skills: Field("ref_list", required=False, target="skills"),
    },
    "graduates": {
        C.graduate: _id(),
        C.program: _ref("programs"),
        C.education: Field("enum", choices=EDUCATION_LEVELS),
        C.major: Field("text", required=False, max_length=200),
        C.skills: Field("ref_list", required=False, target="skills"),
        C.preferred_districts: Field("text_list", required=False, max_length=100),
        C.available_from: Field("date", required=False),
        C.status: Field("enum", choices=GRADUATE_STATUSES),
    },
    "vacancies": {
        C.vacancy: _id(),
        C.enterprise: _ref("enterprises"),
        C.title: Field("text", max_length=300),
        C.role: Field("text", required=False, max_length=100),
        C.required_skills: Field("ref_list", required=False, target="skills"),
        C.preferred_skills: Field("ref_list", required=False, target="skills"),
        C.min_education: Field("enum", choices=EDUCATION_LEVELS),
        C.district: Field("text", required=False, max_length=100),
        C.headcount: Field("int", minimum=1, maximum=100_000),
        C.salary_min: Field("int", required=False, minimum=0, maximum=10_000_000),
        C.salary_max: Field("int", required=False, minimum=0, maximum=10_000_000),
        C.posted_at: Field("datetime"),
        C.closes_at: Field("datetime", required=False),
        C.status: Field("enum", choices=VACANCY_STATUSES),
        C.description: Field("text", required=False, max_length=20_000),
    },
    "interactions": {
        C.graduate: _ref("graduates"),
        C.vacancy: _ref("vacancies"),
        C.event: Field("enum", choices=EVENTS),
        C.occurred_at: Field("datetime"),
    },
}
_SINGULAR = {
    "skills": "skill",
    "enterprises": "enterprise",
    "schools": "school",
    "programs": "programme",
    "graduates": "graduate",
    "vacancies": "vacancy",
}


def id_column(entity: str) -> str | None:
    """The column holding ``entity``'s own id (None for interactions)."""
    return next((c for c, f in SCHEMA[entity].items() if f.kind == "id"), None)


def _malformed(values: pd.Series) -> pd.Series:
    """Values that do not match :data:`models.ids.ID_PATTERN` (too long ones excepted: the length check
    reports them)."""
    shaped = values.str.fullmatch(ID_PATTERN.removeprefix("^").removesuffix("$"))
    return ~shaped.fillna(False).astype(bool) & (values.str.len() <= ID_MAX_LENGTH)


def _quote(value: str) -> str:
    return repr(value if len(value) <= 60 else value[:57] + "...")


def _lines(mask: pd.Series) -> pd.Index:
    return mask.index[mask.to_numpy(dtype=bool)]


def _check_header(entity: str, file: str, header: list[str], problems: ProblemList) -> dict[str, int] | None:
    """Map each column name to its position; None when the header is not exactly the contract's."""
    expected = ENTITY_COLUMNS[entity]
    optional = OPTIONAL_COLUMNS.get(entity, frozenset())
    positions: dict[str, int] = {}
    ok = True
    for position, name in enumerate(header):
        if name in positions:
            problems.add(file, 1, name or "-", "the column appears twice in the header")
            ok = False
        elif name not in expected:
            shown = name if name else f"(column {position + 1})"
            problems.add(file, 1, shown, f"unknown column; {file} has the columns {', '.join(expected)}")
            ok = False
        else:
            positions[name] = position
    for name in expected:
        if name not in positions and name not in optional:
            problems.add(file, 1, name, "missing column")
            ok = False
    return positions if ok else None


def _split(values: pd.Series) -> pd.Series:
    """``a; b;;c`` -> ``["a", "b", "c"]`` for every cell."""
    return pd.Series(
        [[p.strip() for p in v.split(LIST_SEPARATOR) if p.strip()] if v else [] for v in values.tolist()],
        index=values.index,
        dtype=object,
    )


def _clean(series: pd.Series, field: Field) -> tuple[pd.Series, np.ndarray]:
    """Undo the export's formula quoting (text) or strip spaces (everything else).

    Returns the cleaned cells as a Series and as a numpy ``StringDType`` array, on which the
    string checks run in C rather than per cell in Python.
    """
    cells = series.to_numpy(dtype=StringDType())
    if field.kind in ("text", "text_list"):
        quoted = np.flatnonzero(np.strings.startswith(cells, "'"))
        for position in quoted:
            if QUOTED_FORMULA.match(str(cells[position])):
                cells[position] = str(cells[position])[1:]
        if len(quoted):
            series = pd.Series(cells.astype(object), index=series.index, dtype=str)
    else:
        cells = np.strings.strip(cells)
        series = pd.Series(cells.astype(object), index=series.index, dtype=str)
    return series, cells


class _FileCheck:
    """The checks of one file; each method checks one column kind and returns its typed values."""

    def __init__(self, file: str, references: dict[str, Any], problems: ProblemList) -> None:
        self.file = file
        self.references = references
        self.problems = problems

    def add(self, mask: pd.Series, column: str, message: Any) -> None:
        lines = _lines(mask)
        if len(lines):
            if callable(message):
                room = max(self.problems.limit - len(self.problems.items), 0)
                messages = [message(line) for line in lines[:room]]
                self.problems.add_rows(self.file, lines, column, messages)
            else:
                self.problems.add_rows(self.file, lines, column, message)

    def common(self, series: pd.Series, cells: np.ndarray, column: str, field: Field) -> pd.Series:
        """Checks every column shares; returns the mask of non-empty cells."""
        present = pd.Series(cells != "", index=series.index)
        if field.required:
            self.add(~present, column, "required; the cell is empty")
        if field.max_length is not None and field.kind not in ("text_list", "ref_list"):
            lengths = pd.Series(np.strings.str_len(cells), index=series.index)
            self.add(
                lengths > field.max_length,
                column,
                lambda line: f"too long ({lengths[line]} characters; at most {field.max_length})",
            )
        return present

    def ids(self, series: pd.Series, column: str, present: pd.Series) -> None:
        self.add(present & _malformed(series), column, f"not a valid id; an id is {ID_RULE}")
        duplicated = present & series.duplicated(keep="first")
        if duplicated.any():
            firsts = series[present & ~duplicated]
            first_line = pd.Series(firsts.index, index=firsts.to_numpy())
            self.add(
                duplicated,
                column,
                lambda line: (
                    f"duplicate id {_quote(series[line])} (first on line {first_line[series[line]]})"
                ),
            )

    def reference(self, values: pd.Series, column: str, target: str) -> None:
        """``values`` is indexed by line; may repeat a line (exploded lists).

        A value that cannot be an id at all is reported as such, whether or not references into
        ``target`` are checked; the others must be among the known ids when they are.
        """
        if not len(values):
            return
        known = self.references.get(target)
        name = _SINGULAR[target]
        # Only the values not found need the pattern test: every known id passed it in its own file.
        suspects = values if known is None else values[~values.isin(known).to_numpy()]
        if not len(suspects):
            return
        malformed = _malformed(suspects).to_numpy()
        self.problems.add_rows(
            self.file, suspects.index[malformed], column, f"not a valid {name} id; an id is {ID_RULE}"
        )
        if known is None:
            return
        unknown = suspects[~malformed]
        self.problems.add_rows(
            self.file,
            unknown.index,
            column,
            [f"unknown {name} {_quote(v)}" for v in unknown.to_numpy()[: self.problems.limit]],
        )

    def enum(self, series: pd.Series, column: str, field: Field, present: pd.Series) -> None:
        bad = present & ~series.isin(field.choices)
        self.add(
            bad,
            column,
            lambda line: f"{_quote(series[line])} is not one of: {', '.join(field.choices)}",
        )

    def lists(self, series: pd.Series, column: str, field: Field) -> pd.Series:
        values = _split(series)
        exploded = values.explode().dropna()
        if field.kind == "ref_list" and field.target is not None:
            self.reference(exploded.astype(str), column, field.target)
        if field.max_length is not None and len(exploded):
            long = exploded.astype(str).str.len() > field.max_length
            self.problems.add_rows(
                self.file,
                exploded.index[long.to_numpy()],
                column,
                f"an entry is longer than {field.max_length}",
            )
        if len(exploded):
            pairs = pd.DataFrame({"line": exploded.index, "value": exploded.to_numpy()})
            twice = pairs.duplicated()
            self.problems.add_rows(
                self.file,
                pairs.loc[twice, "line"],
                column,
                [f"{_quote(str(v))} is listed twice" for v in pairs.loc[twice, "value"]],
            )
        return values

    def integers(self, series: pd.Series, column: str, field: Field, present: pd.Series) -> pd.Series:
        shaped = series.str.match(_INTEGER)
        self.add(present & ~shaped, column, lambda line: f"{_quote(series[line])} is not a whole number")
        numbers = pd.to_numeric(series.where(shaped & present), errors="coerce").astype("float64")
        if field.minimum is not None:
            low = numbers < field.minimum
            message = "must not be negative" if field.minimum == 0 else f"must be at least {field.minimum}"
            self.add(low, column, lambda line: f"{message} (got {series[line]})")
        if field.maximum is not None:
            self.add(
                numbers > field.maximum,
                column,
                lambda line: f"must be at most {field.maximum} (got {series[line]})",
            )
        return numbers

    def times(
        self, series: pd.Series, cells: np.ndarray, column: str, field: Field, present: pd.Series
    ) -> pd.Series:
        # YYYY-MM-DD first; pandas' ISO 8601 parser alone would also take 2026, 2026-5-1 or 20260501.
        shaped = pd.Series(
            (np.strings.str_len(cells) >= 10)
            & (np.strings.find(cells, "-") == 4)
            & (np.strings.find(cells, "-", 5) == 7),
            index=series.index,
        )
        parsed = pd.to_datetime(series.where(shaped & present), format="ISO8601", errors="coerce", utc=True)
        parsed = parsed.dt.tz_localize(None).astype("datetime64[us]")
        bad = present & (~shaped | parsed.isna())
        self.add(bad, column, lambda line: f"{_quote(series[line])} is not a valid date; {DATE_HINT}")
        if field.kind == "date":
            with_time = parsed.notna() & (parsed != parsed.dt.normalize())
            self.add(with_time, column, "must be a day without a time, e.g. 2026-05-01")
        return parsed


def check_entity(
    entity: str,
    file: str,
    header: list[str],
    body: pd.DataFrame,
    *,
    references: dict[str, Any],
    problems: ProblemList,
) -> pd.DataFrame | None:
    """Check one file's rows; return them as MarketData columns, or None if the header is wrong.

    ``body`` holds strings, columns by position, index = spreadsheet line. ``references`` maps
    an entity to the ids a reference may point at; an entity missing from it is not checked.
    """
    positions = _check_header(entity, file, header, problems)
    check = _FileCheck(file, references, problems)
    out: dict[str, pd.Series] = {}
    seen: set[str] = set()
    for position, name in enumerate(header):
        if name not in SCHEMA[entity] or name in seen:
            continue
        seen.add(name)
        field = SCHEMA[entity][name]
        series, cells = _clean(body[position], field)
        present = check.common(series, cells, name, field)
        if field.kind == "id":
            check.ids(series, name, present)
            out[name] = series
        elif field.kind == "ref":
            check.reference(series[present], name, field.target or "")
            out[name] = series
        elif field.kind == "enum":
            check.enum(series, name, field, present)
            out[name] = series
        elif field.kind in ("ref_list", "text_list"):
            out[name] = check.lists(series, name, field)
        elif field.kind == "int":
            out[name] = check.integers(series, name, field, present)
        elif field.kind in ("date", "datetime"):
            out[name] = check.times(series, cells, name, field, present)
        else:
            out[name] = series
    if positions is None:
        return None
    _check_rows(entity, out, check)
    return _typed(entity, out, body.index)


def _check_rows(entity: str, columns: dict[str, pd.Series], check: _FileCheck) -> None:
    """Rules across the columns of one row."""
    if entity == "programs":
        kind, sponsor = columns[C.kind], columns[C.sponsor]
        order_class = kind == "order_class"
        check.add(order_class & (sponsor == ""), C.sponsor, "an order_class needs its sponsor enterprise")
        check.add(
            kind.isin(("training", "degree")) & (sponsor != ""),
            C.sponsor,
            lambda line: f"only an order_class has a sponsor; leave it empty for kind {kind[line]!r}",
        )
    if entity == "vacancies":
        low, high = columns[C.salary_min], columns[C.salary_max]
        check.add(
            (low > high).fillna(False),
            C.salary_min,
            lambda line: f"salary_min {int(low[line])} is above salary_max {int(high[line])}",
        )
        required, preferred = columns[C.required_skills], columns[C.preferred_skills]
        overlap = pd.Series(
            [sorted(set(r) & set(p)) for r, p in zip(required.tolist(), preferred.tolist(), strict=True)],
            index=required.index,
            dtype=object,
        )
        check.add(
            overlap.map(bool),
            C.preferred_skills,
            lambda line: f"{', '.join(overlap[line])} also listed as required; list a skill once",
        )


def _typed(entity: str, columns: dict[str, pd.Series], index: pd.Index) -> pd.DataFrame:
    """The checked columns with MarketData dtypes, index reset."""
    out = {}
    for name in ENTITY_COLUMNS[entity]:
        series = columns.get(name)
        if series is None:  # an optional column left out
            series = pd.Series([[] for _ in range(len(index))], index=index, dtype=object)
        field = SCHEMA[entity][name]
        if field.kind == "int" and field.required and not series.isna().any():
            series = series.astype("int64")
        elif field.kind == "ref" and not field.required:
            series = series.astype(object).where(series != "", None)
        out[name] = series
    return pd.DataFrame(out, index=index).reset_index(drop=True)
