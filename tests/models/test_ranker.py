import numpy as np
import pytest
from sklearn.base import clone

from models.ranker import PackedTrees, PairRanker, SuccessCalibration


def _data(n: int = 600, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5)).astype(np.float32)
    X[rng.random(n) < 0.1, 2] = np.nan
    y = ((X[:, 0] + np.nan_to_num(X[:, 2]) + rng.normal(0, 0.5, n)) > 0).astype(int)
    return X, y


def test_packed_trees_match_sklearn() -> None:
    X, y = _data()
    ranker = PairRanker(max_iter=30, min_samples_leaf=5).fit(X, y)
    packed = PackedTrees(ranker.model_)
    expected = ranker.model_.predict_proba(X)[:, 1]
    assert np.allclose(packed.proba(X), expected, atol=1e-9)


def test_probabilities_and_params() -> None:
    X, y = _data(seed=1)
    ranker = PairRanker(max_iter=20, min_samples_leaf=5)
    assert clone(ranker).get_params()["max_iter"] == 20
    ranker.fit(X[:400], y[:400])
    p = ranker.predict_proba(X)[:, 1]
    assert np.array_equal(p, ranker.decision(X))
    assert np.all((p >= 0) & (p <= 1))
    assert set(ranker.predict(X)) <= {0, 1}
    contributions, names = ranker.contributions(X[:3], {"a": [0], "b": [1, 2]})
    assert contributions.shape == (3, 2) and names == ["a", "b"]


def test_all_missing_column_is_ignored() -> None:
    X, y = _data(seed=2)
    X[:, 4] = np.nan
    ranker = PairRanker(max_iter=10, min_samples_leaf=5).fit(X, y)
    assert np.isfinite(ranker.decision(X)).all()


def _stacked_contributions(ranker: PairRanker, X: np.ndarray, groups: dict[str, list[int]]) -> np.ndarray:
    """The reference: every row again with each group set to the reference, through ``decision``."""
    names = list(groups)
    stacked = np.repeat(X[None, :, :], len(names) + 1, axis=0)
    for g, name in enumerate(names, start=1):
        stacked[g][:, groups[name]] = ranker.reference_[groups[name]]
    scores = ranker.decision(stacked.reshape(-1, X.shape[1])).reshape(len(names) + 1, len(X))
    return (scores[0][None, :] - scores[1:]).T


def _awkward(n: int = 400, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Missing values in several columns (learned to go either way), infinities and ties."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6)).astype(np.float32)
    X[:, 3] = rng.integers(0, 4, n)
    y = ((X[:, 0] + X[:, 3] / 2 + rng.normal(0, 0.5, n)) > 0.8).astype(int)
    X[rng.random(n) < 0.15, 1] = np.nan
    X[(y == 1) & (rng.random(n) < 0.5), 2] = np.nan  # missing means something: a learned direction
    return X, y


def test_split_masks_give_the_walk_bit_for_bit() -> None:
    X, y = _awkward()
    for leaves in (2, 7, 15, 31, 63):
        ranker = PairRanker(max_iter=25, max_leaf_nodes=leaves, min_samples_leaf=5).fit(X, y)
        packed = ranker.packed_
        assert packed.mask_type is not None
        queries = [X, X[:1], X[::7]]
        odd = X.copy()
        odd[::5, 0], odd[1::5, 4], odd[2::5, 5] = np.inf, -np.inf, np.nan
        queries.append(odd)
        for Q in queries:
            assert np.array_equal(packed.raw(Q), packed.walk(Q))
        expected = ranker.model_.predict_proba(X)[:, 1]
        assert np.allclose(packed.proba(X), expected, atol=1e-12)


def test_trees_with_many_leaves_are_walked() -> None:
    X, y = _data(n=3000)
    ranker = PairRanker(max_iter=3, max_leaf_nodes=100, min_samples_leaf=2).fit(X, y)
    assert ranker.packed_.mask_type is None
    assert np.allclose(ranker.decision(X[:50]), ranker.model_.predict_proba(X[:50])[:, 1], atol=1e-12)


@pytest.mark.parametrize("leaves", [7, 15])  # 8-bit masks (a leaf table) and 16-bit ones
def test_contributions_equal_the_stacked_predictions(leaves: int) -> None:
    X, y = _awkward(seed=4)
    ranker = PairRanker(max_iter=30, max_leaf_nodes=leaves, min_samples_leaf=5).fit(X, y)
    several = {"a": [0], "b": [1, 2], "c": [3], "d": [5]}  # column 4 in no group
    each = {name: [c] for name, c in zip("abcdef", range(6), strict=True)}  # every column its own group
    for groups in (several, each, {"a": [2]}):
        for rows in (X[:20], X[:1], X[::3][:200]):
            got, names = ranker.contributions(rows, groups)
            assert names == list(groups)
            assert np.array_equal(got, _stacked_contributions(ranker, rows, groups))
    overlapping = {"a": [0, 1], "b": [1, 2]}
    got, _ = ranker.contributions(X[:10], overlapping)
    assert np.array_equal(got, _stacked_contributions(ranker, X[:10], overlapping))


def test_replacing_by_another_reference_is_not_answered_from_the_last_one() -> None:
    X, y = _awkward(seed=6)
    packed = PairRanker(max_iter=20, min_samples_leaf=5).fit(X, y).packed_
    groups = [[0], [1, 2], [5]]
    rows = X[:30]
    for reference in (X[40], X[41], X[40], np.full(6, np.nan, dtype=np.float32)):
        got = packed.raw_replacing(rows, reference, groups)
        expected = [packed.raw(rows)]
        for columns in groups:
            modified = rows.copy()
            modified[:, columns] = reference[columns]
            expected.append(packed.raw(modified))
        assert np.array_equal(got, np.array(expected))


def test_pickled_ranker_rebuilds_its_packed_trees() -> None:
    import pickle

    X, y = _awkward(seed=5)
    ranker = PairRanker(max_iter=10, min_samples_leaf=5).fit(X, y)
    ranker.contributions(X[:3], {"a": [0]})  # fills the group plan cache, which is not pickled
    state = dict(vars(ranker))  # what pickling saves (a copy)
    state["packed_"] = object()  # e.g. a PackedTrees pickled by older code
    restored = PairRanker.__new__(PairRanker)
    restored.__setstate__(state)
    assert np.array_equal(restored.decision(X), ranker.decision(X))
    again = pickle.loads(pickle.dumps(ranker))
    assert "_plans" not in again.packed_.__dict__
    assert "_reference_cache" not in again.packed_.__dict__
    assert np.array_equal(again.decision(X), ranker.decision(X))


def test_success_calibration_is_smooth_and_strictly_increasing() -> None:
    rng = np.random.default_rng(3)
    p = rng.uniform(0.01, 0.9, 5000)
    # The truth is a squeezed version of p: the map must learn it without plateaus.
    truth = 1.0 / (1.0 + np.exp(-(0.5 * np.log(p / (1 - p)) - 1.0)))
    y = (rng.random(5000) < truth).astype(int)
    calibration = SuccessCalibration().fit(p, y)
    grid = np.linspace(0.001, 0.999, 2000)
    mapped = calibration.transform(grid)
    assert np.all(np.diff(mapped) > 0)  # no two different inputs share an output
    assert abs(calibration.slope_ - 0.5) < 0.1 and abs(calibration.intercept_ + 1.0) < 0.15
    assert abs(calibration.transform(p).mean() - y.mean()) < 0.01


def test_success_calibration_stays_the_identity_without_signal() -> None:
    p = np.linspace(0.1, 0.9, 100)
    for y in (np.zeros(100, dtype=int), np.ones(100, dtype=int)):
        calibration = SuccessCalibration().fit(p, y)
        assert np.allclose(calibration.transform(p), p)
    # Anti-correlated labels would need a decreasing map: refused, the order is kept.
    calibration = SuccessCalibration().fit(p, (p < 0.5).astype(int))
    assert calibration.slope_ == 1.0 and np.allclose(calibration.transform(p), p)
