"""The two sides' training examples, drawn from a window at the end of the training period.

Every pair first exposed in the window (viewed, or applied without a recorded view) is one example, with the
labels of :mod:`models.outcomes`:

* the **graduate side** learns ``interested`` (applied and did not decline) over every exposed pair:
  P(interested | shown);
* the **employer side** learns ``advanced`` (shortlisted or further) over the applications whose answer is
  known: P(advanced | applied). An application without an answer counts as not advanced once the usual
  response time has passed (employers often reject in silence); a more recent one is left out (censored);
* their product is calibrated to ``success`` (interested and advanced) on the latest slice of the window
  whose outcome can be known: exposures older than the usual delays to apply and to be answered (90th
  percentiles measured before the window). Exposures too recent to have applied yet are left out of the
  graduate side in the same way.

Recorded exposures are few and already selected by the job board (what it showed is what looked good), while
a vacancy's candidates are ranked over every seeking graduate. So pairs drawn at random among graduates
available and vacancies active in the window are added as unseen negatives for the graduate side (other
graduates for the window's vacancies, other vacancies for its graduates): they teach it who would consider
such a job at all. They also let a market that exports only applications train. Every such pair respects
the hard filters (education minimum, graduate not already hired) and is not a known pair; the calibration
and the choice of configuration use recorded exposures only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.columns import Columns as C
from models.data import MarketData
from models.index import GraduateBlock, MatchIndex, VacancyBlock
from models.outcomes import (
    ADVANCED,
    ANSWERED_AT,
    APPLIED,
    APPLIED_AT,
    DEPTH,
    FIRST_AT,
    INTERESTED,
    SUCCESS,
)

# Columns of the examples frame.
G_ROW, V_ROW, AT = "g_row", "v_row", "at"
RESOLVED = "resolved"  # old enough for its success to be known (exposed before the usual response time)
ANSWER_KNOWN = "answer_known"  # an application the employer answered, or one older than the response time
INTEREST_KNOWN = "interest_known"  # exposed long enough ago for the usual application delay to have passed
EXPOSED = "exposed"  # a recorded exposure (False: a random stand-in)
DEFAULT_RESPONSE_DAYS = 14.0
DEFAULT_APPLY_DAYS = 3.0


def _delay_quantile(start: pd.Series, stop: pd.Series, default_days: float) -> pd.Timedelta:
    both = start.notna() & stop.notna()
    if both.sum() < 20:
        return pd.Timedelta(days=default_days)
    delay = (stop[both] - start[both]).dt.total_seconds().to_numpy()
    return pd.Timedelta(seconds=float(np.quantile(np.maximum(delay, 0.0), 0.9)))


def response_horizon(outcomes: pd.DataFrame) -> pd.Timedelta:
    """How long employers usually take to answer an application: the 90th percentile of the delays seen
    (14 days when too few answers were recorded)."""
    return _delay_quantile(outcomes[APPLIED_AT], outcomes[ANSWERED_AT], DEFAULT_RESPONSE_DAYS)


def apply_horizon(outcomes: pd.DataFrame) -> pd.Timedelta:
    """How long graduates usually take from seeing a vacancy to applying (90th percentile; 3 days when
    too few were recorded)."""
    return _delay_quantile(outcomes[FIRST_AT], outcomes[APPLIED_AT], DEFAULT_APPLY_DAYS)


def resolved_mask(outcomes: pd.DataFrame, *, end: pd.Timestamp, horizon: pd.Timedelta) -> np.ndarray:
    """Whether each pair's outcome is known at ``end``: no application, an employer answer, or an
    application older than ``horizon``."""
    applied = outcomes[APPLIED].to_numpy()
    answered = outcomes[ANSWERED_AT].notna().to_numpy()
    old = (outcomes[APPLIED_AT] < end - horizon).fillna(False).to_numpy(dtype=bool)
    return ~applied | answered | old


def build_examples(
    data: MarketData,
    index: MatchIndex,
    outcomes: pd.DataFrame,
    *,
    cut: pd.Timestamp,
    seed: int,
    random_negatives: int = 2,
) -> pd.DataFrame:
    """Examples in ``index``'s rows of pairs first exposed at or after ``cut``; see the module docstring.

    ``outcomes`` is :func:`models.outcomes.pair_outcomes` of all of ``data``'s interactions. Columns:
    ``G_ROW, V_ROW, AT, INTERESTED, APPLIED, ADVANCED, DEPTH, SUCCESS, INTEREST_KNOWN, ANSWER_KNOWN,
    RESOLVED, EXPOSED``.
    """
    graduates: GraduateBlock = index.graduates
    vacancies: VacancyBlock = index.vacancies
    end = pd.Timestamp(data.interactions[C.occurred_at].max())
    earlier = outcomes[outcomes[FIRST_AT] < cut]
    to_apply, to_answer = apply_horizon(earlier), response_horizon(earlier)
    window = outcomes[outcomes[FIRST_AT] >= cut]
    g = graduates.ids.rows(window[C.graduate].to_numpy())
    v = vacancies.ids.rows(window[C.vacancy].to_numpy())
    known = (g >= 0) & (v >= 0)
    window = window[known]
    frame = pd.DataFrame(
        {
            G_ROW: g[known].astype(np.int64),
            V_ROW: v[known].astype(np.int64),
            AT: window[FIRST_AT].to_numpy(),
            INTERESTED: window[INTERESTED].to_numpy(dtype=bool),
            APPLIED: window[APPLIED].to_numpy(dtype=bool),
            ADVANCED: window[ADVANCED].to_numpy(dtype=bool),
            DEPTH: window[DEPTH].to_numpy(dtype=np.int64),
            SUCCESS: window[SUCCESS].to_numpy(dtype=bool),
            # Labels still open at the end of the data are not read as "no": an exposure too recent for
            # the usual delays is left out of what needs its label.
            INTEREST_KNOWN: (window[FIRST_AT] <= end - to_apply).to_numpy(),
            ANSWER_KNOWN: resolved_mask(window, end=end, horizon=to_answer),
            RESOLVED: (window[FIRST_AT] <= end - to_apply - to_answer).to_numpy(),
            EXPOSED: True,
        }
    )
    # Coarse timestamps (one export date for every row) leave no label old enough to be sure of: then the
    # labels are taken as they are rather than not at all.
    for column, label in ((INTEREST_KNOWN, INTERESTED), (RESOLVED, SUCCESS), (ANSWER_KNOWN, ADVANCED)):
        if not (frame[column] & frame[label]).any():
            frame[column] = True
    if random_negatives > 0 and frame[INTERESTED].any():
        frame = pd.concat(
            [frame, _random_negatives(data, index, outcomes, frame, cut=cut, seed=seed, r=random_negatives)],
            ignore_index=True,
        )
    return frame.sort_values([AT, G_ROW, V_ROW], kind="stable").reset_index(drop=True)


def _random_negatives(
    data: MarketData,
    index: MatchIndex,
    outcomes: pd.DataFrame,
    window: pd.DataFrame,
    *,
    cut: pd.Timestamp,
    seed: int,
    r: int,
) -> pd.DataFrame:
    """``r`` random other graduates per window pair's vacancy and ``r`` random other vacancies per its
    graduate, as pairs shown and passed over at the same time."""
    rng = np.random.default_rng(seed)
    graduates, vacancies = index.graduates, index.vacancies
    n_v = len(vacancies)
    g_all = graduates.ids.rows(outcomes[C.graduate].to_numpy())
    v_all = vacancies.ids.rows(outcomes[C.vacancy].to_numpy())
    ok = (g_all >= 0) & (v_all >= 0)
    known_keys = np.unique(g_all[ok] * n_v + v_all[ok])
    interactions = data.interactions
    hired = interactions[(interactions[C.event] == "hired") & (interactions[C.occurred_at] < cut)]
    available = np.ones(len(graduates), dtype=bool)
    hired_rows = graduates.ids.rows(hired[C.graduate].unique())
    available[hired_rows[hired_rows >= 0]] = False
    available[window[G_ROW].to_numpy()] = True
    active = vacancies.closes_at >= pd.Timestamp(cut).value
    active[window[V_ROW].to_numpy()] = True
    g_pool, v_pool = np.flatnonzero(available), np.flatnonzero(active)
    wg, wv = window[G_ROW].to_numpy(), window[V_ROW].to_numpy()
    at = np.repeat(window[AT].to_numpy(), r)
    parts = []
    for g, v in (
        (g_pool[rng.integers(0, len(g_pool), size=len(wg) * r)], np.repeat(wv, r)),
        (np.repeat(wg, r), v_pool[rng.integers(0, len(v_pool), size=len(wv) * r)]),
    ):
        keep = (graduates.education[g] >= vacancies.min_education[v]) & ~np.isin(g * n_v + v, known_keys)
        parts.append(
            pd.DataFrame(
                {
                    G_ROW: g[keep],
                    V_ROW: v[keep],
                    AT: at[keep],
                    INTERESTED: False,
                    APPLIED: False,
                    ADVANCED: False,
                    DEPTH: 0,
                    SUCCESS: False,
                    INTEREST_KNOWN: True,
                    ANSWER_KNOWN: True,
                    RESOLVED: True,
                    EXPOSED: False,
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    return out.drop_duplicates(subset=[G_ROW, V_ROW]).reset_index(drop=True)
