"""Exposure-aware re-ranking: only the order changes, the DCG bound holds, the under-exposed group rises,
the same input always gives the same order; the wrapper keeps every score."""

from __future__ import annotations

import numpy as np
import pytest

from models.keyword import KeywordMatcher
from models.rerank import (
    GROUP_ATTRIBUTES,
    MAX_NDCG_LOSS,
    RERANK_WINDOW,
    ExposureReranked,
    dcg_ratio,
    exposure_order,
    graduate_groups,
    score_dcg,
)
from tests.bundles import tiny_market
from training.metrics import ndcg_at


def _fixture(seed: int = 3, n: int = 60) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A list ranked by score where group 1 (40% of the pool) sits a little lower than group 0."""
    rng = np.random.default_rng(seed)
    groups = (rng.random(n) < 0.4).astype(np.int64)
    scores = np.clip(rng.normal(0.5, 0.15, n) - 0.06 * groups, 0.01, 0.99)
    order = np.argsort(-scores, kind="stable")
    return scores[order], groups[order], np.array([0.6, 0.4])


def test_the_order_is_a_permutation_and_scores_travel_with_their_items() -> None:
    scores, groups, shares = _fixture()
    result = exposure_order(scores, groups, shares)
    assert sorted(result.order.tolist()) == list(range(len(scores)))
    assert result.changed and result.strength > 0
    moved = scores[result.order]
    assert sorted(moved.tolist()) == sorted(scores.tolist())  # the same scores, in another order
    # Within a group the model's order is kept.
    for a in (0, 1):
        positions = [int(i) for i in result.order if groups[i] == a]
        assert positions == sorted(positions)


def test_the_estimated_dcg_stays_within_the_bound_and_the_group_gets_its_share() -> None:
    scores, groups, shares = _fixture()
    result = exposure_order(scores, groups, shares)
    assert dcg_ratio(scores, result.order) >= 1 - MAX_NDCG_LOSS - 1e-9
    assert score_dcg(scores[result.order]) >= (1 - MAX_NDCG_LOSS) * score_dcg(scores) - 1e-9
    before = int((groups[:10] == 1).sum())
    after = int((groups[result.order][:10] == 1).sum())
    assert after > before
    assert after >= np.floor(10 * result.strength * shares[1])


def test_ndcg_against_relevance_stays_within_two_percent_on_the_fixture() -> None:
    """With graded relevance equal to the scores (what the model believes), NDCG@10 loses at most 2% of what
    the DCG bound allows: the bound is on the same quantity at the first 10 places."""
    scores, groups, shares = _fixture()
    relevance = {i: float(s) for i, s in enumerate(scores)}
    result = exposure_order(scores, groups, shares, max_loss=0.02)
    before = ndcg_at(np.arange(len(scores)), relevance, 10)
    after = ndcg_at(result.order, relevance, 10)
    assert after >= 0.98 * before
    assert (groups[result.order][:20] == 1).sum() >= (groups[:20] == 1).sum()


def test_deterministic_and_no_move_when_the_list_already_has_the_shares() -> None:
    scores, groups, shares = _fixture()
    first = exposure_order(scores, groups, shares)
    again = exposure_order(scores.copy(), groups.copy(), shares.copy())
    assert np.array_equal(first.order, again.order) and first.strength == again.strength
    fair = np.array([0, 1] * 10)
    untouched = exposure_order(np.linspace(0.9, 0.1, 20), fair, np.array([0.5, 0.5]))
    assert not untouched.changed and untouched.strength == 0.0


def test_a_bound_that_nothing_keeps_leaves_the_model_order() -> None:
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.05, 0.04])
    groups = np.array([0, 0, 0, 0, 1, 1])
    result = exposure_order(scores, groups, np.array([0.5, 0.5]), max_loss=0.0)
    assert not result.changed and result.dcg_ratio == 1.0


def test_graduate_groups_name_every_attribute() -> None:
    index = KeywordMatcher().fit().index(tiny_market())
    for attribute in GROUP_ATTRIBUTES:
        codes, names = graduate_groups(index, attribute)
        assert len(codes) == len(index.graduates) and codes.min() >= 0 and codes.max() < len(names)
        assert names[-1] == "unknown"
    codes, names = graduate_groups(index, "school_kind")
    assert {names[c] for c in codes} <= {
        "university",
        "vocational_college",
        "vocational_school",
        "training_center",
        "unknown",
    }
    with pytest.raises(ValueError, match="unknown group attribute"):
        graduate_groups(index, "gender")


def test_the_wrapper_reorders_candidates_without_touching_scores() -> None:
    data = tiny_market()
    matcher = KeywordMatcher().fit()
    fair = ExposureReranked(matcher)
    index = fair.index(data)
    for vacancy in data.vacancies["vacancy_id"]:
        own = matcher.rank_graduates(vacancy, index=index, need=RERANK_WINDOW)
        ranked = fair.rank_graduates(vacancy, index=index, need=5)
        assert sorted(ranked.rows.tolist()) == sorted(own.rows.tolist())
        by_row = dict(zip(own.rows.tolist(), own.scores.tolist(), strict=True))
        assert all(by_row[r] == s for r, s in zip(ranked.rows.tolist(), ranked.scores.tolist(), strict=True))
        page = fair.candidates_for(vacancy, index=index, limit=3, offset=1)
        whole = fair.candidates_for(vacancy, index=index, limit=RERANK_WINDOW)
        assert [m.graduate_id for m in page.items] == [m.graduate_id for m in whole.items[1:4]]
    assert fair.score_pairs(["G01"], ["V1"], index=index) == pytest.approx(
        matcher.score_pairs(["G01"], ["V1"], index=index)
    )
