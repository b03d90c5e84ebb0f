"""The trained matcher the service asks: LightFM hybrid for representations, a scikit-learn ranker on top.

Two stages, both directions:

1. **Retrieval** — one matrix product over precomputed representations (LightFM scores standardised per
   graduate and per vacancy, so they compare across both) plus one sparse product for required-skill
   coverage; the union of the top few hundred of each is kept (``argpartition``).
2. **Ranking** — the gradient-boosted :class:`~models.ranker.PairRanker` over explicit pair features
   (``models.pairs``) and the two LightFM scores; it outputs a calibrated match probability.
   One ranker per direction: graduates for a vacancy use one fitted on every example; vacancies for a
   graduate (``vacancies_for``, ``score_pairs``, ``models.cohort``) one fitted on that direction's examples
   only (``MatcherConfig.graduate_ranker``).

Training (``fit``) keeps the future out of the ranker's features: LightFM and the history rates used for the
ranker's examples are fitted on events before the example window; the serving LightFM and rates are then
refitted on everything.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import scipy.sparse as sp

from models.base import FOR_GRADUATE, BaseMatcher
from models.columns import Columns as C
from models.data import MarketData
from models.explain import GROUPS, reasons_for
from models.features import FeatureSpace, market_frames
from models.history import FIRST_AT, HistoryStats, exposure_pairs, positive_pairs
from models.hybrid import HybridModel, with_one
from models.index import GraduateBlock, MatchIndex, VacancyBlock
from models.pairs import (
    FEATURE_NAMES,
    LIGHTFM_FEATURES,
    MONOTONIC,
    RETRIEVAL,
    history_tables,
    pair_features,
)
from models.ranker import PairRanker
from models.results import (
    CandidateFilters,
    Match,
    MatchResult,
    ModelNotFitted,
    Reason,
    UnknownGraduate,
    UnknownVacancy,
    VacancyFilters,
)
from models.training_set import HARD, VACANCY_SIDE, build_examples

__all__ = [
    "CandidateFilters",
    "Match",
    "MatchIndex",
    "MatchResult",
    "Matcher",
    "MatcherConfig",
    "ModelNotFitted",
    "NoTrainingData",
    "Reason",
    "UnknownGraduate",
    "UnknownVacancy",
    "VacancyFilters",
]

log = logging.getLogger(__name__)
STATE_FILE = "matcher.joblib"
_REQUIRED_COVERAGE = FEATURE_NAMES.index("required_coverage")
_PREFERRED_COVERAGE = FEATURE_NAMES.index("preferred_coverage")


class NoTrainingData(ValueError):
    """The data has no positive interactions (applied or further) to learn from."""

    code = "no_training_data"


@dataclass
class MatcherConfig:
    """Hyper-parameters of the whole matcher (saved in the artifact manifest)."""

    no_components: int = 32
    epochs: int = 20
    learning_rate: float = 0.05
    max_sampled: int = 10
    embedding_alpha: float = 1e-6
    # One OpenMP thread: LightFM's Hogwild updates with two threads are not reproducible, and the same data
    # must give the same model (and the same gate decision) on every run.
    num_threads: int = 1
    ranker_window: float = 0.3
    # Weight of "viewed, never applied" negatives. Views follow what the job board showed, so they are
    # biased towards pairs that already look good; at full weight they teach the ranker to distrust
    # exactly the signals (programme taste) that decide what a graduate looks at.
    impression_weight: float = 0.25
    random_negatives: int = 2
    hard_negatives: int = 3
    hard_pool: int = 100
    calibration_fraction: float = 0.2
    # Small, regularised trees with monotone skill/sponsor/district effects: on small markets (about 1,400
    # graduates, 300 vacancies) larger trees (120 x 31 leaves, no constraints) fell below the keyword matcher
    # ranking graduates for new vacancies; these scored the same on the medium world and cost a quarter
    # of the tree walking per request. See docs/matcher.md.
    max_iter: int = 60
    ranker_learning_rate: float = 0.1
    max_leaf_nodes: int = 15
    min_samples_leaf: int = 80
    l2_regularization: float = 10.0
    monotonic: bool = True
    retrieval_pool: int = 300
    # A second ranker for vacancies-for-a-graduate, trained on that direction's examples only.
    graduate_ranker: bool = True
    # Hard negatives (top of retrieval, i.e. high LightFM score or skill cover) for the graduate ranker: on
    # the medium world they taught it to distrust LightFM's per-graduate order (NDCG@10 0.267 with, 0.288
    # without); the vacancy-direction ranker keeps them.
    graduate_hard_negatives: bool = False
    use_lightfm: bool = True
    seed: int = 7

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> MatcherConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})


class _Encoder:
    """Adds LightFM representations and history arrays to index blocks."""

    def __init__(
        self,
        features: FeatureSpace,
        by_graduate: HybridModel | None,
        by_vacancy: HybridModel | None,
        stats: HistoryStats,
    ) -> None:
        self.features = features
        self.by_graduate = by_graduate  # graduates as users, vacancies as items
        self.by_vacancy = by_vacancy  # vacancies as users, graduates as items
        self.stats = stats

    def encode_graduates(self, frame: pd.DataFrame, block: GraduateBlock) -> dict[str, np.ndarray]:
        out = {
            "activity": self.stats.graduate_vector(block.ids),
            "apply_rate": self.stats.rate_vector("graduate_rate", block.ids, extra=False),
        }
        if self.by_graduate is not None and self.by_vacancy is not None:
            x = self.features.transform_graduates(frame)
            out[RETRIEVAL] = np.hstack(
                [
                    self.by_graduate.normalised_user_representations(x),
                    with_one(self.by_vacancy.item_representations(x)),
                ]
            )
        return out

    def encode_vacancies(self, frame: pd.DataFrame, block: VacancyBlock) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        if self.by_graduate is not None and self.by_vacancy is not None:
            x = self.features.transform_vacancies(frame)
            out[RETRIEVAL] = np.hstack(
                [
                    with_one(self.by_graduate.item_representations(x)),
                    self.by_vacancy.normalised_user_representations(x),
                ]
            )
        return out


def fit_hybrids(
    config: MatcherConfig,
    features: FeatureSpace,
    graduates: pd.DataFrame,
    vacancies: pd.DataFrame,
    positives: pd.DataFrame,
    *,
    progress: bool = False,
) -> tuple[HybridModel, HybridModel]:
    """LightFM in both orientations on ``positives`` (weighted by how far each pair went)."""
    g_rows = pd.Index(graduates[C.graduate]).get_indexer(positives[C.graduate])
    v_rows = pd.Index(vacancies[C.vacancy]).get_indexer(positives[C.vacancy])
    keep = (g_rows >= 0) & (v_rows >= 0)
    g_rows, v_rows = g_rows[keep], v_rows[keep]
    weight = positives[C.weight].to_numpy(dtype=np.float32)[keep]
    ones = np.ones(len(g_rows), dtype=np.float32)
    x_g = features.transform_graduates(graduates)
    x_v = features.transform_vacancies(vacancies)
    params = dict(
        no_components=config.no_components,
        learning_rate=config.learning_rate,
        item_alpha=config.embedding_alpha,
        user_alpha=config.embedding_alpha,
        max_sampled=config.max_sampled,
        epochs=config.epochs,
        random_state=config.seed,
        num_threads=config.num_threads,
    )
    by_graduate = HybridModel(**params).fit(  # type: ignore[arg-type]
        sp.coo_matrix((ones, (g_rows, v_rows)), shape=(len(graduates), len(vacancies))),
        x_g,
        x_v,
        sample_weight=weight,
        progress=progress,
        description="LightFM graduates->vacancies",
    )
    by_vacancy = HybridModel(**params).fit(  # type: ignore[arg-type]
        sp.coo_matrix((ones, (v_rows, g_rows)), shape=(len(vacancies), len(graduates))),
        x_v,
        x_g,
        sample_weight=weight,
        progress=progress,
        description="LightFM vacancies->graduates",
    )
    return by_graduate, by_vacancy


class Matcher(BaseMatcher):
    """LightFM hybrid + calibrated gradient-boosted ranker; see the module docstring.

    Parameters
    ----------
    config
        Hyper-parameters; defaults when ``None``.
    """

    # Bump whenever what ``save`` writes, or how ``load``/serving reads it, changes (features, pair columns,
    # array layout): the registry refuses artifacts of another format instead of failing at request time.
    ARTIFACT_FORMAT = 2

    def __init__(self, config: MatcherConfig | None = None) -> None:
        self.config = config or MatcherConfig()

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"config": self.config}

    def set_params(self, **params: Any) -> Matcher:
        if "config" in params:
            self.config = params.pop("config")
        for key, value in params.items():
            setattr(self.config, key, value)
        return self

    # ------------------------------------------------------------------ training
    def fit(self, data: MarketData, *, progress: bool = False) -> Matcher:
        """Fit on every interaction in ``data``; a second call forgets the first."""
        for name in (
            "features_",
            "by_graduate_",
            "by_vacancy_",
            "stats_",
            "ranker_",
            "graduate_ranker_",
            "trained_until_",
        ):
            self.__dict__.pop(name, None)
        config = self.config
        graduates, vacancies = market_frames(data)
        positives = positive_pairs(data.interactions)
        if positives.empty:
            raise NoTrainingData("no interaction went as far as 'applied': nothing to train on")
        features = FeatureSpace().fit(graduates, vacancies)

        cut = positives[FIRST_AT].quantile(1.0 - config.ranker_window)
        before = positives[positives[FIRST_AT] < cut]
        if before.empty:
            before = positives
        log.info(
            "ranker examples from %s; %d positives before, %d in window",
            cut,
            len(before),
            len(positives) - len(before),
        )
        hybrids_a: tuple[HybridModel | None, HybridModel | None] = (None, None)
        if config.use_lightfm:
            hybrids_a = fit_hybrids(config, features, graduates, vacancies, before, progress=progress)
        early_vacancies = vacancies[~(vacancies[C.posted_at] >= cut)]
        stats_a = HistoryStats.fit(
            before, graduates, early_vacancies, exposures=exposure_pairs(data.interactions, before=cut)
        )
        index_a = MatchIndex.build(data, _Encoder(features, *hybrids_a, stats_a))
        index_a.tables = history_tables(stats_a, index_a)
        examples = build_examples(
            data, index_a, positives, cut=cut, config=config, retrieve=self._retrieval_scores
        )
        X = pair_features(
            index_a.graduates, examples["g_row"], index_a.vacancies, examples["v_row"], index_a.tables
        )
        if not config.use_lightfm:
            X[:, [FEATURE_NAMES.index(f) for f in LIGHTFM_FEATURES]] = np.nan
        y = examples["label"].to_numpy()
        weight = examples["weight"].to_numpy()
        at = examples["at"]
        # Graduates for a vacancy: every example (what worked before; the vacancy side's own negatives
        # plus the rest). Vacancies for a graduate: positives, impressions and the graduate side's negatives
        # only, so the trees learn what orders vacancies for one graduate, not what separates graduates.
        ranker = _fit_ranker(config, X, y, weight, at)
        ranker_g = None
        if config.graduate_ranker:
            mask = (examples["side"] != VACANCY_SIDE).to_numpy()
            if not config.graduate_hard_negatives:
                mask = mask & (examples["kind"] != HARD).to_numpy()
            ranker_g = _fit_ranker(config, X[mask], y[mask], weight[mask], at[mask])

        # Serving parts: everything refitted on all events.
        self.by_graduate_: HybridModel | None = None
        self.by_vacancy_: HybridModel | None = None
        if config.use_lightfm:
            self.by_graduate_, self.by_vacancy_ = fit_hybrids(
                config, features, graduates, vacancies, positives, progress=progress
            )
        self.stats_ = HistoryStats.fit(
            positives, graduates, vacancies, exposures=exposure_pairs(data.interactions)
        )
        self.features_ = features
        self.ranker_ = ranker
        self.graduate_ranker_ = ranker_g
        self.trained_until_ = pd.Timestamp(data.interactions[C.occurred_at].max())
        self.n_examples_ = len(examples)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "ranker_"):
            raise ModelNotFitted("the matcher has not been fitted")

    # ------------------------------------------------------------------ hooks
    def _encoder(self) -> _Encoder:
        self._check_fitted()
        return _Encoder(self.features_, self.by_graduate_, self.by_vacancy_, self.stats_)

    def _tables(self, index: MatchIndex) -> dict[str, np.ndarray]:
        return history_tables(self.stats_, index)

    @staticmethod
    def _retrieval_scores(
        query: GraduateBlock | VacancyBlock, query_rows: np.ndarray, others: GraduateBlock | VacancyBlock
    ) -> tuple[np.ndarray | None, np.ndarray]:
        """(LightFM, skill) scores of every row of ``others`` for each query row, ``(n_others, n_rows)``."""
        query_rows = np.atleast_1d(np.asarray(query_rows, dtype=np.int64))
        lightfm = None
        q_rep, o_rep = query.arrays.get(RETRIEVAL), others.arrays.get(RETRIEVAL)
        if q_rep is not None and o_rep is not None:
            lightfm = o_rep @ q_rep[query_rows].T
        # Sparse x dense products: much faster than sparse x sparse for a handful of query rows.
        if isinstance(query, VacancyBlock):
            assert isinstance(others, GraduateBlock)
            wanted = query.required[query_rows].toarray().T / np.maximum(query.n_required[query_rows], 1.0)
            wanted += (
                0.5 * query.preferred[query_rows].toarray().T / np.maximum(query.n_preferred[query_rows], 1.0)
            )
            skill = others.skill_scores(wanted)
        else:
            assert isinstance(others, VacancyBlock)
            held = query.skills[query_rows].toarray().T
            skill = np.asarray(others.required @ held) / np.maximum(others.n_required, 1.0)[:, None]
            skill += 0.5 * np.asarray(others.preferred @ held) / np.maximum(others.n_preferred, 1.0)[:, None]
        return lightfm, skill

    def _retrieve(
        self,
        index: MatchIndex,
        query: GraduateBlock | VacancyBlock,
        query_row: int,
        others: GraduateBlock | VacancyBlock,
        rows: np.ndarray,
        k: int,
    ) -> np.ndarray:
        pool = max(self.config.retrieval_pool, k)
        if len(rows) <= pool:
            return rows
        lightfm, skill = self._retrieval_scores(query, np.array([query_row]), others)
        everyone = len(rows) == len(others)  # no filter removed anyone: the score columns as they are
        skill_scores = skill[:, 0] if everyone else skill[rows, 0]
        if lightfm is None:
            return _top(rows, skill_scores, pool)
        lightfm_scores = lightfm[:, 0] if everyone else lightfm[rows, 0]
        chosen = [
            _top_tie_broken(rows, skill_scores, lightfm_scores, pool // 2),
            _top(rows, lightfm_scores, pool // 2, untied=True),
        ]
        return np.unique(np.concatenate(chosen))

    def _pair_scores(
        self,
        index: MatchIndex,
        graduates: GraduateBlock,
        g_rows: np.ndarray,
        vacancies: VacancyBlock,
        v_rows: np.ndarray,
        direction: str = FOR_GRADUATE,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        self._check_fitted()
        X = pair_features(graduates, g_rows, vacancies, v_rows, index.tables)
        if not self.config.use_lightfm:
            X[:, [FEATURE_NAMES.index(f) for f in LIGHTFM_FEATURES]] = np.nan
        ranker = self._ranker(direction)
        raw = ranker.decision(X)
        # Skill coverage breaks ties (and orders sensibly when a tiny training set gives a flat ranker).
        # The pair features hold it already (the same float32 numbers ``keyword.skill_coverage`` gives).
        required = X[:, _REQUIRED_COVERAGE]
        preferred = np.nan_to_num(X[:, _PREFERRED_COVERAGE], nan=0.0)
        tie = 1e-6 * (required + 0.5 * preferred)
        return raw + tie, ranker.calibrate(raw), X

    def _ranker(self, direction: str) -> PairRanker:
        """The ranker of one direction (graduates for a vacancy use the general one)."""
        graduate_ranker = self.__dict__.get("graduate_ranker_")
        if direction == FOR_GRADUATE and graduate_ranker is not None:
            return graduate_ranker  # type: ignore[no-any-return]
        return self.ranker_

    def _reasons(
        self, features: np.ndarray | None, n: int, probabilities: np.ndarray, direction: str = FOR_GRADUATE
    ) -> list[list[Reason]]:
        if features is None or n == 0:
            return [[] for _ in range(n)]
        contributions, names = self._ranker(direction).contributions(features, GROUPS)
        return reasons_for(features, contributions, names)

    # ------------------------------------------------------------------ persistence
    def learned_arrays(self) -> dict[str, np.ndarray]:
        """Every learned numeric array (for the finite check before promotion)."""
        self._check_fitted()
        arrays: dict[str, np.ndarray] = {}
        for prefix, model in (("by_graduate", self.by_graduate_), ("by_vacancy", self.by_vacancy_)):
            if model is not None:
                arrays.update({f"{prefix}.{k}": v for k, v in model.learned_arrays().items()})
        rankers = {"": self.ranker_, "graduate_": self.__dict__.get("graduate_ranker_")}
        for prefix, ranker in rankers.items():
            if ranker is None:
                continue
            calibrator = ranker.calibrator_
            arrays[f"{prefix}calibration.x"] = np.asarray(calibrator.X_thresholds_, dtype=np.float64)
            arrays[f"{prefix}calibration.y"] = np.asarray(calibrator.y_thresholds_, dtype=np.float64)
            arrays[f"{prefix}ranker.reference"] = np.nan_to_num(ranker.reference_, nan=0.0)
        return arrays

    def save(self, directory: str | Path) -> list[Path]:
        """Write the model as joblib (small objects) and .npy (LightFM arrays) files; returns the paths."""
        self._check_fitted()
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        state = dict(self.__dict__)
        for attr in ("by_graduate_", "by_vacancy_"):
            model = state.get(attr)
            if model is None:
                continue
            stripped = HybridModel(**model.get_params())
            for name, array in _hybrid_arrays(model).items():
                path = directory / f"{attr.rstrip('_')}.{name}.npy"
                np.save(path, array, allow_pickle=False)
                written.append(path)
            state[attr] = stripped
        state["config"] = self.config.to_dict()
        path = directory / STATE_FILE
        joblib.dump(state, path)
        written.append(path)
        return written

    @classmethod
    def load(cls, directory: str | Path) -> Matcher:
        """Load what :meth:`save` wrote (only from a directory you trust: joblib runs code)."""
        directory = Path(directory)
        state = joblib.load(directory / STATE_FILE)
        matcher = cls(MatcherConfig.from_dict(state.pop("config")))
        for attr in ("by_graduate_", "by_vacancy_"):
            model = state.get(attr)
            if model is None:
                continue
            for name in HYBRID_ARRAYS:
                setattr(
                    model, name, np.load(directory / f"{attr.rstrip('_')}.{name}.npy", allow_pickle=False)
                )
        matcher.__dict__.update(state)
        return matcher


def _fit_ranker(
    config: MatcherConfig, X: np.ndarray, y: np.ndarray, weight: np.ndarray, at: pd.Series
) -> PairRanker:
    """A calibrated ranker on examples; the latest ``calibration_fraction`` of them calibrate it."""
    late = (at >= at.quantile(1.0 - config.calibration_fraction)).to_numpy()
    if late.all() or (~late).all() or len(np.unique(y[~late])) < 2:
        late = np.zeros(len(y), dtype=bool)
    ranker = PairRanker(
        max_iter=config.max_iter,
        learning_rate=config.ranker_learning_rate,
        max_leaf_nodes=config.max_leaf_nodes,
        min_samples_leaf=config.min_samples_leaf,
        l2_regularization=config.l2_regularization,
        monotonic=tuple(MONOTONIC.get(name, 0) for name in FEATURE_NAMES) if config.monotonic else None,
        random_state=config.seed,
        # One thread: on a shared 2-core machine OpenMP's spinning costs more than it gains here.
        n_threads=1,
    )
    ranker.fit(
        X[~late],
        y[~late],
        sample_weight=weight[~late],
        X_calibration=X[late] if late.any() else None,
        y_calibration=y[late] if late.any() else None,
    )
    log.info("ranker fitted on %d examples (%d positive)", int((~late).sum()), int(y[~late].sum()))
    return ranker


HYBRID_ARRAYS = (
    "user_embeddings_",
    "user_biases_",
    "item_embeddings_",
    "item_biases_",
    "item_ref_mean_",
    "item_ref_cov_",
    "user_ref_mean_",
    "user_ref_cov_",
)


def _hybrid_arrays(model: HybridModel) -> dict[str, np.ndarray]:
    return {name: getattr(model, name) for name in HYBRID_ARRAYS}


def _top_tie_broken(rows: np.ndarray, scores: np.ndarray, tie_break: np.ndarray, k: int) -> np.ndarray:
    """The rows of the ``k`` highest ``scores``; among scores tied at the cut-off, the highest ``tie_break``.

    Skill coverage takes few distinct values, so at large scale hundreds of graduates share the cut-off
    score; which of them enter the pool is then decided by the collaborative score, not by memory order.
    """
    if len(rows) <= k:
        return rows
    bar = np.partition(scores, len(scores) - k)[len(scores) - k]
    above = np.flatnonzero(scores > bar)
    tied = np.flatnonzero(scores == bar)
    need = k - len(above)
    if len(tied) > need:
        # The same selection once more on the tie-break, then the lower row (graduates with the same
        # features have the same LightFM score); linear, as the tied group can be most of the pool.
        values = tie_break[tied]
        bar = np.partition(values, len(values) - need)[len(values) - need]
        over = tied[values > bar]
        tied = np.concatenate([over, tied[values == bar][: need - len(over)]])
    return rows[np.concatenate([above, tied])]


def _top(rows: np.ndarray, scores: np.ndarray, k: int, *, untied: bool = False) -> np.ndarray:
    """The rows of the ``k`` highest scores, as ``np.argpartition(-scores, k - 1)[:k]`` picks them.

    ``untied``: the scores rarely tie (LightFM's): first look for the top ``k`` among the scores above a
    threshold taken from a sample, and use that when the ``k``-th score is strictly above every other one
    (then the set is the same whatever picks it); otherwise, or when the sample misjudged, partition
    everything. Tied scores (skill coverage) always go through the full partition: which of several equal
    scores it keeps depends on the whole array.
    """
    if len(rows) <= k:
        return rows
    if untied and len(scores) >= 20 * k:
        step = max(1, 3 * k // 16)  # the sample's 16th best is about the whole array's 3k-th
        sample = scores[::step]
        bar = np.partition(sample, len(sample) - 16)[len(sample) - 16]
        above = np.flatnonzero(scores >= bar)
        if len(above) > k:
            candidates = scores[above]
            part = np.argpartition(-candidates, k - 1)
            if candidates[part[k:]].max() < candidates[part[:k]].min():
                return rows[above[part[:k]]]
    part = np.argpartition(-scores, k - 1)[:k]
    return rows[part]
