"""Skill search (any role) and the audit log (admin only)."""

from __future__ import annotations

from service.store.audit import record
from tests.service.api.conftest import Api


def test_skill_search_matches_chinese_english_and_aliases(api: Api) -> None:
    headers = api.headers["school_s2"]

    def ids(q: str) -> list[str]:
        response = api.client.get("/api/v1/skills", params={"q": q}, headers=headers)
        assert response.status_code == 200
        return [s["skill_id"] for s in response.json()["items"]]

    assert ids("倒装") == ["flip_chip"]
    assert ids("WIRE") == ["wire_bonding"]
    assert ids("ate") == ["ate_test"]  # alias ATE, case-insensitive
    assert ids("100%_") == []  # LIKE wildcards are literal
    everything = api.client.get("/api/v1/skills?limit=3", headers=headers).json()
    assert everything["total"] == 8 and len(everything["items"]) == 3
    spc = api.client.get("/api/v1/skills?q=SPC", headers=headers).json()["items"][0]
    assert spc == {
        "skill_id": "spc",
        "name_zh": "统计过程控制",
        "name_en": "statistical process control",
        "category": "quality",
        "aliases": ["SPC"],
    }


def test_skill_search_bounds_its_query(api: Api) -> None:
    response = api.client.get("/api/v1/skills", params={"q": "x" * 101}, headers=api.headers["hr_e1"])
    assert response.status_code == 422


def test_audit_lists_entries_newest_first_for_admin_only(api: Api) -> None:
    with api.session() as session, session.begin():
        record(session=session, key_id="k1", action="list_plan", resource="program:P1", detail={"count": 3})
        record(
            session=session, key_id="k2", action="list_candidates", resource="vacancy:V1", detail={"count": 5}
        )
    response = api.client.get("/api/v1/admin/audit", headers=api.headers["admin"])
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 2
    assert body["items"][0]["action"] == "list_candidates"
    assert body["items"][1]["detail"] == '{"count": 3}'
    only = api.client.get("/api/v1/admin/audit?action=list_plan", headers=api.headers["admin"]).json()
    assert [e["resource"] for e in only["items"]] == ["program:P1"]
    assert api.client.get("/api/v1/admin/audit", headers=api.headers["hr_e1"]).status_code == 403
    assert api.client.get("/api/v1/admin/audit", headers=api.headers["school_s1"]).status_code == 403
