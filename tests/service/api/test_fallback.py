"""Before any trained model is promoted, the service answers with the keyword matcher and says so."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.app import create_app
from service.model_holder import FALLBACK_VERSION
from tests.service.api.conftest import Template, settings_for


def _client(engine: Engine, tmp_path: Path, **settings: Any) -> Iterator[TestClient]:
    # No model_holder argument: the real registry-backed ModelHolder over an empty artifacts folder.
    app = create_app(settings_for(engine, tmp_path, model_poll_seconds=3600, **settings))
    with TestClient(app) as client:
        yield client


@pytest.fixture
def client(seeded_sqlite: Engine, tmp_path: Path) -> Iterator[TestClient]:
    yield from _client(seeded_sqlite, tmp_path)


def test_health_names_the_fallback(client: TestClient) -> None:
    health = client.get("/healthz").json()
    assert health["model_version"] == FALLBACK_VERSION and health["model_fallback"] is True


def test_candidates_are_ranked_by_required_skills_held(client: TestClient, seeded_template: Template) -> None:
    response = client.get(
        "/api/v1/vacancies/V1/candidates?limit=100&include_below_floor=true",
        headers=seeded_template.headers["admin"],
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model_version"] == FALLBACK_VERSION
    items = body["items"]
    assert items
    coverage = [
        len(c["matched_skills"]) / (len(c["matched_skills"]) + len(c["missing_skills"])) for c in items
    ]
    assert coverage == sorted(coverage, reverse=True)
    assert coverage[0] > coverage[-1]  # V1 needs lithography: its holders come first, not a flat list
    assert all(c["reasons"] and c["reasons"][0]["code"] == "required_skills" for c in items)
    # Without the lithography, a candidate is not a recommendation: left out by default, and counted.
    recommended = client.get(
        "/api/v1/vacancies/V1/candidates?limit=100", headers=seeded_template.headers["admin"]
    ).json()
    holders = [c["graduate_id"] for c in items if c["matched_skills"]]
    assert [c["graduate_id"] for c in recommended["items"]] == holders
    assert recommended["below_floor"] == len(items) - len(holders) > 0


def test_recommendations_and_placements_work_on_the_fallback(
    client: TestClient, seeded_template: Template
) -> None:
    school = seeded_template.headers["school_s1"]
    suggestions = client.get("/api/v1/graduates/G01/recommendations", headers=school)
    assert suggestions.status_code == 200, suggestions.text
    assert suggestions.json()["model_version"] == FALLBACK_VERSION
    plan = client.get("/api/v1/programs/P1/placements", headers=school)
    assert plan.status_code == 200, plan.text


def test_admin_sees_no_trained_model_serving(client: TestClient, seeded_template: Template) -> None:
    models = client.get("/api/v1/admin/models", headers=seeded_template.headers["admin"]).json()
    assert models["serving_version"] == FALLBACK_VERSION
    assert models["current_version"] is None and models["versions"] == []


def test_without_the_fallback_model_routes_answer_503(
    seeded_sqlite: Engine, tmp_path: Path, seeded_template: Template
) -> None:
    for client in _client(seeded_sqlite, tmp_path, keyword_fallback=False):
        assert client.get("/healthz").json()["model_version"] is None
        response = client.get("/api/v1/vacancies/V1/candidates", headers=seeded_template.headers["admin"])
        assert response.status_code == 503 and response.json()["error"]["code"] == "model_not_ready"
