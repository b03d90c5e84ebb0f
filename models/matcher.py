"""The trained matcher the service asks: LightFM for retrieval, the two-sided model for the score.

Two stages, both directions, one score per pair:

1. **Retrieval** — one matrix product over precomputed representations (LightFM scores standardised per
   graduate and per vacancy, so they compare across both) plus one sparse product for required-skill
   coverage; the union of the top few hundred of each is kept (``argpartition``).
2. **Scoring** — :class:`~models.two_sided.TwoSidedModel` over explicit pair features (``models.pairs``):
   the probability that the pairing succeeds, P(graduate interested | shown) x P(employer advances |
   applied), calibrated by a strictly increasing map. The same number for a pair whichever side asks:
   candidates of a vacancy, suggestions for a graduate, ``score_pairs`` and placement plans
   (``models.cohort``) all read it.

Training (``fit``) keeps the future out of the features: the history rates (and LightFM, when its scores are
features) used for the examples are fitted on events before the example window; the tree size and feature
set are chosen on the user's own data (``models.two_sided.select_model``); the serving LightFM and rates are
then refitted on everything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import scipy.sparse as sp

from models.ann import AnnOptions
from models.base import BaseMatcher
from models.columns import Columns as C
from models.data import MarketData
from models.explain import GROUPS, missing_skill_reason, reasons_for
from models.features import FeatureSpace, market_frames
from models.history import HistoryStats, exposure_pairs, positive_pairs
from models.hybrid import HybridModel, with_one
from models.index import GraduateBlock, MatchIndex, VacancyBlock
from models.outcomes import ADVANCED, APPLIED, FIRST_AT, INTERESTED, pair_outcomes
from models.pairs import FEATURE_NAMES, LIGHTFM_FEATURES, RETRIEVAL, history_tables, pair_features
from models.protocol import VacancyPoolGroup
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
from models.skill_bits import SkillLevels
from models.training_set import AT, G_ROW, V_ROW, build_examples, resolved_mask, response_horizon
from models.two_sided import (
    TARGETS,
    Candidate,
    TwoSidedModel,
    resolve_candidates,
    select_model,
    time_split,
)

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
REQUIRED_SHARES = "required_shares"  # per-vacancy array name (see ``_Encoder._required_shares``)
_REQUIRED_COVERAGE = FEATURE_NAMES.index("required_coverage")
_PREFERRED_COVERAGE = FEATURE_NAMES.index("preferred_coverage")
_LIGHTFM_COLUMNS = [FEATURE_NAMES.index(f) for f in LIGHTFM_FEATURES]
# Exact retrieval scores only the filtered rows when fewer than 1/FEW_ROWS of the block pass: a scattered
# row costs ~2.5x what the product over every row costs a row (``gathered_product``).
FEW_ROWS = 4
_GATHER_BLOCK = 8192
_KERNEL_ROWS = 16  # a multiple of the rows BLAS's matrix-vector kernels take at a time
# Approximate retrieval scores a group tied at the skill cut-off in full up to this size (~0.15 ms).
_TIES_SCORED = 4096
# Approximate retrieval searches each band at most 1/ANN_MIN_SHARE times its shortlist deep (a filter
# passing a quarter of the graduates it searches); a narrower filter is retrieved exactly, over its rows.
ANN_MIN_SHARE = 0.25


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
    # The two sides learn from pairs first exposed in the last ``ranker_window`` of the history, with
    # features (history rates, LightFM) from the events before it; the latest ``calibration_fraction`` of
    # those examples calibrates the score and chooses among ``candidates``.
    ranker_window: float = 0.3
    calibration_fraction: float = 0.2
    # Random unseen pairs per window pair (each direction) as the graduate side's negatives, and their weight
    # against recorded exposures (see ``models.training_set``).
    random_negatives: int = 2
    unseen_weight: float = 1.0
    ranker_learning_rate: float = 0.1
    monotonic: bool = True
    # Model kinds, tree sizes and feature sets to choose from on the user's own data
    # (``models.two_sided.CANDIDATES``), compared on at most ``search_sample`` examples, in order of
    # preference: the first within one standard error of the best wins. Blends (trees and a logistic
    # regression, mean log-odds) only: on the ten small demo worlds the blend ranked graduates' suggestions
    # at least as well as the trees alone in nine (mean 0.83 against 0.76 of the oracle, accepted outcomes),
    # while a free choice among the kinds by the validation slice (a few hundred graduates) picked trees
    # where the blend was far better (docs/matcher.md). The slice still chooses whether history helps.
    # Each a name or a mapping of ``SideSpec`` fields (a custom tree size in a ``--config`` file).
    # ``large`` (120 x 31 leaves) is not among the defaults: it won the log-loss on three of five medium demo
    # worlds but ranked no better there (NDCG@10 accepted, mean of three: V 0.101 vs 0.103, G 0.374 vs
    # 0.375 without it) and made every request 2-3x slower (two sides of bigger trees).
    candidates: tuple[Candidate, ...] = ("blend", "blend-no-history")
    search_sample: int = 100_000
    # "success": graduate side x employer side; "applied": the one-sided model of applications (ablation).
    target: str = "success"
    retrieval_pool: int = 300
    # The sponsor's channel: up to this many rows of the query's sponsor join its pool whatever their
    # retrieval scores (a vacancy's own order-class graduates; an order-class graduate's sponsor's open
    # vacancies), best skill coverage first. The order class is trained for these jobs, and both sides
    # expect to see them; the model still ranks them (``sponsor_match`` is one feature among the rest).
    # 0 turns it off. 50: a sponsor has at most a handful of open vacancies, but at the large scale its
    # order classes hold ~1,000 seeking graduates, and each row joining a vacancy's pool of 300 is scored
    # (150 more rows would score up to half as many pairs again).
    sponsor_pool: int = 50
    # LightFM scores as pair features too (costs a second LightFM fit on the earlier events); retrieval
    # always uses LightFM when ``use_lightfm``.
    lightfm_features: bool = False
    use_lightfm: bool = True
    seed: int = 7
    # Approximate retrieval (``models.ann``, hnswlib): for more seeking graduates (the candidate pool) than
    # ``ann_min_pool`` in an index (and hnswlib installed) the LightFM half of a vacancy's pool comes from
    # an hnswlib shortlist of ``ann_shortlist`` per norm band (deeper as the filters pass fewer), re-scored
    # exactly (search beam ``ann_ef``). 0 turns it off. 192 / 120: recall@20 of the answers 0.969 (medium
    # demo model) and 0.991 (large) at a million graduates; 128 / 80 left the medium model at 0.953, just
    # above the 0.95 it is held to, for ~1 ms less a query (docs/performance.md).
    ann_min_pool: int = 200_000
    ann_ef: int = 192
    ann_shortlist: int = 120

    def __post_init__(self) -> None:
        resolve_candidates(self.candidates)  # a bad name or field fails here, not after LightFM's fit
        if self.target not in TARGETS:
            raise ValueError(f"unknown target {self.target!r}; expected one of {', '.join(TARGETS)}")

    def to_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["candidates"] = [c if isinstance(c, str) else dict(c) for c in self.candidates]
        return values

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> MatcherConfig:
        names = {f.name for f in fields(cls)}
        kept = {k: v for k, v in values.items() if k in names}
        if "candidates" in kept:
            kept["candidates"] = tuple(
                c if isinstance(c, str) else {**c, "without": tuple(c.get("without", ()))}
                for c in kept["candidates"]
            )
        return cls(**kept)


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

    def _required_shares(self, frame: pd.DataFrame) -> np.ndarray:
        """Per vacancy, for each required skill, the share of the graduates its employer advanced who
        held it (0 without history): what makes a missing skill the decisive one."""
        prior = self.stats.advanced_prior
        by_enterprise = self.stats.shares_by_enterprise()
        out = np.empty(len(frame), dtype=object)
        for i, (enterprise, required) in enumerate(
            zip(frame[C.enterprise].tolist(), frame[C.required_skills].tolist(), strict=True)
        ):
            known = by_enterprise.get(str(enterprise), {})
            out[i] = tuple(known.get(str(s), float(prior.get(str(s), 0.0))) for s in required or ())
        return out

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
        out: dict[str, np.ndarray] = {REQUIRED_SHARES: self._required_shares(frame)}
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
    ARTIFACT_FORMAT = 3

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
            "model_",
            "selection_",
            "trained_until_",
        ):
            self.__dict__.pop(name, None)
        config = self.config
        graduates, vacancies = market_frames(data)
        positives = positive_pairs(data.interactions)
        if positives.empty:
            raise NoTrainingData("no interaction went as far as 'applied': nothing to train on")
        features = FeatureSpace().fit(graduates, vacancies)
        outcomes = pair_outcomes(data.interactions)

        cut = outcomes[FIRST_AT].quantile(1.0 - config.ranker_window)
        before = positives[positives[FIRST_AT] < cut]
        if before.empty:
            before = positives
        log.info("examples from %s; %d positives before", cut, len(before))
        use_features = config.use_lightfm and config.lightfm_features
        hybrids_a: tuple[HybridModel | None, HybridModel | None] = (None, None)
        if use_features:
            hybrids_a = fit_hybrids(config, features, graduates, vacancies, before, progress=progress)
        index_a = _history_index(data, features, hybrids_a, positives, (graduates, vacancies), before=cut)
        examples = build_examples(
            data, index_a, outcomes, cut=cut, seed=config.seed, random_negatives=config.random_negatives
        )
        if not examples[INTERESTED].any() or examples[INTERESTED].all():
            raise NoTrainingData("the examples need pairs that were and were not applied to")
        X = self._features(
            index_a.graduates, examples[G_ROW], index_a.vacancies, examples[V_ROW], index_a.tables
        )
        model, selection = select_model(
            X,
            examples,
            candidates=config.candidates,
            target=config.target,
            learning_rate=config.ranker_learning_rate,
            monotonic=config.monotonic,
            unseen_weight=config.unseen_weight,
            seed=config.seed,
            calibration_fraction=config.calibration_fraction,
            search_sample=config.search_sample,
        )
        log.info("chose %s: %s", selection["chosen"], selection["candidates"])
        # The trees learned from features of the history before the window; the service reads features of
        # a longer one. The calibration is refitted on the latest examples with features of everything
        # before them (still none of their own outcomes), which is what serving looks like.
        late = time_split(examples, config.calibration_fraction)
        if late.any():
            late_at = pd.Timestamp(examples[AT][late].min())
            index_c = _history_index(
                data, features, hybrids_a, positives, (graduates, vacancies), before=late_at
            )
            rows = np.flatnonzero(late)
            X_late = self._features(
                index_c.graduates,
                examples[G_ROW].to_numpy()[rows],
                index_c.vacancies,
                examples[V_ROW].to_numpy()[rows],
                index_c.tables,
            )
            model.calibrate(X_late, examples.iloc[rows])
            selection["calibrated_on"] = {"from": str(late_at), "examples": int(len(rows))}

        # Serving parts: everything refitted on all events.
        self.by_graduate_: HybridModel | None = None
        self.by_vacancy_: HybridModel | None = None
        if config.use_lightfm:
            self.by_graduate_, self.by_vacancy_ = fit_hybrids(
                config, features, graduates, vacancies, positives, progress=progress
            )
        self.stats_ = HistoryStats.fit(
            positives,
            graduates,
            vacancies,
            exposures=exposure_pairs(data.interactions),
            applications=_applications(outcomes, horizon_from=outcomes),
        )
        self.features_ = features
        self.model_: TwoSidedModel = model
        self.selection_ = selection
        self.trained_until_ = pd.Timestamp(data.interactions[C.occurred_at].max())
        self.n_examples_ = len(examples)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise ModelNotFitted("the matcher has not been fitted")

    # ------------------------------------------------------------------ hooks
    def _encoder(self) -> _Encoder:
        self._check_fitted()
        return _Encoder(self.features_, self.by_graduate_, self.by_vacancy_, self.stats_)

    def _tables(self, index: MatchIndex, previous: MatchIndex | None = None) -> dict[str, np.ndarray]:
        return history_tables(self.stats_, index, previous)

    def _ann_options(self) -> AnnOptions | None:
        config = self.config
        if config.ann_min_pool <= 0 or not config.use_lightfm:
            return None
        return AnnOptions(
            min_pool=config.ann_min_pool, ef=config.ann_ef, shortlist=config.ann_shortlist, seed=config.seed
        )

    @staticmethod
    def _retrieval_scores(
        query: GraduateBlock | VacancyBlock,
        query_rows: np.ndarray,
        others: GraduateBlock | VacancyBlock,
        *,
        lightfm_scores: bool = True,
        lightfm_rows: np.ndarray | None = None,
    ) -> tuple[np.ndarray | None, np.ndarray]:
        """(LightFM, skill) scores of every row of ``others`` for each query row, ``(n_others, n_rows)``;
        no LightFM scores (``None``) unless ``lightfm_scores``; with ``lightfm_rows``, the LightFM scores
        of those rows of ``others`` only, ``(len(lightfm_rows), n_rows)``."""
        query_rows = np.atleast_1d(np.asarray(query_rows, dtype=np.int64))
        lightfm = Matcher._lightfm_scores(query, query_rows, others, lightfm_rows) if lightfm_scores else None
        # Sparse x dense products: much faster than sparse x sparse for a handful of query rows.
        if isinstance(query, VacancyBlock):
            assert isinstance(others, GraduateBlock)
            skill = others.skill_scores(_wanted(query, query_rows))
        else:
            assert isinstance(others, VacancyBlock)
            held = query.skills[query_rows].toarray().T
            skill = np.asarray(others.required @ held) / np.maximum(others.n_required, 1.0)[:, None]
            skill += 0.5 * np.asarray(others.preferred @ held) / np.maximum(others.n_preferred, 1.0)[:, None]
        return lightfm, skill

    @staticmethod
    def _lightfm_scores(
        query: GraduateBlock | VacancyBlock,
        query_rows: np.ndarray,
        others: GraduateBlock | VacancyBlock,
        lightfm_rows: np.ndarray | None = None,
    ) -> np.ndarray | None:
        """The LightFM half of :meth:`_retrieval_scores` (``None`` without retrieval vectors)."""
        q_rep, o_rep = query.arrays.get(RETRIEVAL), others.arrays.get(RETRIEVAL)
        if q_rep is None or o_rep is None:
            return None
        queries = q_rep[query_rows].T
        if lightfm_rows is None:
            return retrieval_product(o_rep, queries)
        return gathered_product(o_rep, lightfm_rows, queries)

    @staticmethod
    def _skill_levels(
        query: GraduateBlock | VacancyBlock,
        query_row: int,
        others: GraduateBlock | VacancyBlock,
        rows: np.ndarray,
    ) -> SkillLevels | None:
        """A vacancy's skill coverage over graduates ``rows`` by level, from bits per skill
        (:mod:`models.skill_bits`; ``None``: score every row densely)."""
        if not isinstance(query, VacancyBlock) or not isinstance(others, GraduateBlock):
            return None
        return SkillLevels.of(
            others.skill_bits,
            others.skills,
            lambda: others.rows_bits(rows),
            _wanted(query, np.array([query_row])),
        )

    def _retrieve(
        self,
        index: MatchIndex,
        query: GraduateBlock | VacancyBlock,
        query_row: int,
        others: GraduateBlock | VacancyBlock,
        rows: np.ndarray,
        k: int,
        *,
        floor: int = -1,
    ) -> np.ndarray:
        pool = max(self.config.retrieval_pool, k)
        if len(rows) <= pool:
            return rows
        if index.ann is not None and others is index.graduates:
            approximate = self._retrieve_approximate(index, query, query_row, rows, pool, k, floor=floor)
            if approximate is not None:
                return approximate
        everyone = _every_row(rows, others)  # the score columns as they are
        # A filter that keeps few rows (a degree few graduates hold): the LightFM product over those rows
        # alone, not over the block (~25x less at a million graduates when 4% pass).
        few = not everyone and FEW_ROWS * len(rows) < len(others)
        lightfm = self._lightfm_scores(query, np.array([query_row]), others, rows if few else None)

        def dense_skill_scores() -> np.ndarray:
            _, skill = self._retrieval_scores(query, np.array([query_row]), others, lightfm_scores=False)
            return skill[:, 0] if everyone else np.take(skill[:, 0], rows)  # take: ~3x fancy indexing

        if lightfm is None:
            skill_scores = dense_skill_scores()
            sponsored = self._sponsor_rows(query, query_row, others, rows, skill_scores, np.zeros(len(rows)))
            return np.union1d(_top(rows, skill_scores, pool), sponsored)
        column = lightfm[:, 0]
        lightfm_scores = column if everyone or few else np.take(column, rows)
        lightfm_half = _top(rows, lightfm_scores, pool // 2, untied=True)
        levels = self._skill_levels(query, query_row, others, rows)
        if levels is not None:
            # The skill half from bits per skill, as the approximate path has it: no score per graduate.
            assert isinstance(others, GraduateBlock)
            graduates = others

            def lightfm_of_rows(chosen: np.ndarray) -> np.ndarray:
                if not few:  # a score for every row of the block
                    return column[chosen]
                # Scored over ``rows`` only, which are in id order: found by their keys.
                return column[np.searchsorted(graduates.rows_keys(rows), graduates.order_key(chosen))]

            by_levels = self._pool_by_levels(
                query,
                query_row,
                graduates,
                rows,
                levels,
                lightfm_half,
                lightfm_of_rows,
                lightfm_scores,
                pool,
                k,
            )
            if by_levels is not None:
                return by_levels
        skill_scores = dense_skill_scores()
        chosen = [
            _top_tie_broken(rows, skill_scores, lightfm_scores, pool // 2),
            lightfm_half,
            self._sponsor_rows(query, query_row, others, rows, skill_scores, lightfm_scores),
        ]
        return fill_pool(np.unique(np.concatenate(chosen)), rows, skill_scores, lightfm_scores, k)

    def _pool_by_levels(
        self,
        query: GraduateBlock | VacancyBlock,
        query_row: int,
        graduates: GraduateBlock,
        rows: np.ndarray,
        levels: SkillLevels,
        lightfm_half: np.ndarray,
        lightfm_of_rows: Callable[[np.ndarray], np.ndarray],
        lightfm: TieBreak,
        pool: int,
        k: int,
    ) -> np.ndarray | None:
        """A pool of graduates ``rows`` with the skill half from ``levels`` (the best ``pool // 2`` by
        coverage, ties by ``lightfm_of_rows`` of graduate rows), ``lightfm_half`` and the sponsor's channel
        (ties by ``lightfm`` of positions in ``rows``); ``None`` when it holds fewer than ``k`` (the caller
        tops it up from dense scores)."""
        chosen = [
            levels.top(pool // 2, lightfm_of_rows, graduates.order_key),
            lightfm_half,
            self._sponsor_rows(
                query, query_row, graduates, rows, lambda at: levels.scores(rows[at]), lightfm
            ),
        ]
        pool_rows = np.unique(np.concatenate(chosen))
        return pool_rows if len(pool_rows) >= k else None

    def _sponsor_rows(
        self,
        query: GraduateBlock | VacancyBlock,
        query_row: int,
        others: GraduateBlock | VacancyBlock,
        rows: np.ndarray,
        skill: TieBreak,
        lightfm: TieBreak,
    ) -> np.ndarray:
        """The sponsor's channel of a pool (``MatcherConfig.sponsor_pool``): those of ``rows`` on the other
        side of the query's sponsorship, at most ``sponsor_pool`` of them by ``skill`` (ties by ``lightfm``).
        A vacancy's are the seeking graduates of its employer's order classes; a graduate's, the open
        vacancies of the sponsor of their order class (none outside one)."""
        cap = self.config.sponsor_pool
        if isinstance(query, VacancyBlock):
            assert isinstance(others, GraduateBlock)
            key = int(query.enterprise[query_row])
        else:
            assert isinstance(others, VacancyBlock)
            key = int(query.sponsor[query_row])
        if cap <= 0 or key < 0 or not len(rows):
            return np.zeros(0, dtype=np.int64)
        # The sponsor's rows in the whole block, then their positions among ``rows`` (which are in id
        # order). A graduate block lists them from its index by sponsor (not a comparison of every graduate:
        # ~0.3 ms at a million) and finds them in ``rows`` by its map of positions; a vacancy block by one
        # comparison, its rows in row order.
        if isinstance(others, GraduateBlock):
            hit = others.positions(rows, others.sponsored_rows(key))
        else:
            wanted = np.flatnonzero(others.enterprise == key)
            at = np.minimum(np.searchsorted(rows, wanted), len(rows) - 1)
            hit = at[rows[at] == wanted]
        if len(hit) > cap:
            scores = skill(hit) if callable(skill) else skill[hit]
            # LightFM scores of the graduates tied at the cut-off only (a gather each on the approximate
            # path), not of every graduate of the sponsor's order classes.
            taken = _top_tie_broken(
                np.arange(len(hit)), scores, lambda at: _tie_break_of(lightfm, hit[at]), cap
            )
            hit = hit[taken]
        return rows[hit]

    def _retrieve_approximate(
        self,
        index: MatchIndex,
        query: GraduateBlock | VacancyBlock,
        query_row: int,
        rows: np.ndarray,
        pool: int,
        k: int,
        *,
        floor: int = -1,
    ) -> np.ndarray | None:
        """``_retrieve`` of graduates with the LightFM half from ``index.ann``: its shortlist, those of
        ``rows`` (the filters, applied exactly), re-scored exactly (the same dot products) and the best
        ``pool // 2`` kept. ``None`` (the caller goes exact) when fewer than that pass the filters."""
        graduates, ann = index.graduates, index.ann
        q_rep, g_rep = query.arrays.get(RETRIEVAL), graduates.arrays.get(RETRIEVAL)
        if ann is None or q_rep is None or g_rep is None:
            return None
        vector = np.asarray(q_rep[query_row], dtype=np.float32)
        half = pool // 2
        # Only the education levels the filter lets through are searched, each band deeper as fewer of
        # those graduates pass the other filters, so that about as many of the shortlist pass; below
        # ANN_MIN_SHARE the few that pass are scored exactly instead.
        share = len(rows) / max(ann.size(floor), 1)
        if share < ANN_MIN_SHARE:
            return None
        try:
            found = graduates.ids.rows(ann.candidate_ids(vector, ann.depth(share, floor), floor=floor))
        except RuntimeError:  # hnswlib found fewer than asked (many deleted): exact
            return None
        passing = graduates.positions(rows, found)  # positions in ``rows`` of the shortlist that passes
        if len(passing) < half:
            return None
        shortlisted = gathered_product(g_rep, rows[passing], vector)
        by_row = np.argsort(rows[passing])
        listed, listed_scores = rows[passing][by_row], shortlisted[by_row]

        def lightfm_of_rows(chosen: np.ndarray) -> np.ndarray:
            """LightFM scores of graduates ``chosen`` (the rows tied at a skill cut-off). A group of more
            than ``_TIES_SCORED`` holding at least ``half`` of the shortlist (often tens of thousands at a
            million graduates, few skill scores being possible): those are the group's best as far as the
            shortlist can tell, so only they are scored and the rest rank below them."""
            if len(chosen) > _TIES_SCORED:
                if len(chosen) < 2 or bool(np.all(chosen[1:] > chosen[:-1])):
                    # Ascending (a skill level's rows): the shortlist looked up in the group, not the
                    # group's tens of thousands in the shortlist.
                    at = np.minimum(np.searchsorted(chosen, listed), len(chosen) - 1)
                    found = chosen[at] == listed
                    inside, scores = at[found], listed_scores[found]
                else:
                    at = np.minimum(np.searchsorted(listed, chosen), len(listed) - 1)
                    found = listed[at] == chosen
                    inside, scores = np.flatnonzero(found), listed_scores[at[found]]
                if len(inside) >= half:
                    out = np.full(len(chosen), -np.inf, dtype=shortlisted.dtype)
                    out[inside] = scores
                    return out
            return gathered_product(g_rep, chosen, vector)

        def lightfm_of(positions: np.ndarray) -> np.ndarray:
            return lightfm_of_rows(rows[positions])

        lightfm_half = rows[passing[_top(np.arange(len(passing)), shortlisted, half, untied=True)]]
        # The skill half from bits per skill (models.skill_bits): no score per graduate.
        levels = self._skill_levels(query, query_row, graduates, rows)
        if levels is not None:
            by_levels = self._pool_by_levels(
                query, query_row, graduates, rows, levels, lightfm_half, lightfm_of_rows, lightfm_of, pool, k
            )
            if by_levels is not None:
                return by_levels
        _, skill = self._retrieval_scores(query, np.array([query_row]), graduates, lightfm_scores=False)
        everyone = _every_row(rows, graduates)
        skill_scores = skill[:, 0] if everyone else np.take(skill[:, 0], rows)  # take: ~3x fancy indexing
        chosen = [
            _top_tie_broken(rows, skill_scores, lightfm_of, half),
            lightfm_half,
            self._sponsor_rows(query, query_row, graduates, rows, skill_scores, lightfm_of),
        ]
        return fill_pool(np.unique(np.concatenate(chosen)), rows, skill_scores, lightfm_of, k)

    def _vacancy_pools(
        self, index: MatchIndex, g_rows: np.ndarray, groups: Sequence[VacancyPoolGroup], need: int
    ) -> list[np.ndarray]:
        """``_retrieve`` for a whole cohort in a few matrix operations, with the same pools.

        Skill coverage of the cohort is one sparse x dense product; the LightFM scores are computed one
        graduate at a time (a matrix-vector product each, ~0.1 ms): a single matrix-matrix product rounds
        differently in the last bit of float32, which can change which vacancy is 150th of 5,000 and so,
        rarely, the pool. ``np.argpartition`` along the rows of a matrix gives, row by row, what it gives
        on each row alone.
        """
        pools: list[np.ndarray] = [np.zeros(0, dtype=np.int64)] * len(g_rows)
        pool = max(self.config.retrieval_pool, need)
        wide = []
        for members, rows in groups:
            if len(rows) <= pool:
                for i in members:  # every filtered vacancy is ranked
                    pools[i] = rows
            else:
                wide.append((members, rows))
        if not wide:
            return pools
        graduates, vacancies = index.graduates, index.vacancies
        g_rep, v_rep = graduates.arrays.get(RETRIEVAL), vacancies.arrays.get(RETRIEVAL)
        half = pool // 2
        members_all = np.concatenate([members for members, _ in wide])
        without_lightfm = replace(
            graduates, arrays={k: v for k, v in graduates.arrays.items() if k != RETRIEVAL}
        )
        _, skill_all = self._retrieval_scores(without_lightfm, g_rows[members_all], vacancies)
        skill_of = dict(zip(members_all.tolist(), np.ascontiguousarray(skill_all.T), strict=True))
        for members, rows in wide:
            skill = np.stack([skill_of[i] for i in members])[:, rows]
            if g_rep is not None and v_rep is not None:
                scores = np.stack([retrieval_product(v_rep, g_rep[g_rows[i]]) for i in members])[:, rows]
                # Skill ties at the cut-off go to the higher LightFM score, as in ``_retrieve``.
                by_skill = np.stack(
                    [_top_tie_broken(rows, skill[j], scores[j], half) for j in range(len(members))]
                )
                chosen = np.hstack([by_skill, rows[np.argpartition(-scores, half - 1, axis=1)[:, :half]]])
            else:
                scores = None
                chosen = rows[np.argpartition(-skill, pool - 1, axis=1)[:, :pool]]
            chosen = np.sort(chosen, axis=1)
            distinct = np.ones(chosen.shape, dtype=bool)
            distinct[:, 1:] = chosen[:, 1:] != chosen[:, :-1]
            for j, i in enumerate(members):
                pools[i] = chosen[j][distinct[j]]
                sponsored = self._sponsor_rows(
                    graduates,
                    int(g_rows[i]),
                    vacancies,
                    rows,
                    skill[j],
                    np.zeros(len(rows)) if scores is None else scores[j],
                )
                if len(sponsored):
                    pools[i] = np.union1d(pools[i], sponsored)
                if scores is not None:
                    pools[i] = fill_pool(pools[i], rows, skill[j], scores[j], need)
        return pools

    def _features(
        self,
        graduates: GraduateBlock,
        g_rows: np.ndarray,
        vacancies: VacancyBlock,
        v_rows: np.ndarray,
        tables: dict[str, np.ndarray],
    ) -> np.ndarray:
        """The pair features the two sides read (LightFM's scores missing unless they are features)."""
        X = pair_features(graduates, g_rows, vacancies, v_rows, tables)
        if not (self.config.use_lightfm and self.config.lightfm_features):
            X[:, _LIGHTFM_COLUMNS] = np.nan
        return X

    def _pair_scores(
        self,
        index: MatchIndex,
        graduates: GraduateBlock,
        g_rows: np.ndarray,
        vacancies: VacancyBlock,
        v_rows: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """One score per pair whichever side asks: the calibrated probability of success, and as rank key
        its log-odds before calibration (the same order)."""
        self._check_fitted()
        X = self._features(graduates, g_rows, vacancies, v_rows, index.tables)
        key, prob = self.model_.score(X)
        # Skill coverage breaks exact ties (e.g. a tiny training set gives flat trees).
        required = X[:, _REQUIRED_COVERAGE]
        preferred = np.nan_to_num(X[:, _PREFERRED_COVERAGE], nan=0.0)
        return key + 1e-6 * (required + 0.5 * preferred), prob, X

    def _reasons(self, features: np.ndarray | None, n: int, probabilities: np.ndarray) -> list[list[Reason]]:
        if features is None or n == 0:
            return [[] for _ in range(n)]
        contributions, names = self.model_.contributions(features, GROUPS)
        return reasons_for(features, contributions, names)

    def _matches(
        self,
        graduates: GraduateBlock,
        g_rows: np.ndarray,
        vacancies: VacancyBlock,
        v_rows: np.ndarray,
        scores: np.ndarray,
        features: np.ndarray | None,
    ) -> list[Match]:
        """Matches with the positive reasons, then the main missing skill as a negative reason."""
        items = super()._matches(graduates, g_rows, vacancies, v_rows, scores, features)
        shares = vacancies.arrays.get(REQUIRED_SHARES)
        for item, v in zip(items, v_rows, strict=True):
            if item.missing_skills:
                held_by = (
                    {} if shares is None else dict(zip(vacancies.required_lists[v], shares[v], strict=False))
                )
                item.reasons.append(missing_skill_reason(item.missing_skills, held_by))
        return items

    # ------------------------------------------------------------------ persistence
    def learned_arrays(self) -> dict[str, np.ndarray]:
        """Every learned numeric array (for the finite check before promotion)."""
        self._check_fitted()
        arrays: dict[str, np.ndarray] = {}
        for prefix, model in (("by_graduate", self.by_graduate_), ("by_vacancy", self.by_vacancy_)):
            if model is not None:
                arrays.update({f"{prefix}.{k}": v for k, v in model.learned_arrays().items()})
        arrays.update(self.model_.learned_arrays())
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


def _history_index(
    data: MarketData,
    features: FeatureSpace,
    hybrids: tuple[HybridModel | None, HybridModel | None],
    positives: pd.DataFrame,
    frames: tuple[pd.DataFrame, pd.DataFrame],
    *,
    before: pd.Timestamp,
) -> MatchIndex:
    """The index of ``data`` with history rates from the events before ``before`` only."""
    earlier = positives[positives[FIRST_AT] < before]
    graduates, vacancies = frames
    stats = HistoryStats.fit(
        earlier if len(earlier) else positives,
        graduates,
        vacancies[~(vacancies[C.posted_at] >= before)],
        exposures=exposure_pairs(data.interactions, before=before),
        applications=_applications(pair_outcomes(data.interactions, before=before)),
    )
    index = MatchIndex.build(data, _Encoder(features, *hybrids, stats))
    index.tables = history_tables(stats, index)
    return index


def _applications(outcomes: pd.DataFrame, *, horizon_from: pd.DataFrame | None = None) -> pd.DataFrame:
    """Applications whose answer is known, with ``positive`` = advanced (for the screening rates)."""
    applied = outcomes[outcomes[APPLIED]]
    if len(applied):
        end = pd.Timestamp(outcomes[FIRST_AT].max())
        horizon = response_horizon(outcomes if horizon_from is None else horizon_from)
        applied = applied[resolved_mask(applied, end=end, horizon=horizon)]
    return pd.DataFrame(
        {
            C.graduate: applied[C.graduate].to_numpy(),
            C.vacancy: applied[C.vacancy].to_numpy(),
            "positive": applied[ADVANCED].to_numpy(dtype=float),
        }
    )


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


# The LightFM scores of some positions of a ranking's rows: an array of all of them, or a function computing
# only the positions asked (approximate retrieval has no score for most rows).
TieBreak = np.ndarray | Callable[[np.ndarray], np.ndarray]


def _wanted(vacancies: VacancyBlock, rows: np.ndarray) -> np.ndarray:
    """The weight of each skill in the skill coverage of vacancies ``rows`` (skills x vacancies): ``1/n``
    each of the ``n`` required skills, ``0.5/m`` each of the ``m`` preferred ones.

    Computed as the index stores them (float32) and returned as float64, so a graduate's coverage, a sum
    of a few of them, is exact whatever order it is summed in: the dense product over graduates and the
    levels read from bits per skill (:func:`models.skill_bits.level_values`) give the same floats, and
    graduates holding the same coverage tie (in float32, 1/4 + 3 x 1/3 came out 1.25 or 1.2500001 by
    which skills were held, and ranked them apart)."""
    if len(rows) == 1:  # a query's: from the rows' slices of the matrices (~20x a sparse row selection)
        wanted = _skill_weights(
            vacancies.required, vacancies.n_required, vacancies.preferred, vacancies.n_preferred, int(rows[0])
        )
    else:
        wanted = vacancies.required[rows].toarray().T / np.maximum(vacancies.n_required[rows], 1.0)
        wanted += 0.5 * vacancies.preferred[rows].toarray().T / np.maximum(vacancies.n_preferred[rows], 1.0)
    return wanted.astype(np.float64, copy=False)


def _skill_weights(
    required: sp.csr_matrix,
    n_required: np.ndarray,
    preferred: sp.csr_matrix,
    n_preferred: np.ndarray,
    row: int,
) -> np.ndarray:
    """``_wanted``'s expression for one vacancy row, the same floats and dtype (float32 matrices give float32
    weights, which ``_wanted`` then widens): each matrix's row as a dense column (duplicates summed, as
    ``toarray`` does), divided, then the preferred half added in place."""
    shares = []
    for matrix, n, scale in ((required, n_required, None), (preferred, n_preferred, 0.5)):
        start, stop = matrix.indptr[row], matrix.indptr[row + 1]
        dense = np.zeros(matrix.shape[1], dtype=matrix.dtype)
        np.add.at(dense, matrix.indices[start:stop], matrix.data[start:stop])
        shares.append((dense if scale is None else scale * dense) / np.maximum(n[row : row + 1], 1.0))
    out = shares[0][:, None].copy()
    out[:, 0] += shares[1]
    return out


def _every_row(rows: np.ndarray, block: GraduateBlock | VacancyBlock) -> bool:
    """Whether ``rows`` are every row of ``block`` in row order (no filter removed anyone): a score column
    over the block is then the scores of ``rows`` as it is."""
    return len(rows) == len(block) and getattr(block, "order", None) is None


def retrieval_product(matrix: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``matrix @ right`` such that every row's value is what :func:`gathered_product` gives it: BLAS
    computes the last ``len(matrix) % _KERNEL_ROWS`` rows with another kernel (another order of the
    sum), so those go through the gathered path, whose blocks are padded to whole kernels."""
    main = len(matrix) - len(matrix) % _KERNEL_ROWS
    if main == len(matrix):
        return matrix @ right
    out = np.empty((len(matrix), *right.shape[1:]), dtype=np.result_type(matrix, right))
    np.matmul(matrix[:main], right, out=out[:main])
    out[main:] = gathered_product(matrix, np.arange(main, len(matrix)), right)
    return out


def gathered_product(matrix: np.ndarray, rows: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``matrix[rows] @ right``, to the last bit as :func:`retrieval_product` has those rows: gathered a
    few thousand rows at a time with ``np.take`` (the block in hand stays in cache, and ``take`` into it
    copies rows faster than fancy indexing), each block padded to whole kernels of ``_KERNEL_ROWS``.
    Scattered rows of a million-row matrix cost ~45 ns a row in all, ~27 ns of it the gather (1 thread)."""

    def whole_kernels(n: int) -> int:
        return -(-n // _KERNEL_ROWS) * _KERNEL_ROWS

    if len(rows) and (rows.min() < -len(matrix) or rows.max() >= len(matrix)):
        raise IndexError(f"rows out of range for a matrix of {len(matrix)} rows")  # as mode="raise" would
    out = np.empty((len(rows), *right.shape[1:]), dtype=np.result_type(matrix, right))
    block = np.empty((min(_GATHER_BLOCK, whole_kernels(len(rows))), matrix.shape[1]), dtype=matrix.dtype)
    for start in range(0, len(rows), _GATHER_BLOCK):
        chunk = rows[start : start + _GATHER_BLOCK]
        whole = whole_kernels(len(chunk))
        # mode="wrap": with ``out`` and the default mode="raise" numpy gathers into a buffer first and
        # copies it over (~2.6x the time); "wrap" reads an in-range index as "raise" does (a negative one
        # from the end), and the range was checked above.
        np.take(matrix, chunk, axis=0, out=block[: len(chunk)], mode="wrap")
        block[len(chunk) : whole] = block[len(chunk) - 1]  # padding, computed and dropped
        out[start : start + len(chunk)] = (block[:whole] @ right)[: len(chunk)]
    return out


def fill_pool(pool: np.ndarray, rows: np.ndarray, skill: np.ndarray, lightfm: TieBreak, k: int) -> np.ndarray:
    """``pool`` (sorted rows), topped up to at least ``k`` rows with the best by skill coverage when the two
    halves overlapped so much that a deep page would come out short. Pages within the pool are unchanged."""
    if len(pool) >= k:
        return pool
    return np.unique(np.concatenate([pool, _top_tie_broken(rows, skill, lightfm, k)]))


def _top_tie_broken(rows: np.ndarray, scores: np.ndarray, tie_break: TieBreak, k: int) -> np.ndarray:
    """The rows of the ``k`` highest ``scores``; among scores tied at the cut-off, the highest ``tie_break``.

    Skill coverage takes few distinct values, so at large scale hundreds of graduates share the cut-off
    score; which of them enter the pool is then decided by the collaborative score, not by memory order.
    """
    if len(rows) <= k:
        return rows
    bar = _kth_largest(scores, k)
    above = np.flatnonzero(scores > bar)
    tied = np.flatnonzero(scores == bar)
    need = k - len(above)
    if len(tied) > need:
        # The same selection once more on the tie-break, then the lower row (graduates with the same
        # features have the same LightFM score); linear, as the tied group can be most of the pool.
        values = _tie_break_of(tie_break, tied)
        bar = np.partition(values, len(values) - need)[len(values) - need]
        over = tied[values > bar]
        tied = np.concatenate([over, tied[values == bar][: need - len(over)]])
    return rows[np.concatenate([above, tied])]


def _tie_break_of(tie_break: TieBreak, at: np.ndarray) -> np.ndarray:
    """The tie-break values of positions ``at``: looked up in an array, or computed for those alone."""
    return tie_break(at) if callable(tie_break) else tie_break[at]


def _kth_largest(scores: np.ndarray, k: int) -> float:
    """The ``k``-th largest of ``scores`` (``np.partition``'s answer), partitioning only the scores at or
    above a bar taken from a sample when that leaves at least ``k`` of a large array: at a million
    graduates one comparison instead of a full partition (the value is the same however it is found)."""
    n = len(scores)
    if n >= 20 * k:
        step = max(1, 3 * k // 16)  # the sample's 16th best is about the whole array's 3k-th
        sample = scores[::step]
        guess = np.partition(sample, len(sample) - 16)[len(sample) - 16]
        high = scores[scores >= guess]
        if len(high) >= k:
            return float(np.partition(high, len(high) - k)[len(high) - k])
    return float(np.partition(scores, n - k)[n - k])


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
