"""A year of job-market history from the hidden preference model (vectorised, chunked by graduate).

1. Exposure: each searching graduate views vacancies open at the time, drawn by segment (the
   programme's search profile), employer popularity and search relevance (skill overlap, district).
2. Graduates apply with probability ``sigmoid((utility - apply_threshold) / apply_temperature)``.
3. Employers shortlist, interview and offer by their own screening score (``employer_fit``).
4. Graduates accept offers by utility; hires happen in time order while the vacancy has headcount
   left and the graduate is not yet placed; a full vacancy stops, a placed graduate stops searching.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from models.columns import EVENTS
from training.demo_truth import GroundTruth

WEEK = 7.0
CHUNK = 5_000  # graduates per exposure chunk: bounds memory at large scale
EVENT_CODE = {name: i for i, name in enumerate(EVENTS)}
# Each tuple: (delay floor in days, mean extra delay in days) after the previous stage.
DELAYS = {
    "applied": (0.05, 1.0),
    "shortlisted": (1.0, 4.0),
    "interviewed": (1.0, 5.0),
    "offered": (1.0, 5.0),
    "hired": (1.0, 4.0),
    "rejected": (2.0, 7.0),
    "declined": (0.5, 2.0),
}
# The default variant's parameters; the functions below take them as an argument (a variant overrides
# some, see training/demo_variants.py) and never read this constant.
SIMULATION: dict[str, float] = {
    "apply_quantile": 0.68,  # apply threshold = this quantile of utility over viewed pairs
    "apply_temperature": 0.45,
    "shortlist_quantile": 0.45,  # employer thresholds: quantiles of employer_fit over applications
    "interview_quantile": 0.55,
    "offer_quantile": 0.62,
    "employer_temperature": 0.4,
    "accept_quantile": 0.62,  # offer acceptance threshold: quantile of utility over viewed pairs
    "accept_temperature": 0.4,
    "reject_notice": 0.75,  # share of failed applications that get an explicit "rejected"
    "withdraw_share": 0.03,
    "search_results": 12,  # listings a search shows; the graduate opens one of them ...
    "view_temperature": 0.35,  # ... with probability softmax(perceived score / this)
    "sponsor_channel": 0.15,  # share of an order-class graduate's results from the sponsor's openings
    "views_factor": 1.0,  # times the scale's views per graduate-year
    "popularity_size": 0.5,  # a listing's popularity = size ** this ...
    "popularity_appeal": 0.6,  # ... * exp(this * appeal)
}

# Which SIMULATION quantile sets each employer stage's threshold.
_QUANT = {
    "shortlisted": "shortlist_quantile",
    "interviewed": "interview_quantile",
    "offered": "offer_quantile",
}


@dataclass
class History:
    graduate: np.ndarray
    vacancy: np.ndarray
    event: np.ndarray  # index into EVENTS
    day: np.ndarray
    hired_day: np.ndarray  # per graduate, inf if not hired
    withdrawn: np.ndarray  # per graduate
    hires: np.ndarray  # per vacancy
    fill_day: np.ndarray  # per vacancy, inf if not full
    thresholds: dict[str, float]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _delay(rng: np.random.Generator, stage: str, n: int) -> np.ndarray:
    floor, mean = DELAYS[stage]
    return floor + rng.exponential(mean, size=n)


def perceived_score(truth: GroundTruth, g: np.ndarray, v: np.ndarray) -> np.ndarray:
    """What a graduate sees in a listing before reading it: the utility without its pair noise."""
    parts = truth.components_at(g, v, noise=False)
    w = truth.params["utility_weights"]
    return sum((w[name] * parts[name] for name in w if name != "noise"), np.zeros(len(g)))


def listing_popularity(size: np.ndarray, appeal: np.ndarray, simulation: Mapping[str, float]) -> np.ndarray:
    """How often a listing turns up in searches, relative to others (employer size and appeal)."""
    return size ** simulation["popularity_size"] * np.exp(simulation["popularity_appeal"] * appeal)


def sample_views(
    rng: np.random.Generator,
    truth: GroundTruth,
    *,
    simulation: Mapping[str, float],
    search_start: np.ndarray,
    activity: np.ndarray,
    segment_probs: np.ndarray,  # (n_programs, n_segments)
    vacancy_segment: np.ndarray,
    popularity: np.ndarray,
    posted: np.ndarray,
    closes: np.ndarray,
    sim_days: float,
    views_per_year: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Viewed (graduate row, vacancy row, day), one row per pair (its first view).

    Each view is a search: ``search_results`` listings open that week are drawn by segment (the
    programme's search profile) and employer popularity (for order-class graduates some come from
    the sponsor's open vacancies: the school passes them on); the graduate opens one of them with
    probability ``softmax(perceived_score / view_temperature)``. ``simulation`` is :data:`SIMULATION`
    with the variant's overrides (``training.demo_variants``); ``views_per_year`` is already scaled.
    """
    n_grad = len(search_start)
    n_seg = segment_probs.shape[1]
    n_weeks = int(np.ceil(sim_days / WEEK))
    m = int(simulation["search_results"])
    week_lo = np.arange(n_weeks) * WEEK
    open_in_week = (posted[None, :] < week_lo[:, None] + WEEK) & (closes[None, :] > week_lo[:, None])
    # One flat, monotone CDF over all (week, segment) pools: pool r occupies (r, r + 1].
    pool_rank = np.full(n_weeks * (n_seg + 1), -1, dtype=np.int64)
    flat_idx: list[np.ndarray] = []
    flat_cdf: list[np.ndarray] = []
    for b in range(n_weeks):
        for s in range(n_seg + 1):  # s == n_seg: every segment (fallback)
            mask = open_in_week[b] & ((vacancy_segment == s) if s < n_seg else True)
            idx = np.flatnonzero(mask)
            if len(idx):
                cum = np.cumsum(popularity[idx])
                pool_rank[b * (n_seg + 1) + s] = len(flat_idx)
                flat_idx.append(idx)
                flat_cdf.append(len(flat_cdf) + cum / cum[-1])
    all_idx = np.concatenate(flat_idx) if flat_idx else np.empty(0, dtype=np.int64)
    all_cdf = np.concatenate(flat_cdf) if flat_cdf else np.empty(0)
    # Same trick for the segment a search looks in: programme p occupies (p, p + 1].
    n_prog = segment_probs.shape[0]
    seg_cdf = (np.cumsum(segment_probs, axis=1) / segment_probs.sum(axis=1, keepdims=True)) + np.arange(
        n_prog
    )[:, None]
    seg_flat = seg_cdf.ravel()
    out_g, out_v, out_t = [], [], []
    for lo in range(0, n_grad, CHUNK):
        g_rows = np.arange(lo, min(lo + CHUNK, n_grad))
        start = np.clip(search_start[g_rows], 0.0, sim_days)
        active = sim_days - start
        n_draw = rng.poisson(views_per_year * active / 365.0 * activity[g_rows])
        slot_g = np.repeat(g_rows, n_draw)
        if not len(slot_g):
            continue
        slot_t = np.repeat(start, n_draw) + rng.random(len(slot_g)) * np.repeat(active, n_draw)
        # m search results per view slot
        g = np.repeat(slot_g, m)
        t = np.repeat(slot_t, m)
        prog = truth.graduate_program[g].astype(np.int64)
        pos = np.searchsorted(seg_flat, prog + rng.random(len(g)), side="right")
        seg = np.clip(pos - prog * n_seg, 0, n_seg - 1)
        week = np.minimum((t // WEEK).astype(np.int64), n_weeks - 1)
        rank = pool_rank[week * (n_seg + 1) + seg]
        fallback = rank < 0
        rank[fallback] = pool_rank[week[fallback] * (n_seg + 1) + n_seg]
        v = np.full(len(g), -1, dtype=np.int64)
        has = rank >= 0
        hit = np.searchsorted(all_cdf, rank[has] + rng.random(int(has.sum())), side="right")
        v[has] = all_idx[np.minimum(hit, len(all_idx) - 1)]
        _sponsor_channel(rng, truth, g, t, v, posted, closes, share=simulation["sponsor_channel"])
        valid = v >= 0
        t = np.where(valid, np.clip(t, posted[v] + 0.01, closes[v] - 0.01), t)
        valid &= (t >= np.clip(search_start[g], 0.0, None)) & (t >= 0.0) & (t < sim_days)
        score = np.full(len(g), -np.inf)
        score[valid] = perceived_score(truth, g[valid], v[valid]) / simulation["view_temperature"]
        choice = (score + rng.gumbel(size=len(g))).reshape(-1, m).argmax(axis=1) + np.arange(len(slot_g)) * m
        choice = choice[valid[choice]]
        g, v, t = g[choice], v[choice], t[choice]
        # First view per pair.
        order = np.lexsort((t, v, g))
        g, v, t = g[order], v[order], t[order]
        first = np.ones(len(g), dtype=bool)
        first[1:] = (g[1:] != g[:-1]) | (v[1:] != v[:-1])
        out_g.append(g[first])
        out_v.append(v[first])
        out_t.append(t[first])
    if not out_g:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0)
    return np.concatenate(out_g), np.concatenate(out_v), np.concatenate(out_t)


def _sponsor_channel(
    rng: np.random.Generator,
    truth: GroundTruth,
    g: np.ndarray,
    t: np.ndarray,
    v: np.ndarray,
    posted: np.ndarray,
    closes: np.ndarray,
    *,
    share: float,
) -> None:
    """Replace some search results of order-class graduates by their sponsor's open vacancies (in place)."""
    sponsor = truth.graduate_sponsor[g]
    chosen = (sponsor >= 0) & (rng.random(len(g)) < share)
    if not chosen.any():
        return
    rows = np.flatnonzero(chosen)
    order = np.argsort(sponsor[rows], kind="stable")
    rows = rows[order]
    bounds = np.flatnonzero(np.diff(sponsor[rows])) + 1
    for part in np.split(rows, bounds):
        own = np.flatnonzero(truth.vacancy_enterprise == sponsor[part[0]])
        if not len(own):
            continue
        is_open = (posted[own][None, :] <= t[part][:, None]) & (closes[own][None, :] > t[part][:, None])
        keys = np.where(is_open, rng.random(is_open.shape), -1.0)
        best = keys.argmax(axis=1)
        has = keys[np.arange(len(part)), best] >= 0
        v[part[has]] = own[best[has]]


def simulate(
    rng: np.random.Generator,
    truth: GroundTruth,
    *,
    simulation: Mapping[str, float],
    views: tuple[np.ndarray, np.ndarray, np.ndarray],
    search_start: np.ndarray,
    headcount: np.ndarray,
    closes: np.ndarray,
    sim_days: float,
) -> History:
    g, v, t_view = views
    n_pairs = len(g)
    n_grad = len(truth.graduate_ids)
    n_vac = len(truth.vacancy_ids)
    s = simulation
    utility = truth.utility_at(g, v)
    fit = truth.employer_fit_at(g, v)
    th: dict[str, Any] = {}
    th["apply"] = float(np.quantile(utility, s["apply_quantile"])) if n_pairs else 0.0
    t_apply = t_view + _delay(rng, "applied", n_pairs)
    applied = (rng.random(n_pairs) < _sigmoid((utility - th["apply"]) / s["apply_temperature"])) & (
        t_apply < closes[v]
    )
    applied_fit = fit[applied] if applied.any() else np.zeros(1)
    temp = s["employer_temperature"]
    stage_ok = {}
    times = {"applied": t_apply}
    prev_time = t_apply
    prev_ok = applied
    for stage in ("shortlisted", "interviewed", "offered"):
        th[stage] = float(np.quantile(applied_fit, s[_QUANT[stage]]))
        passed = prev_ok & (rng.random(n_pairs) < _sigmoid((fit - th[stage]) / temp))
        times[stage] = prev_time + _delay(rng, stage, n_pairs)
        stage_ok[stage] = passed
        stage_ok["failed_after_" + stage] = prev_ok & ~passed
        prev_ok, prev_time = passed, times[stage]
    th["accept"] = float(np.quantile(utility, s["accept_quantile"])) if n_pairs else 0.0
    accepts = stage_ok["offered"] & (
        rng.random(n_pairs) < _sigmoid((utility - th["accept"]) / s["accept_temperature"])
    )
    t_hire = times["offered"] + _delay(rng, "hired", n_pairs)
    declined = stage_ok["offered"] & ~accepts
    t_declined = times["offered"] + _delay(rng, "declined", n_pairs)
    # Failures: an explicit rejection from the employer, most of the time.
    notice = rng.random(n_pairs) < s["reject_notice"]
    t_reject = np.full(n_pairs, np.inf)
    stage_before = {"shortlisted": "applied", "interviewed": "shortlisted", "offered": "interviewed"}
    for stage, before in stage_before.items():
        failed = stage_ok["failed_after_" + stage] & notice
        t_reject[failed] = times[before][failed] + _delay(rng, "rejected", int(failed.sum()))

    # Withdrawals: a few graduates stop searching at a random moment of their search.
    withdrawn = rng.random(n_grad) < s["withdraw_share"]
    start = np.clip(search_start, 0.0, sim_days)
    withdraw_day = np.where(withdrawn, start + rng.random(n_grad) * (sim_days - start), np.inf)

    # Headcount-limited hiring in time order.
    candidates = np.flatnonzero(accepts & (t_hire < sim_days) & (t_hire < withdraw_day[g]))
    candidates = candidates[np.argsort(t_hire[candidates], kind="stable")]
    hired_day = np.full(n_grad, np.inf)
    hires = np.zeros(n_vac, dtype=np.int64)
    fill_day = np.full(n_vac, np.inf)
    hired_pair = np.zeros(n_pairs, dtype=bool)
    for i in candidates.tolist():
        gi, vi = g[i], v[i]
        if hired_day[gi] < np.inf or hires[vi] >= headcount[vi]:
            continue
        hired_pair[i] = True
        hired_day[gi] = t_hire[i]
        hires[vi] += 1
        if hires[vi] == headcount[vi]:
            fill_day[vi] = t_hire[i]

    events = [
        (np.ones(n_pairs, dtype=bool), "viewed", t_view),
        (applied, "applied", t_apply),
        (stage_ok["shortlisted"], "shortlisted", times["shortlisted"]),
        (stage_ok["interviewed"], "interviewed", times["interviewed"]),
        (stage_ok["offered"], "offered", times["offered"]),
        (hired_pair, "hired", t_hire),
        (np.isfinite(t_reject), "rejected", t_reject),
        (declined, "declined", t_declined),
    ]
    eg, ev, ee, et, eh = [], [], [], [], []
    for mask, name, when in events:
        rows = np.flatnonzero(mask)
        eg.append(g[rows])
        ev.append(v[rows])
        ee.append(np.full(len(rows), EVENT_CODE[name], dtype=np.int8))
        et.append(when[rows])
        eh.append(hired_pair[rows])
    eg_a, ev_a, ee_a, et_a, eh_a = (np.concatenate(x) for x in (eg, ev, ee, et, eh))
    # A placed or withdrawn graduate stops; a full vacancy stops; nothing after the end of the year.
    grad_cut = np.minimum(hired_day, withdraw_day)[eg_a]
    keep = (et_a < sim_days) & (eh_a | ((et_a < grad_cut) & (et_a < fill_day[ev_a])))
    order = np.lexsort((ee_a[keep], et_a[keep]))
    return History(
        graduate=eg_a[keep][order],
        vacancy=ev_a[keep][order],
        event=ee_a[keep][order],
        day=et_a[keep][order],
        hired_day=hired_day,
        withdrawn=withdrawn & ~np.isfinite(hired_day),
        hires=hires,
        fill_day=fill_day,
        thresholds=th,
    )
