"""The recommendation floor (``TALENTMATCH_MIN_RECOMMEND_SCORE``): ranks below it are not recommendations.

One rule (:class:`service.matching.RankedPage`) serves the API and the web pages: the API leaves those ranks
out of ``items`` unless ``include_below_floor=true`` and says how many there were (``below_floor``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from models.results import Match, MatchResult
from service.matching import RankedPage, Snapshot
from service.settings import Settings
from tests.service.api.conftest import Api, Template, make_seeded_api


def _page(scores: list[float], *, total: int, offset: int = 0, floor: float = 0.1) -> RankedPage:
    items = [Match(graduate_id=f"G{i}", vacancy_id="V", score=s) for i, s in enumerate(scores)]
    snapshot = Snapshot(model_version="m", data_version=1, model=None, index=None)  # type: ignore[arg-type]
    return RankedPage.split(snapshot, MatchResult(items=items, total=total), offset=offset, floor=floor)


def test_a_page_splits_at_the_floor() -> None:
    before = _page([0.5, 0.4, 0.3], total=40)  # the floor lies beyond this page
    assert [m.score for m in before.recommended] == [0.5, 0.4, 0.3] and before.below == []
    assert not before.ends_here and before.below_floor == 0 and before.below_from_here == 0
    boundary = _page([0.3, 0.2, 0.05, 0.01], total=40, offset=10)
    assert [m.score for m in boundary.recommended] == [0.3, 0.2]
    assert [m.score for m in boundary.below] == [0.05, 0.01]
    assert boundary.ends_here and boundary.below_floor == 2
    assert boundary.below_from_here == 40 - 10 - 2  # every later rank is below the floor too
    assert boundary.shown() == boundary.recommended
    assert boundary.shown(include_below=True) == boundary.items
    last = _page([0.5, 0.4], total=2)
    assert last.ends_here and last.below_from_here == 0
    at_the_floor = _page([0.1], total=1)
    assert at_the_floor.recommended and not at_the_floor.below


def test_the_floor_defaults_to_two_percent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TALENTMATCH_MIN_RECOMMEND_SCORE", raising=False)
    assert Settings().min_recommend_score == 0.02
    monkeypatch.setenv("TALENTMATCH_MIN_RECOMMEND_SCORE", "0.05")
    assert Settings().min_recommend_score == 0.05


@pytest.fixture
def high_floor(
    seeded_sqlite: Engine, seeded_template: Template, tmp_path: Path, tiny_model: Any
) -> Iterator[Api]:
    """The tiny model under a floor no pair reaches."""
    yield from make_seeded_api(
        seeded_sqlite, seeded_template, tmp_path, model=tiny_model, min_recommend_score=0.99
    )


def test_candidates_below_the_floor_are_counted_not_listed(high_floor: Api) -> None:
    api = high_floor
    url = "/api/v1/vacancies/V3/candidates"
    body = api.client.get(url, params={"limit": 4}, headers=api.headers["hr_e2"]).json()
    assert body["items"] == [] and body["score_floor"] == 0.99
    assert body["below_floor"] == 4 and body["total"] >= 4
    everything = api.client.get(
        url, params={"limit": 4, "include_below_floor": True}, headers=api.headers["hr_e2"]
    ).json()
    assert len(everything["items"]) == 4 and everything["below_floor"] == 4
    assert all(c["score"] < 0.99 for c in everything["items"])


def test_suggestions_below_the_floor_are_counted_not_listed(high_floor: Api) -> None:
    api = high_floor
    url = "/api/v1/graduates/G01/recommendations"
    body = api.client.get(url, headers=api.headers["school_s1"]).json()
    assert body["items"] == [] and body["below_floor"] == body["total"] > 0
    everything = api.client.get(url, params={"include_below_floor": "true"}, headers=api.headers["school_s1"])
    assert len(everything.json()["items"]) == body["total"]


def test_recommendations_at_or_above_the_floor_are_listed(api_with_model: Api) -> None:
    api = api_with_model
    body = api.client.get("/api/v1/vacancies/V3/candidates", headers=api.headers["hr_e2"]).json()
    assert body["score_floor"] == 0.02
    assert body["items"] and all(c["score"] >= 0.02 for c in body["items"])
    assert body["below_floor"] == 0
    suggestions = api.client.get("/api/v1/graduates/G05/recommendations", headers=api.headers["school_s1"])
    assert suggestions.json()["score_floor"] == 0.02 and suggestions.json()["items"]
