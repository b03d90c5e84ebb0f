"""The posting form and the vacancy page show discriminatory requirements with the flagged text marked, in the
page's language; with TALENTMATCH_POSTING_CHECK=refuse the form keeps the text and saves nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from service.store.session import make_sessionmaker
from service.store.tables import Vacancy
from tests.web.conftest import Web, _make_web

FIELDS = {
    "title": "操作工（限男性）",
    "description": "熟悉引线键合。已婚已育，35岁以下，男女不限的说法不适用。",
    "district": "越城区",
    "headcount": "2",
    "min_education": "secondary",
}


@pytest.fixture
def refusing_web(sqlite_engine: Engine, tmp_path: Path) -> Iterator[Web]:
    yield from _make_web(sqlite_engine, tmp_path, None, posting_check="refuse")


def _vacancies(web: Web) -> int:
    with make_sessionmaker(web.engine)() as session:
        return int(session.scalar(select(func.count()).select_from(Vacancy)) or 0)


def test_the_extract_step_marks_each_flagged_text(web: Web) -> None:
    web.sign_in("hr")
    response = web.client.post(
        "/vacancies/new", data={**FIELDS, "csrf_token": web.csrf("/vacancies/new"), "action": "extract"}
    )
    assert response.status_code == 200
    html = response.text
    assert 'id="posting-warnings"' in html and "发现 3 处可能构成就业歧视的要求" in html
    assert (
        "<mark>限男性</mark>" in html and "<mark>已婚已育</mark>" in html and "<mark>35岁以下</mark>" in html
    )
    assert 'data-code="gender" data-field="title"' in html
    assert "招聘不得限制婚姻、生育状况" in html  # the message, in the page's language


def test_saved_with_warnings_the_vacancy_page_shows_them_in_english(web_with_model: Web) -> None:
    web = web_with_model
    web.sign_in("hr")
    web.client.get("/lang/en")
    before = _vacancies(web)
    response = web.client.post(
        "/vacancies/new",
        data={
            **FIELDS,
            "csrf_token": web.csrf("/vacancies/new"),
            "action": "save",
            "extracted": "1",
            "skill": ["wire_bonding"],
        },
    )
    assert response.status_code == 200  # followed to the vacancy's page
    html = response.text
    assert "its text still states requirements that may discriminate" in html
    assert "3 requirement(s) that may discriminate" in html and "<mark>限男性</mark>" in html
    assert "requires or prefers a gender" in html
    assert _vacancies(web) == before + 1


def test_refused_the_form_keeps_the_text_and_saves_nothing(refusing_web: Web) -> None:
    web = refusing_web
    web.sign_in("hr")
    before = _vacancies(web)
    response = web.client.post(
        "/vacancies/new",
        data={
            **FIELDS,
            "csrf_token": web.csrf("/vacancies/new"),
            "action": "save",
            "extracted": "1",
            "skill": ["wire_bonding"],
        },
    )
    assert response.status_code == 422
    assert "岗位未保存" in response.text and "含有这些要求的岗位不能保存" in response.text
    assert "<mark>限男性</mark>" in response.text and 'value="操作工（限男性）"' in response.text
    assert _vacancies(web) == before
