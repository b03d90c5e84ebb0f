"""The admin's fairness page (GET /admin/fairness): the report of the served model, in both languages,
admin only, audited as a web read."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from service.store.session import bump_data_version, make_sessionmaker, transaction
from service.store.tables import AuditEntry
from service.usecases import fairness
from tests.web.conftest import Web


def test_the_fairness_page_shows_impact_ratios_and_exposure(web_with_model: Web) -> None:
    web = web_with_model
    web.sign_in("admin")
    assert "/admin/fairness" in web.client.get("/admin").text  # linked from the status page
    page = web.client.get("/admin/fairness?lang=en")
    assert page.status_code == 200, page.text
    text = page.text
    assert "Fairness and exposure" in text and "Impact ratio" in text and "four-fifths" in text
    for attribute in ("school_kind", "program_kind", "order_class", "education", "district"):
        assert f"<h2>{attribute}</h2>" in text
    assert "Coverage" in text and "Congestion" in text and "Gini" in text
    assert 'class="chart"' in text  # pool share against exposure share, as inline SVG
    assert "tiny-1" in text  # the served model's version
    zh = web.client.get("/admin/fairness?lang=zh").text
    assert "公平性与曝光报告" in zh and "影响比" in zh
    web.client.app.state.services.audit_buffer.flush()  # type: ignore[attr-defined]
    with make_sessionmaker(web.engine)() as session:
        entries = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "fairness_report")))
    assert entries and json.loads(entries[0].detail)["via"] == "web"


def test_only_admin_sees_the_fairness_page(web: Web) -> None:
    for role in ("hr", "school"):
        web.sign_in(role)
        response = web.client.get("/admin/fairness")
        assert response.status_code == 403 and "<html" in response.text
    web.client.cookies.clear()
    assert web.client.get("/admin/fairness", follow_redirects=False).status_code == 303


def test_the_report_is_reused_while_fresh_and_redone_when_stale(
    web_with_model: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    web = web_with_model
    web.sign_in("admin")
    assert web.client.get("/admin/fairness").status_code == 200
    (first,) = fairness._CACHE.values()
    with transaction(web.engine) as session:
        bump_data_version(session)  # a write: the report is still younger than MAX_AGE_SECONDS
    assert web.client.get("/admin/fairness").status_code == 200
    assert next(iter(fairness._CACHE.values())) is first
    monkeypatch.setattr(fairness, "MAX_AGE_SECONDS", 0.0)  # stale and the store moved on: computed again
    assert web.client.get("/admin/fairness").status_code == 200
    (second,) = fairness._CACHE.values()
    assert second is not first and second[0] == first[0] + 1
