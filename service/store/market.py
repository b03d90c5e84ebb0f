"""The whole talent market in and out of the store, in bulk.

``import_market`` upserts a :class:`~models.data.MarketData` (from a CSV bundle or the demo
generator) by id; ``load_market`` reads the store back as a ``MarketData`` for training and
serving. Both use Core statements on whole tables and diff in pandas, so a million
interactions take seconds, not an ORM object each.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, delete, select
from sqlalchemy.orm import Session

from models.bundle import paused_gc, write_bundle
from models.columns import Columns as C
from models.data import ENTITY_COLUMNS, MarketData
from service.store.bulk import (
    DATE_ONLY_COLUMNS,
    DATETIME_COLUMNS,
    NUMBER_COLUMNS,
    as_records,
    chunks,
    insert_frame,
    select_frame,
    selected_columns,
    table_of,
    times,
    update_rows,
)
from service.store.changes import record_changes

REBUILD_INDEXES_AT = 50_000
SQLITE_CACHE_KIB = 200_000
DELETE_CHUNK = 500

ENTITIES = ("skills", "enterprises", "schools", "programs", "graduates", "vacancies", "interactions")
ID_COLUMN = {
    "skills": C.skill,
    "enterprises": C.enterprise,
    "schools": C.school,
    "programs": C.program,
    "graduates": C.graduate,
    "vacancies": C.vacancy,
}
# Columns kept in the entity's own table (the rest are lists in association tables).
SCALAR_COLUMNS: dict[str, tuple[str, ...]] = {
    "skills": (C.skill, C.name_zh, C.name_en, C.category, C.aliases),
    "enterprises": (C.enterprise, C.name, C.segment, C.district),
    "schools": (C.school, C.name, C.kind, C.district),
    "programs": (C.program, C.school, C.name, C.kind, C.sponsor, C.cohort_year),
    "graduates": (C.graduate, C.program, C.education, C.major, C.available_from, C.status),
    "vacancies": (
        C.vacancy,
        C.enterprise,
        C.title,
        C.role,
        C.min_education,
        C.district,
        C.headcount,
        C.salary_min,
        C.salary_max,
        C.posted_at,
        C.closes_at,
        C.status,
        C.description,
    ),
}
# Text columns the store keeps NOT NULL: a missing value is stored as "".
NOT_NULL_TEXT = frozenset({C.name_en, C.category, C.aliases, C.major, C.description, C.district, C.role})


@dataclass(frozen=True)
class ListColumn:
    """One list column of an entity and the association table that holds it."""

    table: str
    value: str  # the table's column holding a list element
    required: bool | None = None  # vacancy_skills: which of the two lists


LIST_TABLES: dict[str, dict[str, ListColumn]] = {
    "programs": {C.skills: ListColumn("program_skills", C.skill)},
    "graduates": {
        C.skills: ListColumn("graduate_skills", C.skill),
        C.preferred_districts: ListColumn("graduate_districts", C.district),
    },
    "vacancies": {
        C.required_skills: ListColumn("vacancy_skills", C.skill, required=True),
        C.preferred_skills: ListColumn("vacancy_skills", C.skill, required=False),
    },
}
_LIST_SEP = "\x1f"  # joins a list into one comparable string; never inside an id


@dataclass
class ImportReport:
    """What an import did, per entity."""

    added: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ENTITIES, 0))
    updated: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ENTITIES, 0))
    unchanged: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ENTITIES, 0))

    @property
    def changed(self) -> bool:
        return any(self.added.values()) or any(self.updated.values())

    def lines(self) -> list[str]:
        """One human-readable line per entity, e.g. ``graduates: 12 added, 0 updated, 3 unchanged``."""
        return [
            f"{entity}: {self.added[entity]} added, {self.updated[entity]} updated, "
            f"{self.unchanged[entity]} unchanged"
            for entity in ENTITIES
        ]

    def to_dict(self) -> dict[str, dict[str, int]]:
        return {
            entity: {
                "added": self.added[entity],
                "updated": self.updated[entity],
                "unchanged": self.unchanged[entity],
            }
            for entity in ENTITIES
        }


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# --- canonical forms, shared by both sides of a diff ---------------------------------------------


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NaT:
        return True
    return isinstance(value, float) and np.isnan(value)


def _text(series: pd.Series) -> pd.Series:
    """Object series of str, with missing as None."""
    values = series.astype(object).to_numpy()
    return pd.Series([None if _is_missing(v) else str(v) for v in values], index=series.index, dtype=object)


def _joined(values: Iterable[Any]) -> list[str]:
    """Each list as one string (for comparing lists without Python list equality per row)."""
    return [
        _LIST_SEP.join(str(v) for v in value) if isinstance(value, list | tuple | np.ndarray) else ""
        for value in values
    ]


def _canonical(entity: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The scalar columns of ``frame`` in one comparable form, indexed by id."""
    out = {}
    for column in SCALAR_COLUMNS[entity]:
        series = frame[column]
        if column in DATETIME_COLUMNS:
            out[column] = times(series)
            if column in DATE_ONLY_COLUMNS:
                out[column] = out[column].dt.normalize()
        elif column in NUMBER_COLUMNS:
            out[column] = pd.to_numeric(series, errors="raise").astype("float64")
        elif column == C.aliases:
            out[column] = pd.Series(
                [";".join(v) if isinstance(v, list | tuple | np.ndarray) else v for v in series],
                index=series.index,
                dtype=object,
            )
            out[column] = _text(out[column])
        else:
            out[column] = _text(series)
        if column in NOT_NULL_TEXT:
            out[column] = out[column].where(out[column].notna(), "")
        if column == C.sponsor:
            out[column] = out[column].where(out[column] != "", None)
    canonical = pd.DataFrame(out, index=frame.index)
    return canonical.set_index(ID_COLUMN[entity], drop=False)


def _equal_rows(a: pd.DataFrame, b: pd.DataFrame) -> np.ndarray:
    """Row-wise equality of two aligned frames, treating missing == missing."""
    equal = np.ones(len(a), dtype=bool)
    for column in a.columns:
        left, right = a[column], b[column]
        same = (left == right).fillna(False).to_numpy(dtype=bool)
        both_missing = left.isna().to_numpy() & right.isna().to_numpy()
        equal &= same | both_missing
    return equal


# --- reading the store -----------------------------------------------------------------------------


def _list_tables(entity: str) -> dict[str, list[tuple[str, ListColumn]]]:
    """``entity``'s list columns by the association table holding them (vacancy_skills holds two)."""
    by_table: dict[str, list[tuple[str, ListColumn]]] = {}
    for column, spec in LIST_TABLES.get(entity, {}).items():
        by_table.setdefault(spec.table, []).append((column, spec))
    return by_table


def _load_lists(
    connection: Connection, entity: str, ids: Sequence[str] | None = None
) -> dict[str, dict[str, list[str]]]:
    """Each list column of ``entity`` as ``{id: [values in stored order]}`` (of ``ids`` only, when given)."""
    id_column = ID_COLUMN[entity]
    lists: dict[str, dict[str, list[str]]] = {}
    for table_name, specs in _list_tables(entity).items():
        table = table_of(table_name)
        value = specs[0][1].value
        columns = [id_column, value, "position"] + (["required"] if specs[0][1].required is not None else [])
        rows = select_frame(connection, table, columns, key=id_column, ids=ids)
        for column, spec in specs:
            part = rows if spec.required is None else rows[rows["required"].astype(bool) == spec.required]
            lists[column] = _group_lists(part, id_column, value)
    return lists


def _group_lists(rows: pd.DataFrame, key: str, value: str) -> dict[str, list[str]]:
    """``{key: [value, ...]}`` ordered by position; slices of one sorted array, not a groupby."""
    if not len(rows):
        return {}
    rows = rows.sort_values([key, "position"], kind="mergesort")
    keys = rows[key].to_numpy(dtype=object)
    values = rows[value].to_numpy(dtype=object).tolist()
    cuts = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    starts = [0, *cuts.tolist()]
    ends = [*cuts.tolist(), len(keys)]
    with paused_gc():
        return {keys[start]: values[start:end] for start, end in zip(starts, ends, strict=True)}


def _store_lists(lists: dict[str, dict[str, list[str]]], column: str, ids: pd.Index) -> list[list[str]]:
    mapping = lists[column]
    with paused_gc():
        return [list(mapping.get(i, ())) for i in ids.tolist()]


def load_market(
    *, session: Session, seeking_only: bool = False, with_interactions: bool = True
) -> MarketData:
    """The store as a :class:`MarketData`.

    Parameters
    ----------
    session
        An open session; only reads.
    seeking_only
        Keep only graduates whose status is ``seeking`` (the candidate pool). Interactions of
        other graduates are kept: they are history, not candidates.
    with_interactions
        Leave the interactions frame empty when False (the service's candidate index does not
        need them).

    Returns
    -------
    MarketData
        List columns rebuilt from the association tables in their stored order; times naive UTC;
        ``salary_min``/``salary_max`` float with NaN when empty; a missing sponsor is None.
    """
    connection = session.connection()
    frames = {
        entity: _load_entity(connection, entity, seeking_only=seeking_only and entity == "graduates")
        for entity in ENTITIES[:-1]
    }
    if with_interactions:
        table = table_of("interactions")
        inter = select_frame(connection, table, list(ENTITY_COLUMNS["interactions"]))
        frames["interactions"] = _typed("interactions", inter)
    else:
        frames["interactions"] = MarketData().interactions
    return MarketData(**frames)


def load_pool_rows(
    *, session: Session, graduate_ids: Sequence[str], vacancy_ids: Sequence[str]
) -> MarketData:
    """The candidate pool's rows of some graduates and vacancies, as :func:`load_market` with
    ``seeking_only`` reads them: the seeking graduates among ``graduate_ids`` and the vacancies among
    ``vacancy_ids``, in id order (the other frames are empty). An id not returned is not in the pool:
    gone from the store, or a graduate no longer seeking. A few indexed selects, whatever the store's size.
    """
    connection = session.connection()
    data = MarketData()
    load = _load_few if len(graduate_ids) + len(vacancy_ids) <= FEW_IDS else _load_entity
    if graduate_ids:
        data.graduates = load(connection, "graduates", ids=graduate_ids, seeking_only=True)
    if vacancy_ids:
        data.vacancies = load(connection, "vacancies", ids=vacancy_ids)
    return data


# Up to this many ids :func:`load_pool_rows` reads in plain Python (:func:`_load_few`): for a row or two,
# pandas' fixed cost per column and per call was most of a write's update of the serving index (6 ms for a
# vacancy).
FEW_IDS = 64


def _load_few(
    connection: Connection, entity: str, *, ids: Sequence[str], seeking_only: bool = False
) -> pd.DataFrame:
    """:func:`_load_entity` of a few ids of ``graduates`` or ``vacancies``: one select per table, rows and
    lists gathered in Python, one frame built; the same frame, dtypes included (a test compares them)."""
    id_column = ID_COLUMN[entity]
    names = list(SCALAR_COLUMNS[entity])
    table = table_of(entity)
    wanted = sorted({str(i) for i in ids})
    statement = select(*selected_columns(table, names)).where(table.c[id_column].in_(wanted))
    rows = [tuple(row) for row in connection.execute(statement)]
    if seeking_only:
        status = names.index(C.status)
        rows = [row for row in rows if row[status] == "seeking"]
    if not rows:  # a graduate placed or withdrawn, an id gone: the empty frame, without reading it again
        return _empty_frame(connection, entity)
    rows.sort(key=lambda row: row[0])  # the id is every entity's first column
    values: dict[str, list[Any]] = {name: [row[i] for row in rows] for i, name in enumerate(names)}
    values.update(_few_lists(connection, entity, values[id_column]))
    out: dict[str, Any] = {}
    text: list[str] = []
    for column in ENTITY_COLUMNS[entity]:
        column_values = values[column]
        if column in DATETIME_COLUMNS:
            out[column] = times(pd.Series(column_values, dtype=object))
        elif column in (C.salary_min, C.salary_max):
            out[column] = np.array([np.nan if v is None else v for v in column_values], dtype=np.float64)
        elif column in (C.headcount, C.cohort_year):
            out[column] = np.array(column_values, dtype=np.int64)
        elif column == C.sponsor:
            out[column] = _objects([None if _is_missing(v) else str(v) for v in column_values])
        elif column in LIST_TABLES.get(entity, {}):
            out[column] = _objects(column_values)
        else:
            text.append(column)
            out[column] = None  # keeps the column order
    as_text = pd.DataFrame({c: _objects(values[c]) for c in text}).astype(str)
    for column in text:
        out[column] = as_text[column]
    return pd.DataFrame(out)


# Per (database dialect, entity): the empty frame :func:`_load_entity` reads, columns and dtypes. A write
# that takes a graduate out of the pool (a hire) reads none of their row back; building that frame from an
# empty select was ~3 ms of the write's update at any scale.
_EMPTY_FRAMES: dict[tuple[str, str], pd.DataFrame] = {}


def _empty_frame(connection: Connection, entity: str) -> pd.DataFrame:
    key = (connection.dialect.name, entity)
    frame = _EMPTY_FRAMES.get(key)
    if frame is None:
        frame = _EMPTY_FRAMES[key] = _load_entity(connection, entity, ids=[])
    return frame.copy()


def _objects(values: list[Any]) -> np.ndarray:
    """An object array holding ``values`` as they are (lists stay lists, not a second dimension)."""
    array = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        array[i] = value
    return array


def _few_lists(connection: Connection, entity: str, ids: list[str]) -> dict[str, list[list[str]]]:
    """:func:`_load_lists` for a few ids: each list column as one list per id of ``ids``, in stored order."""
    id_column = ID_COLUMN[entity]
    out: dict[str, list[list[str]]] = {}
    for table_name, specs in _list_tables(entity).items():
        table = table_of(table_name)
        with_required = specs[0][1].required is not None
        columns = [table.c[id_column], table.c[specs[0][1].value], table.c["position"]]
        columns += [table.c["required"]] if with_required else []
        fetched = [
            tuple(row) for row in connection.execute(select(*columns).where(table.c[id_column].in_(ids)))
        ]
        fetched.sort(key=lambda row: (row[0], row[2]))
        for column, spec in specs:
            grouped: dict[str, list[str]] = {}
            for row in fetched:
                if spec.required is None or bool(row[3]) == spec.required:
                    grouped.setdefault(row[0], []).append(row[1])
            out[column] = [list(grouped.get(i, ())) for i in ids]
    return out


def _load_entity(
    connection: Connection, entity: str, *, ids: Sequence[str] | None = None, seeking_only: bool = False
) -> pd.DataFrame:
    """One entity's frame with its lists, in id order: the whole table, or the rows of ``ids``."""
    id_column = ID_COLUMN[entity]
    ids = None if ids is None else sorted(set(ids))
    scalar = select_frame(connection, table_of(entity), list(SCALAR_COLUMNS[entity]), key=id_column, ids=ids)
    if seeking_only:
        scalar = scalar[scalar[C.status] == "seeking"]
    scalar = scalar.sort_values(id_column, kind="mergesort").reset_index(drop=True)
    lists = _load_lists(connection, entity, None if ids is None else scalar[id_column].tolist())
    for column in LIST_TABLES.get(entity, {}):
        scalar[column] = _store_lists(lists, column, pd.Index(scalar[id_column]))
    if entity == "skills":
        scalar[C.aliases] = [[a for a in (v or "").split(";") if a] for v in scalar[C.aliases].astype(object)]
    return _typed(entity, scalar)


def _typed(entity: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Give a frame read from the store the MarketData dtypes and column order."""
    out: dict[str, pd.Series] = {}
    for column in ENTITY_COLUMNS[entity]:
        series = frame[column]
        if column in DATETIME_COLUMNS:
            out[column] = times(series)
        elif column in (C.salary_min, C.salary_max):
            out[column] = pd.to_numeric(series).astype("float64")
        elif column in (C.headcount, C.cohort_year):
            out[column] = pd.to_numeric(series).astype("int64")
        elif column == C.sponsor:
            out[column] = _text(series)
        elif series.dtype == object and len(series) and isinstance(series.iloc[0], list):
            out[column] = series
        elif column in (C.aliases, C.skills, C.preferred_districts, C.required_skills, C.preferred_skills):
            out[column] = series.astype(object)
        else:
            out[column] = series.astype(str) if len(series) else series.astype(object)
    # One frame from all the columns: adding them one by one costs ~0.3 ms each in pandas 3.
    return pd.DataFrame(out, index=frame.index).reset_index(drop=True)


# --- writing the store -----------------------------------------------------------------------------


def _replace_lists(
    connection: Connection, entity: str, frame: pd.DataFrame, ids: Sequence[str], replace: bool
) -> None:
    """Write the association rows of ``ids``, deleting the old ones first when ``replace``."""
    id_column = ID_COLUMN[entity]
    by_table: dict[str, list[tuple[str, ListColumn]]] = {}
    for column, spec in LIST_TABLES.get(entity, {}).items():
        by_table.setdefault(spec.table, []).append((column, spec))
    if not ids:
        return
    subset = frame.loc[list(ids)]
    for table_name, specs in by_table.items():
        table = table_of(table_name)
        if replace:
            for chunk in chunks(list(ids), DELETE_CHUNK):
                connection.execute(delete(table).where(table.c[id_column].in_(chunk)))
        parts = []
        for column, spec in specs:
            lists = subset[column].map(lambda v: list(v) if isinstance(v, list | tuple | np.ndarray) else [])
            exploded = lists.explode().dropna()
            part = pd.DataFrame(
                {
                    id_column: exploded.index.to_numpy(dtype=object),
                    spec.value: exploded.to_numpy(dtype=object),
                    "position": exploded.groupby(level=0, sort=False).cumcount().to_numpy(dtype="float64"),
                }
            )
            if spec.required is not None:
                part["required"] = spec.required
            parts.append(part)
        insert_frame(connection, table, pd.concat(parts, ignore_index=True))


def _import_entity(
    connection: Connection, entity: str, frame: pd.DataFrame, report: ImportReport
) -> list[str]:
    """Upsert one entity's rows; returns the ids added or updated."""
    id_column = ID_COLUMN[entity]
    table = table_of(entity)
    if len(frame) == 0:
        return []
    frame = frame.drop_duplicates(id_column, keep="last")
    incoming = _canonical(entity, frame)
    frame = frame.set_index(id_column, drop=False)
    list_columns = list(LIST_TABLES.get(entity, {}))
    incoming_lists = {column: pd.Series(_joined(frame[column]), index=frame.index) for column in list_columns}

    existing_rows = select_frame(connection, table, SCALAR_COLUMNS[entity])
    existing = _canonical(entity, existing_rows) if len(existing_rows) else incoming.iloc[0:0]
    known = incoming.index.isin(existing.index)
    new_ids = incoming.index[~known]
    old_ids = incoming.index[known]

    scalar_changed = pd.Index([])
    lists_changed = pd.Index([])
    if len(old_ids):
        before = existing.loc[old_ids]
        after = incoming.loc[old_ids]
        scalar_changed = old_ids[~_equal_rows(after, before)]
        if list_columns:
            stored = _load_lists(connection, entity)
            differs = np.zeros(len(old_ids), dtype=bool)
            for column in list_columns:
                stored_joined = pd.Series(
                    _joined(_store_lists(stored, column, old_ids)), index=old_ids, dtype=object
                )
                differs |= (stored_joined != incoming_lists[column].loc[old_ids]).to_numpy()
            lists_changed = old_ids[differs]

    now = _utcnow()
    columns = list(SCALAR_COLUMNS[entity])
    new_rows = incoming.loc[new_ids, columns].reset_index(drop=True)
    if entity == "graduates":
        new_rows["status_changed_at"] = pd.Series(now, index=new_rows.index, dtype="datetime64[us]")
    insert_frame(connection, table, new_rows)
    _replace_lists(connection, entity, frame, list(new_ids), replace=False)

    if len(scalar_changed):
        rows = as_records(incoming.loc[scalar_changed], columns)
        if entity == "graduates":
            status_moved = (
                incoming.loc[scalar_changed, C.status] != existing.loc[scalar_changed, C.status]
            ).to_numpy()
            rows_moved = [r for r, moved in zip(rows, status_moved, strict=True) if moved]
            rows_kept = [r for r, moved in zip(rows, status_moved, strict=True) if not moved]
            for row in rows_moved:
                row["status_changed_at"] = now
            update_rows(connection, table, id_column, rows_moved)
            update_rows(connection, table, id_column, rows_kept)
        else:
            update_rows(connection, table, id_column, rows)
    _replace_lists(connection, entity, frame, list(lists_changed), replace=True)

    updated = scalar_changed.union(lists_changed)
    report.added[entity] = len(new_ids)
    report.updated[entity] = len(updated)
    report.unchanged[entity] = len(incoming) - len(new_ids) - len(updated)
    return [str(i) for i in new_ids.union(updated)]


def _import_interactions(connection: Connection, frame: pd.DataFrame, report: ImportReport) -> bool:
    columns = list(ENTITY_COLUMNS["interactions"])
    if len(frame) == 0:
        return False
    incoming = pd.DataFrame(
        {
            C.graduate: frame[C.graduate].astype(str).to_numpy(),
            C.vacancy: frame[C.vacancy].astype(str).to_numpy(),
            C.event: frame[C.event].astype(str).to_numpy(),
            C.occurred_at: times(frame[C.occurred_at]).to_numpy(),
        }
    ).drop_duplicates()
    table = table_of("interactions")
    existing = select_frame(connection, table, columns)
    if len(existing):
        existing = pd.DataFrame(
            {
                C.graduate: existing[C.graduate].astype(str).to_numpy(),
                C.vacancy: existing[C.vacancy].astype(str).to_numpy(),
                C.event: existing[C.event].astype(str).to_numpy(),
                C.occurred_at: times(existing[C.occurred_at]).to_numpy(),
            }
        )
        merged = incoming.merge(existing.drop_duplicates(), on=columns, how="left", indicator=True)
        new = merged.loc[merged["_merge"] == "left_only", columns]
    else:
        new = incoming
    rebuild = (
        connection.dialect.name == "sqlite" and len(new) >= REBUILD_INDEXES_AT and len(new) >= len(existing)
    )
    if rebuild:
        # Building an index once over sorted data beats updating it row by row; SQLite readers
        # keep their snapshot (WAL), so nobody sees the table without its indexes. Python's sqlite3
        # opens a transaction only before DML, and DDL outside one would commit at once, so a
        # no-op UPDATE first puts the DROP INDEX inside the import's transaction.
        connection.exec_driver_sql("UPDATE data_version SET counter = counter WHERE id = -1")
        for index in table.indexes:
            index.drop(bind=connection)
    # In key order, the unique index grows at its end instead of all over its pages.
    new = new.sort_values(columns, kind="mergesort")
    insert_frame(connection, table, new.reset_index(drop=True))
    if rebuild:
        for index in table.indexes:
            index.create(bind=connection)
    report.added["interactions"] = len(new)
    report.unchanged["interactions"] = len(incoming) - len(new)
    return bool(len(new))


def import_market(*, session: Session, data: MarketData) -> ImportReport:
    """Upsert ``data`` into the store inside the caller's transaction.

    Every entity is matched by id: new ids are inserted, rows whose values differ are updated,
    and a changed list (a graduate's skills, a vacancy's required skills, ...) replaces the stored
    list. Interactions are unique on all four columns; the ones already stored are skipped.
    Nothing is deleted. What changed is logged for the service's candidate index
    (:func:`~service.store.changes.record_changes`). The caller validates ``data`` first
    (``models.bundle.read_bundle``).

    Returns
    -------
    ImportReport
        Added, updated and unchanged counts per entity. The data version is bumped when anything
        changed.
    """
    with paused_gc():
        return _import_market(session, data)


def _import_market(session: Session, data: MarketData) -> ImportReport:
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        # The default 2 MB page cache makes every index insert of a big import hit the disk.
        connection.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    report = ImportReport()
    changed = {
        entity: _import_entity(connection, entity, getattr(data, entity), report) for entity in ENTITIES[:-1]
    }
    history = _import_interactions(connection, data.interactions, report)
    if any(changed.values()) or history:
        # The candidate pool joins graduates and vacancies with skills, schools, programmes and enterprises:
        # a change to those cannot be followed row by row, and the service rebuilds its index.
        reference = any(changed[e] for e in ("skills", "enterprises", "schools", "programs"))
        record_changes(
            session=session,
            graduates=changed["graduates"],
            vacancies=changed["vacancies"],
            everything=reference,
        )
    return report


def export_market(*, session: Session, directory: str | Path) -> list[Path]:
    """Write the store as a CSV bundle (see :func:`models.bundle.write_bundle`)."""
    return write_bundle(load_market(session=session), directory)
