"""The oracle: the demo world's ground truth ranking the same queries, the ceiling each matcher is held to.

For applications the oracle ranks by the true utility (what the graduates decided by). When the truth
records the generator's decision thresholds it ranks by the true success probability for accepted
outcomes (:func:`training.demo_success.success_probability`), and that probability is also its score for
calibration: its ECE shows how far realised success can sit from the truth itself (deadlines, headcounts
and the end of the data cut some pairs short).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from models.columns import Columns as C
from models.index import MatchIndex
from models.outcomes import SUCCESS
from training.calibration import Calibration, calibration
from training.demo_success import (
    has_simulation,
    knowable_success_probability,
    knowable_utility,
    success_probability,
)
from training.demo_truth import GroundTruth
from training.metrics import (
    ACCEPTED,
    APPLICATIONS,
    DIRECTIONS,
    FAMILIES,
    DirectionResult,
    PairKey,
    Query,
    Ranker,
    Task,
    score_direction,
)


def truth_utility(truth: GroundTruth, graduate_ids: np.ndarray, vacancy_ids: np.ndarray) -> np.ndarray:
    return np.asarray(truth.utility(graduate_ids, vacancy_ids), dtype=np.float64)


PairValue = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (graduate rows, vacancy rows) -> value


def _rankers(tasks: Mapping[str, Task], value: PairValue) -> dict[str, tuple[Ranker, PairKey]]:
    """Per direction, a ranking of each query's pool by ``value`` (ties to the lower row) and its pair key."""

    def rank_graduates(query: Query, need: int) -> tuple[np.ndarray, None]:
        rows = np.flatnonzero(tasks["vacancy"].pool_mask(query))
        scores = value(rows, np.full(len(rows), query.row))
        return rows[np.lexsort((rows, -scores))][:need], None

    def rank_vacancies(query: Query, need: int) -> tuple[np.ndarray, None]:
        rows = np.flatnonzero(tasks["graduate"].pool_mask(query))
        scores = value(np.full(len(rows), query.row), rows)
        return rows[np.lexsort((rows, -scores))][:need], None

    def key_vacancy(q: np.ndarray, other: np.ndarray) -> np.ndarray:
        return value(other, q)

    def key_graduate(q: np.ndarray, other: np.ndarray) -> np.ndarray:
        return value(q, other)

    return {"vacancy": (rank_graduates, key_vacancy), "graduate": (rank_vacancies, key_graduate)}


def oracle_result(
    truth: GroundTruth,
    tasks: Mapping[str, Task],
    structure: MatchIndex,
    outcomes: pd.DataFrame,
    *,
    k: int,
    seed: int,
    knowable: bool = False,
) -> tuple[dict[str, DirectionResult], Calibration | None]:
    """The oracle's metrics per direction on ``tasks`` (rows of ``structure``), and its calibration on the
    exposed pairs' ``outcomes`` (``None`` without the generator's thresholds).

    ``knowable``: rank by what can be known about a pair, the truth with each pair's own noise averaged out
    (:func:`training.demo_success.knowable_success_probability`): the ceiling of a model that has not seen
    the pair's decisions. The default oracle ranks by the noisy truth, which no model can reach."""
    g_ids, v_ids = structure.graduates.ids.ids, structure.vacancies.ids.ids
    simulated = has_simulation(truth)

    utility_of = knowable_utility if knowable else truth_utility
    success_of = knowable_success_probability if knowable else success_probability

    def utility(g: np.ndarray, v: np.ndarray) -> np.ndarray:
        return np.asarray(utility_of(truth, g_ids[g], v_ids[v]), dtype=np.float64)

    def success(g: np.ndarray, v: np.ndarray) -> np.ndarray:
        return success_of(truth, g_ids[g], v_ids[v])

    passes = [(_rankers(tasks, utility), (APPLICATIONS,) if simulated else FAMILIES)]
    if simulated:
        passes.append((_rankers(tasks, success), (ACCEPTED,)))
    directions: dict[str, DirectionResult] = {}
    for d in DIRECTIONS:
        parts = [
            score_direction(tasks[d], *rankers[d], k=k, seed=seed, families=families)
            for rankers, families in passes
        ]
        for part in parts[1:]:
            parts[0].metrics.update(part.metrics)
        directions[d] = parts[0]
    if not simulated or len(outcomes) == 0:
        return directions, None
    probability = success_of(truth, outcomes[C.graduate].to_numpy(), outcomes[C.vacancy].to_numpy())
    return directions, calibration(probability, outcomes[SUCCESS].to_numpy(dtype=np.float64))
