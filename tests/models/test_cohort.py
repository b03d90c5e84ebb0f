"""The batched cohort ranking gives every graduate exactly what ``vacancies_for`` gives, filters included."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.cohort import CohortRanking, rank_cohort
from models.columns import EDUCATION_RANK
from models.columns import Columns as C
from models.data import MarketData
from models.index import MatchIndex
from models.keyword import KeywordMatcher
from models.matcher import Matcher
from models.results import UnknownGraduate, UnknownVacancy, VacancyFilters
from tests.models.conftest import DISTRICTS, small_market

AS_OF = pd.Timestamp("2026-06-01")


@pytest.fixture(scope="module")
def world() -> MarketData:
    """More vacancies than the fast config's retrieval pool (50), with every kind of hard filter at work."""
    data = small_market(seed=5, n_graduates=150, n_vacancies=220)
    graduates, vacancies = data.graduates.copy(), data.vacancies.copy()
    levels = ["secondary", "associate", "bachelor", "master"]
    graduates[C.education] = [levels[i % 4] for i in range(len(graduates))]
    graduates.loc[graduates.index[::17], C.education] = "doctor"
    vacancies[C.min_education] = [["associate", "bachelor", "associate", "master"][i % 4] for i in range(220)]
    vacancies.loc[vacancies.index[::9], C.status] = "closed"
    vacancies.loc[vacancies.index[1::7], C.closes_at] = AS_OF - pd.Timedelta(days=3)
    vacancies.loc[vacancies.index[2::7], C.closes_at] = AS_OF + pd.Timedelta(days=30)
    # Identical copies make exact ties in every score: the tie-break (vacancy row) must match too.
    copies = vacancies.iloc[:12].copy()
    copies[C.vacancy] = [f"W{i:03d}" for i in range(12)]
    vacancies = pd.concat([vacancies, copies], ignore_index=True)
    return MarketData(**{**data.frames(), "graduates": graduates, "vacancies": vacancies})


@pytest.fixture(scope="module")
def world_index(trained: Matcher, world: MarketData) -> MatchIndex:
    return trained.index(world)


def _top_lists(ranking: CohortRanking, index: MatchIndex) -> list[tuple[list[str], np.ndarray]]:
    out = []
    for position in range(len(ranking.graduate_ids)):
        pairs = ranking.ranked(position)
        out.append(([str(index.vacancies.ids.ids[v]) for v in ranking.vacancy[pairs]], ranking.score[pairs]))
    return out


@pytest.mark.parametrize(
    ("limit", "filters"),
    [
        (20, VacancyFilters(as_of=AS_OF)),
        (7, VacancyFilters(as_of=AS_OF, district=DISTRICTS[1])),
        (60, VacancyFilters(as_of=AS_OF, check_education=False)),
    ],
)
def test_every_graduate_gets_exactly_vacancies_for(
    trained: Matcher, world: MarketData, world_index: MatchIndex, limit: int, filters: VacancyFilters
) -> None:
    cohort = list(world.graduates[C.graduate])
    ranking = rank_cohort(trained, cohort, index=world_index, limit=limit, filters=filters)
    retrieved = 0
    for position, (ids, scores) in enumerate(_top_lists(ranking, world_index)):
        expected = trained.vacancies_for(cohort[position], index=world_index, limit=limit, filters=filters)
        assert ids == [m.vacancy_id for m in expected.items], cohort[position]
        np.testing.assert_allclose(scores, [m.score for m in expected.items], rtol=0, atol=1e-9)
        assert ranking.total[position] == expected.total
        retrieved += expected.total > trained.config.retrieval_pool
    if filters.district is None:
        assert retrieved > 0  # the retrieval stage was exercised, not just the ranker


def test_filters_are_honoured(trained: Matcher, world: MarketData, world_index: MatchIndex) -> None:
    district = DISTRICTS[2]
    ranking = rank_cohort(
        trained,
        list(world.graduates[C.graduate]),
        index=world_index,
        limit=30,
        filters=VacancyFilters(as_of=AS_OF, district=district),
    )
    assert len(ranking) > 0
    vacancies = world.vacancies.set_index(C.vacancy)
    education = world.graduates[C.education].to_numpy()
    for g, v in zip(ranking.graduate, ranking.vacancy, strict=True):
        row = vacancies.loc[str(world_index.vacancies.ids.ids[v])]
        assert row[C.status] == "open"
        assert pd.isna(row[C.closes_at]) or row[C.closes_at] > AS_OF
        assert EDUCATION_RANK[row[C.min_education]] <= EDUCATION_RANK[education[g]]
        assert row[C.district] == district
    # Secondary-school graduates are below every vacancy's minimum: nothing passes.
    secondary = np.flatnonzero(education == "secondary")
    assert (ranking.total[secondary] == 0).all()
    assert not np.isin(ranking.graduate, secondary).any()


def test_extra_pairs_score_like_score_pairs_and_are_not_repeated(
    trained: Matcher, world: MarketData, world_index: MatchIndex
) -> None:
    cohort = list(world.graduates[C.graduate][:30])
    filters = VacancyFilters(as_of=AS_OF)
    plain = rank_cohort(trained, cohort, index=world_index, limit=5, filters=filters)
    best = world_index.vacancies.ids.ids[plain.vacancy[plain.ranked(0)[0]]]
    extra_g = [cohort[0], cohort[0], cohort[3], cohort[4]]
    extra_v = [str(best), "V009", "V000", "W001"]  # V009 is closed: extra pairs take no filters
    ranking = rank_cohort(
        trained, cohort, index=world_index, limit=5, filters=filters, extra_pairs=(extra_g, extra_v)
    )
    np.testing.assert_array_equal(ranking.rank[ranking.rank >= 0], plain.rank)
    np.testing.assert_array_equal(ranking.score[ranking.rank >= 0], plain.score)
    extra = np.flatnonzero(ranking.rank < 0)
    got = {
        (cohort[g], str(world_index.vacancies.ids.ids[v])): s
        for g, v, s in zip(ranking.graduate[extra], ranking.vacancy[extra], ranking.score[extra], strict=True)
    }
    expected = dict(
        zip(
            zip(extra_g, extra_v, strict=True),
            trained.score_pairs(extra_g, extra_v, index=world_index),
            strict=True,
        )
    )
    in_top = {(cohort[0], str(best))} | {
        (cohort[g], str(world_index.vacancies.ids.ids[v]))
        for g, v in zip(plain.graduate, plain.vacancy, strict=True)
    }
    assert set(got) == set(expected) - in_top
    for pair, score in got.items():
        assert score == pytest.approx(expected[pair], abs=1e-9)

    with pytest.raises(UnknownVacancy):
        rank_cohort(trained, cohort, index=world_index, extra_pairs=([cohort[0]], ["nope"]))
    with pytest.raises(UnknownGraduate):
        rank_cohort(trained, cohort, index=world_index, extra_pairs=(["G0149"], ["V001"]))
    with pytest.raises(UnknownGraduate):
        rank_cohort(trained, ["nope"], index=world_index)


def test_explanations_of_chosen_pairs_equal_vacancies_for(
    trained: Matcher, world: MarketData, world_index: MatchIndex
) -> None:
    cohort = list(world.graduates[C.graduate][:40])
    filters = VacancyFilters(as_of=AS_OF)
    ranking = rank_cohort(trained, cohort, index=world_index, limit=10, filters=filters)
    chosen = [int(ranking.ranked(p)[p % 3]) for p in range(len(cohort)) if len(ranking.ranked(p)) > 2]
    assert chosen
    for match in ranking.matches(trained, world_index, chosen):
        expected = trained.vacancies_for(match.graduate_id, index=world_index, limit=10, filters=filters)
        same = next(m for m in expected.items if m.vacancy_id == match.vacancy_id)
        assert match.reasons and [r.code for r in match.reasons] == [r.code for r in same.reasons]
        assert [r.message for r in match.reasons] == [r.message for r in same.reasons]
        assert match.matched_skills == same.matched_skills and match.missing_skills == same.missing_skills
        assert match.score == pytest.approx(same.score, abs=1e-9)


def test_keyword_matcher_and_empty_cohort(world: MarketData) -> None:
    keyword = KeywordMatcher().fit()
    index = keyword.index(world)
    cohort = list(world.graduates[C.graduate][:25])
    filters = VacancyFilters(as_of=AS_OF)
    ranking = rank_cohort(keyword, cohort, index=index, limit=8, filters=filters)
    for position, (ids, scores) in enumerate(_top_lists(ranking, index)):
        expected = keyword.vacancies_for(cohort[position], index=index, limit=8, filters=filters)
        assert ids == [m.vacancy_id for m in expected.items]
        np.testing.assert_allclose(scores, [m.score for m in expected.items], rtol=0, atol=1e-9)
    empty = rank_cohort(keyword, [], index=index, limit=8, filters=filters)
    assert len(empty) == 0 and empty.total.shape == (0,)
