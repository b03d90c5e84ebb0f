"""Reversible HR actions through the API (issue 15): reopen a closed vacancy until its closing date, reopen a
filled one with more seats, undo an outcome within ``TALENTMATCH_UNDO_SECONDS``, each audited; a vacancy's
recorded outcomes stay readable when it is closed; a programme lists its placed graduates and where.

Tenants of ``tiny_market``: E1 has V1 (headcount 2, closes 2026-03-31, G12 hired on it), V2 and V6 (filled);
G10 (bachelor, seeking, school S2) is a candidate of every open vacancy.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from service.store.tables import AuditEntry, Graduate, Interaction, Vacancy
from service.store.vacancies import utcnow
from tests.service.api.conftest import Api, make_api


@pytest.fixture
def hr_api(engine: Engine, tmp_path: Path) -> Iterator[Api]:
    """The app on SQLite and PostgreSQL with the default undo window."""
    yield from make_api(engine, tmp_path)


def _post(api: Api, path: str, key: str = "hr_e1", body: Any = None) -> Any:
    return api.client.post(f"/api/v1{path}", json=body, headers=api.headers[key])


def _audit(api: Api, action: str) -> list[dict[str, Any]]:
    with api.session() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
        return [{"resource": e.resource, **json.loads(e.detail)} for e in rows]


def test_close_then_reopen_until_the_closing_date(hr_api: Api) -> None:
    api = hr_api
    assert _post(api, "/vacancies/V2/close").json()["status"] == "closed"
    reopened = _post(api, "/vacancies/V2/reopen")
    assert reopened.status_code == 200 and reopened.json()["status"] == "open"
    assert [e["status_before"] for e in _audit(api, "reopen_vacancy")] == ["closed"]
    # Past its closing date a vacancy stays closed.
    with api.sessions() as session, session.begin():
        session.execute(
            update(Vacancy).where(Vacancy.vacancy_id == "V2").values(closes_at=utcnow() - timedelta(days=1))
        )
    _post(api, "/vacancies/V2/close")
    refused = _post(api, "/vacancies/V2/reopen")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "vacancy_not_reopenable"


def test_a_filled_vacancy_reopens_with_a_larger_headcount(hr_api: Api) -> None:
    api = hr_api
    filled = api.client.get("/api/v1/vacancies/V6", headers=api.headers["hr_e1"]).json()
    assert filled["status"] == "filled"
    refused = _post(api, "/vacancies/V6/reopen")
    assert refused.status_code == 409 and "larger headcount" in refused.json()["error"]["message"]
    too_few = _post(api, "/vacancies/V6/reopen", body={"headcount": filled["hires"]})
    assert too_few.status_code == 409
    with api.sessions() as session, session.begin():  # V6's closing date is in the demo's past
        session.execute(update(Vacancy).where(Vacancy.vacancy_id == "V6").values(closes_at=None))
    reopened = _post(api, "/vacancies/V6/reopen", body={"headcount": filled["hires"] + 2})
    assert reopened.status_code == 200, reopened.text
    body = reopened.json()
    assert body["status"] == "open" and body["headcount"] == filled["hires"] + 2
    assert body["remaining_headcount"] == 2
    entry = _audit(api, "reopen_vacancy")[-1]
    assert entry["status_before"] == "filled" and entry["headcount"] == filled["hires"] + 2
    assert _post(api, "/vacancies/V6/reopen", body={"headcount": 0}).status_code == 422
    assert _post(api, "/vacancies/V3/reopen", body={"headcount": 9}).status_code == 404  # another tenant's


def test_a_hire_is_undone_within_the_window_and_audited(hr_api: Api) -> None:
    api = hr_api
    with api.sessions() as session, session.begin():
        session.execute(update(Vacancy).where(Vacancy.vacancy_id == "V1").values(closes_at=None))
    hired = _post(api, "/vacancies/V1/feedback", body={"graduate_id": "G10", "event": "hired"})
    assert hired.status_code == 201, hired.text
    assert hired.json()["vacancy_status"] == "filled"  # G12 and G10 take V1's two seats
    listed = api.client.get("/api/v1/vacancies/V1/feedback", headers=api.headers["hr_e1"]).json()
    assert listed[0]["graduate_id"] == "G10" and listed[0]["event"] == "hired" and listed[0]["undoable"]
    assert not next(o for o in listed if o["graduate_id"] == "G12")["undoable"]  # recorded months ago

    undone = _post(api, "/vacancies/V1/feedback/undo", body={"graduate_id": "G10", "event": "hired"})
    assert undone.status_code == 200, undone.text
    body = undone.json()
    assert body["graduate_status"] == "seeking" and body["vacancy_status"] == "open"
    assert body["remaining_headcount"] == 1
    with api.sessions() as session:
        graduate = session.get(Graduate, "G10")
        assert graduate is not None and graduate.status == "seeking"
        assert not session.scalars(
            select(Interaction).where(Interaction.graduate_id == "G10", Interaction.event == "hired")
        ).all()
    entry = _audit(api, "undo_outcome")[-1]
    assert entry["resource"] == "vacancy:V1" and entry["graduate"] == "G10" and entry["event"] == "hired"
    assert entry["vacancy_status_before"] == "filled" and entry["vacancy_status"] == "open"

    again = _post(api, "/vacancies/V1/feedback/undo", body={"graduate_id": "G10", "event": "hired"})
    assert again.status_code == 404 and again.json()["error"]["code"] == "outcome_not_found"
    old = _post(api, "/vacancies/V1/feedback/undo", body={"graduate_id": "G12", "event": "hired"})
    assert old.status_code == 409 and old.json()["error"]["code"] == "undo_window_passed"
    foreign = _post(api, "/vacancies/V1/feedback/undo", "hr_e2", {"graduate_id": "G10", "event": "hired"})
    assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "vacancy_not_found"


def test_undo_off_when_the_window_is_zero(sqlite_engine: Engine, tmp_path: Path) -> None:
    for api in make_api(sqlite_engine, tmp_path, undo_seconds=0):
        assert _post(
            api, "/vacancies/V2/feedback", body={"graduate_id": "G10", "event": "shortlisted"}
        ).is_success
        refused = _post(
            api, "/vacancies/V2/feedback/undo", body={"graduate_id": "G10", "event": "shortlisted"}
        )
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "undo_window_passed"


def test_a_closed_vacancy_keeps_its_recorded_outcomes(hr_api: Api) -> None:
    api = hr_api
    _post(api, "/vacancies/V2/feedback", body={"graduate_id": "G10", "event": "interviewed"})
    _post(api, "/vacancies/V2/close")
    listed = api.client.get("/api/v1/vacancies/V2/feedback", headers=api.headers["hr_e1"])
    assert listed.status_code == 200
    assert ("G10", "interviewed") in {(o["graduate_id"], o["event"]) for o in listed.json()}
    assert api.client.get("/api/v1/vacancies/V3/feedback", headers=api.headers["hr_e1"]).status_code == 404


def test_skills_extracted_is_one_value_in_the_post_and_a_later_get(hr_api: Api) -> None:
    api = hr_api
    body = {"title": "封装工程师", "district": "越城区", "description": "熟悉引线键合和SPC"}
    posted = _post(api, "/vacancies", body=body).json()
    stored = api.client.get(f"/api/v1/vacancies/{posted['vacancy_id']}", headers=api.headers["hr_e1"])
    assert posted["skills_extracted"] is True and stored.json()["skills_extracted"] is True
    given = _post(api, "/vacancies", body={**body, "required_skills": ["spc"]}).json()
    listed = api.client.get("/api/v1/vacancies?limit=100", headers=api.headers["hr_e1"]).json()["items"]
    assert {v["vacancy_id"]: v["skills_extracted"] for v in listed}[given["vacancy_id"]] is False


def test_a_programme_lists_its_placed_graduates_and_where(hr_api: Api) -> None:
    api = hr_api
    with api.sessions() as session, session.begin():
        session.execute(update(Vacancy).where(Vacancy.vacancy_id == "V2").values(closes_at=None))
    _post(api, "/vacancies/V2/feedback", body={"graduate_id": "G10", "event": "hired"})
    with api.sessions() as session:
        graduate = session.get(Graduate, "G10")
        assert graduate is not None
        program = graduate.program_id
    placed = api.client.get(f"/api/v1/programs/{program}/placed", headers=api.headers["school_s2"])
    assert placed.status_code == 200, placed.text
    items = placed.json()["items"]
    assert items[0]["graduate_id"] == "G10" and items[0]["vacancy_id"] == "V2"
    assert items[0]["enterprise_name"] and items[0]["title"]
    assert (
        api.client.get(f"/api/v1/programs/{program}/placed", headers=api.headers["school_s1"]).status_code
        == 404
    )
    assert _audit(api, "list_placed_graduates")[-1]["graduates"] == [i["graduate_id"] for i in items]
