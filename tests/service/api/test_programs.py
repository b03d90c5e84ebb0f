"""School routes on programmes through HTTP: roles, tenancy, graduates, plans, skill gaps, CSV import."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from service.store.tables import AuditEntry, Graduate, GraduateSkill
from tests.service.api.conftest import Api, make_api
from tests.service.api.school_helpers import csv_bytes
from tests.serving import TINY_VERSION, tiny_model


@pytest.fixture
def api_model(sqlite_engine: Engine, tmp_path: Path) -> Iterator[Api]:
    """The app on SQLite with a real small matcher served."""
    yield from make_api(sqlite_engine, tmp_path, model=tiny_model())


def _audit(api: Api, action: str) -> list[AuditEntry]:
    with api.session() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_programs_listing_is_scoped_by_school(api: Api) -> None:
    def ids(key: str) -> list[str]:
        response = api.client.get("/api/v1/programs", headers=api.headers[key])
        assert response.status_code == 200, response.text
        return [p["program_id"] for p in response.json()["items"]]

    assert sorted(ids("school_s1")) == ["P1", "P2"]
    assert ids("school_s2") == ["P3"]
    assert sorted(ids("admin")) == ["P1", "P2", "P3"]
    body = api.client.get("/api/v1/programs", headers=api.headers["school_s1"]).json()
    p1 = next(p for p in body["items"] if p["program_id"] == "P1")
    assert p1["sponsor_enterprise_id"] == "E1" and p1["kind"] == "order_class"
    assert p1["graduates"] == {"seeking": 3, "placed": 1}
    assert p1["skills"] == ["lithography", "etching", "spc"]
    assert p1["school_name"] == "绍兴职业技术学院"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/programs",
        "/api/v1/programs/P1",
        "/api/v1/programs/P1/graduates",
        "/api/v1/programs/P1/placements",
        "/api/v1/programs/P1/skill-gaps",
    ],
)
def test_hr_keys_are_forbidden_and_missing_keys_unauthorized(api: Api, path: str) -> None:
    response = api.client.get(path, headers=api.headers["hr_e1"])
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert api.client.get(path).status_code == 401
    assert api.client.get(path, headers=api.headers["revoked"]).status_code == 401


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/programs/P1",
        "/api/v1/programs/P1/graduates",
        "/api/v1/programs/P1/placements",
        "/api/v1/programs/P1/skill-gaps",
    ],
)
def test_another_schools_programme_is_404_like_a_missing_one(api_model: Api, path: str) -> None:
    foreign = api_model.client.get(path, headers=api_model.headers["school_s2"])
    missing = api_model.client.get(path.replace("P1", "P404"), headers=api_model.headers["school_s1"])
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["error"]["code"] == "program_not_found"
    assert foreign.json()["error"]["message"] == "programme 'P1' not found"
    assert api_model.client.get(path, headers=api_model.headers["school_s1"]).status_code == 200
    assert api_model.client.get(path, headers=api_model.headers["admin"]).status_code == 200


def test_programme_graduates_paginated_filtered_and_audited(api: Api) -> None:
    headers = api.headers["school_s1"]
    everyone = api.client.get("/api/v1/programs/P1/graduates", headers=headers).json()
    assert everyone["total"] == 4 and [g["graduate_id"] for g in everyone["items"]] == [
        "G01",
        "G02",
        "G03",
        "G04",
    ]
    g01 = everyone["items"][0]
    assert g01["skills"] == ["lithography", "etching"] and g01["preferred_districts"] == ["越城区"]
    assert g01["available_from"] == "2026-06-30"
    seeking = api.client.get("/api/v1/programs/P1/graduates?status=seeking&limit=2&offset=1", headers=headers)
    assert seeking.json()["total"] == 3
    assert [g["graduate_id"] for g in seeking.json()["items"]] == ["G02", "G03"]
    bad = api.client.get("/api/v1/programs/P1/graduates?status=lost", headers=headers)
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "query.status"
    entries = _audit(api, "list_graduates")
    assert [e.resource for e in entries] == ["program:P1", "program:P1"]
    assert {e.key_id for e in entries} == {api.key_ids["school_s1"]}


def test_placement_plan_respects_headcount_sponsor_and_is_audited(api_model: Api) -> None:
    response = api_model.client.get(
        "/api/v1/programs/P1/placements?min_score=0", headers=api_model.headers["school_s1"]
    )
    assert response.status_code == 200, response.text
    plan = response.json()
    assert plan["program_id"] == "P1" and plan["model_version"] == TINY_VERSION
    assert plan["sponsor_enterprise_id"] == "E1"
    planned = [a["graduate_id"] for a in plan["assignments"]] + [u["graduate_id"] for u in plan["unassigned"]]
    assert sorted(planned) == ["G01", "G02", "G03"]  # seeking graduates only, each once
    seats: dict[str, int] = {}
    for assignment in plan["assignments"]:
        seats[assignment["vacancy_id"]] = seats.get(assignment["vacancy_id"], 0) + 1
        assert 0.0 <= assignment["score"] <= 1.0
        assert isinstance(assignment["reasons"], list)
    remaining = {"V2": 3, "V3": 4, "V5": 1, "V4": 1}  # headcount minus hires of the open vacancies
    for vacancy_id, n in seats.items():
        assert n <= remaining.get(vacancy_id, 0)
    # The order class fills its sponsor's (E1) open vacancy first: V2 (V1 is past its closing date).
    assert all(a["vacancy_id"] == "V2" and a["sponsor"] for a in plan["assignments"])
    metrics = plan["metrics"]
    assert metrics["graduates"] == 3 and metrics["coverage"] == pytest.approx(len(plan["assignments"]) / 3)
    assert set(metrics["congestion_vs_top1"]) >= {"top1_max_per_vacancy", "top1_overflow_share"}
    entry = _audit(api_model, "plan_placements")[0]
    assert entry.resource == "program:P1" and entry.key_id == api_model.key_ids["school_s1"]


def test_placement_reasons_for_unassigned_graduates(api_model: Api) -> None:
    plan = api_model.client.get(
        "/api/v1/programs/P3/placements?min_score=1", headers=api_model.headers["admin"]
    ).json()
    assert plan["assignments"] == []
    reasons = {u["graduate_id"]: u["reason"] for u in plan["unassigned"]}
    assert set(reasons) == {"G09", "G10", "G11"}
    assert set(reasons.values()) <= {"no_vacancy_above_min_score", "education_below_minimum"}
    with_alternatives = [u for u in plan["unassigned"] if u["alternatives"]]
    assert all(alt["status"] == "below_min_score" for u in with_alternatives for alt in u["alternatives"])


def test_unassigned_below_the_minimum_score_are_told_why_and_what_training_helps(api_model: Api) -> None:
    plan = api_model.client.get(
        "/api/v1/programs/P1/placements?min_score=0.99", headers=api_model.headers["school_s1"]
    ).json()
    assert plan["assignments"] == [] and plan["min_score"] == 0.99
    by_graduate = {u["graduate_id"]: u for u in plan["unassigned"]}
    assert set(by_graduate) == {"G01", "G02", "G03"}
    for unassigned in by_graduate.values():
        assert unassigned["reason"] == "no_vacancy_above_min_score"
        assert "99% chance that the pairing succeeds" in unassigned["message"]
        assert "training in the missing skills" in unassigned["message"]
    # G01 holds lithography and etching; its best vacancies ask for wire bonding, which the training
    # programme P2 teaches (its own order class P1 does not).
    g01 = by_graduate["G01"]
    assert {a["vacancy_id"] for a in g01["alternatives"]} >= {"V3"}
    assert {"skill_id": "wire_bonding", "taught_by": ["P2"]} in g01["training"]
    held = {"G01": {"lithography", "etching"}, "G02": {"lithography", "spc"}, "G03": {"etching", "spc"}}
    for graduate_id, unassigned in by_graduate.items():
        assert not {h["skill_id"] for h in unassigned["training"]} & held[graduate_id]


def test_placements_without_a_model_are_503(api: Api) -> None:
    response = api.client.get("/api/v1/programs/P1/placements", headers=api.headers["school_s1"])
    assert response.status_code == 503 and response.json()["error"]["code"] == "model_not_ready"
    bad = api.client.get("/api/v1/programs/P1/placements?min_score=2", headers=api.headers["school_s1"])
    assert bad.status_code == 422


def test_skill_gaps_of_the_order_class(api: Api) -> None:
    response = api.client.get("/api/v1/programs/P1/skill-gaps", headers=api.headers["school_s1"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["segments"] == ["foundry"] and body["segment_source"] == "sponsor"
    assert body["cohort_size"] == 4 and body["education"] == "associate"
    for item in body["items"]:
        assert item["gap"] == pytest.approx(item["vacancy_share"] - item["cohort_share"], abs=1e-5)
        assert item["gap"] > 0


GOOD_ROWS = [
    "G20,P1,associate,微电子技术,lithography;spc,越城区,2026-06-30,seeking",
    "G01,P1,associate,微电子技术,lithography;etching;spc,越城区,2026-06-30,seeking",
]


def _count(api: Api, model: type, **where: str) -> int:
    with api.session() as session:
        query = select(func.count()).select_from(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return int(session.scalar(query) or 0)


def test_graduates_import_adds_and_updates(api: Api) -> None:
    response = api.client.post(
        "/api/v1/programs/P1/graduates/import",
        headers=api.headers["school_s1"],
        files={"file": ("graduates.csv", csv_bytes(GOOD_ROWS), "text/csv")},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "program_id": "P1",
        "added": 1,
        "updated": 1,
        "unchanged": 0,
        "preview": False,
        "rows": [],
    }
    assert _count(api, GraduateSkill, graduate_id="G01") == 3
    assert _count(api, Graduate, program_id="P1") == 5
    assert _audit(api, "import_graduates")[0].resource == "program:P1"


def test_graduates_import_is_all_or_nothing_with_row_and_column_errors(api: Api) -> None:
    rows = [
        GOOD_ROWS[0],
        "G21,P3,associate,,lithography,,,seeking",  # another programme
        "G22,P1,phd,,nonexistent_skill,,,seeking",  # phd is an alias of doctor; an unknown skill
        "G06,P1,bachelor,,verilog,,,seeking",  # a graduate of the school's other programme (P2)
        "G23,P1,associate,,,,2026/02/30,在职",  # no such day; no such status
    ]
    before = _count(api, Graduate)
    response = api.client.post(
        "/api/v1/programs/P1/graduates/import",
        headers=api.headers["school_s1"],
        files={"file": ("graduates.csv", csv_bytes(rows), "text/csv")},
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_upload"
    found = {(d["row"], d["letter"], d["field"]) for d in error["details"]}
    assert found == {
        (3, "B", "program_id"),
        (4, "E", "skills"),
        (5, "A", "graduate_id"),
        (6, "G", "available_from"),
        (6, "H", "status"),
    }
    texts = [d["text"] for d in error["details"]]
    assert "第 6 行 · G 列（available_from）：“2026/02/30”不是有效日期" in texts[3]
    assert error["message"].startswith("文件有 5 处问题，未导入任何数据")
    assert _count(api, Graduate) == before  # nothing stored, not even the valid row
    assert _count(api, Graduate, graduate_id="G20") == 0
    english = api.client.post(
        "/api/v1/programs/P1/graduates/import",
        headers={**api.headers["school_s1"], "Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"},
        files={"file": ("graduates.csv", csv_bytes(rows), "text/csv")},
    ).json()["error"]
    assert english["details"][3]["text"].startswith("Row 6 · column G (available_from): '2026/02/30' is not")
    assert english["message"].startswith("5 problem(s) in the file, nothing imported")


def test_graduates_import_bad_files_and_tenancy(api: Api) -> None:
    url = "/api/v1/programs/P1/graduates/import"
    upload = {"file": ("graduates.csv", csv_bytes(GOOD_ROWS), "text/csv")}
    assert api.client.post(url, headers=api.headers["school_s2"], files=upload).status_code == 404
    assert api.client.post(url, headers=api.headers["hr_e1"], files=upload).status_code == 403
    utf16 = {"file": ("graduates.csv", "graduate_id\n编号".encode("utf-16"), "text/csv")}
    response = api.client.post(url, headers=api.headers["school_s1"], files=utf16)
    assert response.status_code == 422 and "无法识别文件编码" in response.json()["error"]["message"]
    header_only = {"file": ("graduates.csv", csv_bytes([]), "text/csv")}
    assert api.client.post(url, headers=api.headers["school_s1"], files=header_only).status_code == 422
    missing = api.client.post(url, headers=api.headers["school_s1"])
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "validation_error"


def test_placements_of_a_programme_without_seeking_graduates(api_model: Api) -> None:
    from tests.factories import make_program

    with api_model.session() as session:
        make_program(
            session, program_id="P_EMPTY", school_id="S1", kind="order_class", sponsor_enterprise_id="E1"
        )
        session.commit()
    response = api_model.client.get(
        "/api/v1/programs/P_EMPTY/placements", headers=api_model.headers["school_s1"]
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["assignments"] == [] and body["unassigned"] == []
    assert body["metrics"]["graduates"] == 0 and body["metrics"]["coverage"] == 0.0
    gaps = api_model.client.get("/api/v1/programs/P_EMPTY/skill-gaps", headers=api_model.headers["school_s1"])
    assert gaps.status_code == 200 and gaps.json()["cohort_size"] == 0
