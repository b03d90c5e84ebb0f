"""The public Matcher protocol: every matcher answers it, its methods agree with each other, and every
score it returns is in [0, 1] (clamped in one place)."""

from __future__ import annotations

import numpy as np
import pytest

from models.base import BaseMatcher
from models.baselines import PopularityMatcher, RandomMatcher
from models.cohort import rank_cohort
from models.data import MarketData
from models.index import GraduateBlock, MatchIndex, VacancyBlock
from models.keyword import KeywordMatcher
from models.matcher import Matcher as TrainedMatcher
from models.protocol import Matcher
from models.results import VacancyFilters

AS_OF = VacancyFilters(open_only=False)


def _matchers(trained: TrainedMatcher, market: MarketData) -> dict[str, Matcher]:
    return {
        "trained": trained,
        "keyword": KeywordMatcher().fit(),
        "random": RandomMatcher(seed=3).fit(market),
        "popularity": PopularityMatcher().fit(market),
    }


@pytest.mark.parametrize("name", ["trained", "keyword", "random", "popularity"])
def test_the_protocol_methods_agree(name: str, trained: TrainedMatcher, market: MarketData) -> None:
    matcher = _matchers(trained, market)[name]
    index = matcher.index(market)
    vacancy = str(index.vacancies.ids.ids[3])
    result = matcher.candidates_for(vacancy, index=index, limit=8)
    ranking = matcher.rank_graduates(vacancy, index=index, need=8)
    assert ranking.total == result.total
    assert index.graduates.ids.external(ranking.rows[:8]) == [m.graduate_id for m in result.items]
    assert np.array_equal(ranking.scores[:8], [m.score for m in result.items])

    g_rows = ranking.rows[:8]
    v_rows = np.full(len(g_rows), index.vacancies.ids.row(vacancy))
    scored = matcher.pair_scores(g_rows, v_rows, index=index)
    assert np.array_equal(scored.score, ranking.scores[:8])
    assert np.all(np.diff(scored.key) <= 0)  # the ranking is by key, best first
    by_id = matcher.score_pairs(index.graduates.ids.external(g_rows), [vacancy] * len(g_rows), index=index)
    assert np.array_equal(by_id, scored.score)
    explained = matcher.explain(g_rows, v_rows, scored.score, scored.features, index=index)
    assert explained == result.items

    graduate = str(index.graduates.ids.ids[5])
    suggestions = matcher.vacancies_for(graduate, index=index, limit=6, filters=AS_OF)
    head = matcher.rank_vacancies(graduate, index=index, need=6, filters=AS_OF)
    assert index.vacancies.ids.external(head.rows[:6]) == [m.vacancy_id for m in suggestions.items]
    cohort = rank_cohort(matcher, [graduate], index=index, limit=6, filters=AS_OF)
    assert cohort.matches(matcher, index, cohort.ranked(0)) == suggestions.items


class _Overconfident(KeywordMatcher):
    """A matcher whose raw probabilities leave [0, 1] (e.g. an uncalibrated model)."""

    def _pair_scores(
        self,
        index: MatchIndex,
        graduates: GraduateBlock,
        g_rows: np.ndarray,
        vacancies: VacancyBlock,
        v_rows: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        key, prob, features = super()._pair_scores(index, graduates, g_rows, vacancies, v_rows)
        return key, 3.0 * prob - 1.0, features


def test_every_public_score_is_clamped_into_0_1(market: MarketData) -> None:
    matcher = _Overconfident().fit()
    assert isinstance(matcher, BaseMatcher)
    index = matcher.index(market)
    vacancy = str(index.vacancies.ids.ids[0])
    graduate = str(index.graduates.ids.ids[0])
    candidates = matcher.candidates_for(vacancy, index=index, limit=200).items
    scores = [m.score for m in candidates]
    assert min(scores) == 0.0 and max(scores) == 1.0  # the raw values went below 0 and above 1
    ranking = matcher.rank_graduates(vacancy, index=index, need=200)
    suggestions = matcher.vacancies_for(graduate, index=index, limit=50, filters=AS_OF).items
    cohort = rank_cohort(matcher, [graduate], index=index, limit=50, filters=AS_OF)
    pairs = matcher.score_pairs([graduate] * len(index.vacancies), list(index.vacancies.ids.ids), index=index)
    for values in (ranking.scores, [m.score for m in suggestions], cohort.score, pairs):
        values = np.asarray(values)
        assert len(values) and np.all((values >= 0.0) & (values <= 1.0))
