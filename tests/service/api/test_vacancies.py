"""Vacancy routes through HTTP: post (with skill extraction), list, get, patch, close, reopen, feedback."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from service.store.tables import Graduate, Interaction, Vacancy
from tests.service.api.conftest import Api

BASE = {
    "title": "封装工艺工程师",
    "role": "process_engineer",
    "min_education": "associate",
    "district": "滨海新区",
    "headcount": 2,
    "salary_min": 6000,
    "salary_max": 9000,
}


def post(api: Api, key: str = "hr_e2", **fields: object):
    return api.client.post("/api/v1/vacancies", json={**BASE, **fields}, headers=api.headers[key])


def test_hr_posts_for_own_enterprise_with_skills_extracted_from_chinese(api: Api) -> None:
    response = post(api, description="熟悉引线键合和倒装焊工艺，有SPC经验")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["enterprise_id"] == "E2"
    assert body["vacancy_id"].startswith("v_")
    assert body["required_skills"] == ["wire_bonding", "flip_chip", "spc"]
    assert body["preferred_skills"] == []
    assert body["skills_extracted"] is True
    assert body["status"] == "open" and body["remaining_headcount"] == 2 and body["hires"] == 0
    assert response.headers["location"] == f"/api/v1/vacancies/{body['vacancy_id']}"
    stored = api.client.get(f"/api/v1/vacancies/{body['vacancy_id']}", headers=api.headers["hr_e2"]).json()
    assert stored == body  # skills_extracted is stored with the vacancy: the same in the POST and a GET


def test_role_may_be_empty_but_not_multi_line(api: Api) -> None:
    """``role`` defaults to "": sending it empty is the same as leaving it out."""
    response = post(api, role="", description="熟悉SPC")
    assert response.status_code == 201, response.text
    assert response.json()["role"] == ""
    refused = post(api, role="a\nb", description="熟悉SPC")
    assert refused.status_code == 422
    assert refused.json()["error"]["details"][0]["field"].endswith("role")


def test_preference_clauses_become_preferred_skills(api: Api) -> None:
    response = post(api, description="Wire bonding required. Flip chip experience preferred; ATE 优先")
    assert response.status_code == 201, response.text
    assert response.json()["required_skills"] == ["wire_bonding"]
    assert response.json()["preferred_skills"] == ["flip_chip", "ate_test"]


def test_given_skills_are_kept_and_not_extracted(api: Api) -> None:
    response = post(api, required_skills=["spc"], description="熟悉引线键合")
    assert response.status_code == 201
    assert response.json()["required_skills"] == ["spc"]
    assert response.json()["preferred_skills"] == []
    assert response.json()["skills_extracted"] is False


def test_an_admin_key_names_the_enterprise_it_posts_for(api: Api) -> None:
    """The schema makes enterprise_id optional (an hr key's own by default); an admin key has none, so
    leaving it out is a 403 saying so, never a 422 for a body the schema calls valid."""
    left_out = post(api, key="admin")
    assert left_out.status_code == 403, left_out.text
    assert left_out.json()["error"]["code"] == "enterprise_required"
    assert left_out.json()["error"]["details"][0]["field"] == "body.enterprise_id"
    missing = post(api, key="admin", enterprise_id="E404")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "enterprise_not_found"
    named = post(api, key="admin", enterprise_id="E2")
    assert named.status_code == 201 and named.json()["enterprise_id"] == "E2"
    openapi = api.client.get("/openapi.json").json()
    described = openapi["components"]["schemas"]["VacancyCreate"]["properties"]["enterprise_id"][
        "description"
    ]
    assert "403 `enterprise_required`" in described
    assert {"403", "404"} <= set(openapi["paths"]["/api/v1/vacancies"]["post"]["responses"])


def test_unknown_skill_ids_are_named(api: Api) -> None:
    response = post(api, required_skills=["spc", "telepathy"], preferred_skills=["levitation"])
    assert response.status_code == 404  # a reference to a skill the taxonomy does not hold
    error = response.json()["error"]
    assert error["code"] == "unknown_skill"
    assert "telepathy" in error["message"]
    assert {d["value"] for d in error["details"]} == {"telepathy"}
    assert error["details"][0]["field"] == "body.required_skills"


def test_hr_cannot_post_for_another_enterprise(api: Api) -> None:
    response = post(api, key="hr_e2", enterprise_id="E1")
    missing = post(api, key="hr_e2", enterprise_id="E999")
    assert response.status_code == missing.status_code == 403
    assert response.json() == missing.json()  # the same whether that enterprise exists or not
    assert response.json()["error"]["details"][0]["field"] == "body.enterprise_id"
    assert post(api, key="hr_e2", enterprise_id="E2").status_code == 201  # its own is fine
    with api.session() as session:
        assert (
            session.scalar(select(func.count()).select_from(Vacancy).where(Vacancy.title == BASE["title"]))
            == 1
        )


def test_bad_inputs_answer_422_with_field_paths(api: Api) -> None:
    cases: dict[str, dict[str, Any]] = {
        "body.min_education": {"min_education": "kindergarten"},
        "body.headcount": {"headcount": -1},
        "body.title": {"title": ""},
        "body.unexpected": {"unexpected": 1},
        "body.district": {"district": "越城\n区"},
        "body.salary_max": {"salary_max": 10**30},
    }
    for field, fields in cases.items():
        response = post(api, **fields)
        assert response.status_code == 422, (fields, response.text)
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert field in [d["field"] for d in error["details"]], (field, error)


def test_malformed_json_is_400_in_the_error_shape(api: Api) -> None:
    response = api.client.post(
        "/api/v1/vacancies",
        content=b'{"title": "x",',
        headers={**api.headers["hr_e1"], "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"


def test_list_is_own_enterprise_paginated_and_filtered(api: Api) -> None:
    response = api.client.get("/api/v1/vacancies", headers=api.headers["hr_e1"])
    assert response.status_code == 200
    body = response.json()
    assert {v["vacancy_id"] for v in body["items"]} == {"V1", "V2", "V6"}
    assert body["total"] == 3 and body["limit"] == 20 and body["offset"] == 0
    page = api.client.get("/api/v1/vacancies?limit=2&offset=2", headers=api.headers["hr_e1"]).json()
    assert len(page["items"]) == 1 and page["total"] == 3
    filled = api.client.get("/api/v1/vacancies?status=filled", headers=api.headers["hr_e1"]).json()
    assert [v["vacancy_id"] for v in filled["items"]] == ["V6"]
    assert filled["items"][0]["hires"] == 1 and filled["items"][0]["remaining_headcount"] == 0
    everything = api.client.get("/api/v1/vacancies?limit=100", headers=api.headers["admin"]).json()
    assert everything["total"] == 6


def test_list_limits_and_bad_status(api: Api) -> None:
    for query in ("limit=101", "limit=0", "offset=-1", "status=pending", "limit=abc"):
        response = api.client.get(f"/api/v1/vacancies?{query}", headers=api.headers["hr_e1"])
        assert response.status_code == 422, query
        assert response.json()["error"]["details"][0]["field"].startswith("query.")


def test_foreign_vacancy_is_404_like_a_missing_one(api: Api) -> None:
    foreign = api.client.get("/api/v1/vacancies/V3", headers=api.headers["hr_e1"])
    missing = api.client.get("/api/v1/vacancies/NOPE", headers=api.headers["hr_e1"])
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["error"]["code"] == missing.json()["error"]["code"] == "vacancy_not_found"
    for method, suffix, body in (
        ("PATCH", "", {"headcount": 9}),
        ("POST", "/close", None),
        ("POST", "/feedback", {"graduate_id": "G05", "event": "shortlisted"}),
        ("GET", "/candidates", None),
    ):
        response = api.client.request(
            method, f"/api/v1/vacancies/V3{suffix}", json=body, headers=api.headers["hr_e1"]
        )
        assert response.status_code == 404, (method, suffix, response.text)
        assert "封装" not in response.text  # nothing of the foreign vacancy leaks
    with api.session() as session:
        vacancy = session.get(Vacancy, "V3")
        assert vacancy is not None and vacancy.headcount == 4 and vacancy.status == "open"


def test_patch_changes_fields_and_checks_consistency(api: Api) -> None:
    headers = api.headers["hr_e1"]
    response = api.client.patch(
        "/api/v1/vacancies/V1", json={"headcount": 5, "preferred_skills": ["etching"]}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["headcount"] == 5
    assert response.json()["required_skills"] == ["lithography"]
    assert response.json()["preferred_skills"] == ["etching"]
    unknown = api.client.patch("/api/v1/vacancies/V1", json={"required_skills": ["nope"]}, headers=headers)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_skill"
    filled = api.client.patch("/api/v1/vacancies/V6", json={"headcount": 3}, headers=headers)
    assert filled.status_code == 409 and filled.json()["error"]["code"] == "vacancy_closed"


def test_a_salary_range_is_stored_lowest_first_and_a_lone_bound_may_not_cross_the_other(api: Api) -> None:
    """JSON Schema cannot say salary_min <= salary_max, so no valid-looking body is refused for it: a range
    sent the wrong way round is swapped; a bound sent alone that crosses the stored one is a 409 naming it."""
    posted = post(api, salary_min=9000, salary_max=6000)
    assert posted.status_code == 201, posted.text
    assert (posted.json()["salary_min"], posted.json()["salary_max"]) == (6000, 9000)
    url, headers = f"/api/v1/vacancies/{posted.json()['vacancy_id']}", api.headers["hr_e2"]
    both = api.client.patch(url, json={"salary_min": 12000, "salary_max": 7000}, headers=headers)
    assert both.status_code == 200 and (both.json()["salary_min"], both.json()["salary_max"]) == (7000, 12000)
    for field, value in (("salary_min", 20000), ("salary_max", 1000)):
        crossing = api.client.patch(url, json={field: value}, headers=headers)
        assert crossing.status_code == 409, crossing.text
        error = crossing.json()["error"]
        assert error["code"] == "vacancy_conflict" and error["details"][0]["field"] == f"body.{field}"
    lone = api.client.patch(url, json={"salary_max": 8000}, headers=headers)
    assert (lone.json()["salary_min"], lone.json()["salary_max"]) == (7000, 8000)
    schema = api.client.get("/openapi.json").json()["components"]["schemas"]
    assert "lowest first" in schema["VacancyCreate"]["properties"]["salary_min"]["description"]


def test_headcount_below_the_hires_is_a_conflict(api: Api) -> None:
    headers, url = api.headers["hr_e1"], "/api/v1/vacancies/V2"  # headcount 3
    for graduate in ("G02", "G03"):
        hired = api.client.post(
            f"{url}/feedback", json={"graduate_id": graduate, "event": "hired"}, headers=headers
        )
        assert hired.status_code == 201, hired.text
    below = api.client.patch(url, json={"headcount": 1}, headers=headers)
    assert below.status_code == 409, below.text
    assert below.json()["error"]["code"] == "vacancy_conflict"
    assert below.json()["error"]["details"][0]["field"] == "body.headcount"
    assert api.client.get(url, headers=headers).json()["headcount"] == 3


def test_patch_with_nulls_keeps_fields_or_clears_the_optional_ones(api: Api) -> None:
    """As the schema says: null leaves a field as it is, except salary_min, salary_max and closes_at,
    which null clears (finding 11)."""
    headers = api.headers["hr_e1"]
    before = api.client.get("/api/v1/vacancies/V1", headers=headers).json()
    every_null = dict.fromkeys(
        (
            "title",
            "role",
            "required_skills",
            "preferred_skills",
            "min_education",
            "district",
            "headcount",
            "description",
        )
    )
    response = api.client.patch("/api/v1/vacancies/V1", json=every_null, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == before
    cleared = api.client.patch(
        "/api/v1/vacancies/V1",
        json={"salary_min": None, "salary_max": None, "closes_at": None, "title": None},
        headers=headers,
    )
    assert cleared.status_code == 200, cleared.text
    body = cleared.json()
    assert (body["salary_min"], body["salary_max"], body["closes_at"]) == (None, None, None)
    assert body["title"] == before["title"] and body["headcount"] == before["headcount"]
    schema = api.client.get("/openapi.json").json()["components"]["schemas"]["VacancyUpdate"]
    assert "null" in schema["properties"]["title"]["description"].lower()
    assert "clears" in schema["properties"]["salary_min"]["description"]


def test_reopen_opens_a_closed_vacancy_and_refuses_a_filled_or_expired_one(api: Api) -> None:
    headers = api.headers["hr_e1"]
    closed = api.client.post("/api/v1/vacancies/V2/close", headers=headers)
    assert closed.json()["status"] == "closed"
    reopened = api.client.post("/api/v1/vacancies/V2/reopen", headers=headers)
    assert reopened.status_code == 200 and reopened.json()["status"] == "open"
    again = api.client.post("/api/v1/vacancies/V2/reopen", headers=headers)  # open: nothing changes
    assert again.status_code == 200 and again.json()["status"] == "open"

    filled = api.client.post("/api/v1/vacancies/V6/reopen", headers=headers)  # 1 seat, 1 hired
    assert filled.status_code == 409
    assert filled.json()["error"]["code"] == "vacancy_not_reopenable"
    assert filled.json()["error"]["details"] == [{"reason": "filled"}]
    assert "seat" in filled.json()["error"]["message"]

    api.client.patch("/api/v1/vacancies/V2", json={"closes_at": "2020-01-01T00:00:00"}, headers=headers)
    api.client.post("/api/v1/vacancies/V2/close", headers=headers)
    expired = api.client.post("/api/v1/vacancies/V2/reopen", headers=headers)
    assert expired.status_code == 409
    assert expired.json()["error"]["details"] == [{"reason": "past_closing_date"}]
    assert "2020-01-01" in expired.json()["error"]["message"]
    with api.session() as session:
        assert session.get(Vacancy, "V2").status == "closed"  # type: ignore[union-attr]
        assert session.get(Vacancy, "V6").status == "filled"  # type: ignore[union-attr]
    foreign = api.client.post("/api/v1/vacancies/V4/reopen", headers=headers)
    missing = api.client.post("/api/v1/vacancies/V404/reopen", headers=headers)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.text.replace("V4", "X") == missing.text.replace("V404", "X")


def test_vacancy_writes_are_audited(api: Api) -> None:
    headers = api.headers["hr_e1"]
    vacancy_id = post(api, key="hr_e1", required_skills=["spc"]).json()["vacancy_id"]
    api.client.patch(f"/api/v1/vacancies/{vacancy_id}", json={"headcount": 3}, headers=headers)
    api.client.post(f"/api/v1/vacancies/{vacancy_id}/close", headers=headers)
    api.client.post(f"/api/v1/vacancies/{vacancy_id}/reopen", headers=headers)
    audit = api.client.get("/api/v1/admin/audit?limit=10", headers=api.headers["admin"]).json()["items"]
    actions = [(e["action"], e["resource"]) for e in audit if e["resource"] == f"vacancy:{vacancy_id}"]
    assert [a for a, _ in actions] == ["reopen_vacancy", "close_vacancy", "patch_vacancy", "post_vacancy"]


def test_close_is_idempotent(api: Api) -> None:
    first = api.client.post("/api/v1/vacancies/V2/close", headers=api.headers["hr_e1"])
    again = api.client.post("/api/v1/vacancies/V2/close", headers=api.headers["hr_e1"])
    assert first.status_code == again.status_code == 200
    assert first.json()["status"] == again.json()["status"] == "closed"


def _interactions(api: Api, graduate: str, vacancy: str, event: str) -> int:
    with api.session() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(Interaction)
                .where(
                    Interaction.graduate_id == graduate,
                    Interaction.vacancy_id == vacancy,
                    Interaction.event == event,
                )
            )
            or 0
        )


def test_feedback_is_stored_once(api: Api) -> None:
    url, headers = "/api/v1/vacancies/V3/feedback", api.headers["hr_e2"]
    first = api.client.post(url, json={"graduate_id": "G05", "event": "interviewed"}, headers=headers)
    again = api.client.post(url, json={"graduate_id": "G05", "event": "interviewed"}, headers=headers)
    assert first.status_code == 201 and first.json()["created"] is True
    assert again.status_code == 200 and again.json()["created"] is False
    assert first.json()["occurred_at"] == again.json()["occurred_at"]
    assert _interactions(api, "G05", "V3", "interviewed") == 1


def test_hires_use_up_the_headcount_and_fill_the_vacancy(api: Api) -> None:
    headers = api.headers["hr_e1"]
    url = "/api/v1/vacancies/V1/feedback"  # headcount 2, G12 hired before
    first = api.client.post(url, json={"graduate_id": "G01", "event": "hired"}, headers=headers)
    assert first.status_code == 201
    assert first.json()["remaining_headcount"] == 0 and first.json()["vacancy_status"] == "filled"
    api.client.post(
        "/api/v1/vacancies/V2/feedback", json={"graduate_id": "G02", "event": "hired"}, headers=headers
    )
    url = "/api/v1/vacancies/V2/feedback"  # headcount 3
    second = api.client.post(url, json={"graduate_id": "G03", "event": "hired"}, headers=headers)
    assert second.json()["remaining_headcount"] == 1 and second.json()["vacancy_status"] == "open"
    api.client.patch("/api/v1/vacancies/V2", json={"headcount": 2}, headers=headers)
    repeated = api.client.post(url, json={"graduate_id": "G02", "event": "hired"}, headers=headers)
    assert repeated.status_code == 200 and repeated.json()["created"] is False
    closed = api.client.post(url, json={"graduate_id": "G10", "event": "shortlisted"}, headers=headers)
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "vacancy_closed"
    with api.session() as session:
        assert session.get(Graduate, "G01").status == "placed"  # type: ignore[union-attr]
        assert session.get(Graduate, "G02").status_changed_at is not None  # type: ignore[union-attr]
        assert session.get(Vacancy, "V1").status == "filled"  # type: ignore[union-attr]
        assert session.get(Vacancy, "V2").status == "filled"  # type: ignore[union-attr]


def test_feedback_needs_a_seeking_or_known_graduate(api: Api) -> None:
    headers = api.headers["hr_e1"]
    unknown = api.client.post(
        "/api/v1/vacancies/V2/feedback", json={"graduate_id": "G999", "event": "shortlisted"}, headers=headers
    )
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "graduate_not_found"
    placed_elsewhere = api.client.post(
        "/api/v1/vacancies/V2/feedback", json={"graduate_id": "G04", "event": "shortlisted"}, headers=headers
    )
    assert placed_elsewhere.status_code == 404
    bad_event = api.client.post(
        "/api/v1/vacancies/V2/feedback", json={"graduate_id": "G01", "event": "viewed"}, headers=headers
    )
    assert bad_event.status_code == 422
    assert bad_event.json()["error"]["details"][0]["field"] == "body.event"


def test_closed_vacancy_refuses_feedback(api: Api) -> None:
    response = api.client.post(
        "/api/v1/vacancies/V4/feedback",
        json={"graduate_id": "G07", "event": "interviewed"},
        headers=api.headers["hr_e2"],
    )
    assert response.status_code == 409


def test_writes_bump_the_data_version(api: Api) -> None:
    from service.store.session import data_version

    def version() -> int:
        with api.session() as session:
            return data_version(session)

    before = version()
    post(api)
    after_post = version()
    api.client.post(
        "/api/v1/vacancies/V3/feedback",
        json={"graduate_id": "G05", "event": "offered"},
        headers=api.headers["hr_e2"],
    )
    after_feedback = version()
    api.client.post("/api/v1/vacancies/V3/close", headers=api.headers["hr_e2"])
    assert before < after_post < after_feedback < version()


def test_any_db_round_trip(api_any_db: Api) -> None:
    api = api_any_db
    created = post(api, description="熟悉引线键合和倒装焊工艺，有SPC经验").json()
    vacancy_id = created["vacancy_id"]
    patched = api.client.patch(
        f"/api/v1/vacancies/{vacancy_id}", json={"headcount": 1}, headers=api.headers["hr_e2"]
    )
    assert patched.status_code == 200
    hired = api.client.post(
        f"/api/v1/vacancies/{vacancy_id}/feedback",
        json={"graduate_id": "G06", "event": "hired"},  # a candidate: seeking, associate as asked
        headers=api.headers["hr_e2"],
    )
    assert hired.status_code == 201 and hired.json()["vacancy_status"] == "filled"
    assert (
        api.client.get("/api/v1/skills?q=SPC", headers=api.headers["school_s1"]).json()["items"][0][
            "skill_id"
        ]
        == "spc"
    )


def test_hostile_values_get_4xx(api: Api) -> None:
    headers = api.headers["hr_e2"]
    for fields in (
        {"closes_at": "0001-01-01T00:00:00+05:00"},
        {"required_skills": ["spc\x00"]},
        {"title": "岗位\x07"},
        {"description": "x\x00y"},
    ):
        response = post(api, **fields)
        assert response.status_code == 422, (fields, response.text)
    for graduate_id in ("G05\x00", " G05", "G05\n", "../G05", "G\u202e05"):  # not the id pattern
        feedback = api.client.post(
            "/api/v1/vacancies/V3/feedback",
            json={"graduate_id": graduate_id, "event": "hired"},
            headers=headers,
        )
        assert feedback.status_code == 422, graduate_id
        assert feedback.json()["error"]["details"][0]["field"] == "body.graduate_id"
    emoji = post(api, title="封装工程师 🚀", description="熟悉倒装焊 😀 and SPC")
    assert emoji.status_code == 201 and emoji.json()["required_skills"] == ["flip_chip", "spc"]


def test_nul_bytes_in_paths_and_queries_never_500(api_any_db: Api) -> None:
    api = api_any_db
    headers = api.headers["admin"]
    assert api.client.get("/api/v1/vacancies/V3%00", headers=headers).status_code in (404, 422)
    assert api.client.get("/api/v1/skills?q=%00", headers=headers).status_code in (200, 422)
    assert api.client.get("/api/v1/admin/audit?action=%00", headers=headers).status_code in (200, 422)


def test_any_closing_date_the_schema_takes_leaves_matching_working(api_with_model: Api) -> None:
    """closes_at is any ISO 8601 date-time: one in year 429 or 9999 (outside pandas' nanosecond range) is
    stored and ranks like any other, and numbers are refused as the schema says (a string date-time)."""
    api = api_with_model
    headers = api.headers["hr_e1"]
    for closes_at in ("0429-04-13T22:52:55Z", "9999-12-31T23:59:59"):
        posted = post(api, key="hr_e1", required_skills=["lithography"], closes_at=closes_at)
        assert posted.status_code == 201, posted.text
        vacancy_id = posted.json()["vacancy_id"]
        candidates = api.client.get(f"/api/v1/vacancies/{vacancy_id}/candidates", headers=headers)
        assert candidates.status_code == 200, candidates.text
        others = api.client.get("/api/v1/vacancies/V1/candidates", headers=headers)
        assert others.status_code == 200, others.text
    number = post(api, key="hr_e1", closes_at=0)
    assert number.status_code == 422 and number.json()["error"]["details"][0]["field"] == "body.closes_at"
    text = post(api, key="hr_e1", headcount="2")
    assert text.status_code == 422 and text.json()["error"]["details"][0]["field"] == "body.headcount"


def test_whole_numbers_written_with_a_fraction_are_integers_as_json_schema_says(api: Api) -> None:
    posted = post(api, headcount=3.0, salary_min=6000.0, salary_max=9000)
    assert posted.status_code == 201, posted.text
    assert (posted.json()["headcount"], posted.json()["salary_min"]) == (3, 6000)
    fraction = post(api, headcount=2.5)
    assert fraction.status_code == 422 and fraction.json()["error"]["details"][0]["field"] == "body.headcount"
    boolean = post(api, headcount=True)
    assert boolean.status_code == 422
