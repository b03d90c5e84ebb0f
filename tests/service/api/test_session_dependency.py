"""The request's session (service.api.deps.get_session) is made and, once committed, closed on the event loop:
every request, answered or refused, gives its connection back and leaves nothing uncommitted behind."""

from __future__ import annotations

import time

from sqlalchemy import Engine, select

from service.store.tables import Vacancy
from tests.service.api.conftest import Api


def _engine(api: Api) -> Engine:
    return api.client.app.state.engine  # type: ignore[attr-defined,no-any-return]


def _checked_out(engine: Engine, *, within: float = 2.0) -> int:
    """Connections still checked out once the app's background threads (the audit writer's batch, the
    data-version check) have had ``within`` seconds to give theirs back: a request's leak stays."""
    deadline = time.monotonic() + within
    while (count := engine.pool.checkedout()) and time.monotonic() < deadline:  # type: ignore[attr-defined]
        time.sleep(0.02)
    return int(count)


def test_every_request_gives_its_connection_back(api_with_model: Api) -> None:
    api = api_with_model
    hr = api.headers["hr_e2"]
    calls = [
        ("GET", "/api/v1/vacancies/V3/candidates", None, hr, 200),  # a read that commits its audit
        ("GET", "/api/v1/vacancies", None, hr, 200),  # a read that commits nothing
        ("GET", "/api/v1/vacancies/V1", None, hr, 404),  # refused inside its transaction
        ("GET", "/api/v1/vacancies", None, {"Authorization": "Bearer tm_x_y"}, 401),
        ("PATCH", "/api/v1/vacancies/V3", {"headcount": 7}, hr, 200),  # a write
        ("PATCH", "/api/v1/vacancies/V3", {"headcount": -1}, hr, 422),
    ]
    for method, path, body, headers, status in calls:
        response = api.client.request(method, path, json=body, headers=headers)
        assert response.status_code == status, (path, response.text)
        assert _checked_out(_engine(api)) == 0, path
    with api.session() as session:
        assert session.scalars(select(Vacancy.headcount).where(Vacancy.vacancy_id == "V3")).one() == 7
