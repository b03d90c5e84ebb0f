"""School routes on one graduate through HTTP: read, recommendations, erasure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from service.store.session import data_version
from service.store.tables import AuditEntry, Base
from tests.service.api.conftest import Api, make_api
from tests.serving import TINY_VERSION, tiny_model


@pytest.fixture
def api_model(sqlite_engine: Engine, tmp_path: Path) -> Iterator[Api]:
    yield from make_api(sqlite_engine, tmp_path, model=tiny_model())


@pytest.fixture
def api_model_any_db(engine: Engine, tmp_path: Path) -> Iterator[Api]:
    """SQLite and PostgreSQL, with the small matcher served."""
    yield from make_api(engine, tmp_path, model=tiny_model())


def test_read_graduate_scoped_by_school(api: Api) -> None:
    assert (
        api.client.get("/api/v1/graduates/G01", headers=api.headers["school_s1"]).json()["program_id"] == "P1"
    )
    foreign = api.client.get("/api/v1/graduates/G01", headers=api.headers["school_s2"])
    missing = api.client.get("/api/v1/graduates/G404", headers=api.headers["school_s1"])
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["error"]["code"] == "graduate_not_found"
    assert api.client.get("/api/v1/graduates/G01", headers=api.headers["hr_e1"]).status_code == 403
    assert api.client.get("/api/v1/graduates/G01", headers=api.headers["admin"]).status_code == 200


def test_recommendations_open_vacancies_with_explanations(api_model: Api) -> None:
    response = api_model.client.get(
        "/api/v1/graduates/G05/recommendations?limit=10", headers=api_model.headers["school_s1"]
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["graduate_id"] == "G05" and body["model_version"] == TINY_VERSION
    ids = [item["vacancy_id"] for item in body["items"]]
    # G05 has secondary education: only V3 (secondary minimum, open) qualifies; V6 is filled.
    assert ids == ["V3"]
    item = body["items"][0]
    assert item["enterprise_id"] == "E2" and item["enterprise_name"] == "长电科技(绍兴)"
    assert item["district"] == "滨海新区" and item["title"] == "封装工艺技术员"
    assert item["matched_skills"] == ["wire_bonding"]
    assert all({"code", "message"} <= set(r) for r in item["reasons"])
    scores = [item["score"] for item in body["items"]]
    assert scores == sorted(scores, reverse=True)
    entry = (
        api_model.session()
        .scalars(select(AuditEntry).where(AuditEntry.action == "list_recommendations"))
        .one()
    )
    assert entry.resource == "graduate:G05"


def test_recommendations_district_filter_placed_graduates_and_tenancy(api_model: Api) -> None:
    headers = api_model.headers["school_s1"]
    everywhere = api_model.client.get("/api/v1/graduates/G02/recommendations", headers=headers).json()
    assert everywhere["items"], everywhere
    only = api_model.client.get(
        "/api/v1/graduates/G02/recommendations?district=滨海新区", headers=headers
    ).json()
    assert all(item["district"] == "滨海新区" for item in only["items"])
    # A placed graduate is not in the candidate pool but still gets suggestions.
    placed = api_model.client.get("/api/v1/graduates/G04/recommendations", headers=headers)
    assert placed.status_code == 200, placed.text
    foreign = api_model.client.get(
        "/api/v1/graduates/G02/recommendations", headers=api_model.headers["school_s2"]
    )
    assert foreign.status_code == 404
    hr = api_model.client.get("/api/v1/graduates/G02/recommendations", headers=api_model.headers["hr_e1"])
    assert hr.status_code == 403
    too_many = api_model.client.get("/api/v1/graduates/G02/recommendations?limit=101", headers=headers)
    assert too_many.status_code == 422


def _rows_naming(api: Api, graduate_id: str) -> dict[str, int]:
    """Rows per table that reference the graduate (any graduate_id column, and audit resources)."""
    counts = {}
    with api.session() as session:
        for table in Base.metadata.sorted_tables:
            if "graduate_id" in table.c:
                n = session.scalar(
                    select(func.count()).select_from(table).where(table.c.graduate_id == graduate_id)
                )
                counts[table.name] = int(n or 0)
        n = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.resource.contains(graduate_id))
        )
        counts["audit_log"] = int(n or 0)
    return counts


def test_erasure_leaves_no_row_behind_and_answers_change_at_once(api_model_any_db: Api) -> None:
    api = api_model_any_db
    school = api.headers["school_s1"]
    assert api.client.get("/api/v1/graduates/G01/recommendations", headers=school).status_code == 200
    before = _rows_naming(api, "G01")
    assert before["graduates"] == 1 and before["interactions"] == 4 and before["graduate_skills"] == 2
    assert before["graduate_districts"] == 1 and before["audit_log"] == 1
    candidates = api.client.get("/api/v1/vacancies/V2/candidates?limit=100", headers=api.headers["hr_e1"])
    assert "G01" in [c["graduate_id"] for c in candidates.json()["items"]]
    with api.session() as session:
        version = data_version(session)

    assert api.client.delete("/api/v1/graduates/G01", headers=api.headers["school_s2"]).status_code == 404
    assert api.client.delete("/api/v1/graduates/G01", headers=api.headers["hr_e1"]).status_code == 403
    response = api.client.delete("/api/v1/graduates/G01", headers=school)
    assert response.status_code == 204 and response.content == b""

    assert set(_rows_naming(api, "G01").values()) == {0}
    with api.session() as session:
        assert data_version(session) > version
        erased = session.scalars(select(AuditEntry).where(AuditEntry.action == "erase_graduate")).one()
        assert erased.resource == "program:P1" and "G01" not in erased.detail
        # No table anywhere still spells the id (belt and braces over the schema).
        for table in Base.metadata.sorted_tables:
            for column in table.c:
                try:
                    is_text = column.type.python_type is str
                except NotImplementedError:
                    is_text = False
                if is_text:
                    hit = session.scalar(
                        select(func.count()).select_from(table).where(column.contains("G01"))
                    )
                    assert not hit, f"{table.name}.{column.name} still names G01"
    assert api.client.get("/api/v1/graduates/G01", headers=school).status_code == 404
    assert api.client.delete("/api/v1/graduates/G01", headers=school).status_code == 404
    candidates = api.client.get("/api/v1/vacancies/V2/candidates?limit=100", headers=api.headers["hr_e1"])
    assert "G01" not in [c["graduate_id"] for c in candidates.json()["items"]]
    plan = api.client.get("/api/v1/programs/P1/placements?min_score=0", headers=school).json()
    planned = [a["graduate_id"] for a in plan["assignments"]] + [u["graduate_id"] for u in plan["unassigned"]]
    assert sorted(planned) == ["G02", "G03"]
    # admin may erase any school's graduate
    assert api.client.delete("/api/v1/graduates/G09", headers=api.headers["admin"]).status_code == 204
