"""A school-wide placement plan: every programme of the school planned together (``?scope=school``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.service.api.conftest import Api, make_api
from tests.serving import tiny_model

SEEKING = {"P1": {"G01", "G02", "G03"}, "P2": {"G05", "G06", "G07"}}
REMAINING = {"V2": 3}  # headcount minus hires of the one vacancy left open


@pytest.fixture
def api_model(sqlite_engine: Engine, tmp_path: Path) -> Iterator[Api]:
    yield from make_api(sqlite_engine, tmp_path, model=tiny_model())


def _plan(api: Api, program_id: str, scope: str) -> dict:
    response = api.client.get(
        f"/api/v1/programs/{program_id}/placements",
        params={"min_score": 0, "scope": scope},
        headers=api.headers["school_s1"],
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_programmes_planned_together_never_share_a_seat(api_model: Api) -> None:
    # Leave V2 (3 seats, the order class's sponsor E1) as the only open vacancy both cohorts can take.
    for vacancy_id in ("V3", "V4", "V5"):
        closed = api_model.client.post(
            f"/api/v1/vacancies/{vacancy_id}/close", headers=api_model.headers["admin"]
        )
        assert closed.status_code == 200, closed.text
    plans = {p: _plan(api_model, p, "program") for p in SEEKING}
    school = {p: _plan(api_model, p, "school") for p in SEEKING}
    for program_id, plan in school.items():
        assert plan["scope"] == "school" and plan["program_id"] == program_id
        listed = [a["graduate_id"] for a in plan["assignments"]]
        listed += [u["graduate_id"] for u in plan["unassigned"]]
        assert sorted(listed) == sorted(SEEKING[program_id])  # this programme's part, each graduate once
        metrics = plan["metrics"]  # this programme's part of the school's plan
        assert metrics["graduates"] == 3 and metrics["assigned"] == len(plan["assignments"])
        assert metrics["coverage"] == pytest.approx(len(plan["assignments"]) / 3)
    seats = Counter(a["vacancy_id"] for plan in school.values() for a in plan["assignments"])
    assert all(n <= REMAINING[v] for v, n in seats.items()), seats
    # Planned one by one, the two programmes' plans together ask for more seats than a vacancy has.
    separate = Counter(a["vacancy_id"] for plan in plans.values() for a in plan["assignments"])
    assert any(n > REMAINING[v] for v, n in separate.items()), separate
    # The order class (P1, sponsor E1) keeps its claim on its sponsor's seats; the other cohort waits.
    assert [a["vacancy_id"] for a in school["P1"]["assignments"]] == ["V2"] * 3
    assert all(a["sponsor"] for a in school["P1"]["assignments"])
    assert school["P2"]["assignments"] == []
    reasons = {u["reason"] for u in school["P2"]["unassigned"]}
    assert reasons <= {"capacity_taken_by_better_matches", "education_below_minimum"}
    assert "capacity_taken_by_better_matches" in reasons


def test_the_default_scope_is_the_programme(api_model: Api) -> None:
    plan = _plan(api_model, "P1", "program")
    assert plan["scope"] == "program" and plan["metrics"]["graduates"] == 3
    bad = api_model.client.get(
        "/api/v1/programs/P1/placements?scope=city", headers=api_model.headers["school_s1"]
    )
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "query.scope"
