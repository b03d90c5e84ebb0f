"""Writing a bundle, deterministically: rows sorted by id, cells as :func:`format_cell` spells them.

Cells of text columns that a spreadsheet would run as a formula (they start with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return) are written with a leading ``'``; reading strips one
leading ``'`` in front of such a character again, so export → import is exact.
"""

from __future__ import annotations

import csv
import math
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.dtypes import StringDType

from models.bundle.format import (
    BUNDLE_FILES,
    ENTITY_ORDER,
    FORMULA_START,
    LIST_SEPARATOR,
    NEEDS_QUOTE,
    NON_TEXT_COLUMNS,
    SORT_KEYS,
)
from models.columns import Columns as C
from models.data import ENTITY_COLUMNS, LIST_COLUMNS, MarketData


def neutralise(text: str) -> str:
    """Prefix ``'`` to a cell a spreadsheet would read as a formula (and to one already so quoted)."""
    return "'" + text if NEEDS_QUOTE.match(text) else text


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
        mask[position] = bool(NEEDS_QUOTE.match(str(cells[position])))
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
