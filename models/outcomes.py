"""What happened to each (graduate, vacancy) pair: the labels of the two-sided match model.

A pairing **succeeds** when both sides say yes: the graduate is interested (applies and does not decline an
offer) and the employer advances them (shortlisted, interviewed, offered or hired, rather than rejected or
left without an answer). The match score is the estimated probability of that outcome for a pair shown to
the graduate; the two sides are learned separately (``models.matcher``) and evaluated on these labels
(``training.evaluate``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.columns import Columns as C

FIRST_AT = "first_at"  # the pair's first event (exposure)
APPLIED = "applied"  # the graduate applied (or any later stage happened)
ADVANCED = "advanced"  # the employer shortlisted, interviewed, offered or hired
DECLINED = "declined"  # the graduate declined an offer
DEPTH = "depth"  # how far the employer went: 0 none, 1 shortlisted .. 4 hired
APPLIED_AT = "applied_at"  # time of the application (NaT when none)
ANSWERED_AT = "answered_at"  # time of the employer's first answer (advance or rejection; NaT when none)
INTERESTED = "interested"  # applied and did not decline
SUCCESS = "success"  # interested and advanced

_EMPLOYER_DEPTH = {"shortlisted": 1, "interviewed": 2, "offered": 3, "hired": 4}
_APPLIED_OR_LATER = ("applied", "shortlisted", "interviewed", "offered", "hired", "declined")


def pair_outcomes(interactions: pd.DataFrame, *, before: pd.Timestamp | None = None) -> pd.DataFrame:
    """One row per (graduate, vacancy) with any event (before ``before``), sorted by the pair.

    Columns: graduate_id, vacancy_id, ``FIRST_AT``, ``APPLIED_AT``, ``ANSWERED_AT``, ``APPLIED``,
    ``ADVANCED``, ``DECLINED``, ``DEPTH``, ``INTERESTED``, ``SUCCESS`` (booleans as bool, depth as int).
    A pair reaching an employer stage counts as applied even when the application itself was not recorded.
    """
    events = interactions
    if before is not None:
        events = events[events[C.occurred_at] < before]
    keys = [C.graduate, C.vacancy]
    if events.empty:
        out = events[keys].iloc[:0].copy()
        for name, dtype in (
            (FIRST_AT, events[C.occurred_at].dtype),
            (APPLIED_AT, events[C.occurred_at].dtype),
            (ANSWERED_AT, events[C.occurred_at].dtype),
        ):
            out[name] = pd.Series([], dtype=dtype)
        for name in (APPLIED, ADVANCED, DECLINED, INTERESTED, SUCCESS):
            out[name] = pd.Series([], dtype=bool)
        out[DEPTH] = pd.Series([], dtype=np.int64)
        return out.reset_index(drop=True)
    event = events[C.event]
    at = events[C.occurred_at]
    depth = event.map(_EMPLOYER_DEPTH).fillna(0).astype(np.int64)
    frame = pd.DataFrame(
        {
            C.graduate: events[C.graduate].to_numpy(),
            C.vacancy: events[C.vacancy].to_numpy(),
            FIRST_AT: at.to_numpy(),
            "applied_time": at.where(event.isin(_APPLIED_OR_LATER)).to_numpy(),
            "answer_time": at.where(event.isin((*_EMPLOYER_DEPTH, "rejected"))).to_numpy(),
            DEPTH: depth.to_numpy(),
            DECLINED: (event == "declined").to_numpy(),
        }
    )
    grouped = frame.groupby(keys, sort=True)
    out = grouped.agg(
        **{
            FIRST_AT: (FIRST_AT, "min"),
            APPLIED_AT: ("applied_time", "min"),
            ANSWERED_AT: ("answer_time", "min"),
            DEPTH: (DEPTH, "max"),
            DECLINED: (DECLINED, "max"),
        }
    ).reset_index()
    out[APPLIED] = out[APPLIED_AT].notna().to_numpy()
    out[ADVANCED] = (out[DEPTH] > 0).to_numpy()
    out[DECLINED] = out[DECLINED].astype(bool)
    out[INTERESTED] = out[APPLIED] & ~out[DECLINED]
    out[SUCCESS] = out[INTERESTED] & out[ADVANCED]
    return out
