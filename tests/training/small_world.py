"""A small demo market and a fast matcher configuration for tests that train real models."""

from __future__ import annotations

from dataclasses import replace

from models.columns import Columns as C
from models.data import MarketData
from models.matcher import MatcherConfig
from training.demo import generate

# Small and single-threaded so the suite stays fast and runs are reproducible.
SMALL = MatcherConfig(epochs=3, no_components=8, num_threads=1, candidates=("compact",), seed=7)
# Clearly worse: no LightFM part and both sides one two-leaf tree.
WORSE = replace(
    SMALL,
    use_lightfm=False,
    candidates=(
        {
            "name": "stump",
            "max_iter": 1,
            "max_leaf_nodes": 2,
            "min_samples_leaf": 200,
            "l2_regularization": 0.0,
        },
    ),
)


def small_market(fraction: float = 0.4, seed: int = 0) -> MarketData:
    """The small demo world thinned to ``fraction`` of its graduates and vacancies (and their events)."""
    data = generate("small", 7).data
    graduates = data.graduates.sample(frac=fraction, random_state=seed).reset_index(drop=True)
    vacancies = data.vacancies.sample(frac=fraction, random_state=seed).reset_index(drop=True)
    events = data.interactions
    keep = events[C.graduate].isin(graduates[C.graduate]) & events[C.vacancy].isin(vacancies[C.vacancy])
    return replace(
        data, graduates=graduates, vacancies=vacancies, interactions=events[keep].reset_index(drop=True)
    )
