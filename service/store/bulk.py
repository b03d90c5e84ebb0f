"""Bulk reads and writes of whole tables: the fast paths under :mod:`service.store.market`.

SQLAlchemy builds a parameter dict and a ``Row`` per row; for a million rows that costs more
than the database's own work. These helpers compile the statement with SQLAlchemy and then hand
plain tuples to the driver (executemany on SQLite, COPY on PostgreSQL with psycopg), producing
exactly the values SQLAlchemy's types would have stored.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, String, Table, bindparam, insert, select, type_coerce, update

from models.columns import Columns as C
from service.store.tables import Base

CHUNK = 20_000
ID_CHUNK = 500  # ids per IN (...) list
DATETIME_COLUMNS = frozenset({C.available_from, C.posted_at, C.closes_at, C.occurred_at, "status_changed_at"})
DATE_ONLY_COLUMNS = frozenset({C.available_from})
NUMBER_COLUMNS = frozenset({C.cohort_year, C.headcount, C.salary_min, C.salary_max, "position"})


def table_of(name: str) -> Table:
    return Base.metadata.tables[name]


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def times(series: pd.Series) -> pd.Series:
    """Naive datetime64[us] from Timestamps, datetimes or ISO strings (as SQLite stores them)."""
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        return pd.to_datetime(series, format="ISO8601").astype("datetime64[us]")
    return pd.to_datetime(series).astype("datetime64[us]")


def selected_columns(table: Table, columns: Sequence[str]) -> list[Any]:
    """``columns`` of ``table`` to select, times as the text the driver returns (parsed in one go later)."""
    return [type_coerce(table.c[c], String) if c in DATETIME_COLUMNS else table.c[c] for c in columns]


def select_frame(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    *,
    key: str | None = None,
    ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Whole columns of a table as a DataFrame of Python objects; only the rows whose ``key`` is one of
    ``ids`` when they are given.

    Times are fetched without SQLAlchemy's per-row conversion and parsed by pandas in one go
    (callers pass them through ``_times``); on SQLite that is most of the cost of a big select.
    """
    selected = selected_columns(table, columns)
    rows: Sequence[Any]
    if ids is not None and key is not None:
        rows = [
            tuple(row)
            for chunk in chunks(list(ids), ID_CHUNK)
            for row in connection.execute(select(*selected).where(table.c[key].in_(chunk)))
        ]
    else:
        sql = str(select(*selected).compile(dialect=connection.dialect))
        cursor = connection.connection.cursor()  # the driver's own: no Row object per row
        try:
            cursor.execute(sql)
            rows = cursor.fetchall()
        finally:
            cursor.close()
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return pd.DataFrame.from_records(rows, columns=list(columns), coerce_float=False)


def python_columns(frame: pd.DataFrame, columns: Sequence[str]) -> list[list[Any]]:
    """Column value lists of Python scalars (None, int, bool, str, date, datetime)."""
    arrays = []
    for column in columns:
        series = frame[column]
        if column in DATE_ONLY_COLUMNS:
            values = [None if v is pd.NaT else v.date() for v in series]
        elif column in DATETIME_COLUMNS:
            values = [None if v is pd.NaT else v for v in series.dt.to_pydatetime()]
        elif column in NUMBER_COLUMNS:
            values = [None if np.isnan(v) else int(v) for v in series.to_numpy(dtype="float64")]
        else:
            values = series.astype(object).where(series.notna(), None).tolist()
        arrays.append(values)
    return arrays


def as_records(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict[str, Any]]:
    """Parameter dicts for executemany."""
    arrays = python_columns(frame, columns)
    return [dict(zip(columns, row, strict=True)) for row in zip(*arrays, strict=True)]


def sqlite_columns(frame: pd.DataFrame) -> list[list[Any]]:
    """Column value lists as SQLAlchemy's SQLite types store them (so ORM writes compare equal)."""
    arrays = []
    for column in frame.columns:
        series = frame[column]
        if column in DATE_ONLY_COLUMNS:
            text = series.dt.strftime("%Y-%m-%d")
        elif column in DATETIME_COLUMNS:
            text = series.dt.strftime("%Y-%m-%d %H:%M:%S.%f")
        elif column in NUMBER_COLUMNS:
            numbers = series.to_numpy(dtype="float64")
            arrays.append([None if np.isnan(v) else int(v) for v in numbers])
            continue
        elif series.dtype == bool:
            arrays.append(series.astype(int).tolist())
            continue
        else:
            arrays.append(series.astype(object).where(series.notna(), None).tolist())
            continue
        arrays.append(text.astype(object).where(series.notna(), None).tolist())
    return arrays


def insert_frame(connection: Connection, table: Table, frame: pd.DataFrame) -> None:
    """Insert every row of ``frame`` (columns named as the table's) with executemany in chunks.

    On SQLite the values are rendered as SQLAlchemy would store them and handed to the driver
    directly: SQLAlchemy's per-row parameter processing costs more than SQLite's own insert.
    """
    if not len(frame):
        return
    columns = list(frame.columns)
    if connection.dialect.name == "sqlite":
        names = ", ".join(columns)
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"
        rows = list(zip(*sqlite_columns(frame), strict=True))
        for chunk in chunks(rows, CHUNK * 5):
            connection.exec_driver_sql(sql, list(chunk))
        return
    driver = connection.connection.driver_connection
    if connection.dialect.name == "postgresql" and driver is not None and has_copy(driver):
        # COPY is PostgreSQL's bulk path: one stream instead of a statement per batch of rows.
        values = zip(*python_columns(frame, columns), strict=True)
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in values:
                copy.write_row(row)
        return
    records = as_records(frame, columns)
    for chunk in chunks(records, CHUNK):
        connection.execute(insert(table), list(chunk))


def has_copy(driver: Any) -> bool:
    """Whether the DBAPI connection is psycopg 3's (whose cursors have ``copy``)."""
    return type(driver).__module__.split(".")[0] == "psycopg"


def update_rows(connection: Connection, table: Table, key: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    values: dict[str, Any] = {column: bindparam(column) for column in rows[0] if column != key}
    statement = update(table).where(table.c[key] == bindparam("_key")).values(values)
    params = [{**row, "_key": row[key]} for row in rows]
    for chunk in chunks(params, CHUNK):
        connection.execute(statement, list(chunk))
