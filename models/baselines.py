"""Baselines for evaluation: random, popularity and LightFM on its own.

They share the query logic of :class:`models.base.BaseMatcher`, so they are ranked exactly like the real
matcher (same filters, same pools).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.base import BaseMatcher
from models.data import MarketData
from models.features import FeatureSpace, market_frames
from models.history import HistoryStats, positive_pairs
from models.hybrid import HybridModel, with_one
from models.index import GraduateBlock, MatchIndex, VacancyBlock
from models.matcher import MatcherConfig, fit_hybrids


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


class RandomMatcher(BaseMatcher):
    """A deterministic pseudo-random score per (graduate, vacancy) pair."""

    def __init__(self, seed: int = 7) -> None:
        self.seed = seed

    def fit(self, data: MarketData, *, progress: bool = False) -> RandomMatcher:
        return self

    def _pair_scores(
        self,
        index: MatchIndex,
        graduates: GraduateBlock,
        g_rows: np.ndarray,
        vacancies: VacancyBlock,
        v_rows: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        g_hash = pd.util.hash_array(graduates.ids.ids[g_rows].astype(str))
        v_hash = pd.util.hash_array(vacancies.ids.ids[v_rows].astype(str))
        mixed = pd.util.hash_array(g_hash ^ (v_hash * np.uint64(0x9E3779B97F4A7C15)) ^ np.uint64(self.seed))
        key = (mixed >> np.uint64(11)).astype(np.float64) / float(1 << 53)
        return key, key, None


class _StatsEncoder:
    def __init__(self, stats: HistoryStats) -> None:
        self.stats = stats

    def encode_graduates(self, frame: pd.DataFrame, block: GraduateBlock) -> dict[str, np.ndarray]:
        return {"activity": self.stats.graduate_vector(block.ids)}

    def encode_vacancies(self, frame: pd.DataFrame, block: VacancyBlock) -> dict[str, np.ndarray]:
        return {}


class PopularityMatcher(BaseMatcher):
    """Most active graduates first (for a vacancy); most applied-to employers first (for a graduate)."""

    def fit(self, data: MarketData, *, progress: bool = False) -> PopularityMatcher:
        graduates, vacancies = market_frames(data)
        self.stats_ = HistoryStats.fit(positive_pairs(data.interactions), graduates, vacancies)
        return self

    def _encoder(self) -> _StatsEncoder:
        return _StatsEncoder(self.stats_)

    def _tables(self, index: MatchIndex, previous: MatchIndex | None = None) -> dict[str, np.ndarray]:
        return {"enterprise_appeal": self.stats_.enterprise_vector(index.vocab.enterprises)}

    def _pair_scores(
        self,
        index: MatchIndex,
        graduates: GraduateBlock,
        g_rows: np.ndarray,
        vacancies: VacancyBlock,
        v_rows: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        key = (
            graduates.arrays["activity"][g_rows]
            + index.tables["enterprise_appeal"][vacancies.enterprise[v_rows]]
        )
        key = key.astype(np.float64)
        return key, _sigmoid(key), None


class _LightFMEncoder:
    def __init__(self, features: FeatureSpace, model: HybridModel, reverse: HybridModel | None) -> None:
        self.features, self.model, self.reverse = features, model, reverse

    def encode_graduates(self, frame: pd.DataFrame, block: GraduateBlock) -> dict[str, np.ndarray]:
        x = self.features.transform_graduates(frame)
        if self.reverse is None:
            return {"lfm": self.model.user_representations(x)}
        return {
            "lfm": np.hstack(
                [
                    self.model.normalised_user_representations(x),
                    with_one(self.reverse.item_representations(x)),
                ]
            )
        }

    def encode_vacancies(self, frame: pd.DataFrame, block: VacancyBlock) -> dict[str, np.ndarray]:
        x = self.features.transform_vacancies(frame)
        if self.reverse is None:
            return {"lfm": self.model.item_representations(x)}
        return {
            "lfm": np.hstack(
                [
                    with_one(self.model.item_representations(x)),
                    self.reverse.normalised_user_representations(x),
                ]
            )
        }


class LightFMMatcher(BaseMatcher):
    """LightFM alone.

    ``normalised=False``: the plain hybrid (graduates as users), its raw score in both directions: what a
    LightFM user would write. ``normalised=True``: both orientations, each score standardised per
    graduate/vacancy and summed (the matcher's retrieval score).
    """

    def __init__(self, config: MatcherConfig | None = None, normalised: bool = False) -> None:
        self.config = config
        self.normalised = normalised

    def fit(self, data: MarketData, *, progress: bool = False) -> LightFMMatcher:
        config = self.config or MatcherConfig()
        graduates, vacancies = market_frames(data)
        self.features_ = FeatureSpace().fit(graduates, vacancies)
        by_graduate, by_vacancy = fit_hybrids(
            config, self.features_, graduates, vacancies, positive_pairs(data.interactions), progress=progress
        )
        self.model_ = by_graduate
        self.reverse_ = by_vacancy if self.normalised else None
        return self

    def _encoder(self) -> _LightFMEncoder:
        return _LightFMEncoder(self.features_, self.model_, self.reverse_)

    def _pair_scores(
        self,
        index: MatchIndex,
        graduates: GraduateBlock,
        g_rows: np.ndarray,
        vacancies: VacancyBlock,
        v_rows: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        key = np.einsum("ij,ij->i", graduates.arrays["lfm"][g_rows], vacancies.arrays["lfm"][v_rows])
        key = key.astype(np.float64)
        return key, _sigmoid(key), None
