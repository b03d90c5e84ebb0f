"""import_market / load_market on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select

from models.columns import Columns as C
from service.store import market
from service.store.market import ENTITIES, import_market, load_market
from service.store.session import data_version, transaction
from service.store.tables import Base
from tests.bundles import tiny_market

TABLES = (
    "skills",
    "enterprises",
    "schools",
    "programs",
    "program_skills",
    "graduates",
    "graduate_skills",
    "graduate_districts",
    "vacancies",
    "vacancy_skills",
    "interactions",
)


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            name: connection.execute(
                select(func.count()).select_from(Base.metadata.tables[name])
            ).scalar_one()
            for name in TABLES
        }


def test_import_adds_everything_then_nothing(engine: Engine) -> None:
    data = tiny_market()
    with transaction(engine) as session:
        first = import_market(session=session, data=data)
    assert first.added == data.counts()
    with transaction(engine) as session:
        version = data_version(session)
        second = import_market(session=session, data=data)
        assert data_version(session) == version
    assert not second.changed
    assert second.unchanged == data.counts()
    assert row_counts(engine)["interactions"] == 30


def test_load_returns_what_was_imported(engine: Engine) -> None:
    data = tiny_market()
    with transaction(engine) as session:
        import_market(session=session, data=data)
    with transaction(engine) as session:
        loaded = load_market(session=session)
    for entity in ENTITIES:
        expected = getattr(data, entity)
        got = getattr(loaded, entity)
        assert list(got.columns) == list(expected.columns)
        keys = list(got.columns[:1]) if entity != "interactions" else list(got.columns)
        left = expected.sort_values(keys).reset_index(drop=True).astype(object)
        right = got.sort_values(keys).reset_index(drop=True).astype(object)
        pd.testing.assert_frame_equal(left, right, check_dtype=False)


def test_update_replaces_lists_and_bumps_version(engine: Engine) -> None:
    data = tiny_market()
    with transaction(engine) as session:
        import_market(session=session, data=data)
        version = data_version(session)
    data.graduates.at[0, C.skills] = ["spc", "etching"]
    data.graduates.at[0, C.preferred_districts] = []
    data.vacancies.at[0, C.preferred_skills] = []
    data.vacancies.at[1, C.salary_max] = 9000.0
    data.programs.at[0, C.skills] = ["spc"]
    with transaction(engine) as session:
        report = import_market(session=session, data=data)
        assert data_version(session) == version + 1
    assert report.updated["graduates"] == 1
    assert report.updated["vacancies"] == 2
    assert report.updated["programs"] == 1
    with transaction(engine) as session:
        loaded = load_market(session=session)
    graduate = loaded.graduates.set_index(C.graduate).loc["G01"]
    assert graduate[C.skills] == ["spc", "etching"]
    assert graduate[C.preferred_districts] == []
    vacancies = loaded.vacancies.set_index(C.vacancy)
    assert vacancies.loc["V1", C.preferred_skills] == []
    assert vacancies.loc["V1", C.required_skills] == ["lithography"]
    assert vacancies.loc["V2", C.salary_max] == 9000.0


def test_seeking_only_and_without_interactions(engine: Engine) -> None:
    with transaction(engine) as session:
        import_market(session=session, data=tiny_market())
    with transaction(engine) as session:
        loaded = load_market(session=session, seeking_only=True, with_interactions=False)
    assert set(loaded.graduates[C.status]) == {"seeking"}
    assert len(loaded.graduates) == 9
    assert len(loaded.interactions) == 0


def test_duplicate_interactions_in_data_are_added_once(engine: Engine) -> None:
    data = tiny_market()
    data.interactions = pd.concat([data.interactions, data.interactions.iloc[:3]], ignore_index=True)
    with transaction(engine) as session:
        report = import_market(session=session, data=data)
    assert report.added["interactions"] == 30
    assert row_counts(engine)["interactions"] == 30


def index_names(engine: Engine) -> set[str]:
    from sqlalchemy import inspect

    return {index["name"] for index in inspect(engine).get_indexes("interactions")}


def test_failed_import_with_index_rebuild_keeps_store_and_indexes(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SQLite bulk path drops and rebuilds indexes; a failure must roll that back too."""
    data = tiny_market()
    first = replace(data, interactions=data.interactions.iloc[:10])
    with transaction(engine) as session:
        import_market(session=session, data=first)
    before, indexes = row_counts(engine), index_names(engine)
    monkeypatch.setattr(market, "REBUILD_INDEXES_AT", 1)
    real_insert = market.insert_frame

    def failing_insert(connection, table, frame):  # type: ignore[no-untyped-def]
        real_insert(connection, table, frame)
        if table.name == "interactions":
            raise RuntimeError("disk full")

    monkeypatch.setattr(market, "insert_frame", failing_insert)
    with pytest.raises(RuntimeError), transaction(engine) as session:
        import_market(session=session, data=data)
    assert row_counts(engine) == before
    assert index_names(engine) == indexes

    monkeypatch.setattr(market, "insert_frame", real_insert)
    with transaction(engine) as session:
        report = import_market(session=session, data=data)
    assert report.added["interactions"] == 20
    assert index_names(engine) == indexes


def test_a_few_pool_rows_read_in_python_equal_the_pandas_read(engine: Engine) -> None:
    """``load_pool_rows`` of a few ids (``market._load_few``, what a write's index update reads) gives the
    frame of the general read, dtypes and missing values included, on both databases."""
    data = tiny_market()
    graduates = data.graduates.copy()
    graduates.loc[0, C.preferred_districts] = []  # an empty list
    vacancies = data.vacancies.copy()
    vacancies.loc[0, C.preferred_skills] = []
    with transaction(engine) as session:
        import_market(session=session, data=replace(data, graduates=graduates, vacancies=vacancies))
    graduate_ids = sorted(graduates[C.graduate])
    vacancy_ids = sorted(vacancies[C.vacancy])
    subsets = [
        ([graduate_ids[0]], [vacancy_ids[0]]),
        (graduate_ids, vacancy_ids),  # every graduate: placed and withdrawn ones are left out of the pool
        ([graduate_ids[-1], graduate_ids[1], "G-missing"], [vacancy_ids[-1], "V-missing", vacancy_ids[1]]),
        (["G-missing"], ["V-missing"]),
    ]
    with transaction(engine) as session:
        connection = session.connection()
        for g_ids, v_ids in subsets:
            for entity, ids, seeking in (("graduates", g_ids, True), ("vacancies", v_ids, False)):
                general = market._load_entity(connection, entity, ids=ids, seeking_only=seeking)
                few = market._load_few(connection, entity, ids=ids, seeking_only=seeking)
                pd.testing.assert_frame_equal(few, general, check_exact=True)
        # No row (a graduate placed, an id gone): the empty frame is kept, and a caller's change to it
        # stays with that caller.
        empty = market._load_few(connection, "graduates", ids=["G-missing"], seeking_only=True)
        empty["changed"] = 1
        again = market._load_few(connection, "graduates", ids=["G-missing"], seeking_only=True)
        assert "changed" not in again and again.empty
        read = market.load_pool_rows(session=session, graduate_ids=graduate_ids, vacancy_ids=vacancy_ids)
    assert len(read.graduates) == (graduates[C.status] == "seeking").sum()
    assert read.vacancies[C.vacancy].tolist() == vacancy_ids
    assert read.vacancies[C.preferred_skills].iloc[0] == []
