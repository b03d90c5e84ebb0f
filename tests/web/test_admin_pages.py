"""The admin page through the admin use cases: the registry's versions, the reload (audited as a web action)
and the same access rule as the API."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sqlalchemy import select

from service.store.session import make_sessionmaker
from service.store.tables import AuditEntry
from tests.web.conftest import Web
from training.registry import Registry, library_versions


class ArrayModel:
    def save(self, directory: Path) -> None:
        np.save(directory / "weights.npy", np.zeros(2), allow_pickle=False)


def test_the_admin_page_lists_the_registry_and_its_reload_is_audited_as_web(web: Web, tmp_path: Path) -> None:
    registry = Registry(tmp_path / "artifacts")
    manifest = {
        "libraries": library_versions(),
        "evaluation": {"metrics": {"new": {"ndcg": 0.4321}, "current": None}},
        "gate": {"passed": True},
    }
    version = registry.write_version(ArrayModel().save, manifest)
    registry.promote(version)
    web.sign_in("admin")
    page = web.client.get("/admin")
    assert page.status_code == 200
    assert version in page.text and "0.432" in page.text
    assert "排序质量 NDCG@10" in page.text and ">ndcg<" not in page.text  # named, not the raw key

    token = web.csrf("/admin")
    assert web.client.post("/admin/reload", data={}).status_code == 403  # no CSRF token
    response = web.client.post("/admin/reload", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/admin"
    with make_sessionmaker(web.engine)() as session:
        entries = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "reload_model")))
    assert len(entries) == 1 and entries[0].key_id == web.keys["admin"].split("_")[1]
    assert json.loads(entries[0].detail)["via"] == "web"


def test_other_roles_get_the_403_page_for_admin_actions(web: Web) -> None:
    for role in ("hr", "school"):
        web.sign_in(role)
        assert web.client.get("/admin").status_code == 403
        token = web.csrf("/vacancies" if role == "hr" else "/programs")
        response = web.client.post("/admin/reload", data={"csrf_token": token}, follow_redirects=False)
        assert response.status_code == 403 and "<html" in response.text
    with make_sessionmaker(web.engine)() as session:
        assert not list(session.scalars(select(AuditEntry).where(AuditEntry.action == "reload_model")))
