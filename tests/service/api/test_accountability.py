"""Accountability through HTTP (issue 16, part 6): an outcome keeps the key that recorded it and the model
version and score the candidates list showed; no outcome is ever recorded by the service itself (no
automatic rejection: filling, closing, planning and reading write none, and only one function in the code
creates an outcome); an admin exports the record as JSON or CSV (audited), nobody else may."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from sqlalchemy import select

from service.store.tables import AuditEntry, Interaction
from tests.service.api.conftest import Api

REPO = Path(__file__).resolve().parents[3]


def _score_shown(api: Api, vacancy_id: str, graduate_id: str, key: str = "hr_e1") -> tuple[str, float]:
    response = api.client.get(
        f"/api/v1/vacancies/{vacancy_id}/candidates",
        params={"limit": 100, "include_below_floor": "true"},
        headers=api.headers[key],
    )
    assert response.status_code == 200, response.text
    body = response.json()
    score = next(item["score"] for item in body["items"] if item["graduate_id"] == graduate_id)
    return body["model_version"], score


def _feedback(api: Api, vacancy_id: str, graduate_id: str, event: str, key: str = "hr_e1"):
    return api.client.post(
        f"/api/v1/vacancies/{vacancy_id}/feedback",
        json={"graduate_id": graduate_id, "event": event},
        headers=api.headers[key],
    )


def _recorded(api: Api) -> list[Interaction]:
    with api.session() as session:
        return list(session.scalars(select(Interaction).where(Interaction.recorded_by.is_not(None))))


def test_an_outcome_keeps_who_recorded_it_and_what_the_model_showed(api_with_model: Api) -> None:
    api = api_with_model
    version, score = _score_shown(api, "V1", "G10")
    assert _feedback(api, "V1", "G10", "shortlisted").status_code == 201
    assert _feedback(api, "V1", "G10", "shortlisted").status_code == 200  # idempotent: stamped once
    [row] = _recorded(api)
    assert (row.graduate_id, row.vacancy_id, row.event) == ("G10", "V1", "shortlisted")
    assert row.recorded_by == api.key_ids["hr_e1"] and row.recorded_via == "api"
    assert row.model_version == version and abs((row.shown_score or 0) - score) < 1e-6
    with api.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "record_outcome")).first()
        assert entry is not None and json.loads(entry.detail)["model_version"] == version


def test_without_a_model_the_outcome_is_still_stamped_with_its_recorder(api: Api) -> None:
    assert _feedback(api, "V1", "G10", "rejected").status_code == 201
    [row] = _recorded(api)
    assert row.recorded_by == api.key_ids["hr_e1"] and row.event == "rejected"
    assert row.model_version is None and row.shown_score is None  # no model served: nothing was shown


def test_nothing_records_an_outcome_but_a_person(api_with_model: Api) -> None:
    """Filling a vacancy, closing one, reopening, planning placements and reading lists write no outcome:
    every interaction after the import is one HR recorded, with its recorder."""
    api = api_with_model
    with api.session() as session:
        before = {r.id for r in session.scalars(select(Interaction))}
    assert _feedback(api, "V3", "G09", "hired", key="hr_e2").status_code == 201
    api.client.post("/api/v1/vacancies/V1/close", headers=api.headers["hr_e1"])
    api.client.post("/api/v1/vacancies/V1/reopen", headers=api.headers["hr_e1"])
    api.client.get("/api/v1/programs/P1/placements", headers=api.headers["school_s1"])
    api.client.get("/api/v1/graduates/G01/recommendations", headers=api.headers["school_s1"])
    _score_shown(api, "V2", "G10")
    with api.session() as session:
        new = [r for r in session.scalars(select(Interaction)) if r.id not in before]
    assert [(r.graduate_id, r.vacancy_id, r.event) for r in new] == [("G09", "V3", "hired")]
    assert all(r.recorded_by == api.key_ids["hr_e2"] for r in new)


def test_only_one_function_creates_an_outcome() -> None:
    """The code that writes interactions: record_feedback (one outcome a person sends) and the bundle
    import (history). No other module constructs one or inserts into the table."""
    writers = set()
    for path in [*(REPO / "service").rglob("*.py"), *(REPO / "models").rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        if re.search(r"(?<!class )\bInteraction\(|insert\(Interaction\b", text):
            writers.add(path.relative_to(REPO).as_posix())
        if re.search(r'table_of\("interactions"\)', text):
            writers.add(path.relative_to(REPO).as_posix())
    assert writers == {"service/store/vacancies.py", "service/store/market.py"}
    source = (REPO / "service/store/vacancies.py").read_text(encoding="utf-8")
    assert len(re.findall(r"(?<!class )\bInteraction\(", source)) == 1
    assert source.index("Interaction(") > source.index("def record_feedback(")


def test_admin_exports_the_record_as_json_and_csv(api_with_model: Api) -> None:
    api = api_with_model
    version, score = _score_shown(api, "V1", "G10")
    assert _feedback(api, "V1", "G10", "interviewed").status_code == 201
    response = api.client.get("/api/v1/admin/outcomes", headers=api.headers["admin"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == 1  # the imported history (no recorder) is not part of it
    item = body["items"][0]
    assert item["graduate_id"] == "G10" and item["enterprise_id"] == "E1" and item["event"] == "interviewed"
    assert item["recorded_by"] == api.key_ids["hr_e1"] and item["model_version"] == version
    assert abs(item["shown_score"] - score) < 1e-6
    as_csv = api.client.get("/api/v1/admin/outcomes", params={"format": "csv"}, headers=api.headers["admin"])
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [(r["graduate_id"], r["event"], r["model_version"]) for r in rows] == [
        ("G10", "interviewed", version)
    ]
    later = api.client.get(
        "/api/v1/admin/outcomes", params={"since": "2999-01-01T00:00:00"}, headers=api.headers["admin"]
    )
    assert later.json()["count"] == 0
    other = api.client.get(
        "/api/v1/admin/outcomes", params={"enterprise_id": "E2"}, headers=api.headers["admin"]
    )
    assert other.json()["count"] == 0
    assert api.client.get("/api/v1/admin/outcomes", headers=api.headers["hr_e1"]).status_code == 403
    with api.session() as session:
        exports = session.scalars(select(AuditEntry).where(AuditEntry.action == "export_outcomes")).all()
        assert len(exports) == 4 and json.loads(exports[0].detail)["count"] == 1


def test_export_times_are_iso_text_not_numbers(api: Api) -> None:
    for bad in ("0.5", "1700000000", "yesterday"):
        response = api.client.get(
            "/api/v1/admin/outcomes", params={"until": bad}, headers=api.headers["admin"]
        )
        assert response.status_code == 422, (bad, response.text)
    ok = api.client.get(
        "/api/v1/admin/outcomes", params={"since": "2026-11-01"}, headers=api.headers["admin"]
    )
    assert ok.status_code == 200 and ok.json()["since"] == "2026-11-01T00:00:00"
