"""The app behind a real uvicorn process on a free port (tmp SQLite, empty artifacts dir)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from tests.live_server import seeded_server


@pytest.fixture
def server(sqlite_engine: Engine, tmp_path: Path) -> Iterator[tuple[str, dict[str, dict[str, str]]]]:
    with seeded_server(
        sqlite_engine, tmp_path, {"TALENTMATCH_MAX_BODY_BYTES": "20000"}, timeout=30
    ) as served:
        yield served


@pytest.mark.slow
def test_real_server_round_trip(server: tuple[str, dict[str, dict[str, str]]]) -> None:
    base, headers = server
    with httpx.Client(base_url=base, timeout=10) as client:
        # No model trained yet: the keyword matcher answers, and says so.
        assert client.get("/healthz").json()["model_version"] == "keyword-baseline"
        assert client.get("/api/v1/vacancies").status_code == 401
        posted = client.post(
            "/api/v1/vacancies",
            json={
                "title": "封装技术员",
                "district": "滨海新区",
                "description": "熟悉引线键合和倒装焊工艺，有SPC经验",
            },
            headers=headers["hr_e2"],
        )
        assert posted.status_code == 201, posted.text
        assert posted.json()["required_skills"] == ["wire_bonding", "flip_chip", "spc"]
        listed = client.get("/api/v1/vacancies", headers=headers["hr_e2"]).json()
        assert posted.json()["vacancy_id"] in {v["vacancy_id"] for v in listed["items"]}
        no_model = client.get(
            f"/api/v1/vacancies/{posted.json()['vacancy_id']}/candidates", headers=headers["hr_e2"]
        )
        assert no_model.status_code == 200, no_model.text
        assert no_model.json()["model_version"] == "keyword-baseline"
        too_big = client.post(
            "/api/v1/vacancies",
            content=b"{" + b" " * 30000 + b"}",
            headers={**headers["hr_e2"], "Content-Type": "application/json"},
        )
        assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "payload_too_large"
        assert client.get("/api/v1/vacancies/V1", headers=headers["hr_e2"]).status_code == 404
        assert client.get("/api/v1/nowhere").json()["error"]["code"] == "not_found"
        assert client.get("/healthz").headers["x-request-id"]
