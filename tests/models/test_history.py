"""History helpers and the matcher on interaction logs with coarse or identical timestamps."""

from __future__ import annotations

import pandas as pd

from models.columns import Columns as C
from models.history import FIRST_AT, exposure_pairs, positive_pairs
from models.matcher import Matcher
from tests.models.conftest import FAST, small_market


def test_no_positive_before_a_time_keeps_the_id_types() -> None:
    interactions = small_market().interactions
    empty = positive_pairs(interactions, before=interactions[C.occurred_at].min())
    assert empty.empty
    assert empty[C.graduate].dtype == interactions[C.graduate].dtype
    assert empty[FIRST_AT].dtype == interactions[C.occurred_at].dtype
    # What used to fail with "merge on str and float64 columns".
    exposures = exposure_pairs(interactions, before=interactions[C.occurred_at].min())
    assert exposures.empty


def test_the_matcher_trains_when_every_event_has_the_same_timestamp() -> None:
    data = small_market()
    data.interactions[C.occurred_at] = pd.Timestamp("2026-10-01")
    matcher = Matcher(FAST).fit(data)
    index = matcher.index(data)
    vacancy = data.vacancies.iloc[0]
    found = matcher.candidates_for(vacancy[C.vacancy], index=index, limit=10)
    assert found.items
    scores = [item.score for item in found.items]
    assert scores == sorted(scores, reverse=True)
