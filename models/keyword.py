"""The keyword baseline: rank by the share of the vacancy's required skills the graduate holds.

Education is a hard filter (as for every matcher); ties are broken by the share of preferred skills held.
It has the same interface as :class:`models.matcher.Matcher`, so evaluation and the quality gate compare
them on equal terms.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
import numpy as np
import scipy.sparse as sp

from models.base import BaseMatcher
from models.data import MarketData
from models.index import GraduateBlock, MatchIndex, VacancyBlock
from models.pairs import skills_held
from models.results import Reason

STATE_FILE = "keyword.joblib"


def skill_coverage(
    graduates: GraduateBlock, g_rows: np.ndarray, vacancies: VacancyBlock, v_rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(required share, preferred share) of aligned pairs; a vacancy without required skills has share 1.

    A query pairs one vacancy with many graduates (or one graduate with many vacancies): the counts are
    then one sparse matrix-vector product, not a product per pair.
    """
    g_rows = np.asarray(g_rows, dtype=np.int64)
    v_rows = np.asarray(v_rows, dtype=np.int64)
    if len(v_rows) > 1 and (v_rows == v_rows[0]).all():
        wanted = sp.vstack([vacancies.required[v_rows[0]], vacancies.preferred[v_rows[0]]])
        req, pref = _held(graduates.skills, g_rows, wanted)
    elif len(g_rows) > 1 and (g_rows == g_rows[0]).all():
        skills = graduates.skills[g_rows[0]]
        req = _held(vacancies.required, v_rows, skills)[0]
        pref = _held(vacancies.preferred, v_rows, skills)[0]
    else:
        req, pref = skills_held(graduates, g_rows, vacancies, v_rows)
    n_req, n_pref = vacancies.n_required[v_rows], vacancies.n_preferred[v_rows]
    required = np.where(n_req > 0, req / np.maximum(n_req, 1), 1.0)
    preferred = np.where(n_pref > 0, pref / np.maximum(n_pref, 1), 0.0)
    return required, preferred


def _held(matrix: sp.csr_matrix, rows: np.ndarray, wanted: sp.csr_matrix) -> np.ndarray:
    """``(len(wanted), len(rows))``: per row of ``wanted`` (binary) and of ``rows``, how many of the
    wanted columns the row holds; one pass over ``matrix`` for all of ``wanted``."""
    vectors = wanted.toarray().T
    if 4 * len(rows) >= matrix.shape[0]:  # most rows: the whole product, then pick (no row copy)
        return np.asarray(matrix @ vectors)[rows].T
    return np.asarray(matrix[rows] @ vectors).T


class KeywordMatcher(BaseMatcher):
    """Share of required skills held (ties: preferred skills); ``fit`` learns nothing."""

    def __init__(self) -> None:
        pass

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {}

    def fit(self, data: MarketData | None = None, *, progress: bool = False) -> KeywordMatcher:
        self.fitted_ = True
        return self

    def _pair_scores(
        self,
        index: MatchIndex,
        graduates: GraduateBlock,
        g_rows: np.ndarray,
        vacancies: VacancyBlock,
        v_rows: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        required, preferred = skill_coverage(graduates, g_rows, vacancies, v_rows)
        return required + 0.01 * preferred, required, None

    def _reasons(self, features: np.ndarray | None, n: int, probabilities: np.ndarray) -> list[list[Reason]]:
        return [
            [Reason(code="required_skills", message=f"holds {p:.0%} of the required skills", weight=float(p))]
            for p in probabilities
        ]

    def learned_arrays(self) -> dict[str, np.ndarray]:
        return {}

    def save(self, directory: str | Path) -> list[Path]:
        path = Path(directory) / STATE_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump({}, path)
        return [path]

    @classmethod
    def load(cls, directory: str | Path) -> KeywordMatcher:
        return cls().fit()

    @property
    def config(self) -> _EmptyConfig:
        return _EmptyConfig()


class _EmptyConfig:
    def to_dict(self) -> dict[str, Any]:
        return {}
