"""Per-key rate limit (429 with Retry-After) and database failures (503, no internals)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from service.usecases.limits import LocalRateLimiter
from tests.live_server import free_port
from tests.service.api.conftest import Api, Template, make_seeded_api


@pytest.fixture
def limited_api(seeded_sqlite: Engine, seeded_template: Template, tmp_path: Path) -> Iterator[Api]:
    yield from make_seeded_api(seeded_sqlite, seeded_template, tmp_path, rate_limit_per_minute=3)


def test_a_key_over_its_rate_gets_429_with_retry_after(limited_api: Api) -> None:
    api = limited_api
    statuses = [api.client.get("/api/v1/skills", headers=api.headers["hr_e1"]).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = api.client.get("/api/v1/skills", headers=api.headers["hr_e1"])
    assert refused.json()["error"]["code"] == "rate_limited"
    assert int(refused.headers["retry-after"]) >= 1
    # other keys have their own budget
    assert api.client.get("/api/v1/skills", headers=api.headers["hr_e2"]).status_code == 200


def test_an_unreachable_redis_limits_per_process_instead_of_failing(
    seeded_sqlite: Engine, seeded_template: Template, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """TALENTMATCH_REDIS_URL pointing at a closed port: every request is answered (never a 500), by the
    per-process bucket, and the operator is warned once without the key being named."""
    redis_url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    with caplog.at_level(logging.WARNING, logger="service.usecases.limits"):
        for api in make_seeded_api(
            seeded_sqlite, seeded_template, tmp_path, rate_limit_per_minute=3, redis_url=redis_url
        ):
            statuses = [
                api.client.get("/api/v1/skills", headers=api.headers["hr_e1"]).status_code for _ in range(4)
            ]
            assert statuses == [200, 200, 200, 429]
            assert api.client.get("/api/v1/skills", headers=api.headers["hr_e2"]).status_code == 200
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 1 and "counting per process" in warnings[0], warnings
    key_id = seeded_template.key_ids["hr_e1"]
    assert key_id not in warnings[0] and "Bearer" not in warnings[0]


def test_token_bucket_refills_over_time() -> None:
    now = [0.0]
    limiter = LocalRateLimiter(60, clock=lambda: now[0])
    assert all(limiter.retry_after("k") is None for _ in range(60))
    wait = limiter.retry_after("k")
    assert wait is not None and 0.9 < wait <= 1.0
    now[0] += 1.0
    assert limiter.retry_after("k") is None
    assert LocalRateLimiter(0).retry_after("k") is None


def test_database_errors_are_503_without_internals(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    import service.api.routes.skills as skills_route

    def locked(**_: object) -> None:
        raise OperationalError("SELECT secret FROM skills", {}, Exception("database is locked"))

    monkeypatch.setattr(skills_route, "search_skills", locked)
    response = api.client.get("/api/v1/skills", headers=api.headers["admin"])
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "database_unavailable"
    assert response.headers["retry-after"] == "1"
    assert "secret" not in response.text and "locked" not in response.text
