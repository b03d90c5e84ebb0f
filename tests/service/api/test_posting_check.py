"""Discriminatory requirements in vacancies through HTTP: POST and PATCH answer with `warnings` (code, field,
messages, span), GET says the same, the audit records the codes; TALENTMATCH_POSTING_CHECK=refuse turns
them into a 422 naming each, writes nothing but the audited refusal, and still lets other fields change."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from service.store.tables import AuditEntry, Vacancy
from tests.service.api.conftest import Api, Template, make_seeded_api

BASE = {"title": "封装操作工", "min_education": "secondary", "district": "滨海新区", "headcount": 2}
FLAGGED = "熟悉引线键合。限男性，35岁以下，身体健康。"


def post(api: Api, **fields: object):
    return api.client.post("/api/v1/vacancies", json={**BASE, **fields}, headers=api.headers["hr_e2"])


def audit_details(api: Api, action: str) -> list[dict[str, object]]:
    with api.session() as session:
        rows = session.scalars(select(AuditEntry.detail).where(AuditEntry.action == action)).all()
    return [json.loads(row) for row in rows]


@pytest.fixture
def refusing_api(seeded_sqlite: Engine, seeded_template: Template, tmp_path: Path) -> Iterator[Api]:
    yield from make_seeded_api(seeded_sqlite, seeded_template, tmp_path, posting_check="refuse")


def test_a_posting_is_answered_with_its_warnings_and_spans(api: Api) -> None:
    response = post(api, description=FLAGGED)
    assert response.status_code == 201, response.text
    warnings = response.json()["warnings"]
    assert [(w["code"], w["field"], w["span"]["text"]) for w in warnings] == [
        ("gender", "body.description", "限男性"),
        ("age", "body.description", "35岁以下"),
    ]
    for warning in warnings:
        assert FLAGGED[warning["span"]["start"] : warning["span"]["end"]] == warning["span"]["text"]
        assert warning["message"].isascii() and not warning["message_zh"].isascii()
    vacancy_id = response.json()["vacancy_id"]
    stored = api.client.get(f"/api/v1/vacancies/{vacancy_id}", headers=api.headers["hr_e2"]).json()
    assert stored["warnings"] == warnings
    assert audit_details(api, "post_vacancy")[-1]["posting_warnings"] == ["gender", "age"]


def test_ordinary_postings_have_no_warnings(api: Api) -> None:
    response = post(api, description="熟悉引线键合。男女不限，不限户籍，身体健康。")
    assert response.status_code == 201, response.text
    assert response.json()["warnings"] == []
    assert "posting_warnings" not in audit_details(api, "post_vacancy")[-1]


def test_patch_answers_with_the_warnings_left(api: Api) -> None:
    vacancy_id = post(api, description=FLAGGED).json()["vacancy_id"]
    url = f"/api/v1/vacancies/{vacancy_id}"
    fixed = api.client.patch(
        url, json={"description": "熟悉引线键合。身体健康。"}, headers=api.headers["hr_e2"]
    )
    assert fixed.status_code == 200 and fixed.json()["warnings"] == []
    titled = api.client.patch(url, json={"title": "操作工（女性优先）"}, headers=api.headers["hr_e2"])
    assert [(w["code"], w["field"]) for w in titled.json()["warnings"]] == [("gender", "body.title")]
    assert audit_details(api, "patch_vacancy")[-1]["posting_warnings"] == ["gender"]


def test_refuse_mode_refuses_with_the_codes_and_writes_nothing(refusing_api: Api) -> None:
    api = refusing_api
    with api.session() as session:
        before = session.scalar(select(func.count()).select_from(Vacancy))
    response = post(api, description=FLAGGED)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "discriminatory_posting"
    assert [(d["code"], d["field"], d["span"]["text"]) for d in error["details"]] == [
        ("gender", "body.description", "限男性"),
        ("age", "body.description", "35岁以下"),
    ]
    with api.session() as session:
        assert session.scalar(select(func.count()).select_from(Vacancy)) == before
    assert audit_details(api, "refuse_vacancy")[-1]["posting_warnings"] == ["gender", "age"]
    assert post(api, description="熟悉引线键合，男女不限").status_code == 201


def test_refuse_mode_judges_only_the_fields_written(refusing_api: Api) -> None:
    """A vacancy whose stored text is flagged (imported before the check) can still change its headcount;
    a PATCH writing a flagged text is refused and leaves the vacancy as it was."""
    api = refusing_api
    vacancy_id = post(api, description="熟悉引线键合").json()["vacancy_id"]
    with api.sessions() as session, session.begin():
        session.get(Vacancy, vacancy_id).description = FLAGGED  # type: ignore[union-attr]
    url = f"/api/v1/vacancies/{vacancy_id}"
    headcount = api.client.patch(url, json={"headcount": 3}, headers=api.headers["hr_e2"])
    assert headcount.status_code == 200 and len(headcount.json()["warnings"]) == 2
    refused = api.client.patch(url, json={"title": "仅招女工", "headcount": 4}, headers=api.headers["hr_e2"])
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "discriminatory_posting"
    after = api.client.get(url, headers=api.headers["hr_e2"]).json()
    assert after["title"] == BASE["title"] and after["headcount"] == 3
