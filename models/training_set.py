"""The ranker's training examples, drawn from a window at the end of the training period.

Positives: pairs whose first application (or deeper event) falls in the window, weighted by how far they went.
Negatives, for both directions (other graduates for the same vacancy, other vacancies for the same graduate):

* impressions — pairs viewed in the window and never applied to;
* random — uniform over graduates still available / vacancies active in the window;
* hard — from the top of the retrieval stage (what the ranker will actually have to sort at serving time).

Every negative respects the hard filters (education minimum, graduate not already hired).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from models.columns import Columns as C
from models.data import MarketData
from models.history import FIRST_AT, impression_pairs
from models.index import GraduateBlock, MatchIndex, VacancyBlock

Retrieve = Callable[[Any, int, Any], tuple[np.ndarray | None, np.ndarray]]


def _frame(
    g: np.ndarray, v: np.ndarray, label: int, weight: np.ndarray | float, at: np.ndarray
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "g_row": np.asarray(g, dtype=np.int64),
            "v_row": np.asarray(v, dtype=np.int64),
            "label": label,
            "weight": np.broadcast_to(np.asarray(weight, dtype=np.float64), len(g)),
            "at": at,
        }
    )


def _top_unique(scores: np.ndarray, candidates: np.ndarray, k: int) -> np.ndarray:
    if len(candidates) <= k:
        return candidates
    return candidates[np.argpartition(-scores[candidates], k - 1)[:k]]


def build_examples(
    data: MarketData,
    index: MatchIndex,
    positives: pd.DataFrame,
    *,
    cut: pd.Timestamp,
    config: Any,
    retrieve: Retrieve,
) -> pd.DataFrame:
    """Examples ``(g_row, v_row, label, weight, at)`` in ``index``'s rows; see the module docstring."""
    rng = np.random.default_rng(config.seed)
    graduates: GraduateBlock = index.graduates
    vacancies: VacancyBlock = index.vacancies
    n_v = len(vacancies)

    pos_g = graduates.ids.rows(positives[C.graduate].to_numpy())
    pos_v = vacancies.ids.rows(positives[C.vacancy].to_numpy())
    known = (pos_g >= 0) & (pos_v >= 0)
    positive_keys = set((pos_g[known] * n_v + pos_v[known]).tolist())
    in_window = known & (positives[FIRST_AT] >= cut).to_numpy()
    wg, wv = pos_g[in_window], pos_v[in_window]
    w_at = positives[FIRST_AT].to_numpy()[in_window]
    parts = [_frame(wg, wv, 1, positives[C.weight].to_numpy()[in_window], w_at)]

    views = impression_pairs(data.interactions, start=cut, end=None)
    if len(views):
        vg = graduates.ids.rows(views[C.graduate].to_numpy())
        vv = vacancies.ids.rows(views[C.vacancy].to_numpy())
        ok = (vg >= 0) & (vv >= 0)
        parts.append(_frame(vg[ok], vv[ok], 0, 1.0, views[FIRST_AT].to_numpy()[ok]))

    interactions = data.interactions
    hired_before = interactions[(interactions[C.event] == "hired") & (interactions[C.occurred_at] < cut)]
    available = np.ones(len(graduates), dtype=bool)
    hired_rows = graduates.ids.rows(hired_before[C.graduate].unique())
    available[hired_rows[hired_rows >= 0]] = False
    cut_ns = pd.Timestamp(cut).value
    active = vacancies.closes_at >= cut_ns
    active[wv] = True
    available[wg] = True
    g_pool = np.flatnonzero(available)
    v_pool = np.flatnonzero(active)

    def keep(g: np.ndarray, v: np.ndarray) -> np.ndarray:
        ok = graduates.education[g] >= vacancies.min_education[v]
        keys = g * n_v + v
        return ok & ~np.fromiter((k in positive_keys for k in keys.tolist()), dtype=bool, count=len(keys))

    # Random negatives, both directions.
    r = config.random_negatives
    if r > 0 and len(wg):
        g_neg = g_pool[rng.integers(0, len(g_pool), size=len(wg) * r)]
        v_same = np.repeat(wv, r)
        v_neg = v_pool[rng.integers(0, len(v_pool), size=len(wg) * r)]
        g_same = np.repeat(wg, r)
        at = np.repeat(w_at, r)
        for g, v in ((g_neg, v_same), (g_same, v_neg)):
            ok = keep(g, v)
            parts.append(_frame(g[ok], v[ok], 0, 1.0, at[ok]))

    # Hard negatives from the retrieval stage, both directions.
    h = config.hard_negatives
    if h > 0 and len(wg):
        window = pd.DataFrame({"g": wg, "v": wv, "at": w_at})
        hard_g, hard_v, hard_at = [], [], []
        for v, group in window.groupby("v", sort=True):
            lightfm, skill = retrieve(vacancies, int(v), graduates)
            eligible = g_pool[graduates.education[g_pool] >= vacancies.min_education[v]]
            top = [_top_unique(skill, eligible, config.hard_pool)]
            if lightfm is not None:
                top.append(_top_unique(lightfm, eligible, config.hard_pool))
            candidates = np.unique(np.concatenate(top))
            chosen = rng.choice(candidates, size=min(len(candidates), h * len(group)), replace=False)
            hard_g.append(chosen)
            hard_v.append(np.full(len(chosen), v))
            hard_at.append(np.resize(group["at"].to_numpy(), len(chosen)))
        for g, group in window.groupby("g", sort=True):
            lightfm, skill = retrieve(graduates, int(g), vacancies)
            eligible = v_pool[vacancies.min_education[v_pool] <= graduates.education[g]]
            top = [_top_unique(skill, eligible, config.hard_pool)]
            if lightfm is not None:
                top.append(_top_unique(lightfm, eligible, config.hard_pool))
            candidates = np.unique(np.concatenate(top))
            chosen = rng.choice(candidates, size=min(len(candidates), h * len(group)), replace=False)
            hard_g.append(np.full(len(chosen), g))
            hard_v.append(chosen)
            hard_at.append(np.resize(group["at"].to_numpy(), len(chosen)))
        if hard_g:
            g = np.concatenate(hard_g).astype(np.int64)
            v = np.concatenate(hard_v).astype(np.int64)
            at = np.concatenate(hard_at)
            ok = keep(g, v)
            parts.append(_frame(g[ok], v[ok], 0, 1.0, at[ok]))

    examples = pd.concat(parts, ignore_index=True)
    examples = examples.drop_duplicates(subset=["g_row", "v_row"], keep="first").reset_index(drop=True)
    return examples
