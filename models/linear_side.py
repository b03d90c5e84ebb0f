"""A linear side of the match: logistic regression over the pair features, the trees' simpler rival.

With a few thousand examples, boosted trees fit the pairs that were shown and extrapolate flatly to the
rest of the market, which a vacancy's candidate list and a cohort's plan rank too. A logistic regression
over the same features extrapolates smoothly and keeps the domain's directions by construction. Which of
the two serves is decided on the user's own data (``models.two_sided.select_model``), never here.

The design matrix, from the raw feature columns:

* numeric columns: the value (standardised), plus a hinge ``min(value, 0)`` for columns that take both
  signs (e.g. the education gap: below the minimum is not the mirror of above it), plus a missing
  indicator for columns with missing values in training (missing values take the training median);
* categorical columns (codes): one indicator per code seen in training (unseen or missing codes: none).

Monotone columns keep their direction: a fitted coefficient of the wrong sign on such a column's value is
removed (the column left out) and the model refitted, until every sign is right (an active-set fit).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression


class _Probabilities:
    """scikit-learn's classifier answers from a side's ``decision`` (the positive class's probability)."""

    def decision(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = self.decision(X)
        return np.column_stack([1.0 - p, p])

    def predict(self, X: np.ndarray) -> np.ndarray:
        return (self.decision(X) >= 0.5).astype(int)


class LinearSide(_Probabilities, ClassifierMixin, BaseEstimator):
    """Logistic regression over pair features with the interface of :class:`models.ranker.PairRanker`.

    Parameters
    ----------
    C
        Inverse L2 strength of ``LogisticRegression``.
    monotonic
        Per-column direction (``1``: the score may only rise with the column, ``-1``: only fall, ``0``:
        free), or ``None``.
    categorical
        Indices of columns holding category codes.
    random_state
        Seed of the row sample (the solver itself is deterministic).
    max_rows
        Rows fitted at most (a seeded sample beyond; 0 = all).
    """

    def __init__(
        self,
        C: float = 1.0,
        monotonic: tuple[int, ...] | None = None,
        categorical: tuple[int, ...] = (),
        random_state: int = 7,
        max_rows: int = 200_000,
    ) -> None:
        self.C = C
        self.monotonic = monotonic
        self.categorical = categorical
        self.random_state = random_state
        self.max_rows = max_rows

    # ---- design -----------------------------------------------------------------------------
    def _layout(self, X: np.ndarray) -> None:
        """Learn what the design matrix holds from the training columns."""
        categorical = set(self.categorical)
        self.numeric_ = np.array([j for j in range(X.shape[1]) if j not in categorical], dtype=np.int64)
        values = X[:, self.numeric_]
        finite = np.isfinite(values)
        any_value = finite.any(axis=0)
        safe = np.where(finite, values, np.nan)
        median = np.zeros(len(self.numeric_))
        for i in np.flatnonzero(any_value):
            median[i] = float(np.nanmedian(safe[:, i]))
        self.median_ = median
        self.has_missing_ = (~finite).any(axis=0) & any_value
        low = np.where(finite, values, 0.0).min(axis=0)
        high = np.where(finite, values, 0.0).max(axis=0)
        self.hinged_ = (low < 0) & (high > 0)
        self.codes_ = {
            int(j): np.unique(X[np.isfinite(X[:, j]), j]).astype(np.int64) for j in sorted(categorical)
        }
        self.reference_ = np.array(
            [
                float(np.nanmedian(np.where(np.isfinite(c), c, np.nan))) if np.isfinite(c).any() else np.nan
                for c in X.T
            ],
            dtype=np.float32,
        )

    def _design(self, X: np.ndarray) -> np.ndarray:
        values = X[:, self.numeric_].astype(np.float64)
        missing = ~np.isfinite(values)
        filled = np.where(missing, self.median_[None, :], values)
        parts = [filled, np.minimum(filled[:, self.hinged_], 0.0), missing[:, self.has_missing_]]
        for j, codes in self.codes_.items():
            column = X[:, j]
            parts.append((column[:, None] == codes[None, :]).astype(np.float64))
        return np.hstack(parts)

    def _signs(self) -> np.ndarray:
        """Required sign of each design column's coefficient (0: free)."""
        n = len(self.numeric_)
        signs = np.zeros(self.n_design_, dtype=np.int64)
        if self.monotonic is not None:
            signs[:n] = np.asarray(self.monotonic, dtype=np.int64)[self.numeric_]
        return signs

    # ---- fit and predict --------------------------------------------------------------------
    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> LinearSide:
        """Fit on ``(X, y)``; beyond ``max_rows`` rows on a seeded sample of them (a few dozen coefficients
        need no more, and each active-set refit costs a pass over the rows)."""
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y).astype(int)
        if len(X) > self.max_rows > 0:
            rows = np.sort(
                np.random.default_rng(self.random_state).choice(len(X), self.max_rows, replace=False)
            )
            X, y = X[rows], y[rows]
            sample_weight = None if sample_weight is None else np.asarray(sample_weight)[rows]
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = X.shape[1]
        self._layout(X)
        design = self._design(X)
        self.n_design_ = design.shape[1]
        # The raw column each design column is computed from (one each), for the contributions.
        self.source_ = np.concatenate(
            [
                self.numeric_,
                self.numeric_[self.hinged_],
                self.numeric_[self.has_missing_],
                *[np.full(len(codes), j, dtype=np.int64) for j, codes in self.codes_.items()],
            ]
        )
        self.mean_ = design.mean(axis=0)
        scale = design.std(axis=0)
        self.scale_ = np.where(scale > 0, scale, 1.0)
        Z = (design - self.mean_) / self.scale_
        signs = self._signs()
        active = np.ones(self.n_design_, dtype=bool)
        coef = np.zeros(self.n_design_)
        intercept = 0.0
        for _ in range(self.n_design_ + 1):
            model = LogisticRegression(C=self.C, max_iter=1000)
            model.fit(Z[:, active], y, sample_weight=sample_weight)
            coef = np.zeros(self.n_design_)
            coef[active] = model.coef_[0]
            intercept = float(model.intercept_[0])
            wrong = active & (signs * coef < 0)
            if not wrong.any():
                break
            active &= ~wrong
        self.coef_ = coef / self.scale_
        self.intercept_ = intercept - float(self.coef_ @ self.mean_)
        # The reference (median) pair's terms, which every contribution is measured against.
        self.reference_terms_ = self._design(self.reference_[None, :].astype(np.float64))[0] * self.coef_
        return self

    def raw(self, X: np.ndarray) -> np.ndarray:
        """Log-odds of each row."""
        return self._design(np.asarray(X, dtype=np.float64)) @ self.coef_ + self.intercept_

    def decision(self, X: np.ndarray) -> np.ndarray:
        """Probability of the positive class."""
        return _sigmoid(self.raw(X))

    def proba_and_contributions(
        self, X: np.ndarray, groups: Mapping[str, Sequence[int]]
    ) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """``decision(X)`` and, per group of columns, ``decision(X) - decision(X with the group set to its
        reference (median) value)``, as :meth:`models.ranker.PairRanker.proba_and_contributions`."""
        X = np.asarray(X, dtype=np.float64)
        names = list(groups)
        n = len(X)
        if n == 0:
            return np.zeros(0), np.zeros((0, len(names))), names
        # Each design column comes from one raw column: setting a group to the reference moves the log-odds
        # by the terms of the design columns computed from the group's columns, nothing else.
        terms = self._design(X) * self.coef_
        raw = terms.sum(axis=1) + self.intercept_
        full = _sigmoid(raw)
        # (n, groups): how far setting each group to the reference moves the log-odds
        shift = (terms - self.reference_terms_) @ self._membership(names, groups).T
        return full, full[:, None] - _sigmoid(raw[:, None] - shift), names

    def _membership(self, names: list[str], groups: Mapping[str, Sequence[int]]) -> np.ndarray:
        """``(groups, design columns)``: 1 where the design column is computed from one of the group's
        columns (cached per grouping: requests ask with the same groups every time)."""
        key = tuple((name, tuple(groups[name])) for name in names)  # numpy integers hash as ints
        cache: dict[Any, np.ndarray] = self.__dict__.setdefault("membership_cache_", {})
        if key not in cache:
            cache[key] = np.array(
                [np.isin(self.source_, np.asarray(columns, dtype=np.int64)) for _, columns in key],
                dtype=np.float64,
            ).reshape(len(key), self.n_design_)
        return cache[key]


def _sigmoid(raw: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(raw, -60.0, 60.0)))


class BlendSide(_Probabilities, ClassifierMixin, BaseEstimator):
    """The trees and the linear side together: the mean of their log-odds.

    The trees fit the pairs that were shown closely, the linear side extrapolates smoothly to the rest of
    the market; averaging their log-odds keeps each one's strength where the other is weak (a two-model
    ensemble, as common in ranking), and stays monotone where both are.
    """

    def __init__(self, trees: Any, linear: LinearSide) -> None:
        self.trees = trees
        self.linear = linear

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> BlendSide:
        self.trees_ = clone(self.trees).fit(X, y, sample_weight=sample_weight)
        self.linear_ = clone(self.linear).fit(X, y, sample_weight=sample_weight)
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = np.asarray(X).shape[1]
        self.reference_ = self.linear_.reference_
        return self

    @staticmethod
    def _mean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        a = np.clip(np.asarray(a, dtype=np.float64), 1e-9, 1 - 1e-9)
        b = np.clip(np.asarray(b, dtype=np.float64), 1e-9, 1 - 1e-9)
        raw = 0.5 * (np.log(a / (1 - a)) + np.log(b / (1 - b)))
        return 1.0 / (1.0 + np.exp(-raw))

    def decision(self, X: np.ndarray) -> np.ndarray:
        return self._mean(self.trees_.decision(X), self.linear_.decision(X))

    def proba_and_contributions(
        self, X: np.ndarray, groups: Mapping[str, Sequence[int]]
    ) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """As :meth:`LinearSide.proba_and_contributions`: each group set to the reference in both models."""
        p_t, c_t, names = self.trees_.proba_and_contributions(X, dict(groups))
        p_l, c_l, _ = self.linear_.proba_and_contributions(X, groups)
        full = self._mean(p_t, p_l)
        if len(names) == 0 or len(full) == 0:
            return full, np.zeros((len(full), len(names))), names
        without = self._mean(p_t[:, None] - c_t, p_l[:, None] - c_l)
        return full, full[:, None] - without, names
