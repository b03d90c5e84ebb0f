"""Ranked candidates through HTTP with a real (tiny) trained matcher."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine, select

from models.bundle import read_bundle, write_bundle
from models.columns import Columns as C
from service.store.market import import_market
from service.store.tables import AuditEntry
from tests.bundles import tiny_market
from tests.service.api.conftest import Api, Template, make_seeded_api
from tests.serving import TINY_VERSION
from tests.statements import recorded_statements
from training.registry import LoadedModel

SEEKING = {"G01", "G02", "G03", "G05", "G06", "G07", "G09", "G10", "G11"}
GRADUATE_PROGRAM = {"G01": "P1", "G02": "P1", "G03": "P1", "G05": "P2", "G06": "P2", "G07": "P2"}


def candidates(api: Api, vacancy_id: str, key: str = "hr_e2", **params: Any):
    return api.client.get(
        f"/api/v1/vacancies/{vacancy_id}/candidates", params=params, headers=api.headers[key]
    )


def test_candidates_are_seeking_ranked_and_described(api_with_model: Api) -> None:
    response = candidates(api_with_model, "V3")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["vacancy_id"] == "V3" and body["model_version"] == TINY_VERSION
    items = body["items"]
    assert items and body["total"] >= len(items)
    assert {c["graduate_id"] for c in items} <= SEEKING
    scores = [c["score"] for c in items]
    assert scores == sorted(scores, reverse=True) and all(0.0 <= s <= 1.0 for s in scores)
    g05 = next(c for c in items if c["graduate_id"] == "G05")
    assert g05["program_id"] == "P2" and g05["program_name"] == "封装测试高级研修班"
    assert g05["school_name"] == "绍兴职业技术学院" and g05["education"] == "secondary"
    assert g05["skills"] == ["wire_bonding", "flip_chip"]
    assert "wire_bonding" in g05["matched_skills"]
    assert all({"code", "message"} == set(r) for c in items for r in c["reasons"])


def test_hard_filters_and_pagination(api_with_model: Api) -> None:
    api = api_with_model
    design = candidates(api, "V5").json()  # bachelor minimum
    assert {c["graduate_id"] for c in design["items"]} <= {"G09", "G10", "G11"}
    training = candidates(api, "V3", program_kind="training").json()
    assert training["items"] and {c["program_id"] for c in training["items"]} == {"P2"}
    only_p1 = candidates(api, "V3", program_id="P1").json()
    assert {c["program_id"] for c in only_p1["items"]} <= {"P1"}
    everyone = candidates(api, "V3", limit=100).json()
    page = candidates(api, "V3", limit=2, offset=1).json()
    assert [c["graduate_id"] for c in page["items"]] == [c["graduate_id"] for c in everyone["items"][1:3]]
    assert page["total"] == everyone["total"]
    for params in ({"limit": 101}, {"offset": -1}, {"program_kind": "phd"}, {"district": "x" * 101}):
        bad = candidates(api, "V3", **params)
        assert bad.status_code == 422, params


def test_every_listing_is_audited(api_with_model: Api) -> None:
    api = api_with_model
    listed = candidates(api, "V3", limit=3).json()
    with api.session() as session:
        entry = session.scalars(select(AuditEntry)).one()
    assert entry.key_id == api.key_ids["hr_e2"] and entry.action == "list_candidates"
    assert entry.resource == "vacancy:V3"
    detail = json.loads(entry.detail)
    assert detail["count"] == len(listed["items"]) and detail["via"] == "api"
    # The audit says which (pseudonymous) graduates were shown to whom, in the order shown.
    assert detail["graduates"] == [c["graduate_id"] for c in listed["items"]]


def test_a_vacancy_posted_a_second_ago_gets_candidates(api_with_model: Api) -> None:
    api = api_with_model
    candidates(api, "V3")  # the index exists before the post
    posted = api.client.post(
        "/api/v1/vacancies",
        json={"title": "封装技术员", "district": "滨海新区", "description": "熟悉引线键合和倒装焊工艺"},
        headers=api.headers["hr_e2"],
    ).json()
    response = candidates(api, posted["vacancy_id"])
    assert response.status_code == 200
    ids = [c["graduate_id"] for c in response.json()["items"]]
    assert ids and set(ids) <= SEEKING
    # answered at once from the index updated with just that vacancy, not rebuilt
    matching = api.client.app.state.matching  # type: ignore[attr-defined]
    again = candidates(api, posted["vacancy_id"]).json()
    assert [c["graduate_id"] for c in again["items"]] == ids
    assert [c["score"] for c in again["items"]] == [c["score"] for c in response.json()["items"]]
    assert matching.builds == 1 and matching.updates >= 1


def test_hired_graduates_leave_the_candidate_list(api_with_model: Api) -> None:
    api = api_with_model
    before = [c["graduate_id"] for c in candidates(api, "V3", limit=100).json()["items"]]
    hired = before[0]
    api.client.post(
        "/api/v1/vacancies/V3/feedback",
        json={"graduate_id": hired, "event": "hired"},
        headers=api.headers["hr_e2"],
    )
    after = [c["graduate_id"] for c in candidates(api, "V3", limit=100).json()["items"]]
    assert hired not in after and set(after) == set(before) - {hired}


def test_posted_and_imported_vacancies_get_the_same_candidates(api_with_model: Api, tmp_path: Path) -> None:
    api = api_with_model
    fields = {
        "title": "倒装焊工艺技术员",
        "role": "technician",
        "required_skills": ["flip_chip"],
        "preferred_skills": ["wire_bonding"],
        "min_education": "secondary",
        "district": "滨海新区",
        "headcount": 2,
        "salary_min": 5000,
        "salary_max": 7000,
        "description": "倒装焊",
    }
    posted = api.client.post("/api/v1/vacancies", json=fields, headers=api.headers["hr_e2"]).json()
    # The same vacancy through a CSV bundle and the importer.
    market = tiny_market()
    row = {
        **{k: v for k, v in fields.items()},
        C.vacancy: "V_CSV",
        C.enterprise: "E2",
        C.salary_min: 5000.0,
        C.salary_max: 7000.0,
        C.posted_at: pd.Timestamp(posted["posted_at"]),
        C.closes_at: pd.NaT,
        C.status: "open",
    }
    vacancies = pd.concat(
        [market.vacancies, pd.DataFrame([row])[market.vacancies.columns]], ignore_index=True
    )
    write_bundle(replace(market, vacancies=vacancies), tmp_path / "bundle")
    with api.session() as session, session.begin():
        import_market(session=session, data=read_bundle(tmp_path / "bundle"))
    via_api = candidates(api, posted["vacancy_id"], limit=100).json()
    via_csv = candidates(api, "V_CSV", limit=100).json()
    assert via_api["total"] == via_csv["total"] > 0
    for a, b in zip(via_api["items"], via_csv["items"], strict=True):
        assert a["graduate_id"] == b["graduate_id"]
        assert abs(a["score"] - b["score"]) < 1e-9
        assert a["matched_skills"] == b["matched_skills"] and a["reasons"] == b["reasons"]
    stored = api.client.get("/api/v1/vacancies/V_CSV", headers=api.headers["hr_e2"]).json()
    for key in (
        "required_skills",
        "preferred_skills",
        "min_education",
        "district",
        "headcount",
        "salary_min",
    ):
        assert stored[key] == posted[key]


def test_concurrent_requests_build_the_index_once(api_with_model: Api) -> None:
    api = api_with_model
    statuses: list[int] = []

    def ask() -> None:
        statuses.append(candidates(api, "V3").status_code)

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 6
    assert api.client.app.state.matching.builds == 1  # type: ignore[attr-defined]


def test_a_model_swap_is_picked_up_and_answers_carry_one_version(
    api_with_model: Api, tiny_model: Any
) -> None:
    api = api_with_model
    assert candidates(api, "V3").json()["model_version"] == TINY_VERSION
    api.holder.model = replace(tiny_model, version="tiny-2")
    first = candidates(api, "V3").json()  # the old model answers, wholly, while the new index builds
    assert first["model_version"] in (TINY_VERSION, "tiny-2")
    api.client.app.state.matching.wait_for_refresh()  # type: ignore[attr-defined]
    swapped = candidates(api, "V3").json()
    assert swapped["model_version"] == "tiny-2"
    api.holder.model = None
    response = candidates(api, "V3")
    assert response.status_code == 503 and response.json()["error"]["code"] == "model_not_ready"


def test_a_repeated_listing_reads_nothing_from_the_store(
    seeded_sqlite: Engine, seeded_template: Template, tmp_path: Path, tiny_model: LoadedModel
) -> None:
    """With the key cached and the data version read a moment ago, a listing answers from memory: the
    vacancy's tenancy from the snapshot, the audit entry journaled (written later by its thread)."""
    for api in make_seeded_api(
        seeded_sqlite, seeded_template, tmp_path, model=tiny_model, data_version_check_seconds=2.0
    ):
        assert candidates(api, "V3").status_code == 200  # the index, the key, the version
        with statements() as seen:
            for _ in range(3):
                assert candidates(api, "V3").status_code == 200
            # Another enterprise's vacancy is a 404, as an unknown one, and told without the store too.
            refused = candidates(api, "V1")
            assert refused.status_code == 404 and refused.json()["error"]["code"] == "vacancy_not_found"
        assert seen == []
        assert candidates(api, "V-none").status_code == 404  # not in the snapshot: the store says so


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL statements of request handling while the block runs (the audit writer's and the index
    builder's threads left out)."""
    with recorded_statements(
        lambda _: threading.current_thread().name not in ("audit-writer", "matching-refresh")
    ) as seen:
        yield seen
