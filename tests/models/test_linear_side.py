"""The linear side: a logistic regression with the trees' interface, monotone where asked."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from models.linear_side import BlendSide, LinearSide
from models.ranker import PairRanker
from models.two_sided import query_losses, resolve_candidates


def _data(n: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    coverage = rng.uniform(0, 1, n)
    gap = rng.integers(-2, 3, n).astype(float)
    code = rng.integers(0, 3, n).astype(float)
    noise = rng.normal(0, 1, n)
    logit = -1.0 + 3.0 * coverage + 1.5 * np.minimum(gap, 0) + np.array([0.0, 1.0, -1.0])[code.astype(int)]
    y = (rng.uniform(0, 1, n) < 1 / (1 + np.exp(-logit))).astype(int)
    X = np.column_stack([coverage, gap, code, noise])
    X[rng.uniform(0, 1, n) < 0.1, 3] = np.nan  # a column with missing values
    return X, y


def test_learns_directions_hinges_and_categories() -> None:
    X, y = _data()
    side = LinearSide(categorical=(2,)).fit(X, y)
    p = side.decision(X)
    assert p.shape == (len(X),) and np.all((p > 0) & (p < 1))
    low, high = X.copy(), X.copy()
    low[:, 0], high[:, 0] = 0.1, 0.9
    assert np.all(side.decision(high) > side.decision(low))
    below, at = X.copy(), X.copy()
    below[:, 1], at[:, 1] = -2.0, 0.0
    assert side.decision(below).mean() < side.decision(at).mean() - 0.1  # the hinge below the minimum
    one, two = X.copy(), X.copy()
    one[:, 2], two[:, 2] = 1.0, 2.0
    assert side.decision(one).mean() > side.decision(two).mean()  # a category, not a quantity
    unseen = X.copy()
    unseen[:, 2] = 9.0  # a code not seen in training: no indicator, no error
    assert np.isfinite(side.decision(unseen)).all()
    assert np.array_equal(side.predict_proba(X)[:, 1], p)


def test_monotone_columns_keep_their_direction() -> None:
    X, y = _data()
    X[:, 0] = -X[:, 0]  # the data now say the score falls with column 0 ...
    free = LinearSide(categorical=(2,)).fit(X, y)
    held = LinearSide(monotonic=(1, 0, 0, 0), categorical=(2,)).fit(X, y)  # ... but the domain says rises
    assert free.coef_[0] < 0
    assert held.coef_[0] == 0.0
    grid = np.repeat(X[:1], 11, axis=0)
    grid[:, 0] = np.linspace(-1, 0, 11)
    assert np.all(np.diff(held.decision(grid)) >= 0)


def test_contributions_are_differences_to_the_reference_pair() -> None:
    X, y = _data()
    side = LinearSide(categorical=(2,)).fit(X, y)
    groups = {"skills": [0], "education": [1], "kind": [2], "empty": []}
    p, contributions, names = side.proba_and_contributions(X[:50], groups)
    assert names == list(groups)
    assert np.allclose(p, side.decision(X[:50]))
    replaced = X[:50].copy()
    replaced[:, 0] = side.reference_[0]
    assert np.allclose(contributions[:, 0], p - side.decision(replaced))
    assert np.all(contributions[:, 3] == 0)
    assert side.proba_and_contributions(X[:0], groups)[1].shape == (0, 4)


def test_deterministic_and_picklable() -> None:
    X, y = _data()
    a = LinearSide(categorical=(2,)).fit(X, y)
    b = pickle.loads(pickle.dumps(LinearSide(categorical=(2,)).fit(X, y)))
    assert np.array_equal(a.decision(X), b.decision(X))


def test_an_all_missing_column_carries_nothing() -> None:
    X, y = _data()
    X[:, 3] = np.nan
    side = LinearSide().fit(X, y)
    assert np.isfinite(side.decision(X)).all()


def test_candidate_kinds() -> None:
    (linear,) = resolve_candidates(["linear"])
    assert linear.kind == "linear"
    custom = {
        "name": "mine",
        "max_iter": 0,
        "max_leaf_nodes": 0,
        "min_samples_leaf": 0,
        "l2_regularization": 0.5,
        "kind": "linear",
    }
    assert resolve_candidates([custom])[0].kind == "linear"
    with pytest.raises(ValueError, match="kind"):
        resolve_candidates([{**custom, "kind": "forest"}])


def test_query_losses_are_one_minus_each_querys_auc() -> None:
    p = np.array([0.9, 0.1, 0.5, 0.2, 0.8, 0.3, 0.7])
    y = np.array([1, 0, 0, 1, 0, 1, 1])
    graduates = np.array([1, 1, 1, 2, 2, 3, 3])  # graduate 3 has no failure: not a query
    losses = query_losses(p, y, [graduates])
    # graduate 1: the success above both failures -> 0; graduate 2: the success below the failure -> 1.
    assert losses.tolist() == [0.0, 1.0]
    tied = query_losses(np.full(3, 0.5), np.array([1, 0, 0]), [np.zeros(3)])
    assert tied.tolist() == [0.5]  # ties count half
    assert query_losses(p, y, []).size == 0


def test_blend_is_the_mean_log_odds_of_trees_and_linear() -> None:
    X, y = _data()
    X[:, 2] = np.nan_to_num(X[:, 2])
    assert resolve_candidates(["blend"])[0].kind == "blend"
    side = BlendSide(PairRanker(max_iter=20), LinearSide(categorical=(2,))).fit(X, y)
    t, lin = side.trees_.decision(X), side.linear_.decision(X)
    expected = 1 / (1 + np.exp(-0.5 * (np.log(t / (1 - t)) + np.log(lin / (1 - lin)))))
    assert np.allclose(side.decision(X), expected)
    p, contributions, _ = side.proba_and_contributions(X[:20], {"a": [0], "b": [1]})
    assert np.allclose(p, side.decision(X[:20])) and contributions.shape == (20, 2)


def test_many_rows_are_fitted_on_a_seeded_sample() -> None:
    X, y = _data(n=3000)
    sampled = LinearSide(categorical=(2,), max_rows=1000).fit(X, y)
    again = LinearSide(categorical=(2,), max_rows=1000).fit(X, y)
    full = LinearSide(categorical=(2,), max_rows=0).fit(X, y)
    assert np.array_equal(sampled.coef_, again.coef_)  # seeded
    assert not np.array_equal(sampled.coef_, full.coef_)
    assert np.corrcoef(sampled.decision(X), full.decision(X))[0, 1] > 0.95
