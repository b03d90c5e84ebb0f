"""The time-based holdout: train on the events before a cut, test on what happened after it."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from models.columns import Columns as C
from models.data import MarketData

__all__ = ["Split", "time_split"]


@dataclass
class Split:
    """Training data (events before ``cut``) and test data (all entities as at the cut, later events)."""

    train: MarketData
    test: MarketData
    cut: pd.Timestamp


def time_split(
    data: MarketData, *, cut: pd.Timestamp | str | None = None, holdout_fraction: float = 0.2
) -> Split:
    """Split at ``cut`` (default: the time before which ``1 - holdout_fraction`` of the events happened).

    Statuses are rewound to the cut: a graduate is placed only if hired before it; a vacancy is open at the
    cut unless it closed or filled its headcount before it. Vacancies posted after the cut exist only in
    ``test`` (they are the cold-start cases). Raises ``ValueError`` when there is nothing on one side.
    """
    events = data.interactions
    if len(events) == 0:
        raise ValueError("no interactions")
    times = pd.to_datetime(events[C.occurred_at])
    cut_ts = pd.Timestamp(cut) if cut is not None else times.quantile(1.0 - holdout_fraction)
    if cut is None and not (times < cut_ts).any():
        # Coarse timestamps (a day, or one export date for many rows) can tie the quantile with the
        # earliest time; cut at the next distinct time instead, when there is one.
        later = times[times > cut_ts]
        if len(later):
            cut_ts = later.min()
    before = events[times < cut_ts]
    after = events[times >= cut_ts]
    if before.empty or after.empty:
        raise ValueError(f"cut {cut_ts} leaves no interactions on one side")

    hires = before[before[C.event] == "hired"]
    graduates = data.graduates.copy()
    graduates[C.status] = np.where(graduates[C.graduate].isin(hires[C.graduate]), "placed", "seeking")

    vacancies = data.vacancies.copy()
    posted = pd.to_datetime(vacancies[C.posted_at])
    closes = pd.to_datetime(vacancies[C.closes_at])
    hired_count = hires.groupby(C.vacancy).size()
    filled = (
        vacancies[C.vacancy].map(hired_count).fillna(0).to_numpy()
        >= pd.to_numeric(vacancies[C.headcount], errors="coerce").fillna(1).to_numpy()
    )
    closed = (closes < cut_ts).to_numpy()
    status = np.where(filled, "filled", np.where(closed, "closed", "open"))
    vacancies[C.status] = status
    early = ~(posted >= cut_ts).to_numpy()

    train = replace(
        data, graduates=graduates, vacancies=vacancies[early].reset_index(drop=True), interactions=before
    )
    test = replace(data, graduates=graduates, vacancies=vacancies, interactions=after)
    return Split(train=train, test=test, cut=cut_ts)
