import numpy as np
from sklearn.base import clone

from models.ranker import PackedTrees, PairRanker


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


def test_calibrated_probabilities_and_params() -> None:
    X, y = _data(seed=1)
    ranker = PairRanker(max_iter=20, min_samples_leaf=5)
    assert clone(ranker).get_params()["max_iter"] == 20
    ranker.fit(X[:400], y[:400], X_calibration=X[400:], y_calibration=y[400:])
    p = ranker.predict_proba(X)[:, 1]
    assert np.all((p >= 0) & (p <= 1))
    assert set(ranker.predict(X)) <= {0, 1}
    contributions, names = ranker.contributions(X[:3], {"a": [0], "b": [1, 2]})
    assert contributions.shape == (3, 2) and names == ["a", "b"]


def test_all_missing_column_is_ignored() -> None:
    X, y = _data(seed=2)
    X[:, 4] = np.nan
    ranker = PairRanker(max_iter=10, min_samples_leaf=5).fit(X, y)
    assert np.isfinite(ranker.decision(X)).all()
