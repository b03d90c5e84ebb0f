"""One score per pair, with one meaning, through HTTP: candidates, recommendations and placement plans agree.

``score`` is the estimated probability that a pairing succeeds (the graduate applies and does not decline,
and the employer advances them). A pair seen on more than one route must carry the same number there, for
the same model version; a vacancy posted a second ago is scored without retraining, like any other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.api.schemas import SCORE_DESCRIPTION
from service.app import create_app
from service.schools import DEFAULT_MIN_SCORE
from service.store.market import import_market, load_market
from service.store.migrate import upgrade
from service.store.session import make_engine, make_sessionmaker
from tests.factories import make_api_key
from tests.service.api.conftest import Api, settings_for
from tests.serving import StaticHolder

MODEL_VERSION = "scores-small-1"
TOLERANCE = 1e-9
VACANCIES = 12  # open vacancies whose candidates are compared
GRADUATES = 40  # graduates (drawn from those candidates) whose suggestions are compared

Pair = tuple[str, str]  # (graduate_id, vacancy_id)


@dataclass
class DemoApi:
    """The app on a store holding the small demo world, serving a matcher trained on it."""

    client: TestClient
    headers: dict[str, str]
    open_vacancies: list[str]
    required: dict[str, list[str]]  # open vacancy -> its required skills
    enterprise: dict[str, str]  # open vacancy -> its enterprise
    program_of: dict[str, str]  # seeking graduate -> programme


@pytest.fixture(scope="module")
def demo_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoApi]:
    """The small demo world (1,368 graduates, 300 vacancies) with a real matcher: enough history that
    scores differ from pair to pair (on ``tiny_market()`` the matcher gives every pair the same score)."""
    from models.columns import Columns as C
    from models.matcher import Matcher, MatcherConfig
    from training.demo import generate
    from training.registry import LoadedModel

    root: Path = tmp_path_factory.mktemp("scores")
    engine = make_engine(f"sqlite:///{root / 'talentmatch.db'}")
    upgrade(engine)
    with make_sessionmaker(engine)() as session, session.begin():
        import_market(session=session, data=generate("small", seed=7).data)
        _, admin = make_api_key(session, role="admin", name="admin")
    with make_sessionmaker(engine)() as session:
        data = load_market(session=session)
    config = MatcherConfig(no_components=8, epochs=5, num_threads=1, candidates=("compact",), seed=7)
    model = LoadedModel(version=MODEL_VERSION, matcher=Matcher(config).fit(data), manifest={})
    vacancies = data.vacancies[data.vacancies[C.status] == "open"]
    graduates = data.graduates[data.graduates[C.status] == "seeking"]
    app = create_app(settings_for(engine, root), model_holder=StaticHolder(model))
    try:
        with TestClient(app) as client:
            yield DemoApi(
                client=client,
                headers={"Authorization": f"Bearer {admin}"},
                open_vacancies=sorted(vacancies[C.vacancy]),
                required=dict(zip(vacancies[C.vacancy], vacancies[C.required_skills], strict=True)),
                enterprise=dict(zip(vacancies[C.vacancy], vacancies[C.enterprise], strict=True)),
                program_of=dict(zip(graduates[C.graduate], graduates[C.program], strict=True)),
            )
    finally:
        engine.dispose()


def _get(api: DemoApi, path: str, **params: Any) -> dict[str, Any]:
    response = api.client.get(path, params=params, headers=api.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["model_version"] == MODEL_VERSION
    return body


def candidate_scores(api: DemoApi, vacancy_id: str) -> dict[Pair, float]:
    body = _get(api, f"/api/v1/vacancies/{vacancy_id}/candidates", limit=100, include_below_floor=True)
    return {(c["graduate_id"], vacancy_id): c["score"] for c in body["items"]}


def recommendation_scores(api: DemoApi, graduate_id: str) -> dict[Pair, float]:
    body = _get(api, f"/api/v1/graduates/{graduate_id}/recommendations", limit=100, include_below_floor=True)
    return {(graduate_id, r["vacancy_id"]): r["score"] for r in body["items"]}


def placement_scores(api: DemoApi, program_id: str) -> dict[Pair, float]:
    # min_score=0: every graduate the plan can place is assigned; the others list their best vacancies.
    plan = _get(api, f"/api/v1/programs/{program_id}/placements", min_score=0)
    scores = {(a["graduate_id"], a["vacancy_id"]): a["score"] for a in plan["assignments"]}
    for unassigned in plan["unassigned"]:
        for alternative in unassigned["alternatives"]:
            scores[(unassigned["graduate_id"], alternative["vacancy_id"])] = alternative["score"]
    return scores


def disagreements(routes: dict[str, dict[Pair, float]]) -> list[tuple[Pair, dict[str, float]]]:
    """Pairs seen on more than one route whose scores differ by more than the tolerance."""
    seen: dict[Pair, dict[str, float]] = defaultdict(dict)
    for route, scores in routes.items():
        for pair, score in scores.items():
            seen[pair][route] = score
    return [
        (pair, by_route)
        for pair, by_route in sorted(seen.items())
        if len(by_route) > 1 and max(by_route.values()) - min(by_route.values()) > TOLERANCE
    ]


def shared(first: dict[Pair, float], second: dict[Pair, float]) -> set[Pair]:
    return set(first) & set(second)


def test_a_pair_has_the_same_score_on_every_route(demo_api: DemoApi) -> None:
    api = demo_api
    step = max(1, len(api.open_vacancies) // VACANCIES)
    candidates: dict[Pair, float] = {}
    for vacancy_id in api.open_vacancies[::step][:VACANCIES]:
        candidates.update(candidate_scores(api, vacancy_id))
    pool = sorted({g for g, _ in candidates})
    graduates = pool[:: max(1, len(pool) // GRADUATES)][:GRADUATES]
    recommendations: dict[Pair, float] = {}
    for graduate_id in graduates:
        recommendations.update(recommendation_scores(api, graduate_id))
    placements: dict[Pair, float] = {}
    for program_id in sorted({api.program_of[g] for g in graduates}):
        placements.update(placement_scores(api, program_id))
    routes = {"candidates": candidates, "recommendations": recommendations, "placements": placements}
    # Not vacuous: the routes share many pairs, and their scores are not one constant.
    assert len(shared(candidates, recommendations)) >= 50
    assert len(shared(candidates, placements)) >= 10
    assert len(shared(recommendations, placements)) >= 30
    assert len({round(s, 6) for s in candidates.values()}) >= 20
    differing = disagreements(routes)
    compared = len(set(candidates) | set(recommendations) | set(placements))
    assert not differing, f"{len(differing)} of {compared} pairs differ between routes, e.g. {differing[:3]}"


def test_a_vacancy_posted_a_second_ago_is_scored_without_retraining(demo_api: DemoApi) -> None:
    api = demo_api
    like = next(v for v in api.open_vacancies if len(api.required[v]) >= 2)
    candidate_scores(api, like)  # the candidate index exists before the post
    # Posted as HR usually posts: no role, so its job family (segment + role) is new to the candidate index.
    posted = api.client.post(
        "/api/v1/vacancies",
        json={
            "enterprise_id": api.enterprise[like],
            "title": "新岗位：封装与测试技术员",
            "district": "越城区",
            "required_skills": list(api.required[like]),
            "min_education": "secondary",
            "headcount": 2,
        },
        headers=api.headers,
    )
    assert posted.status_code == 201, posted.text
    vacancy_id = posted.json()["vacancy_id"]
    # Asked at once: ranked by the served model (same version: no retraining), the vacancy read fresh.
    fresh = candidate_scores(api, vacancy_id)
    assert len(fresh) >= 10 and len(set(fresh.values())) > 1
    # Once the candidate index has caught up, its candidates' suggestions hold it, scored the same.
    api.client.app.state.matching.wait_for_refresh()  # type: ignore[attr-defined]
    graduates = sorted({g for g, _ in fresh})[:GRADUATES]
    suggested: dict[Pair, float] = {}
    for graduate_id in graduates:
        suggested.update(recommendation_scores(api, graduate_id))
    asked = {pair for pair in fresh if pair[0] in graduates}
    assert asked <= set(suggested), "the new vacancy is missing from its candidates' suggestions"
    differing = disagreements({"candidates": fresh, "recommendations": suggested})
    assert not differing, f"{len(differing)} of {len(asked)} pairs differ, e.g. {differing[:3]}"
    assert candidate_scores(api, vacancy_id) == pytest.approx(fresh, abs=TOLERANCE)


def test_holding_more_of_the_required_skills_never_lowers_the_score(demo_api: DemoApi) -> None:
    """Two graduates uploaded into the same programme, identical but for one more required skill of a
    vacancy held: through the candidates route, the second never scores lower (the model is monotone
    in required-skill coverage on both sides, and the calibration is strictly increasing)."""
    api = demo_api
    checked = 0
    for vacancy in [v for v in api.open_vacancies if len(api.required[v]) >= 3][:5]:
        required = list(api.required[vacancy])
        program = sorted(set(api.program_of.values()))[checked % 7]
        rows = ["graduate_id,program_id,education,major,skills,preferred_districts,available_from,status"]
        for held in range(len(required) + 1):  # 0 .. all of the required skills
            skills = ";".join(required[:held])
            rows.append(f"MONO{checked}{held:02d},{program},doctor,,{skills},,,seeking")
        upload = api.client.post(
            f"/api/v1/programs/{program}/graduates/import",
            files={"file": ("graduates.csv", "\n".join(rows).encode(), "text/csv")},
            headers=api.headers,
        )
        assert upload.status_code == 200, upload.text
        # The first request after a write starts the candidate index's refresh; wait for it to finish.
        _get(api, f"/api/v1/vacancies/{vacancy}/candidates", limit=1)
        api.client.app.state.matching.wait_for_refresh()  # type: ignore[attr-defined]
        scores: dict[str, float] = {}
        offset, total = 0, 1
        while offset < total:  # every page of the programme's candidates
            body = _get(
                api,
                f"/api/v1/vacancies/{vacancy}/candidates",
                program_id=program,
                limit=100,
                offset=offset,
                include_below_floor="true",
            )
            scores.update({m["graduate_id"]: m["score"] for m in body["items"]})
            offset, total = offset + 100, body["total"]
        missing = [
            f"MONO{checked}{h:02d}" for h in range(len(required) + 1) if f"MONO{checked}{h:02d}" not in scores
        ]
        assert not missing, (missing, total, len(scores), body.get("below_floor"), program)
        ours = [scores[f"MONO{checked}{held:02d}"] for held in range(len(required) + 1)]
        assert all(b >= a - TOLERANCE for a, b in zip(ours, ours[1:], strict=False)), (vacancy, ours)
        assert ours[-1] > ours[0], (vacancy, ours)
        checked += 1
    assert checked >= 3


def test_score_has_one_documented_meaning_in_the_openapi_schema(api: Api) -> None:
    schemas = api.client.get("/openapi.json").json()["components"]["schemas"]
    described = {
        name: schema["properties"]["score"].get("description")
        for name, schema in schemas.items()
        if "score" in schema.get("properties", {})
    }
    assert set(described) >= {
        "CandidatePublic",
        "RecommendationPublic",
        "AssignmentPublic",
        "AlternativePublic",
    }
    assert set(described.values()) == {SCORE_DESCRIPTION}
    assert SCORE_DESCRIPTION.startswith(
        "The estimated probability that this pairing succeeds (the graduate applies and does not decline, "
        "and the employer advances them)."
    )
    # No second thing called a score: every other property naming one says what it is.
    for name, schema in schemas.items():
        for prop, spec in schema.get("properties", {}).items():
            if "score" in prop and prop != "score":
                assert spec.get("description"), f"{name}.{prop} is undocumented"


def test_placements_default_to_the_shared_minimum_score(api_with_model: Api) -> None:
    plan = api_with_model.client.get(
        "/api/v1/programs/P3/placements", headers=api_with_model.headers["admin"]
    ).json()
    assert plan["min_score"] == DEFAULT_MIN_SCORE == 0.02
    assert all(a["score"] >= DEFAULT_MIN_SCORE for a in plan["assignments"])
