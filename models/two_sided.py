"""The two-sided (reciprocal) match model over pair features, and the choice of its configuration.

A pairing succeeds when the graduate is interested and the employer advances them, so the model is

    P(success | shown) = calibrate( P(interested | shown) x P(advanced | applied) )

with each side a small model over the same explicit pair features, gradient-boosted trees
(:class:`~models.ranker.PairRanker`) or a logistic regression (:class:`~models.linear_side.LinearSide`),
monotone where every market agrees (more of the required skills held never lowers either side),
and ``calibrate`` a strictly increasing logistic map fitted on a later slice of the examples
(:class:`~models.ranker.SuccessCalibration`). The same number answers for every pair, whichever side asks.

Which kind, tree size and features suit a market is not decided here once and for all:
:func:`select_model` fits a few :data:`CANDIDATES` on the earlier part of the user's own example window and
compares them on the later part by how well each ranks: per graduate and per vacancy, the share of (success,
failure) pairs ordered right, since the score ranks each query's options (the log-loss is recorded too,
and decides when the later part has too few such queries). Candidates are listed in order of preference
and the first within one standard error of the best is kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from models.linear_side import BlendSide, LinearSide
from models.outcomes import ADVANCED, APPLIED, DEPTH, INTERESTED, SUCCESS
from models.pairs import CATEGORICAL_FEATURES, FEATURE_NAMES, FEATURES, MONOTONIC
from models.ranker import PairRanker, SuccessCalibration, logit
from models.training_set import ANSWER_KNOWN, EXPOSED, G_ROW, INTEREST_KNOWN, RESOLVED, V_ROW

# Feature groups computed from past interactions: what a market with a thin history may do better without.
HISTORY_GROUPS = (
    "program_segment_history",
    "employer_history",
    "program_district_history",
    "program_role_history",
    "employer_appeal",
    "employer_screening",
    "graduate_activity",
    "collaborative",
)
HISTORY_FEATURES = tuple(n for n, g in FEATURES.items() if g in HISTORY_GROUPS) + ("missing_key_share",)
TARGETS = ("success", "applied")  # "applied": the old one-sided target (ablation)


@dataclass(frozen=True)
class SideSpec:
    """One candidate configuration of the two sides' trees."""

    name: str
    max_iter: int
    max_leaf_nodes: int
    min_samples_leaf: int
    l2_regularization: float
    without: tuple[str, ...] = ()  # feature names left out (set to missing)
    # "trees" (boosted trees, the sizes above), "linear" (``models.linear_side``: logistic regression with
    # L2 strength 1; the tree sizes are unused) or "blend" (the mean log-odds of both).
    kind: str = "trees"


SIDE_KINDS = ("trees", "linear", "blend")
CANDIDATES: dict[str, SideSpec] = {
    spec.name: spec
    for spec in (
        SideSpec(
            "linear", max_iter=0, max_leaf_nodes=0, min_samples_leaf=0, l2_regularization=0.0, kind="linear"
        ),
        SideSpec(
            "blend", max_iter=40, max_leaf_nodes=7, min_samples_leaf=40, l2_regularization=10.0, kind="blend"
        ),
        SideSpec(
            "blend-no-history",
            max_iter=40,
            max_leaf_nodes=7,
            min_samples_leaf=40,
            l2_regularization=10.0,
            without=HISTORY_FEATURES,
            kind="blend",
        ),
        SideSpec("compact", max_iter=40, max_leaf_nodes=7, min_samples_leaf=40, l2_regularization=10.0),
        SideSpec("standard", max_iter=60, max_leaf_nodes=15, min_samples_leaf=80, l2_regularization=10.0),
        SideSpec(
            "standard-no-history",
            max_iter=60,
            max_leaf_nodes=15,
            min_samples_leaf=80,
            l2_regularization=10.0,
            without=HISTORY_FEATURES,
        ),
        SideSpec("large", max_iter=120, max_leaf_nodes=31, min_samples_leaf=40, l2_regularization=1.0),
    )
}
_MIN_SIDE_EXAMPLES = 20
# Queries (graduates, vacancies with a success and a failure among the latest examples) needed to choose by
# ranking; with fewer the choice falls back to the log-loss.
_MIN_QUERIES = 30
Candidate = str | Mapping[str, Any]  # a name in CANDIDATES, or a SideSpec's fields (from a config file)


def resolve_candidates(items: Sequence[Candidate]) -> list[SideSpec]:
    """Candidate configurations from names and field mappings; raises ``ValueError`` naming a bad one."""
    specs = []
    for item in items:
        if isinstance(item, str):
            if item not in CANDIDATES:
                raise ValueError(f"unknown candidate {item!r}; expected one of {', '.join(CANDIDATES)}")
            specs.append(CANDIDATES[item])
        else:
            values = dict(item)
            values["without"] = tuple(values.get("without", ()))
            unknown = set(values["without"]) - set(FEATURE_NAMES)
            if unknown:
                raise ValueError(
                    f"candidate {values.get('name')!r} leaves out unknown features {sorted(unknown)}"
                )
            if values.get("kind", "trees") not in SIDE_KINDS:
                raise ValueError(
                    f"candidate {values.get('name')!r} has kind {values.get('kind')!r}; "
                    f"expected one of {', '.join(SIDE_KINDS)}"
                )
            try:
                specs.append(SideSpec(**values))
            except TypeError as exc:
                raise ValueError(f"bad candidate {item!r}: {exc}") from exc
    if not specs:
        raise ValueError("no candidate configuration to choose from")
    return specs


def masked(X: np.ndarray, columns: Sequence[int]) -> np.ndarray:
    """``X`` with ``columns`` set to missing (a copy when any)."""
    if not len(columns):
        return X
    X = np.array(X, dtype=np.float32, copy=True)
    X[:, list(columns)] = np.nan
    return X


class TwoSidedModel:
    """The graduate side, the employer side and the calibration of their product (see the module doc).

    Parameters
    ----------
    spec
        Tree size and features.
    target
        ``"success"`` (both sides) or ``"applied"`` (the graduate side alone, learning applications; kept
        as the ablation of the one-sided model).
    learning_rate, monotonic, seed
        Passed to both sides' trees.
    unseen_weight
        Weight of the random unseen negatives in the graduate side (recorded exposures weigh 1).
    """

    def __init__(
        self,
        spec: SideSpec,
        *,
        target: str = "success",
        learning_rate: float = 0.1,
        monotonic: bool = True,
        unseen_weight: float = 1.0,
        seed: int = 7,
    ) -> None:
        if target not in TARGETS:
            raise ValueError(f"unknown target {target!r}; expected one of {', '.join(TARGETS)}")
        self.spec = spec
        self.target = target
        self.learning_rate = learning_rate
        self.monotonic = monotonic
        self.unseen_weight = unseen_weight
        self.seed = seed

    def _side(self) -> PairRanker | LinearSide | BlendSide:
        spec = self.spec
        monotonic = tuple(MONOTONIC.get(n, 0) for n in FEATURE_NAMES) if self.monotonic else None
        linear = LinearSide(
            monotonic=monotonic,
            categorical=tuple(FEATURE_NAMES.index(n) for n in CATEGORICAL_FEATURES),
            random_state=self.seed,
        )
        if spec.kind == "linear":
            return linear
        trees = PairRanker(
            max_iter=spec.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=spec.max_leaf_nodes,
            min_samples_leaf=spec.min_samples_leaf,
            l2_regularization=spec.l2_regularization,
            monotonic=monotonic,
            random_state=self.seed,
            # One thread: on a shared 2-core machine OpenMP's spinning costs more than it gains here.
            n_threads=1,
        )
        return BlendSide(trees, linear) if spec.kind == "blend" else trees

    @property
    def dropped_(self) -> list[int]:
        return [FEATURE_NAMES.index(n) for n in self.spec.without]

    def fit(self, X: np.ndarray, examples: pd.DataFrame) -> TwoSidedModel:
        """Fit both sides on ``examples`` (rows of ``X``; columns of ``models.training_set``)."""
        X = masked(X, self.dropped_)
        known = examples[INTEREST_KNOWN].to_numpy()
        label = examples[INTERESTED if self.target == "success" else APPLIED].to_numpy(dtype=int)[known]
        if len(np.unique(label)) < 2:
            raise ValueError("the graduate side needs examples of both classes")
        weight = np.where(examples[EXPOSED].to_numpy()[known], 1.0, self.unseen_weight)
        self.interest_ = self._side().fit(X[known], label, sample_weight=weight)
        self.employer_: PairRanker | LinearSide | BlendSide | None = None
        self.employer_prior_ = 1.0
        if self.target == "success":
            applied = (examples[APPLIED] & examples[ANSWER_KNOWN]).to_numpy()
            advanced = examples[ADVANCED].to_numpy(dtype=int)[applied]
            if len(advanced):
                self.employer_prior_ = float(advanced.mean())
            if applied.sum() >= _MIN_SIDE_EXAMPLES and len(np.unique(advanced)) == 2:
                # Deeper stages weigh more: an offer says more about the employer's view than a shortlist.
                depth = examples[DEPTH].to_numpy()[applied]
                weight = np.where(advanced == 1, 1.0 + 0.25 * (depth - 1), 1.0)
                self.employer_ = self._side().fit(X[applied], advanced, sample_weight=weight)
        self.calibration_ = SuccessCalibration()
        return self

    def calibrate(self, X: np.ndarray, examples: pd.DataFrame) -> TwoSidedModel:
        """Fit the calibration of the product to realised success on ``examples`` whose outcome is known."""
        known = (examples[RESOLVED] & examples[EXPOSED]).to_numpy()
        product = self.product(X[known])
        self.calibration_ = SuccessCalibration().fit(product, examples[SUCCESS].to_numpy(dtype=int)[known])
        return self

    def sides(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(graduate side, employer side) probabilities of each row of ``X``."""
        X = masked(X, self.dropped_)
        interest = self.interest_.decision(X)
        if self.employer_ is None:
            return interest, np.full(len(X), self.employer_prior_)
        return interest, self.employer_.decision(X)

    def product(self, X: np.ndarray) -> np.ndarray:
        interest, employer = self.sides(X)
        return interest * employer

    def score(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rank key, calibrated probability of success) of each row of ``X``."""
        product = self.product(X)
        return logit(product), self.calibration_.transform(product)

    def contributions(self, X: np.ndarray, groups: dict[str, list[int]]) -> tuple[np.ndarray, list[str]]:
        """``(n, n_groups)``: how much each group of features raised the calibrated score above the same
        pair with that group at its typical (median) value, both sides together."""
        X = masked(X, self.dropped_)
        interest, c_interest, names = self.interest_.proba_and_contributions(X, groups)
        if self.employer_ is None:
            employer = np.full(len(X), self.employer_prior_)
            c_employer = np.zeros_like(c_interest)
        else:
            employer, c_employer, _ = self.employer_.proba_and_contributions(X, groups)
        full = self.calibration_.transform(interest * employer)
        without = (interest[:, None] - c_interest) * (employer[:, None] - c_employer)
        return full[:, None] - self.calibration_.transform(np.clip(without, 0.0, 1.0)), names

    def learned_arrays(self) -> dict[str, np.ndarray]:
        arrays = {
            "calibration": np.array([self.calibration_.slope_, self.calibration_.intercept_]),
            "interest.reference": np.nan_to_num(self.interest_.reference_, nan=0.0),
        }
        if self.employer_ is not None:
            arrays["employer.reference"] = np.nan_to_num(self.employer_.reference_, nan=0.0)
        return arrays


def _log_losses(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-6)
    y = np.asarray(y, dtype=np.float64)
    return -(y * np.log(p) + (1 - y) * np.log1p(-p))


def query_losses(p: np.ndarray, y: np.ndarray, queries: Sequence[np.ndarray]) -> np.ndarray:
    """Per query, the share of its (success, failure) pairs that ``p`` orders wrongly (1 - the query's
    AUC, ties counting half), over the queries that have both; ``queries`` are key arrays aligned with
    ``p`` (the graduates' and the vacancies' ids), each giving one query per distinct key. Listed query by
    query in key order, so two models' losses on the same rows pair up."""
    out = []
    for keys in queries:
        frame = pd.DataFrame({"q": np.asarray(keys), "p": np.asarray(p, dtype=np.float64), "y": y})
        frame["r"] = frame.groupby("q")["p"].rank(method="average")
        frame["ry"] = frame["r"] * frame["y"]
        agg = frame.groupby("q").agg(n=("y", "size"), pos=("y", "sum"), rank_sum=("ry", "sum"))
        agg = agg[(agg["pos"] > 0) & (agg["pos"] < agg["n"])]
        pos, neg = agg["pos"].to_numpy(float), (agg["n"] - agg["pos"]).to_numpy(float)
        auc = (agg["rank_sum"].to_numpy(float) - pos * (pos + 1) / 2) / (pos * neg)
        out.append(1.0 - auc)
    return np.concatenate(out) if out else np.zeros(0)


def _first_within_one_se(names: Sequence[str], losses: Mapping[str, np.ndarray]) -> str:
    """The first of ``names`` (listed in order of preference) whose mean loss is within one standard error
    of the best one's, the error of the paired per-example (or per-query) differences: a small validation
    set does not overturn the preference on noise."""
    best = min(names, key=lambda n: (float(losses[n].mean()) if len(losses[n]) else 0.0, names.index(n)))
    for name in names:
        diff = losses[name] - losses[best]
        if not len(diff):
            return name
        se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0
        if float(diff.mean()) <= se:
            return name
    return best


def time_split(examples: pd.DataFrame, fraction: float) -> np.ndarray:
    """Mask of the examples at or after the time that leaves ``fraction`` of the exposures whose success is
    known after it (the calibration and validation slice); all False when that leaves either part
    without both classes of success."""
    known = (examples[RESOLVED] & examples[EXPOSED]).to_numpy()
    at = examples["at"]
    if not known.any():
        return np.zeros(len(examples), dtype=bool)
    late = (at >= at[known].quantile(1.0 - fraction)).to_numpy()
    success = examples[SUCCESS].to_numpy()
    if len(np.unique(success[late & known])) < 2 or len(np.unique(success[~late & known])) < 2:
        return np.zeros(len(examples), dtype=bool)
    return late


def select_model(
    X: np.ndarray,
    examples: pd.DataFrame,
    *,
    candidates: Sequence[Candidate],
    target: str = "success",
    learning_rate: float = 0.1,
    monotonic: bool = True,
    unseen_weight: float = 1.0,
    seed: int = 7,
    calibration_fraction: float = 0.2,
    search_sample: int = 100_000,
) -> tuple[TwoSidedModel, dict[str, object]]:
    """Fit each candidate on the earlier examples, calibrate and score it on the later ones, keep the best.

    ``candidates`` are listed in order of preference. They are compared on a seeded sample of at most
    ``search_sample`` earlier examples; the chosen one is refitted on all of them. Returns the model and
    the record of the choice (for the manifest): ``{"metric", "chosen", "validation_examples",
    "candidates": {name: {"log_loss", "auc", ...}}}``.
    """
    late = time_split(examples, calibration_fraction)
    early = ~late if late.any() else np.ones(len(examples), dtype=bool)
    check = late if late.any() else early
    fit_rows = np.flatnonzero(early)
    sampled = len(fit_rows) > search_sample
    if sampled:
        rng = np.random.default_rng(seed)
        fit_rows = np.sort(rng.choice(fit_rows, size=search_sample, replace=False))
    # Validation: the later pairs whose outcome is known, exposures and unseen pairs alike, since the score
    # must both be calibrated on what was shown and rank successes above pairs nobody would take up.
    check_rows = np.flatnonzero(check & examples[RESOLVED].to_numpy())
    y_check = examples[SUCCESS].to_numpy(dtype=int)[check_rows]
    queries = [examples[G_ROW].to_numpy()[check_rows], examples[V_ROW].to_numpy()[check_rows]]
    by_query = len(query_losses(y_check.astype(float), y_check, queries)) >= _MIN_QUERIES
    ranking_losses: dict[str, np.ndarray] = {}
    losses: dict[str, np.ndarray] = {}
    record: dict[str, dict[str, object]] = {}
    fitted: dict[str, TwoSidedModel] = {}
    specs = {spec.name: spec for spec in resolve_candidates(candidates)}
    names = list(specs)
    for name in names:
        model = TwoSidedModel(
            specs[name],
            target=target,
            learning_rate=learning_rate,
            monotonic=monotonic,
            unseen_weight=unseen_weight,
            seed=seed,
        )
        model.fit(X[fit_rows], examples.iloc[fit_rows])
        model.calibrate(X[check_rows], examples.iloc[check_rows])
        _, p = model.score(X[check_rows])
        losses[name] = _log_losses(p, y_check)
        ranking_losses[name] = query_losses(p, y_check, queries)
        record[name] = {
            "log_loss": round(float(losses[name].mean()), 6),
            "query_auc": round(1.0 - float(ranking_losses[name].mean()), 6)
            if len(ranking_losses[name])
            else None,
            "auc": round(float(roc_auc_score(y_check, p)) if len(np.unique(y_check)) > 1 else 0.5, 6),
            "employer_side": model.employer_ is not None,
            **{k: v for k, v in asdict(specs[name]).items() if k not in ("name", "without")},
            "without": list(specs[name].without),
        }
        fitted[name] = model
    chosen = _first_within_one_se(names, ranking_losses if by_query else losses)
    model = fitted[chosen]
    if sampled:
        model.fit(X[early], examples.iloc[np.flatnonzero(early)])
        model.calibrate(X[check_rows], examples.iloc[check_rows])
    selection: dict[str, object] = {
        "metric": (
            "query_auc: per graduate and per vacancy of the latest examples, the share of (success, "
            "failure) pairs ranked right (higher is better)"
            if by_query
            else "log_loss of success on the latest examples (lower is better)"
        )
        + "; the first candidate (in order of preference) within one standard error of the best is chosen",
        "chosen": chosen,
        "fit_examples": int(early.sum()),
        "validation_examples": len(check_rows),
        "search_sample": int(min(search_sample, int(early.sum()))),
        "candidates": record,
    }
    return model, selection
