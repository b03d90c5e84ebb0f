"""PIPL art. 24: automated recommendations come with their explanation and a non-personalised alternative.

``?personalised=false`` on candidates and recommendations ranks by plain filters and skill overlap with the
keyword matcher, never the trained model: it works before any model is trained, and its answers do not
change when the served model does.
"""

from __future__ import annotations

from tests.bundles import GRADUATES, VACANCIES
from tests.service.api.conftest import Api

SEEKING = {g[0] for g in GRADUATES if g[7] == "seeking"}
SKILLS = {g[0]: set(g[4]) for g in GRADUATES}
REQUIRED = {v[0]: set(v[4]) for v in VACANCIES}
OPEN = {v[0] for v in VACANCIES if v[13] == "open"}


def test_candidates_without_the_model_rank_by_skill_overlap(api: Api) -> None:
    hr = api.headers["hr_e1"]
    assert api.client.get("/api/v1/vacancies/V1/candidates", headers=hr).status_code == 503  # no model yet
    response = api.client.get("/api/v1/vacancies/V1/candidates?personalised=false&limit=100", headers=hr)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model_version"] == "non-personalised"
    items = body["items"]
    assert items and {i["graduate_id"] for i in items} <= SEEKING
    scores = [i["score"] for i in items]
    assert scores == sorted(scores, reverse=True)
    for item in items:
        held = SKILLS[item["graduate_id"]] & REQUIRED["V1"]
        assert set(item["matched_skills"]) == held
        assert item["reasons"] and item["reasons"][0]["code"] == "required_skills"
        assert item["score"] >= len(held) / len(REQUIRED["V1"]) - 1e-9
    # Graduates holding the required skill come before those who do not.
    holders = [i["score"] for i in items if SKILLS[i["graduate_id"]] & REQUIRED["V1"]]
    others = [i["score"] for i in items if not SKILLS[i["graduate_id"]] & REQUIRED["V1"]]
    assert holders and (not others or min(holders) > max(others))


def test_plain_filters_apply_and_the_listing_is_audited(api: Api) -> None:
    hr = api.headers["hr_e1"]
    filtered = api.client.get(
        "/api/v1/vacancies/V1/candidates?personalised=false&program_kind=order_class&limit=100", headers=hr
    ).json()
    assert filtered["items"] and {i["program_id"] for i in filtered["items"]} == {"P1"}
    foreign = api.client.get("/api/v1/vacancies/V3/candidates?personalised=false", headers=hr)
    assert foreign.status_code == 404  # the access rule is the same
    audit = api.client.get("/api/v1/admin/audit?action=list_candidates", headers=api.headers["admin"]).json()
    assert any("non-personalised" in entry["detail"] for entry in audit["items"])


def test_recommendations_without_the_model(api: Api) -> None:
    school = api.headers["school_s1"]
    assert api.client.get("/api/v1/graduates/G05/recommendations", headers=school).status_code == 503
    response = api.client.get("/api/v1/graduates/G05/recommendations?personalised=false", headers=school)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model_version"] == "non-personalised"
    assert body["items"] and {i["vacancy_id"] for i in body["items"]} <= OPEN
    best = body["items"][0]
    assert REQUIRED[best["vacancy_id"]] <= SKILLS["G05"]  # G05 holds wire bonding: V3 first
    assert best["reasons"][0]["code"] == "required_skills"


def test_the_alternative_ignores_the_served_model(api_with_model: Api) -> None:
    api = api_with_model
    hr = api.headers["hr_e1"]
    plain = api.client.get("/api/v1/vacancies/V1/candidates?personalised=false&limit=100", headers=hr).json()
    personal = api.client.get("/api/v1/vacancies/V1/candidates?limit=100", headers=hr).json()
    assert personal["model_version"] != "non-personalised"
    api.holder.model = None  # the model goes away: the alternative answers exactly as before
    again = api.client.get("/api/v1/vacancies/V1/candidates?personalised=false&limit=100", headers=hr).json()
    assert again == plain
