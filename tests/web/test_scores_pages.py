"""What 匹配度 means on the pages, the recommendation floor's "other graduates", and the placement default."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from service.schools import DEFAULT_MIN_SCORE
from tests.web.conftest import Web, _make_web

LEGEND_ZH = "匹配度：预计双方达成的可能性（毕业生投递且不拒绝，企业推进到入围及以后）"
LEGEND_EN = "Match: the estimated chance that this pairing succeeds"
PAGES = {"hr": "/vacancies/V2", "school": "/graduates/G01"}


@pytest.fixture
def web_high_floor(sqlite_engine: Engine, tmp_path: Path, tiny_model: Any) -> Iterator[Web]:
    """Pages with the tiny model under a recommendation floor no pair reaches."""
    yield from _make_web(sqlite_engine, tmp_path, tiny_model, min_recommend_score=0.99)


def _recommended(html: str, attribute: str) -> list[str]:
    return re.findall(rf'<li class="candidate" data-{attribute}="([^"]+)"', html)


def _others(html: str, attribute: str) -> list[str]:
    return re.findall(rf'<li class="candidate other" data-{attribute}="([^"]+)"', html)


@pytest.mark.parametrize("role", ["hr", "school"])
def test_pages_with_scores_say_what_the_match_means(web_with_model: Web, role: str) -> None:
    web = web_with_model
    web.sign_in(role)
    for path in [PAGES[role]] + (["/programs/P1/placement"] if role == "school" else []):
        html = web.client.get(path).text
        assert LEGEND_ZH in html and 'id="score-legend"' in html, path
    web.client.get("/lang/en")
    assert LEGEND_EN in web.client.get(PAGES[role]).text


def test_candidates_above_the_floor_are_recommendations_and_none_are_folded(web_with_model: Web) -> None:
    web = web_with_model
    web.sign_in("hr")
    html = web.client.get("/vacancies/V2").text
    assert _recommended(html, "graduate") and not _others(html, "graduate")
    assert "其他毕业生" not in html


def test_candidates_below_the_floor_are_folded_into_other_graduates(web_high_floor: Web) -> None:
    web = web_high_floor
    web.sign_in("hr")
    html = web.client.get("/vacancies/V2").text
    assert _recommended(html, "graduate") == []
    others = _others(html, "graduate")
    assert others and len(others) == len(set(others))
    assert "暂时没有候选人达到推荐下限（匹配度 99%）" in html
    folded = re.search(r'<details class="others" id="other-candidates">\s*<summary>([^<]+)</summary>', html)
    assert folded and folded[1] == f"其他毕业生（{len(others)} 名）"
    assert "匹配度低于 99%，不作为推荐。" in html
    assert 'rel="next"' not in html  # the recommendations end here
    web.client.get("/lang/en")
    assert "Other graduates" in web.client.get("/vacancies/V2").text


def test_suggestions_below_the_floor_are_folded_into_other_vacancies(web_high_floor: Web) -> None:
    web = web_high_floor
    web.sign_in("school")
    html = web.client.get("/graduates/G01").text
    assert _recommended(html, "vacancy") == [] and _others(html, "vacancy")
    assert '<details class="others" id="other-vacancies">' in html and "其他岗位" in html


def test_placement_page_defaults_to_the_apis_minimum_score(web_with_model: Web) -> None:
    web = web_with_model
    web.sign_in("school")
    html = web.client.get("/programs/P1/placement").text
    assert DEFAULT_MIN_SCORE == 0.02
    assert re.search(r'id="min_score" name="min_score" [^>]*value="2%"', html)
    assert "默认 2%：成功可能性低于此值的安排不予采用" in html


def test_unassigned_graduates_are_told_the_minimum_and_the_training_that_helps(web_with_model: Web) -> None:
    web = web_with_model
    web.sign_in("school")
    html = web.client.get("/programs/P1/placement", params={"min_score": "99"}).text
    assert "没有岗位达到最低匹配度 99%：成功的可能性这么低的安排不予采用" in html
    row = re.search(r'<tr data-graduate="G01">(.*?)</tr>', html, re.S)
    assert row and "建议培训" in row[1]
    assert re.search(
        r'data-skill="wire_bonding">引线键合 —\s*<span class="muted">由 封装测试高级研修班 讲授', row[1]
    )
    web.client.get("/lang/en")
    english = web.client.get("/programs/P1/placement", params={"min_score": "99"}).text
    assert "No vacancy reaches the minimum match of 99%" in english and "Training that would help" in english
