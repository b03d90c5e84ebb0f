"""`rerank=exposure` on a vacancy's candidates: the same graduates with the same scores, re-ordered at most;
said so in the answer; pages of the re-ranked list agree; the setting makes it the default."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.service.api.conftest import Api, Template, make_seeded_api
from training.registry import LoadedModel


def candidates(api: Api, vacancy_id: str, **params: Any) -> dict[str, Any]:
    response = api.client.get(
        f"/api/v1/vacancies/{vacancy_id}/candidates", params=params, headers=api.headers["admin"]
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_rerank_keeps_every_score_and_says_what_it_did(api_with_model: Api) -> None:
    for vacancy in ("V1", "V2", "V3", "V4", "V5"):
        plain = candidates(api_with_model, vacancy, limit=100)
        fair = candidates(api_with_model, vacancy, limit=100, rerank="exposure")
        assert plain["rerank"] == "none" and plain["reranked"] is False
        assert fair["rerank"] == "exposure" and isinstance(fair["reranked"], bool)
        own = {c["graduate_id"]: c["score"] for c in plain["items"]}
        assert {c["graduate_id"]: c["score"] for c in fair["items"]} == own  # same pairs, same scores
        assert fair["total"] == plain["total"] and fair["below_floor"] == plain["below_floor"]
        order = [c["graduate_id"] for c in fair["items"]]
        assert fair["reranked"] == (order != [c["graduate_id"] for c in plain["items"]])
        # Pages of the re-ranked list are slices of it.
        page = candidates(api_with_model, vacancy, limit=2, offset=1, rerank="exposure")
        assert [c["graduate_id"] for c in page["items"]] == order[1:3]
        assert candidates(api_with_model, vacancy, rerank="none") == candidates(api_with_model, vacancy)


def test_an_unknown_rerank_is_a_422_naming_the_parameter(api_with_model: Api) -> None:
    response = api_with_model.client.get(
        "/api/v1/vacancies/V3/candidates",
        params={"rerank": "popular"},
        headers=api_with_model.headers["admin"],
    )
    assert response.status_code == 422
    assert "rerank" in response.text


@pytest.fixture
def api_reranking(
    seeded_sqlite: Engine, seeded_template: Template, tmp_path: Path, tiny_model: LoadedModel
) -> Iterator[Api]:
    yield from make_seeded_api(
        seeded_sqlite, seeded_template, tmp_path, model=tiny_model, fair_rerank="exposure"
    )


def test_the_setting_makes_exposure_the_default_and_rerank_none_turns_it_off(api_reranking: Api) -> None:
    assert candidates(api_reranking, "V3")["rerank"] == "exposure"
    off = candidates(api_reranking, "V3", rerank="none")
    assert off["rerank"] == "none" and off["reranked"] is False
    scores = [c["score"] for c in off["items"]]
    assert scores == sorted(scores, reverse=True)
