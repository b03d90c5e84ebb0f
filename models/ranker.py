"""The scikit-learn ranker: gradient-boosted trees over pair features, isotonic-calibrated.

Ranking uses the raw tree probability (strictly informative); the score shown to users is the isotonic
calibration of it, fitted on a later, held-out slice of the training examples, so "0.3" means that about
30% of such pairs became applications in the calibration slice.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from threadpoolctl import ThreadpoolController

_CONTROLLER: ThreadpoolController | None = None


def openmp_threads(n: int):  # type: ignore[no-untyped-def]
    """Context limiting OpenMP (the trees' thread pool) to ``n`` threads; cheap after the first call.

    Prediction always runs on one thread: batches are small and a server runs one worker per core.
    """
    global _CONTROLLER
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=max(int(n), 1), user_api="openmp")


SMALL_BATCH = 4096


class PackedTrees:
    """The fitted trees as padded arrays, traversed for all trees and rows at once with numpy.

    ``HistGradientBoostingClassifier.predict_proba`` walks one tree per call (about 0.1 ms of overhead
    each); for the few hundred rows of one request this is 10-20x faster and gives the same numbers.
    """

    def __init__(self, model: HistGradientBoostingClassifier) -> None:
        trees = [predictors[0].nodes for predictors in model._predictors]
        width = max(len(t) for t in trees)
        shape = (len(trees), width)
        self.feature = np.zeros(shape, dtype=np.int64)
        self.threshold = np.zeros(shape, dtype=np.float64)
        self.missing_left = np.zeros(shape, dtype=bool)
        self.left = np.zeros(shape, dtype=np.int64)
        self.right = np.zeros(shape, dtype=np.int64)
        self.leaf = np.ones(shape, dtype=bool)
        self.value = np.zeros(shape, dtype=np.float64)
        for i, nodes in enumerate(trees):
            n = len(nodes)
            self.feature[i, :n] = nodes["feature_idx"]
            self.threshold[i, :n] = nodes["num_threshold"]
            self.missing_left[i, :n] = nodes["missing_go_to_left"].astype(bool)
            self.left[i, :n] = nodes["left"]
            self.right[i, :n] = nodes["right"]
            self.leaf[i, :n] = nodes["is_leaf"].astype(bool)
            self.value[i, :n] = nodes["value"]
        self.depth = int(max(t["depth"].max() for t in trees)) if trees else 0
        self.baseline = float(np.asarray(model._baseline_prediction).ravel()[0])

    def raw(self, X: np.ndarray) -> np.ndarray:
        # Flat indices (tree * width + node) and np.take: much cheaper than 2-D fancy indexing.
        n_trees, width = self.feature.shape
        n, n_features = X.shape
        flat_x = np.ascontiguousarray(X, dtype=np.float64).ravel()
        base = np.repeat(np.arange(n_trees, dtype=np.int64) * width, n)  # tree offset per (tree, row)
        row_offset = np.tile(np.arange(n, dtype=np.int64) * n_features, n_trees)
        feature, threshold = self.feature.ravel(), self.threshold.ravel()
        missing_left, leaf_flags = self.missing_left.ravel(), self.leaf.ravel()
        left, right = self.left.ravel(), self.right.ravel()
        position = base.copy()  # root of every tree, for every row
        active = np.arange(len(position))
        for _ in range(self.depth + 1):
            at = position[active]
            not_leaf = ~np.take(leaf_flags, at)
            active, at = active[not_leaf], at[not_leaf]
            if len(active) == 0:
                break
            x = np.take(flat_x, np.take(row_offset, active) + np.take(feature, at))
            go_left = np.where(np.isnan(x), np.take(missing_left, at), x <= np.take(threshold, at))
            child = np.where(go_left, np.take(left, at), np.take(right, at))
            position[active] = np.take(base, active) + child
        values = np.take(self.value.ravel(), position).reshape(n_trees, n)
        return self.baseline + values.sum(axis=0)

    def proba(self, X: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.raw(X)))


class PairRanker(ClassifierMixin, BaseEstimator):
    """HistGradientBoostingClassifier + isotonic calibration.

    Parameters
    ----------
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf, l2_regularization
        Passed to ``HistGradientBoostingClassifier``.
    categorical
        Column indices holding small non-negative integer categories (NaN = missing).
    monotonic
        Per-column monotonic constraints (``1`` = score may only rise with the feature), or ``None``.
    random_state
        Seed.
    n_threads
        OpenMP threads while fitting.
    """

    def __init__(
        self,
        max_iter: int = 300,
        learning_rate: float = 0.06,
        max_leaf_nodes: int = 31,
        min_samples_leaf: int = 40,
        l2_regularization: float = 1.0,
        categorical: tuple[int, ...] = (),
        monotonic: tuple[int, ...] | None = None,
        random_state: int = 7,
        n_threads: int = 1,
        early_stopping: bool = False,
    ) -> None:
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.categorical = categorical
        self.monotonic = monotonic
        self.random_state = random_state
        self.n_threads = n_threads
        self.early_stopping = early_stopping

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        sample_weight: np.ndarray | None = None,
        *,
        X_calibration: np.ndarray | None = None,
        y_calibration: np.ndarray | None = None,
    ) -> PairRanker:
        """Fit the trees on ``(X, y)``, then the calibration on the held-out slice (or on ``X`` itself)."""
        X = np.array(X, dtype=np.float32)
        y = np.asarray(y).astype(int)
        # A column with no value at all (e.g. no vacancy lists salaries) carries nothing; the trees cannot
        # bin it, so it is fixed to 0 here and at prediction time.
        self.dead_columns_ = np.flatnonzero(np.isnan(X).all(axis=0))
        X[:, self.dead_columns_] = 0.0
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = X.shape[1]
        mask = np.zeros(X.shape[1], dtype=bool)
        mask[list(self.categorical)] = True
        self.model_ = HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            categorical_features=mask if mask.any() else None,
            monotonic_cst=list(self.monotonic) if self.monotonic is not None else None,
            max_depth=8,
            early_stopping=self.early_stopping,
            validation_fraction=0.15,
            n_iter_no_change=10,
            random_state=self.random_state,
        )
        with openmp_threads(self.n_threads):
            self.model_.fit(X, y, sample_weight=sample_weight)
        self.packed_ = PackedTrees(self.model_)
        if X_calibration is None or y_calibration is None or len(np.unique(y_calibration)) < 2:
            X_calibration, y_calibration = X, y
        raw = self.decision(X_calibration)
        self.calibrator_ = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        self.calibrator_.fit(raw, np.asarray(y_calibration, dtype=float))
        reference = np.where(np.isfinite(X), X, np.nan)
        self.reference_ = np.array(
            [np.nanmedian(c) if np.isfinite(c).any() else np.nan for c in reference.T], dtype=np.float32
        )
        return self

    def decision(self, X: np.ndarray) -> np.ndarray:
        """Uncalibrated probability of the positive class (what ranking sorts by)."""
        X = np.asarray(X, dtype=np.float32)
        if len(self.dead_columns_):
            X = X.copy()
            X[:, self.dead_columns_] = 0.0
        if len(X) <= SMALL_BATCH:
            return self.packed_.proba(X)
        with openmp_threads(1):
            return self.model_.predict_proba(X)[:, 1]

    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        """Calibrated probability in [0, 1] of raw decisions."""
        return np.clip(self.calibrator_.predict(np.asarray(raw, dtype=float)), 0.0, 1.0)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = self.calibrate(self.decision(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: np.ndarray) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def contributions(self, X: np.ndarray, groups: dict[str, list[int]]) -> tuple[np.ndarray, list[str]]:
        """How much each group of columns raised the raw score above the reference (median) pair.

        Returns an ``(n, n_groups)`` array: ``decision(X) - decision(X with the group set to its reference)``,
        all evaluated in one batched prediction.
        """
        X = np.asarray(X, dtype=np.float32)
        names = list(groups)
        n = len(X)
        if n == 0:
            return np.zeros((0, len(names))), names
        stacked = np.repeat(X[None, :, :], len(names) + 1, axis=0)
        for g, name in enumerate(names, start=1):
            stacked[g][:, groups[name]] = self.reference_[groups[name]]
        raw = self.decision(stacked.reshape(-1, X.shape[1])).reshape(len(names) + 1, n)
        return (raw[0][None, :] - raw[1:]).T, names
