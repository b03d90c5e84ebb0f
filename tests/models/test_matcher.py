"""Contract tests of the trained matcher (the session fixture ``trained`` is fitted once)."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from models import matcher as matcher_module
from models.columns import Columns as C
from models.data import MarketData
from models.explain import COL
from models.filters import graduate_mask
from models.index import MatchIndex
from models.keyword import skill_coverage
from models.matcher import (
    CandidateFilters,
    Matcher,
    MatcherConfig,
    ModelNotFitted,
    NoTrainingData,
    UnknownGraduate,
    UnknownVacancy,
    VacancyFilters,
    _skill_weights,
    _top,
    _top_tie_broken,
    gathered_product,
    retrieval_product,
)
from models.pairs import LIGHTFM_FEATURES, pair_features
from models.two_sided import masked
from tests.models.conftest import FAST, small_market


def _answers(matcher: Matcher, data: MarketData) -> list[tuple[str, float]]:
    index = matcher.index(data)
    out = []
    for vacancy in ("V001", "V030"):
        out += [
            (m.graduate_id, m.score) for m in matcher.candidates_for(vacancy, index=index, limit=10).items
        ]
    out += [(m.vacancy_id, m.score) for m in matcher.vacancies_for("G0007", index=index, limit=10).items]
    return out


def test_new_vacancy_gets_sensible_candidates(trained: Matcher, market: MarketData) -> None:
    index = trained.index(market)
    vacancy = {
        C.enterprise: "E3",
        C.title: "新岗位",
        C.role: "technician",
        C.required_skills: ["SK13", "SK14"],
        C.preferred_skills: [],
        C.min_education: "associate",
        C.district: "柯桥区",
        C.headcount: 2,
    }
    result = trained.candidates_for(vacancy, index=index, limit=300)
    assert result.total > 0 and result.items
    held = [len(set(m.matched_skills)) for m in result.items]
    positions_with = [i for i, h in enumerate(held) if h > 0]
    positions_none = [i for i, h in enumerate(held) if h == 0]
    assert positions_with and positions_none
    # Candidates holding the required skills rank above those holding none.
    assert np.mean(positions_with) < np.mean(positions_none)
    top = result.items[:10]
    assert all(m.matched_skills for m in top)
    assert all(m.vacancy_id == "new" for m in top)


def test_every_result_is_explained_and_scored(trained: Matcher, market: MarketData) -> None:
    index = trained.index(market)
    result = trained.candidates_for("V005", index=index, limit=20)
    required = set(market.vacancies.set_index(C.vacancy).loc["V005", C.required_skills])
    scores = [m.score for m in result.items]
    assert scores and all(0.0 <= s <= 1.0 for s in scores)
    for match in result.items:
        assert match.reasons, match
        assert set(match.matched_skills) | set(match.missing_skills) == required
        assert all(r.code and r.message for r in match.reasons)


def test_save_load_gives_identical_answers(trained: Matcher, market: MarketData, tmp_path: Path) -> None:
    paths = trained.save(tmp_path)
    assert all(p.suffix in {".joblib", ".npy"} for p in paths)
    loaded = Matcher.load(tmp_path)
    assert loaded.config == trained.config
    assert _answers(loaded, market) == _answers(trained, market)


def test_fit_twice_same_seed_identical(market: MarketData) -> None:
    first = Matcher(FAST).fit(market)
    second = Matcher(FAST).fit(market)
    assert _answers(first, market) == _answers(second, market)
    for name, array in first.learned_arrays().items():
        assert np.array_equal(array, second.learned_arrays()[name]), name


def test_second_fit_forgets_the_first(trained: Matcher, market: MarketData) -> None:
    matcher = Matcher(FAST).fit(market)
    smaller = replace(market, interactions=market.interactions.iloc[: len(market.interactions) // 2])
    matcher.fit(smaller)
    fresh = Matcher(FAST).fit(smaller)
    assert _answers(matcher, market) == _answers(fresh, market)


def test_get_params_and_finite_arrays(trained: Matcher) -> None:
    assert trained.get_params()["config"] == FAST
    assert trained.config.to_dict()["seed"] == FAST.seed
    assert MatcherConfig.from_dict(FAST.to_dict()) == FAST
    arrays = trained.learned_arrays()
    assert arrays and all(np.isfinite(a).all() for a in arrays.values())
    assert trained.model_.interest_.get_params()["random_state"] == FAST.seed
    assert trained.selection_["chosen"] == "compact"


def test_hard_filters(trained: Matcher, market: MarketData) -> None:
    data = replace(market, graduates=market.graduates.copy(), vacancies=market.vacancies.copy())
    data.graduates.loc[data.graduates[C.graduate] == "G0001", C.status] = "placed"
    data.graduates.loc[data.graduates[C.graduate] == "G0002", C.education] = "secondary"
    data.vacancies.loc[data.vacancies[C.vacancy] == "V002", C.status] = "closed"
    data.vacancies.loc[data.vacancies[C.vacancy] == "V003", C.closes_at] = np.datetime64("2020-01-01")
    index = trained.index(data)
    result = trained.candidates_for("V001", index=index, limit=500)
    ids = {m.graduate_id for m in result.items}
    assert "G0001" not in ids and "G0002" not in ids
    assert result.total == len(ids) == len(data.graduates) - 2
    vacancies = {m.vacancy_id for m in trained.vacancies_for("G0005", index=index, limit=500).items}
    assert "V002" not in vacancies and "V003" not in vacancies
    district = trained.candidates_for(
        "V001",
        index=index,
        limit=500,
        filters=CandidateFilters(district="上虞区", program_kind="order_class"),
    )
    assert district.total > 0
    by_id = data.graduates.set_index(C.graduate)
    for m in district.items:
        assert by_id.loc[m.graduate_id, C.program] in {"P0", "P3"}
    none = trained.candidates_for("V001", index=index, filters=CandidateFilters(district="火星"))
    assert none.total == 0 and none.items == []
    only = trained.vacancies_for("G0005", index=index, filters=VacancyFilters(enterprise_id="E1"))
    assert {m.vacancy_id for m in only.items} <= set(
        data.vacancies.loc[data.vacancies[C.enterprise] == "E1", C.vacancy]
    )


def test_paging_is_consistent_and_deterministic(trained: Matcher, market: MarketData) -> None:
    index = trained.index(market)
    whole = trained.candidates_for("V010", index=index, limit=30)
    pages = (
        trained.candidates_for("V010", index=index, limit=15).items
        + trained.candidates_for("V010", index=index, limit=15, offset=15).items
    )
    assert [m.graduate_id for m in whole.items] == [m.graduate_id for m in pages]
    assert [m.graduate_id for m in trained.candidates_for("V010", index=index, limit=30).items] == [
        m.graduate_id for m in whole.items
    ]


def test_new_graduate_and_score_pairs(trained: Matcher, market: MarketData) -> None:
    index = trained.index(market)
    graduate = {
        C.program: "P1",
        C.education: "bachelor",
        C.skills: ["SK06", "SK07", "SK08"],
        C.preferred_districts: ["越城区"],
    }
    result = trained.vacancies_for(graduate, index=index, limit=5)
    assert len(result.items) == 5 and all(m.graduate_id == "new" for m in result.items)
    scores = trained.score_pairs(["G0001", "G0002"], ["V001", "V002"], index=index)
    assert scores.shape == (2,) and np.all((scores >= 0) & (scores <= 1))


def test_errors(trained: Matcher, market: MarketData) -> None:
    index = trained.index(market)
    with pytest.raises(UnknownVacancy):
        trained.candidates_for("nope", index=index)
    with pytest.raises(UnknownGraduate):
        trained.vacancies_for("nope", index=index)
    with pytest.raises(ModelNotFitted):
        Matcher().index(market)
    empty = replace(market, interactions=market.interactions.iloc[:0])
    with pytest.raises(NoTrainingData):
        Matcher(FAST).fit(empty)


def test_one_score_per_pair_whichever_side_asks(trained: Matcher, market: MarketData) -> None:
    index = trained.index(market)
    vacancies = trained.vacancies_for("G0007", index=index, limit=10).items
    for match in vacancies:
        candidates = trained.candidates_for(match.vacancy_id, index=index, limit=500).items
        same = [c for c in candidates if c.graduate_id == "G0007"]
        assert len(same) == 1 and same[0].score == match.score
    pairs = trained.score_pairs(["G0007"] * len(vacancies), [m.vacancy_id for m in vacancies], index=index)
    assert np.array_equal(pairs, [m.score for m in vacancies])
    # The score is the calibrated product of the two sides.
    v_rows = index.vacancies.ids.rows([m.vacancy_id for m in vacancies])
    g_rows = np.full(len(v_rows), index.graduates.ids.row("G0007"))
    X = trained.pair_scores(g_rows, v_rows, index=index).features
    assert X is not None
    interest, employer = trained.model_.sides(X)
    expected = trained.model_.calibration_.transform(interest * employer)
    assert np.allclose([m.score for m in vacancies], expected)
    assert all(m.reasons for m in vacancies)


def test_more_required_skills_never_lower_the_score(trained: Matcher, market: MarketData) -> None:
    index = trained.index(market)
    rng = np.random.default_rng(0)
    g_rows = rng.integers(0, len(index.graduates), 400)
    v_rows = rng.integers(0, len(index.vacancies), 400)
    X = pair_features(index.graduates, g_rows, index.vacancies, v_rows, index.tables)
    n_required = X[:, COL["n_required"]]
    missing = X[:, COL["required_missing"]]
    can = (missing > 0) & (n_required > 0)
    assert can.sum() > 50
    more = X[can].copy()
    more[:, COL["required_missing"]] -= 1
    more[:, COL["required_coverage"]] = (n_required[can] - more[:, COL["required_missing"]]) / n_required[can]
    more[:, COL["missing_key_share"]] = np.minimum(more[:, COL["missing_key_share"]], 0.1)
    interest, employer = trained.model_.sides(X[can])
    interest_more, employer_more = trained.model_.sides(more)
    assert np.all(employer_more >= employer - 1e-12) and np.all(interest_more >= interest - 1e-12)
    _, before = trained.model_.score(X[can])
    _, after = trained.model_.score(more)
    assert np.all(after >= before - 1e-12) and (after > before).any()


def test_applies_only_target_learns_one_side(market: MarketData) -> None:
    matcher = Matcher(replace(FAST, target="applied")).fit(market)
    assert matcher.model_.employer_ is None
    index = matcher.index(market)
    assert len(matcher.vacancies_for("G0007", index=index, limit=5).items) == 5


def test_candidate_configurations_are_validated() -> None:
    with pytest.raises(ValueError, match="unknown candidate"):
        MatcherConfig(candidates=("huge",))
    with pytest.raises(ValueError, match="unknown features"):
        MatcherConfig(
            candidates=(
                {
                    "name": "x",
                    "max_iter": 5,
                    "max_leaf_nodes": 3,
                    "min_samples_leaf": 5,
                    "l2_regularization": 0.0,
                    "without": ["gender"],
                },
            )
        )
    with pytest.raises(ValueError, match="unknown target"):
        MatcherConfig(target="clicks")


def _sponsor_reference(
    rows: np.ndarray, theirs: np.ndarray, key: int, skill: np.ndarray, lightfm: np.ndarray, cap: int
) -> np.ndarray:
    """The sponsor's channel of a pool by a full sort: those of ``rows`` whose sponsor/employer is ``key``,
    the ``cap`` best by skill, then LightFM, then the lower row."""
    if key < 0:
        return np.zeros(0, dtype=np.int64)
    hit = np.flatnonzero(theirs == key)
    return rows[hit[np.lexsort((rows[hit], -lightfm[hit], -skill[hit]))[:cap]]]


def _reference_candidates(
    matcher: Matcher, index: MatchIndex, vacancy: str, need: int
) -> tuple[list[str], np.ndarray]:
    """``candidates_for``'s ranking the slow, plain way: both retrieval halves by a full sort, the
    trees walked node by node, the tie-break from ``keyword.skill_coverage``."""
    vrow = index.vacancies.ids.row(vacancy)
    rows = np.flatnonzero(graduate_mask(index, index.vacancies, vrow, CandidateFilters()))
    pool = max(matcher.config.retrieval_pool, need)
    if len(rows) > pool:
        lightfm, skill = matcher._retrieval_scores(index.vacancies, np.array([vrow]), index.graduates)
        assert lightfm is not None
        half = pool // 2
        rows = np.unique(
            np.concatenate(
                [
                    # Skill first; among skill scores tied at the cut-off, the higher LightFM score,
                    # then the lower row.
                    rows[np.lexsort((rows, -lightfm[rows, 0], -skill[rows, 0]))[:half]],
                    rows[np.argpartition(-lightfm[rows, 0], half - 1)[:half]],
                    # The sponsor's channel: the employer's own order class, best skill first.
                    _sponsor_reference(
                        rows,
                        index.graduates.sponsor[rows],
                        index.vacancies.enterprise[vrow],
                        skill[rows, 0],
                        lightfm[rows, 0],
                        matcher.config.sponsor_pool,
                    ),
                ]
            )
        )
        assert len(rows) >= need
    v_rows = np.full(len(rows), vrow)
    X = pair_features(index.graduates, rows, index.vacancies, v_rows, index.tables)
    X[:, [COL[f] for f in LIGHTFM_FEATURES]] = np.nan
    model = matcher.model_
    sides = []
    for side in (model.interest_, model.employer_):
        assert side is not None
        sides.append(1.0 / (1.0 + np.exp(-side.packed_.walk(side._live(masked(X, model.dropped_))))))
    product = sides[0] * sides[1]
    key = np.log(np.clip(product, 1e-6, 1 - 1e-6)) - np.log1p(-np.clip(product, 1e-6, 1 - 1e-6))
    required, preferred = skill_coverage(index.graduates, rows, index.vacancies, v_rows)
    order = np.lexsort((rows, -(key + 1e-6 * (required + 0.5 * preferred))))[:need]
    return index.graduates.ids.external(rows[order]), model.calibration_.transform(product[order])


def test_fast_serving_path_ranks_exactly_as_the_plain_one(trained: Matcher) -> None:
    # A bigger market than the training one, so retrieval narrows 3,000 graduates to the pool (and the
    # LightFM half takes its sampled-threshold path).
    market = small_market(seed=5, n_graduates=3000, n_vacancies=40)
    index = trained.index(market)
    assert len(index.graduates) >= 20 * trained.config.retrieval_pool
    for vacancy in index.vacancies.ids.ids[:25]:
        result = trained.candidates_for(str(vacancy), index=index, limit=15)
        ids, scores = _reference_candidates(trained, index, str(vacancy), 15)
        assert [m.graduate_id for m in result.items] == ids
        assert np.allclose([m.score for m in result.items], scores, rtol=0, atol=1e-12)
        assert all(m.reasons for m in result.items)


def test_top_picks_the_set_argpartition_picks() -> None:
    rng = np.random.default_rng(0)
    rows = np.arange(10_000) * 3
    for scores in (
        rng.normal(size=10_000),  # untied: the sampled threshold path
        np.round(rng.normal(size=10_000), 1),  # tied at the boundary: the full partition
        np.r_[np.full(9_000, -1.0), rng.normal(size=1_000)],  # a skewed sample
    ):
        expected = set(rows[np.argpartition(-scores, 149)[:150]].tolist())
        assert set(_top(rows, scores, 150, untied=True).tolist()) == expected
        assert set(_top(rows, scores, 150).tolist()) == expected


def test_skill_ties_at_the_cut_off_go_to_the_higher_lightfm_score() -> None:
    rows = np.arange(10) * 7
    skill = np.array([1.0, 0.5, 0.5, 0.5, 0.5, 0.0, 0.5, 1.0, 0.5, 0.0])
    lightfm = np.array([0.0, 0.1, 0.9, 0.3, 0.9, 5.0, 0.2, 0.0, 0.8, 5.0])
    # Two clear winners, then two of the six graduates tied at 0.5: the LightFM 0.9 pair (rows 2 and 4),
    # and never the high LightFM scores below the cut-off (5 and 9).
    assert sorted(_top_tie_broken(rows, skill, lightfm, 4).tolist()) == [0, 14, 28, 49]
    # Equal LightFM scores too (graduates with identical features): the lower row.
    assert sorted(_top_tie_broken(rows, skill, np.zeros(10), 3).tolist()) == [0, 7, 49]
    assert _top_tie_broken(rows[:3], skill[:3], lightfm[:3], 5).tolist() == [0, 7, 14]


def test_a_page_deeper_than_half_the_pool_is_filled(trained: Matcher) -> None:
    # Retrieval's two halves can overlap; a page of more than half the pool must still be full.
    market = small_market(seed=5, n_graduates=3000, n_vacancies=40)
    index = trained.index(market)
    vacancy = str(index.vacancies.ids.ids[0])
    result = trained.candidates_for(vacancy, index=index, limit=trained.config.retrieval_pool * 3)
    assert len(result.items) == min(result.total, trained.config.retrieval_pool * 3)


def test_pair_skill_features_match_the_lists(trained: Matcher, market: MarketData) -> None:
    """The vectorised skill and district features equal a plain per-pair count over the raw lists, for
    aligned pairs in any order (repeats and unsorted rows included)."""
    index = trained.index(market)
    graduates, vacancies = index.graduates, index.vacancies
    rng = np.random.default_rng(3)
    g_rows = rng.integers(0, len(graduates), 500)
    v_rows = rng.integers(0, len(vacancies), 500)
    X = pair_features(graduates, g_rows, vacancies, v_rows, index.tables)
    shares = index.tables["advanced_skills"]
    skill_row = {s: i for i, s in enumerate(index.vocab.skills.ids)}
    for i, (g, v) in enumerate(zip(g_rows, v_rows, strict=True)):
        held = set(graduates.skill_lists[g] or ())
        required = set(vacancies.required_lists[v] or ())
        preferred = set(vacancies.preferred_lists[v] or ())
        assert X[i, COL["required_missing"]] == len(required - held)
        assert X[i, COL["preferred_matched"]] == len(preferred & held)
        lacking = [shares[vacancies.enterprise[v], skill_row[s]] for s in required - held if s in skill_row]
        assert X[i, COL["missing_key_share"]] == np.float32(max(lacking, default=0.0))
        district = vacancies.district[v]
        if graduates.has_preference[g]:
            wanted = graduates.districts[g].toarray().ravel()
            assert X[i, COL["district_preference"]] == (wanted[district] if district >= 0 else 0.0)


def test_a_grid_of_pairs_counts_skills_as_pair_by_pair(
    trained: Matcher, market: MarketData, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cohort against every vacancy (pairs filling their grid) is counted with one sparse product of the
    distinct rows; the counts equal the entries matched pair by pair and the raw lists."""
    from models import pairs

    index = trained.index(market)
    graduates, vacancies = index.graduates, index.vacancies
    rng = np.random.default_rng(11)
    cohort = rng.choice(len(graduates), min(12, len(graduates)), replace=False)
    g_rows = np.repeat(cohort, len(vacancies))
    v_rows = np.tile(np.arange(len(vacancies)), len(cohort))
    order = rng.permutation(len(g_rows))  # in any order, a few pairs twice
    g_rows, v_rows = np.r_[g_rows[order], g_rows[:5]], np.r_[v_rows[order], v_rows[:5]]
    pair_by_pair = pairs.skills_held(graduates, g_rows, vacancies, v_rows)
    monkeypatch.setattr(pairs, "GRID_MIN_PAIRS", 1)
    assert pairs._grid_counts(graduates, g_rows, vacancies, v_rows) is not None  # the grid path is taken
    grid = pairs.skills_held(graduates, g_rows, vacancies, v_rows)
    for a, b in zip(grid, pair_by_pair, strict=True):
        assert a.dtype == b.dtype == np.float32
        np.testing.assert_array_equal(a, b)
    for i in range(0, len(g_rows), 7):
        held = set(graduates.skill_lists[g_rows[i]] or ())
        assert grid[0][i] == len(set(vacancies.required_lists[v_rows[i]] or ()) & held)
        assert grid[1][i] == len(set(vacancies.preferred_lists[v_rows[i]] or ()) & held)
    scattered = rng.integers(0, len(graduates), 40), rng.integers(0, len(vacancies), 40)
    assert pairs._grid_counts(graduates, scattered[0], vacancies, scattered[1]) is None  # too sparse


def test_best_first_is_a_prefix_of_the_full_order() -> None:
    """Sorting only the best few gives the first ``need`` of the full (key desc, tie asc) order, every
    tie at the boundary included, whatever the ties."""
    from models.base import best_first

    rng = np.random.default_rng(5)
    for n, need, levels in ((1000, 10, 7), (1000, 10, 1000), (50, 20, 3), (200, 1, 2), (5, 3, 5)):
        key = rng.integers(0, levels, n).astype(np.float64)
        tie = rng.permutation(n)
        full = np.lexsort((tie, -key))
        got = best_first(key, lambda at: tie[at], need)  # noqa: B023
        assert len(got) >= min(need, n)
        assert np.array_equal(got, full[: len(got)])
        boundary = key[full[min(need, n) - 1]]
        if len(got) < n:  # cut short: exactly the best and every tie at the boundary
            assert set(np.flatnonzero(key >= boundary).tolist()) == set(got.tolist())


def _with_sponsor_pool(trained: Matcher, cap: int) -> Matcher:
    """``trained`` serving with another ``sponsor_pool`` (a retrieval setting: nothing learned changes)."""
    matcher = copy.copy(trained)
    matcher.config = replace(trained.config, sponsor_pool=cap)
    return matcher


@pytest.mark.parametrize("cap", [0, 5, 150])
def test_the_sponsors_rows_join_the_pool_whatever_their_retrieval_scores(trained: Matcher, cap: int) -> None:
    """An order-class graduate's pool holds their sponsor's open vacancies and a vacancy's pool its
    employer's order-class graduates, even those retrieval ranks last; at most ``sponsor_pool`` of them,
    best skill coverage first; the batched cohort pools are the same as one graduate's."""
    matcher, without = _with_sponsor_pool(trained, cap), _with_sponsor_pool(trained, 0)
    market = small_market(seed=5, n_graduates=3000, n_vacancies=600)
    index = matcher.index(market)
    graduates, vacancies = index.graduates, index.vacancies
    pool = matcher.config.retrieval_pool

    vrow = int(np.flatnonzero(np.isin(vacancies.enterprise, graduates.sponsor))[0])  # a sponsor's vacancy
    rows = np.arange(len(graduates))
    lightfm, skill = matcher._retrieval_scores(vacancies, np.array([vrow]), graduates)
    assert lightfm is not None
    got = matcher._retrieve(index, vacancies, vrow, graduates, rows, 10)
    theirs = rows[graduates.sponsor == vacancies.enterprise[vrow]]
    assert len(theirs) > pool  # more order-class graduates than a pool: the cap decides
    expected = _sponsor_reference(
        rows, graduates.sponsor, int(vacancies.enterprise[vrow]), skill[:, 0], lightfm[:, 0], cap
    )
    assert len(expected) == cap and set(expected.tolist()) <= set(got.tolist())
    plain = without._retrieve(index, vacancies, vrow, graduates, rows, 10)
    assert set(got.tolist()) == set(plain.tolist()) | set(expected.tolist())
    # Filters passed by some graduates only (every third row): the channel takes from those.
    some = rows[::3]
    got = matcher._retrieve(index, vacancies, vrow, graduates, some, 10)
    plain = without._retrieve(index, vacancies, vrow, graduates, some, 10)
    expected = _sponsor_reference(
        some, graduates.sponsor[some], int(vacancies.enterprise[vrow]), skill[some, 0], lightfm[some, 0], cap
    )
    assert len(expected) == cap and set(got.tolist()) == set(plain.tolist()) | set(expected.tolist())

    # A graduate's side: every open vacancy of the sponsor, however low retrieval puts it.
    g_all = np.flatnonzero(graduates.sponsor >= 0)[:40]
    v_all = np.arange(len(vacancies))
    assert len(v_all) > pool
    for grow in g_all.tolist():
        got = matcher._retrieve(index, graduates, grow, vacancies, v_all, 10)
        plain = without._retrieve(index, graduates, grow, vacancies, v_all, 10)
        lightfm, skill = matcher._retrieval_scores(graduates, np.array([grow]), vacancies)
        assert lightfm is not None
        expected = _sponsor_reference(
            v_all, vacancies.enterprise, int(graduates.sponsor[grow]), skill[:, 0], lightfm[:, 0], cap
        )
        assert set(got.tolist()) == set(plain.tolist()) | set(expected.tolist())
    outside = np.flatnonzero(graduates.sponsor < 0)[:5]
    for grow in outside.tolist():
        assert np.array_equal(
            np.sort(matcher._retrieve(index, graduates, grow, vacancies, v_all, 10)),
            np.sort(without._retrieve(index, graduates, grow, vacancies, v_all, 10)),
        )
    cohort = np.concatenate([g_all, outside])
    batched = matcher.vacancy_pools(cohort, [(np.arange(len(cohort)), v_all)], index=index, need=10)
    for i, grow in enumerate(cohort.tolist()):
        alone = matcher._retrieve(index, graduates, grow, vacancies, v_all, 10)
        assert np.array_equal(np.sort(batched[i]), np.sort(alone))


def test_the_sponsors_channel_asks_the_tie_break_of_the_tied_rows_only(trained: Matcher) -> None:
    """The approximate path's tie-break is a gather of LightFM scores (~1 ms for tens of thousands of
    order-class graduates at a million): the channel asks it only of those tied at the skill cut-off, and
    picks the rows it picks from the whole array of scores."""
    matcher = _with_sponsor_pool(trained, 5)
    index = matcher.index(small_market(seed=5, n_graduates=3000, n_vacancies=600))
    graduates, vacancies = index.graduates, index.vacancies
    vrow = int(np.flatnonzero(np.isin(vacancies.enterprise, graduates.sponsor))[0])
    rows = np.arange(len(graduates))
    lightfm, skill = matcher._retrieval_scores(vacancies, np.array([vrow]), graduates)
    assert lightfm is not None
    asked: list[np.ndarray] = []

    def tie_break(at: np.ndarray) -> np.ndarray:
        asked.append(at)
        return lightfm[rows[at], 0]

    eager = matcher._sponsor_rows(vacancies, vrow, graduates, rows, skill[:, 0], lightfm[:, 0])
    lazy = matcher._sponsor_rows(vacancies, vrow, graduates, rows, skill[:, 0], tie_break)
    assert np.array_equal(np.sort(lazy), np.sort(eager)) and len(eager) == 5
    theirs = rows[graduates.sponsor == vacancies.enterprise[vrow]]
    bar = np.sort(skill[theirs, 0])[::-1][4]
    assert len(asked) <= 1 and sum(map(len, asked)) == int((skill[theirs, 0] == bar).sum()) < len(theirs)


@pytest.mark.parametrize("n", [1, 15, 16, 17, 1_000, 20_011])
def test_gathered_rows_score_as_the_full_product_to_the_last_bit(n: int) -> None:
    """Exact retrieval scores a narrow filter's rows alone (``gathered_product``), the approximate path
    re-scores its shortlist the same way, and a wide filter takes the product over every row
    (``retrieval_product``): a row gets the same float32 score whichever way, so the pool is the same."""
    rng = np.random.default_rng(n)
    matrix = rng.standard_normal((n, 70)).astype(np.float32)
    vector = rng.standard_normal(70).astype(np.float32)
    full, full_column = retrieval_product(matrix, vector), retrieval_product(matrix, vector[:, None])
    np.testing.assert_array_equal(full, full_column[:, 0])
    for k in sorted({1, 3, 7, 16, 17, n // 3 + 5, n}):
        rows = np.sort(rng.choice(n, min(k, n), replace=False))
        np.testing.assert_array_equal(gathered_product(matrix, rows, vector), full[rows])
        np.testing.assert_array_equal(gathered_product(matrix, rows, vector[:, None]), full_column[rows])
    # Indexes as numpy's take reads them by default: negative from the end, out of range refused.
    np.testing.assert_array_equal(gathered_product(matrix, np.array([-1]), vector), full[[-1]])
    for outside in (n, -n - 1):
        with pytest.raises(IndexError):
            gathered_product(matrix, np.array([0, outside]), vector)


def test_a_narrow_filter_retrieves_over_its_own_rows(
    trained: Matcher, market: MarketData, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Below 1/FEW_ROWS of the block the LightFM product runs over the filtered rows only; the answers are
    those of the product over every row."""
    narrow = copy.copy(trained)
    narrow.config = replace(trained.config, retrieval_pool=20)
    index = narrow.index(market)
    filters = [CandidateFilters(), CandidateFilters(program_kind="order_class")]
    vacancies = index.vacancies.ids.ids.tolist()[:20]

    def answers() -> list[list[tuple[str, float]]]:
        return [
            [(m.graduate_id, m.score) for m in narrow.candidates_for(v, index=index, filters=f).items]
            for v in vacancies
            for f in filters
        ]

    gathered = {"rows": 0}
    real = Matcher._lightfm_scores

    def counted(*args: object, **kwargs: object) -> object:
        lightfm_rows = args[3] if len(args) > 3 else kwargs.get("lightfm_rows")
        gathered["rows"] += 0 if lightfm_rows is None else len(lightfm_rows)  # type: ignore[arg-type]
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Matcher, "_lightfm_scores", staticmethod(counted))
    monkeypatch.setattr(matcher_module, "FEW_ROWS", 10**6)  # never: the product over every row
    everyone = answers()
    assert gathered["rows"] == 0
    monkeypatch.setattr(matcher_module, "FEW_ROWS", 0)  # always, unless no filter removed anyone
    assert answers() == everyone and gathered["rows"] > 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_vacancy_skill_weights_are_those_of_the_sparse_rows(dtype: type) -> None:
    """A query's skill weights come from its rows' slices of the matrices: the same floats as selecting the
    rows and densifying them, duplicates in the matrices summed alike."""
    rng = np.random.default_rng(3)
    n, skills = 40, 17

    def matrix() -> sp.csr_matrix:
        counts = rng.integers(0, 6, n)
        indptr = np.concatenate([[0], np.cumsum(counts)])
        indices = rng.integers(0, skills, indptr[-1])  # a column may repeat within a row: kept as stored
        return sp.csr_matrix((np.ones(indptr[-1], dtype=dtype), indices, indptr), shape=(n, skills))

    required, preferred = matrix(), matrix()
    assert required.nnz > sp.csr_matrix(required.toarray()).nnz  # duplicates stored
    n_required = np.asarray(required.getnnz(axis=1), dtype=dtype)  # the index's dtype (float32)
    n_preferred = np.asarray((preferred > 0).sum(axis=1)).ravel().astype(np.int64)
    n_preferred[:5] = 0  # no preferred skill: divided by 1
    for row in range(n):
        rows = np.array([row])
        expected = required[rows].toarray().T / np.maximum(n_required[rows], 1.0)
        expected += 0.5 * preferred[rows].toarray().T / np.maximum(n_preferred[rows], 1.0)
        got = _skill_weights(required, n_required, preferred, n_preferred, row)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_array_equal(got, expected)


def test_skill_coverage_from_bits_is_the_dense_coverage_to_the_last_bit(
    trained: Matcher, market: MarketData
) -> None:
    """Retrieval's skill coverage read from bits per skill equals the dense product for every vacancy and
    graduate: the weights are float64 (of the index's float32 values), so each sum is exact whatever its
    order; summed in float32, 1/4 + 3 x 1/3 came out 1.25 or 1.2500001 by which skills were held, and
    graduates of equal coverage were ranked apart."""
    index = trained.index(market)
    graduates, vacancies = index.graduates, index.vacancies
    rows = np.arange(len(graduates))
    checked = 0
    for v in range(len(vacancies)):
        wanted = matcher_module._wanted(vacancies, np.array([v]))
        assert wanted.dtype == np.float64
        levels = Matcher._skill_levels(vacancies, v, graduates, rows)
        if levels is None:
            continue
        dense = graduates.skill_scores(wanted)[:, 0]
        np.testing.assert_array_equal(levels.scores(rows), dense)
        checked += 1
    assert checked > len(vacancies) // 2
