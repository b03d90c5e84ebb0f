"""History rates from past interactions: what a programme's graduates applied to, what an employer attracts.

Always fitted on events **before** a cut, so the ranker never sees the future (during training the cut is
the start of the ranker's example window; at serving time it is the end of the training data).
Rates are smoothed log-lifts: ``log(P(x | programme) / P(x))`` with a prior of ``alpha`` pseudo-events, so
a programme with no history (a new class) gets 0, i.e. "no signal".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from models.columns import EVENT_WEIGHTS
from models.columns import Columns as C
from models.features import JOB_FAMILY, SEGMENT
from models.ids import IdMap

FIRST_AT = "first_at"
VIEWED = "viewed"
# (graduate-side key, vacancy-side key) pairs whose co-occurrence rates the ranker sees.
PAIR_STATS = {
    "program_segment": (C.program, SEGMENT),
    "program_enterprise": (C.program, C.enterprise),
    "program_district": (C.program, C.district),
    "program_role": (C.program, C.role),
    "program_family": (C.program, JOB_FAMILY),
    "school_enterprise": (C.school, C.enterprise),
}


def positive_pairs(interactions: pd.DataFrame, *, before: pd.Timestamp | None = None) -> pd.DataFrame:
    """One row per (graduate, vacancy) that went at least as far as ``applied``.

    Columns: graduate_id, vacancy_id, weight (the deepest event's ``EVENT_WEIGHTS``), first_at (time of the
    first positive event). ``viewed``, ``rejected`` and ``declined`` alone never make a positive.
    """
    events = interactions
    if before is not None:
        events = events[events[C.occurred_at] < before]
    weights = events[C.event].map(EVENT_WEIGHTS)
    positive = events.assign(**{C.weight: weights})[weights.notna()]
    if positive.empty:
        # Typed like a non-empty answer (string ids), so merges with it never mix str and float keys.
        return pd.DataFrame(
            {
                C.graduate: pd.Series([], dtype=events[C.graduate].dtype),
                C.vacancy: pd.Series([], dtype=events[C.vacancy].dtype),
                C.weight: pd.Series([], dtype=float),
                FIRST_AT: pd.Series([], dtype=events[C.occurred_at].dtype),
            }
        )
    grouped = positive.groupby([C.graduate, C.vacancy], sort=True)
    out = grouped.agg(**{C.weight: (C.weight, "max"), FIRST_AT: (C.occurred_at, "min")}).reset_index()
    return out


def impression_pairs(
    interactions: pd.DataFrame, *, start: pd.Timestamp, end: pd.Timestamp | None
) -> pd.DataFrame:
    """Pairs viewed in ``[start, end)`` that never became positive (before ``end``): shown and passed over."""
    window = interactions[interactions[C.occurred_at] >= start]
    if end is not None:
        window = window[window[C.occurred_at] < end]
    views = (
        window[window[C.event] == VIEWED].groupby([C.graduate, C.vacancy])[C.occurred_at].min().reset_index()
    )
    positive = positive_pairs(interactions, before=end)
    if positive.empty or views.empty:
        return views.rename(columns={C.occurred_at: FIRST_AT})
    merged = views.merge(positive[[C.graduate, C.vacancy]], how="left", indicator=True)
    views = merged[merged["_merge"] == "left_only"].drop(columns="_merge")
    return views.rename(columns={C.occurred_at: FIRST_AT}).reset_index(drop=True)


# Conversion rates: of the pairs that were shown (any event), the share that became positive, by key.
# Unlike shares of applications, they do not grow with how many vacancies of a kind exist.
RATE_STATS = {
    "program_family_rate": (C.program, JOB_FAMILY),
    "program_enterprise_rate": (C.program, C.enterprise),
}
# Screening rates: of the applications, the share the employer advanced (shortlisted or further), by key.
# The employer side of a match: how employers like this one treated graduates like this one.
ADVANCE_STATS = {
    "program_enterprise_advance": (C.program, C.enterprise),
    "program_segment_advance": (C.program, SEGMENT),
}


def exposure_pairs(interactions: pd.DataFrame, *, before: pd.Timestamp | None = None) -> pd.DataFrame:
    """Every (graduate, vacancy) pair with any event (before ``before``), with ``positive`` 0/1."""
    events = interactions
    if before is not None:
        events = events[events[C.occurred_at] < before]
    pairs = events[[C.graduate, C.vacancy]].drop_duplicates()
    positive = positive_pairs(events)[[C.graduate, C.vacancy]].assign(positive=1.0)
    pairs = pairs.merge(positive, on=[C.graduate, C.vacancy], how="left")
    return pairs.fillna({"positive": 0.0}).reset_index(drop=True)


@dataclass
class HistoryStats:
    """Counts of positive pairs by (graduate key, vacancy key), by enterprise and by graduate."""

    alpha: float = 5.0
    pair_counts: dict[str, pd.Series] = field(default_factory=dict)
    left_totals: dict[str, pd.Series] = field(default_factory=dict)
    right_shares: dict[str, pd.Series] = field(default_factory=dict)
    enterprise_appeal: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    graduate_activity: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    activity_default: float = 0.0  # graduate_activity of a graduate without positives
    rates: dict[str, pd.Series] = field(default_factory=dict)  # smoothed log(rate / overall rate)
    # enterprise -> skill -> share of the graduates it advanced who held the skill
    advanced_skills: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    advanced_prior: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))  # skill -> share
    # the same shares as nested dicts (enterprise -> skill -> share), for explaining one vacancy at a time
    advanced_by_enterprise: dict[str, dict[str, float]] = field(default_factory=dict)
    n_positive: int = 0

    @classmethod
    def fit(
        cls,
        positives: pd.DataFrame,
        graduates: pd.DataFrame,
        vacancies: pd.DataFrame,
        *,
        exposures: pd.DataFrame | None = None,
        applications: pd.DataFrame | None = None,
        alpha: float = 5.0,
    ) -> HistoryStats:
        """Count ``positives`` (from :func:`positive_pairs`), the conversion of ``exposures``
        (from :func:`exposure_pairs`) and the screening of ``applications`` (graduate_id, vacancy_id,
        ``positive`` = advanced 0/1) against the joined entity frames."""
        stats = cls(alpha=alpha, n_positive=len(positives))
        g_cols = sorted({left for left, _ in PAIR_STATS.values()})
        v_cols = sorted({right for _, right in PAIR_STATS.values()} | {C.enterprise})
        joined = positives.merge(graduates[[C.graduate, *g_cols]], on=C.graduate, how="inner").merge(
            vacancies[[C.vacancy, *v_cols]].rename(columns={c: f"v_{c}" for c in v_cols}),
            on=C.vacancy,
            how="inner",
        )
        for name, (left, right) in PAIR_STATS.items():
            right_col = f"v_{right}"
            counts = joined.groupby([left, right_col]).size()
            stats.pair_counts[name] = counts.astype(float)
            stats.left_totals[name] = joined.groupby(left).size().astype(float)
            right_counts = joined.groupby(right_col).size().astype(float)
            stats.right_shares[name] = (right_counts + 1.0) / (right_counts.sum() + len(right_counts) + 1.0)
        per_enterprise = joined.groupby(f"v_{C.enterprise}").size().astype(float)
        vacancies_per_enterprise = vacancies.groupby(C.enterprise).size().astype(float)
        appeal = (per_enterprise.reindex(vacancies_per_enterprise.index).fillna(0.0) + 1.0) / (
            vacancies_per_enterprise + 1.0
        )
        # Both relative to the market's own average, so they keep their scale whatever the length of the
        # history (the examples' features come from a shorter history than the serving ones).
        market_appeal = (per_enterprise.sum() + 1.0) / (vacancies_per_enterprise.sum() + 1.0)
        stats.enterprise_appeal = np.log(appeal / market_appeal)
        counts = positives.groupby(C.graduate).size().astype(float)
        typical = float(counts.mean()) if len(counts) else 0.0
        stats.graduate_activity = np.log((counts + 1.0) / (typical + 1.0))
        stats.activity_default = float(np.log(1.0 / (typical + 1.0)))
        if exposures is not None and len(exposures):
            shown = exposures.merge(graduates[[C.graduate, *g_cols]], on=C.graduate, how="inner").merge(
                vacancies[[C.vacancy, *v_cols]].rename(columns={c: f"v_{c}" for c in v_cols}),
                on=C.vacancy,
                how="inner",
            )
            keys: dict[str, list[str]] = {
                name: [left, f"v_{right}"] for name, (left, right) in RATE_STATS.items()
            }
            keys["enterprise_rate"] = [f"v_{C.enterprise}"]
            keys["graduate_rate"] = [C.graduate]
            stats.rates.update(_log_rates(shown, keys, alpha))
        if applications is not None and len(applications):
            applied = applications.merge(graduates[[C.graduate, *g_cols, C.skills]], on=C.graduate).merge(
                vacancies[[C.vacancy, *v_cols]].rename(columns={c: f"v_{c}" for c in v_cols}), on=C.vacancy
            )
            keys = {name: [left, f"v_{right}"] for name, (left, right) in ADVANCE_STATS.items()}
            keys["enterprise_advance"] = [f"v_{C.enterprise}"]
            stats.rates.update(_log_rates(applied, keys, alpha))
            advanced = applied[applied["positive"] > 0]
            if len(advanced):
                # Shares smoothed towards the whole market's (``alpha`` pseudo-graduates), so an employer
                # with one advanced applicant does not make each of their skills "held by 100%".
                held = advanced[[f"v_{C.enterprise}", C.skills]].explode(C.skills).dropna()
                counts = held.groupby([f"v_{C.enterprise}", C.skills]).size().astype(float)
                per_enterprise = advanced.groupby(f"v_{C.enterprise}").size().astype(float)
                overall = held.groupby(C.skills).size().astype(float) / len(advanced)
                total = per_enterprise.reindex(counts.index.get_level_values(0)).to_numpy()
                prior = overall.reindex(counts.index.get_level_values(1)).to_numpy()
                stats.advanced_skills = (counts + alpha * prior) / (total + alpha)
                stats.advanced_prior = overall
                stats.shares_by_enterprise()
        return stats

    def shares_by_enterprise(self) -> dict[str, dict[str, float]]:
        """``advanced_skills`` as enterprise -> skill -> share, built once (also for stats saved before
        the dictionary was kept)."""
        by_enterprise: dict[str, dict[str, float]] | None = self.__dict__.get("advanced_by_enterprise")
        if not by_enterprise and len(self.advanced_skills):
            by_enterprise = {}
            for (enterprise, skill), share in self.advanced_skills.items():
                by_enterprise.setdefault(str(enterprise), {})[str(skill)] = float(share)
            self.advanced_by_enterprise = by_enterprise
        return by_enterprise or {}

    def advanced_skill_matrix(
        self, enterprise_ids: IdMap, skill_ids: IdMap, *, only: pd.Series | None = None
    ) -> np.ndarray:
        """Dense ``(len(enterprises)+1, len(skills))``: share of each employer's advanced applicants who
        held each skill (smoothed); the whole market's share for an employer or skill without history
        (the last row is the unknown employer). ``only``: some of ``advanced_skills`` (:meth:`touching`),
        the others' entries left at the market's share."""
        out = np.zeros((len(enterprise_ids) + 1, len(skill_ids)), dtype=np.float32)
        shares = self.advanced_skills
        if shares is None or shares.empty:
            return out
        if only is not None:
            shares = only
        prior_cols = skill_ids.rows(self.advanced_prior.index.to_numpy())
        known = prior_cols >= 0
        out[:, prior_cols[known]] = self.advanced_prior.to_numpy(dtype=np.float32)[known]
        rows = enterprise_ids.rows(shares.index.get_level_values(0).to_numpy())
        cols = skill_ids.rows(shares.index.get_level_values(1).to_numpy())
        keep = (rows >= 0) & (cols >= 0)
        out[rows[keep], cols[keep]] = shares.to_numpy(dtype=np.float32)[keep]
        return out

    def rate_matrix(
        self, name: str, left_ids: IdMap, right_ids: IdMap, *, only: pd.Series | None = None
    ) -> np.ndarray:
        """Dense ``(len(left)+1, len(right)+1)`` log conversion lift; 0 where unseen. ``only``: some of
        ``rates[name]`` (:meth:`touching`), the entries of the others left out."""
        out = np.zeros((len(left_ids) + 1, len(right_ids) + 1), dtype=np.float32)
        rates = self.rates.get(name)
        if rates is None or rates.empty:
            return out
        if only is not None:
            rates = only
        frame = rates.rename("r").reset_index()
        rows = left_ids.rows(frame.iloc[:, 0].to_numpy())
        cols = right_ids.rows(frame.iloc[:, 1].to_numpy())
        keep = (rows >= 0) & (cols >= 0)
        out[rows[keep], cols[keep]] = frame["r"].to_numpy(dtype=np.float32)[keep]
        return out

    def rate_vector(self, name: str, ids: IdMap, *, extra: bool = True) -> np.ndarray:
        """Log conversion lift per id (plus a trailing 0 for unknown when ``extra``)."""
        out = np.zeros(len(ids) + int(extra), dtype=np.float32)
        rates = self.rates.get(name)
        if rates is not None and len(rates):
            rows, values = ids.rows_with(rates)
            out[rows] = values.astype(np.float32)
        return out

    def lift_matrix(
        self, name: str, left_ids: IdMap, right_ids: IdMap, *, only: pd.Series | None = None
    ) -> np.ndarray:
        """Dense ``(len(left)+1, len(right)+1)`` smoothed log-lift; the last row (an unknown left key) is 0,
        the last column (an unknown right value) is what an unseen combination gets. ``only``: some of
        ``pair_counts[name]`` (:meth:`touching`), the others' entries left at what an unseen one gets."""
        out = np.zeros((len(left_ids) + 1, len(right_ids) + 1), dtype=np.float32)
        counts = self.pair_counts.get(name)
        if counts is None or counts.empty:
            return out
        if only is not None:
            counts = only
        shares = self.right_shares[name]
        totals = self.left_totals[name]
        frame = counts.rename("n").reset_index()
        frame.columns = ["left", "right", "n"]
        rows = left_ids.rows(frame["left"].to_numpy())
        cols = right_ids.rows(frame["right"].to_numpy())
        keep = (rows >= 0) & (cols >= 0)
        frame = frame[keep]
        share = frame["right"].map(shares).to_numpy(dtype=float)
        total = frame["left"].map(totals).to_numpy(dtype=float)
        # Unseen (left, right) combinations of a left key with history get log((0 + a*s)/(n + a) / s) < 0.
        left_rows = left_ids.rows(totals.index.to_numpy())
        known = left_rows >= 0
        base = np.log(self.alpha / (totals.to_numpy(dtype=float) + self.alpha))
        # The last column too: a value the index does not know yet (a vacancy posted after it was built) has
        # no history with this key either, and must score as one that is known but unseen.
        out[left_rows[known], :] = base[known, None]
        lift = ((frame["n"].to_numpy(dtype=float) + self.alpha * share) / (total + self.alpha)) / share
        out[rows[keep], cols[keep]] = np.log(lift)
        return out

    @staticmethod
    def touching(pairs: pd.Series, left: np.ndarray, right: np.ndarray) -> pd.Series | None:
        """The entries of ``pairs`` (keyed by (left key, right key)) whose left key is one of ``left`` or
        whose right key is one of ``right``, found by the index's integer codes (the keys are not
        compared one by one); ``None`` when ``pairs`` is not keyed that way."""
        index = pairs.index
        if not isinstance(index, pd.MultiIndex) or index.nlevels != 2:
            return None
        mask = np.zeros(len(pairs), dtype=bool)
        for level, keys in enumerate((left, right)):
            if len(keys):
                codes = index.levels[level].get_indexer(pd.Index(keys))
                mask |= np.isin(index.codes[level], codes[codes >= 0])
        return pairs[mask]

    def enterprise_vector(self, enterprise_ids: IdMap) -> np.ndarray:
        """Log positives per vacancy of each enterprise (+1 smoothed) against the market's; extra last
        entry (0, the market's) for unknown."""
        out = np.zeros(len(enterprise_ids) + 1, dtype=np.float32)
        if len(self.enterprise_appeal):
            rows, values = enterprise_ids.rows_with(self.enterprise_appeal)
            out[rows] = values.astype(np.float32)
        return out

    def graduate_vector(self, graduate_ids: IdMap) -> np.ndarray:
        """log((1 + positive pairs) / (1 + the average graduate's)) per graduate."""
        out = np.full(len(graduate_ids), self.__dict__.get("activity_default", 0.0), dtype=np.float32)
        if len(self.graduate_activity):
            rows, values = graduate_ids.rows_with(self.graduate_activity)
            out[rows] = values.astype(np.float32)
        return out


def _log_rates(frame: pd.DataFrame, keys: dict[str, list[str]], alpha: float) -> dict[str, pd.Series]:
    """Smoothed log lift of the ``positive`` rate per key against the frame's overall rate."""
    overall = (frame["positive"].sum() + 1.0) / (len(frame) + 2.0)
    out = {}
    for name, columns in keys.items():
        grouped = frame.groupby(columns)["positive"].agg(["sum", "size"])
        rate = (grouped["sum"] + alpha * overall) / (grouped["size"] + alpha)
        out[name] = np.log(rate / overall).astype(float)
    return out
