"""The HR bulk vacancy upload goes through the posting check (issue 16, part 3): the findings are audited
with the write; under TALENTMATCH_POSTING_CHECK=refuse the whole file is refused, each finding by row."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from service.store.tables import AuditEntry, Vacancy
from tests.service.api.conftest import Api, Template, make_seeded_api

CSV = (
    "title,district,required_skills,description\n"
    "操作工,越城区,SPC,限男性，35岁以下\n"
    "测试员,越城区,SPC,男女不限\n"
)


def upload(api: Api):
    return api.client.post(
        "/api/v1/imports/vacancies",
        files={"file": ("vacancies.csv", io.BytesIO(CSV.encode()), "text/csv")},
        headers=api.headers["hr_e1"],
    )


@pytest.fixture
def refusing_api(seeded_sqlite: Engine, seeded_template: Template, tmp_path: Path) -> Iterator[Api]:
    yield from make_seeded_api(seeded_sqlite, seeded_template, tmp_path, posting_check="refuse")


def test_an_upload_audits_its_findings(api: Api) -> None:
    response = upload(api)
    assert response.status_code == 200, response.text
    with api.session() as session:
        detail = session.scalars(
            select(AuditEntry.detail).where(AuditEntry.action == "import_vacancies")
        ).one()
    assert json.loads(detail)["posting_warnings"] == {"2": ["gender", "age"]}
    flagged = api.client.get(
        f"/api/v1/vacancies/{response.json()['vacancy_ids'][0]}", headers=api.headers["hr_e1"]
    )
    assert [w["code"] for w in flagged.json()["warnings"]] == ["gender", "age"]


def test_refuse_mode_refuses_the_whole_upload(refusing_api: Api) -> None:
    api = refusing_api
    with api.session() as session:
        before = session.scalar(select(func.count()).select_from(Vacancy))
    response = upload(api)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "discriminatory_posting"
    assert [(d["row"], d["code"], d["span"]["text"]) for d in error["details"]] == [
        ("2", "gender", "限男性"),
        ("2", "age", "35岁以下"),
    ]
    with api.session() as session:
        assert session.scalar(select(func.count()).select_from(Vacancy)) == before
