"""The scikit-learn parts of the match model: gradient-boosted trees over pair features, and the smooth
calibration of the two sides' product.

:class:`PairRanker` estimates one side's probability (the graduate's interest, or the employer's advance)
with log-loss trees; :class:`SuccessCalibration` maps the product of the two sides to the probability that
a pairing succeeds with a strictly increasing logistic map (Platt scaling on the log-odds), fitted on a
later slice of the examples than the trees. Strictly increasing means the calibration never merges two
different model scores into one, so ties in a ranked list are genuine.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
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
# The largest finite float stands in for the infinities, so that a missing value can be sent left (-inf) or
# right (+inf) of every split by one ``>`` (see ``PackedTrees``).
_BIG = float(np.finfo(np.float64).max)
_MASK_TYPES: dict[int, type[np.unsignedinteger]] = {
    8: np.uint8,
    16: np.uint16,
    32: np.uint32,
    64: np.uint64,
}


class PackedTrees:
    """The fitted trees as padded arrays, evaluated for all trees and rows at once with numpy.

    ``HistGradientBoostingClassifier.predict_proba`` walks one tree per call (about 0.1 ms of overhead
    each); for the few hundred rows of one request this is 10-20x faster and gives the same numbers.

    Every split is tested at once instead of walking the trees level by level (QuickScorer, Lucchese et al.,
    SIGIR 2015): a tree's leaves are numbered left to right, and each split holds a bit mask without the
    leaves of its left subtree. A row's leaf is the lowest bit left after AND-ing the masks of the splits that
    send the row right. A missing value goes the split's learned way because the split reads one of two
    copies of its column: NaN as -inf (left) or as +inf (right). Trees with more than 64 leaves are walked
    level by level (:meth:`walk`). Leaf values are summed over trees in tree order, as :meth:`walk` does.
    """

    def __init__(self, model: HistGradientBoostingClassifier) -> None:
        trees = [predictors[0].nodes for predictors in model._predictors]
        self.n_features = int(model.n_features_in_)
        self.baseline = float(np.asarray(model._baseline_prediction).ravel()[0])
        self.depth = int(max(t["depth"].max() for t in trees)) if trees else 0
        self._pack_nodes(trees)
        n_leaves = max((int(t["is_leaf"].sum()) for t in trees), default=1)
        bits = next((b for b in _MASK_TYPES if b >= n_leaves), None)
        self.mask_type = None if bits is None or not trees else _MASK_TYPES[bits]
        if self.mask_type is not None:
            self._pack_splits(trees, n_leaves)

    def _pack_nodes(self, trees: list[np.ndarray]) -> None:
        width = max((len(t) for t in trees), default=1)
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

    def _pack_splits(self, trees: list[np.ndarray], n_leaves: int) -> None:
        assert self.mask_type is not None
        n_splits = max(int((~t["is_leaf"].astype(bool)).sum()) for t in trees)
        shape = (max(n_splits, 1), len(trees))  # (split slot, tree)
        keep_all = int(np.iinfo(self.mask_type).max)
        self.column = np.zeros(shape, dtype=np.int64)  # row of ``_columns``: the copy by missing side
        self.split = np.zeros(shape, dtype=np.float64)
        self.mask = np.full(shape, keep_all, dtype=self.mask_type)  # unused slots clear nothing
        self.leaf_value = np.zeros((len(trees), n_leaves), dtype=np.float64)
        for t, nodes in enumerate(trees):
            leaves, spans = _leaf_spans(nodes)
            self.leaf_value[t, : len(leaves)] = nodes["value"][leaves]
            splits = np.flatnonzero(~nodes["is_leaf"].astype(bool))
            for slot, node in enumerate(splits):
                feature = int(nodes["feature_idx"][node])
                self.column[slot, t] = (
                    feature if nodes["missing_go_to_left"][node] else feature + self.n_features
                )
                self.split[slot, t] = np.clip(nodes["num_threshold"][node], -_BIG, _BIG)
                first, count = spans[int(nodes["left"][node])]
                self.mask[slot, t] = keep_all ^ (((1 << count) - 1) << first)
        self.leaf_offset = (np.arange(len(trees), dtype=np.int64) * n_leaves)[:, None]
        self.leaf_table: np.ndarray | None = None
        if self.mask_type is np.uint8:
            # Per tree, the value of every 8-bit mask's lowest leaf: one lookup instead of isolating the
            # lowest bit and taking its logarithm (masks that cannot occur read any leaf).
            values = np.arange(256)
            lowest = np.frexp((values & -values).astype(np.float64))[1] - 1
            padded = np.zeros((len(trees), 8))
            padded[:, :n_leaves] = self.leaf_value
            self.leaf_table = padded[:, np.clip(lowest, 0, 7)].ravel()
            self.table_offset = (np.arange(len(trees), dtype=np.int64) * 256)[:, None]

    # ------------------------------------------------------------------ evaluation
    def _columns(self, X: np.ndarray) -> np.ndarray:
        """``(2 * n_features, n)``: the columns of ``X`` with NaN as -inf, then with NaN as +inf (and the
        infinities as the largest finite floats, which compare like them with every finite split)."""
        columns = np.asarray(X, dtype=np.float64).T
        low = np.nan_to_num(columns, nan=-np.inf, posinf=_BIG, neginf=-_BIG)
        return np.concatenate([low, np.where(np.isnan(columns), np.inf, low)])

    def _goes_right(self, X: np.ndarray) -> np.ndarray:
        """``(split slot, tree, row)``: whether each split sends each row of ``X`` right."""
        return np.take(self._columns(X), self.column, axis=0) > self.split[:, :, None]

    def _keep_all(self) -> np.unsignedinteger:
        return self.mask.dtype.type(np.iinfo(self.mask.dtype).max)

    def _masked(self, right: np.ndarray) -> np.ndarray:
        """Each split's mask where it sends the row right, else all ones (same shape as ``right``)."""
        mask = self.mask.reshape(self.mask.shape + (1,) * (right.ndim - 2))
        return np.where(right, mask, self._keep_all())

    def _leaf_sum(self, reach: np.ndarray) -> np.ndarray:
        """Raw scores from ``(tree, row)`` AND-ed masks: each row's leaf is the lowest bit left."""
        if self.leaf_table is not None:
            return self.baseline + self.leaf_table[self.table_offset + reach].sum(axis=0)
        lowest = reach & (~reach + self.mask.dtype.type(1))
        leaf = np.frexp(lowest.astype(np.float64))[1] - 1
        values = np.take(self.leaf_value, self.leaf_offset + leaf)
        return self.baseline + values.sum(axis=0)  # tree by tree, as ``walk`` sums

    def raw(self, X: np.ndarray) -> np.ndarray:
        """Raw score (log-odds) of each row of ``X``."""
        if self.mask_type is None:
            return self.walk(X)
        return self._leaf_sum(np.bitwise_and.reduce(self._masked(self._goes_right(X)), axis=0))

    def raw_replacing(self, X: np.ndarray, reference: np.ndarray, groups: list[list[int]]) -> np.ndarray:
        """``(1 + len(groups), n)`` raw scores: of ``X``, then of ``X`` with each group of columns set to
        ``reference``'s values (bit for bit what :meth:`raw` of the modified rows gives).

        With disjoint groups, a row's leaf under group g's replacement is the lowest bit of: the AND of its
        masks over the splits on the other groups' columns (one prefix and one suffix AND over groups),
        and the reference's masks over the splits on g's columns. The rows' split tests are made once.
        """
        n, n_groups = len(X), len(groups)
        plan = self._group_plan(groups)
        if plan is None:
            stacked = np.repeat(np.asarray(X)[None, :, :], n_groups + 1, axis=0)
            for g, columns in enumerate(groups, start=1):
                stacked[g][:, columns] = reference[columns]
            return self.raw(stacked.reshape(-1, X.shape[1])).reshape(n_groups + 1, n)
        order, starts, group, tree = plan
        keep_all = self._keep_all()
        n_trees = self.mask.shape[1]
        # AND of each (group, tree)'s split masks, for the rows and for the reference; one spare
        # all-ones group at the end closes the suffix ANDs.
        rows = np.full((n_groups + 2, n_trees, n), keep_all)
        masked = self._masked(self._goes_right(X)).reshape(-1, n)[order]
        rows[group, tree] = np.bitwise_and.reduceat(masked, starts, axis=0)
        fixed = self._reference_masks(plan, n_groups, np.asarray(reference))
        # before[g]: the AND over groups 0..g; after[g]: over groups g..end. A scan in log2(groups) steps
        # (numpy reads an overlapping operand as if copied); bitwise_and.accumulate is ~2x slower here.
        before, after = rows.copy(), rows.copy()
        step = 1
        while step < len(rows):
            before[step:] &= before[:-step]
            after[:-step] &= after[step:]
            step *= 2
        reach = np.empty((n_trees, n_groups + 1, n), dtype=keep_all.dtype)
        reach[:, 0] = before[n_groups]
        others = before[:n_groups] & after[2:]  # for g = 1..n_groups: every group but g
        reach[:, 1:] = np.transpose(others & fixed[1:, :, None], (1, 0, 2))
        return self._leaf_sum(reach.reshape(n_trees, -1)).reshape(n_groups + 1, n)

    def _reference_masks(
        self,
        plan: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
        n_groups: int,
        reference: np.ndarray,
    ) -> np.ndarray:
        """``(1 + n_groups, tree)``: the AND of the reference row's masks over each (group, tree)'s splits
        (all ones where a group has none); cached per plan and reference (the same every request)."""
        order, starts, group, tree = plan
        key = (id(plan), reference.tobytes())  # ``_plans`` keeps every plan, so an id stays its plan's
        cache: dict[tuple[int, bytes], np.ndarray] = self.__dict__.setdefault("_reference_cache", {})
        fixed = cache.get(key)
        if fixed is None:
            fixed = np.full((n_groups + 1, self.mask.shape[1]), self._keep_all())
            masked_reference = self._masked(self._goes_right(reference[None, :]))
            fixed[group, tree] = np.bitwise_and.reduceat(masked_reference.ravel()[order], starts)
            cache.clear()  # one reference per model in practice: never grows
            cache[key] = fixed
        return fixed

    def _group_plan(
        self, groups: list[list[int]]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
        """Split slots sorted by (group, tree) and where each (group, tree) run starts; cached per
        ``groups``. ``None`` when the trees are walked or the groups overlap."""
        key = tuple(map(tuple, groups))  # numpy integers hash and compare as ints
        plans = self.__dict__.setdefault("_plans", {})
        if key not in plans:
            group_of = np.zeros(self.n_features, dtype=np.int64)  # 0: in no group
            disjoint = True
            for g, columns in enumerate(key, start=1):
                disjoint &= not group_of[list(columns)].any()
                group_of[list(columns)] = g
            if self.mask_type is None or not disjoint:
                plans[key] = None
            else:
                n_trees = self.mask.shape[1]
                # Unused slots hold all-ones masks, so the group they land in is moot.
                group = group_of[self.column % self.n_features].ravel()
                tree = np.tile(np.arange(n_trees), len(self.mask))
                order = np.lexsort((tree, group))
                run = group[order] * n_trees + tree[order]
                starts = np.flatnonzero(np.r_[True, run[1:] != run[:-1]])
                plans[key] = (order, starts, group[order][starts], tree[order][starts])
        plan: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = plans[key]
        return plan

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("_plans", "_reference_cache")}

    def walk(self, X: np.ndarray) -> np.ndarray:
        """:meth:`raw` by walking every tree level by level (any tree size)."""
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


def _leaf_spans(nodes: np.ndarray) -> tuple[list[int], dict[int, tuple[int, int]]]:
    """A tree's leaves left to right, and each node's (first leaf, number of leaves) in that order."""
    leaves: list[int] = []
    spans: dict[int, tuple[int, int]] = {}
    stack = [(0, False)]
    while stack:  # post-order without recursion
        node, children_done = stack.pop()
        if nodes["is_leaf"][node]:
            spans[node] = (len(leaves), 1)
            leaves.append(node)
        elif children_done:
            first, left_count = spans[int(nodes["left"][node])]
            spans[node] = (first, left_count + spans[int(nodes["right"][node])][1])
        else:
            stack += [(node, True), (int(nodes["right"][node]), False), (int(nodes["left"][node]), False)]
    return leaves, spans


class PairRanker(ClassifierMixin, BaseEstimator):
    """HistGradientBoostingClassifier over pair features (one side of the match), packed for fast serving.

    Parameters
    ----------
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf, l2_regularization
        Passed to ``HistGradientBoostingClassifier``.
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
        monotonic: tuple[int, ...] | None = None,
        random_state: int = 7,
        n_threads: int = 1,
    ) -> None:
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.monotonic = monotonic
        self.random_state = random_state
        self.n_threads = n_threads

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        sample_weight: np.ndarray | None = None,
    ) -> PairRanker:
        """Fit the trees on ``(X, y)``."""
        X = np.array(X, dtype=np.float32)
        y = np.asarray(y).astype(int)
        # A column with no value at all (e.g. no vacancy lists salaries) carries nothing; the trees cannot
        # bin it, so it is fixed to 0 here and at prediction time.
        self.dead_columns_ = np.flatnonzero(np.isnan(X).all(axis=0))
        X[:, self.dead_columns_] = 0.0
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = X.shape[1]
        self.model_ = HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            monotonic_cst=list(self.monotonic) if self.monotonic is not None else None,
            max_depth=8,
            early_stopping=False,  # max_iter is chosen per side (``models.two_sided``), not stopped early
            random_state=self.random_state,
        )
        with openmp_threads(self.n_threads):
            self.model_.fit(X, y, sample_weight=sample_weight)
        self.packed_ = PackedTrees(self.model_)
        reference = np.where(np.isfinite(X), X, np.nan)
        self.reference_ = np.array(
            [np.nanmedian(c) if np.isfinite(c).any() else np.nan for c in reference.T], dtype=np.float32
        )
        return self

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        if "model_" in self.__dict__:
            # Rebuilt rather than unpickled: a model saved by an older PackedTrees serves with this one.
            self.packed_ = PackedTrees(self.model_)

    def _live(self, X: np.ndarray) -> np.ndarray:
        """``X`` as float32 with the dead columns fixed to 0 (as in ``fit``)."""
        X = np.asarray(X, dtype=np.float32)
        if len(self.dead_columns_):
            X = X.copy()
            X[:, self.dead_columns_] = 0.0
        return X

    def decision(self, X: np.ndarray) -> np.ndarray:
        """Probability of the positive class from the trees (log-loss fit)."""
        X = self._live(X)
        if len(X) <= SMALL_BATCH:
            return self.packed_.proba(X)
        with openmp_threads(1):
            return self.model_.predict_proba(X)[:, 1]

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = self.decision(X)
        return np.column_stack([1.0 - p, p])

    def predict(self, X: np.ndarray) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def contributions(self, X: np.ndarray, groups: dict[str, list[int]]) -> tuple[np.ndarray, list[str]]:
        """See :meth:`proba_and_contributions` (without the probability)."""
        _, contributions, names = self.proba_and_contributions(X, groups)
        return contributions, names

    def proba_and_contributions(
        self, X: np.ndarray, groups: dict[str, list[int]]
    ) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """How much each group of columns raised the raw score above the reference (median) pair.

        Returns ``decision(X)`` and an ``(n, n_groups)`` array: ``decision(X) - decision(X with the group set
        to its reference)``.
        For request-sized batches the rows' split tests are computed once and only the splits on each
        group's columns are re-answered (``PackedTrees.raw_replacing``); larger batches stack the modified
        rows into one prediction. Both give the numbers ``decision`` gives.
        """
        X = np.asarray(X, dtype=np.float32)
        names = list(groups)
        n = len(X)
        if n == 0:
            return np.zeros(0), np.zeros((0, len(names))), names
        if (len(names) + 1) * n <= SMALL_BATCH:
            reference = self._live(self.reference_[None, :])[0]
            raw = self.packed_.raw_replacing(self._live(X), reference, [list(groups[k]) for k in names])
            scores = 1.0 / (1.0 + np.exp(-raw))
        else:
            stacked = np.repeat(X[None, :, :], len(names) + 1, axis=0)
            for g, name in enumerate(names, start=1):
                stacked[g][:, groups[name]] = self.reference_[groups[name]]
            scores = self.decision(stacked.reshape(-1, X.shape[1])).reshape(len(names) + 1, n)
        return scores[0], (scores[0][None, :] - scores[1:]).T, names


_EPS = 1e-6


def logit(p: np.ndarray) -> np.ndarray:
    """Log-odds of probabilities, clipped away from 0 and 1."""
    p = np.clip(np.asarray(p, dtype=np.float64), _EPS, 1.0 - _EPS)
    return np.log(p) - np.log1p(-p)


class SuccessCalibration:
    """``P(success) = sigmoid(slope * logit(p) + intercept)``: Platt scaling of a probability, strictly
    increasing (``slope > 0``). Fitted by weighted logistic regression on held-out pairs; when the data
    cannot support a positive slope (one class, or no signal) it stays the identity map.
    """

    def __init__(self) -> None:
        self.slope_ = 1.0
        self.intercept_ = 0.0

    def fit(
        self, p: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> SuccessCalibration:
        x = logit(p)
        y = np.asarray(y).astype(int)
        self.slope_, self.intercept_ = 1.0, 0.0
        if len(np.unique(y)) == 2 and np.ptp(x) > 0:
            model = LogisticRegression(C=1e4, max_iter=1000)
            model.fit(x[:, None], y, sample_weight=sample_weight)
            slope = float(model.coef_[0, 0])
            if slope > 0 and np.isfinite(slope):
                self.slope_, self.intercept_ = slope, float(model.intercept_[0])
        return self

    def transform(self, p: np.ndarray) -> np.ndarray:
        """Calibrated probabilities of ``p``, strictly increasing in ``p``."""
        z = self.slope_ * logit(p) + self.intercept_
        return 1.0 / (1.0 + np.exp(-z))
