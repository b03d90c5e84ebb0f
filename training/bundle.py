"""The CSV bundle: the data contract between schools, enterprises and talentmatch.

A bundle is a folder of UTF-8 CSV files, one per entity (see ``BUNDLE_FILES``), with a header row.
Lists are ``;``-separated; dates are ISO 8601.
"""

from __future__ import annotations

import csv
import math
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

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


def format_cell(value: Any, column: str) -> str:
    """Render one value as the bundle spells it."""
    if column in LIST_COLUMNS:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return ""
        return LIST_SEPARATOR.join(str(v) for v in value)
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
        return ts.strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def write_bundle(data: MarketData, directory: str | Path) -> list[Path]:
    """Write ``data`` as a bundle; rows sorted by id so the output is byte-identical for equal data."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for entity in ENTITY_ORDER:
        frame: pd.DataFrame = getattr(data, entity)
        columns = list(ENTITY_COLUMNS[entity])
        frame = frame.sort_values(SORT_KEYS[entity], kind="mergesort") if len(frame) else frame
        path = directory / BUNDLE_FILES[entity]
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(columns)
            for row in frame[columns].itertuples(index=False, name=None):
                writer.writerow(
                    [format_cell(value, column) for value, column in zip(row, columns, strict=True)]
                )
        written.append(path)
    return written
