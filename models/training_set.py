"""The ranker's training examples, drawn from a window at the end of the training period.

Positives: pairs whose first application (or deeper event) falls in the window, weighted by how far they went.
Negatives, for both directions (other graduates for the same vacancy, other vacancies for the same graduate):

* impressions — pairs viewed in the window and never applied to;
* random — uniform over graduates still available / vacancies active in the window;
* hard — from the top of the retrieval stage (what the ranker will actually have to sort at serving time).

Every negative respects the hard filters (education minimum, graduate not already hired).

Each example has a ``side``: ``BOTH`` (positives, impressions), ``VACANCY_SIDE`` (a negative graduate for a
vacancy of the window) or ``GRADUATE_SIDE`` (a negative vacancy for a graduate of the window), so a ranker
per direction can learn from the negatives of its own ranking problem.
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

# (query block, query rows, other block) -> (LightFM scores, skill scores), each (n_other, n_queries)
Retrieve = Callable[[Any, np.ndarray, Any], tuple[np.ndarray | None, np.ndarray]]


def _frame(
    g: np.ndarray,
    v: np.ndarray,
    label: int,
    weight: np.ndarray | float,
    at: np.ndarray,
    side: int = 0,
    kind: int = 0,
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "g_row": np.asarray(g, dtype=np.int64),
            "v_row": np.asarray(v, dtype=np.int64),
            "label": label,
            "weight": np.broadcast_to(np.asarray(weight, dtype=np.float64), len(g)),
            "at": at,
            "side": np.int8(side),
            "kind": np.int8(kind),
        }
    )


HARD_CHUNK = 256
BOTH, VACANCY_SIDE, GRADUATE_SIDE = 0, 1, 2
POSITIVE, IMPRESSION, RANDOM, HARD = 0, 1, 2, 3  # kinds of example


def _hard_candidates(
    retrieve: Retrieve, queries: Any, rows: np.ndarray, others: Any, pool: np.ndarray, k: int
) -> list[np.ndarray]:
    """For each query row, the union of the top ``k`` of ``pool`` by each retrieval score (chunked)."""
    lightfm, skill = retrieve(queries, rows, others)
    out = []
    for i in range(len(rows)):
        tops = []
        for scores in (skill, lightfm):
            if scores is None:
                continue
            column = scores[pool, i]
            top = pool if len(pool) <= k else pool[np.argpartition(-column, k - 1)[:k]]
            tops.append(top)
        out.append(np.unique(np.concatenate(tops)) if tops else pool[:0])
    return out


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
        weight = float(getattr(config, "impression_weight", 1.0))
        if weight > 0:
            parts.append(_frame(vg[ok], vv[ok], 0, weight, views[FIRST_AT].to_numpy()[ok], kind=IMPRESSION))

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
        for g, v, side in ((g_neg, v_same, VACANCY_SIDE), (g_same, v_neg, GRADUATE_SIDE)):
            ok = keep(g, v)
            parts.append(_frame(g[ok], v[ok], 0, 1.0, at[ok], side, RANDOM))

    # Hard negatives from the retrieval stage, both directions.
    h = config.hard_negatives
    if h > 0 and len(wg):
        window = pd.DataFrame({"g": wg, "v": wv, "at": w_at})
        for query_side, query_block, other_block, pool in (
            ("v", vacancies, graduates, g_pool),
            ("g", graduates, vacancies, v_pool),
        ):
            grouped = window.groupby(query_side, sort=True)
            queries = np.asarray(list(grouped.groups), dtype=np.int64)
            counts = grouped.size().to_numpy()
            first_at = grouped["at"].first().to_numpy()
            for start in range(0, len(queries), HARD_CHUNK):
                chunk = queries[start : start + HARD_CHUNK]
                candidates = _hard_candidates(
                    retrieve, query_block, chunk, other_block, pool, config.hard_pool
                )
                for i, q in enumerate(chunk):
                    row_candidates = candidates[i]
                    if query_side == "v":
                        ok = graduates.education[row_candidates] >= vacancies.min_education[q]
                    else:
                        ok = vacancies.min_education[row_candidates] <= graduates.education[q]
                    row_candidates = row_candidates[ok]
                    take = min(len(row_candidates), h * int(counts[start + i]))
                    chosen = rng.choice(row_candidates, size=take, replace=False)
                    same = np.full(take, q, dtype=np.int64)
                    g, v = (chosen, same) if query_side == "v" else (same, chosen)
                    ok = keep(g, v)
                    side = VACANCY_SIDE if query_side == "v" else GRADUATE_SIDE
                    at = np.full(int(ok.sum()), first_at[start + i])
                    parts.append(_frame(g[ok], v[ok], 0, 1.0, at, side, HARD))

    examples = pd.concat(parts, ignore_index=True)
    examples = examples.drop_duplicates(subset=["g_row", "v_row"], keep="first").reset_index(drop=True)
    return examples
