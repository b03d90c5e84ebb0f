"""The demo world's true chance that a pairing succeeds, and how placement plans fare against it.

The generator (:func:`training.demo_history.simulate`) decides every step of a pair shown to a graduate
by a coin whose probability is a sigmoid of the hidden truth (:class:`training.demo_truth.GroundTruth`),
against thresholds it stores in ``truth.params["simulation"]["thresholds"]``:

* the graduate applies with ``sigmoid((utility - t_apply) / apply_temperature)``;
* the employer shortlists, then interviews, then offers, each stage given the previous one with
  ``sigmoid((employer_fit - t_stage) / employer_temperature)``;
* offered, the graduate accepts with ``sigmoid((utility - t_accept) / accept_temperature)``, else declines.

A pairing **succeeds** as ``models.outcomes.SUCCESS`` says: the graduate applied and did not decline, and
the employer advanced them (shortlisted or further). Its true probability is therefore
``p_apply * p_shortlist * (1 - p_interview * p_offer * (1 - p_accept))``. Deadlines and headcounts, which
the generator also applies, are left out: seats are the plan's business, and time is not a property of
the pair.

Plans (:func:`plan_success`) are scored against that probability: the expected number of successful
placements of a plan, as a share of the best possible (an exact assignment maximising the true
probability under the same seats and education minimums), and the share of its assignments that succeed
when every coin falls on its likelier side (the employer would advance the graduate, who would apply and
not decline).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linear_sum_assignment

from models.cohort import rank_cohort
from models.columns import EDUCATION_RANK
from models.columns import Columns as C
from models.index import MatchIndex
from models.placement import DEFAULT_MIN_SCORE, plan_placement
from models.protocol import Matcher
from models.results import VacancyFilters
from training.demo_truth import GroundTruth
from training.split import Split

PLAN_PROGRAMS = 5  # programmes planned per evaluation: enough to see the plans, cheap at every scale
PLAN_TOP_K = 20  # vacancies listed per graduate, as the placement page does
SPONSORED_KINDS = ("order_class", "training")  # programmes whose sponsor's seats a plan fills first
_STAGES = ("shortlisted", "interviewed", "offered")


def has_simulation(truth: GroundTruth | None) -> bool:
    """Whether ``truth`` records the generator's decision thresholds (worlds made before they were saved
    do not)."""
    if truth is None:
        return False
    simulation = truth.params.get("simulation") or {}
    thresholds = simulation.get("thresholds") or {}
    return all(name in thresholds for name in ("apply", *_STAGES, "accept"))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -60.0, 60.0)))


def _decision_inputs(
    truth: GroundTruth, graduate_ids: Sequence[str] | np.ndarray, vacancy_ids: Sequence[str] | np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    if not has_simulation(truth):
        raise ValueError("the ground truth has no simulation thresholds (regenerate the demo world)")
    g = truth.graduate_rows(np.asarray(graduate_ids, dtype=object))
    v = truth.vacancy_rows(np.asarray(vacancy_ids, dtype=object))
    return truth.utility_at(g, v), truth.employer_fit_at(g, v), truth.params["simulation"]


def success_probability(
    truth: GroundTruth, graduate_ids: Sequence[str] | np.ndarray, vacancy_ids: Sequence[str] | np.ndarray
) -> np.ndarray:
    """True probability that each pair ``(graduate_ids[i], vacancy_ids[i])``, shown to the graduate, succeeds.

    Raises ``ValueError`` when the truth has no simulation thresholds, ``KeyError`` for unknown ids.
    """
    utility, fit, simulation = _decision_inputs(truth, graduate_ids, vacancy_ids)
    th = simulation["thresholds"]
    p_apply = _sigmoid((utility - th["apply"]) / simulation["apply_temperature"])
    stage = {s: _sigmoid((fit - th[s]) / simulation["employer_temperature"]) for s in _STAGES}
    p_accept = _sigmoid((utility - th["accept"]) / simulation["accept_temperature"])
    p_decline = stage["interviewed"] * stage["offered"] * (1.0 - p_accept)  # given shortlisted
    return np.asarray(p_apply * stage["shortlisted"] * (1.0 - p_decline), dtype=np.float64)


# Gauss-Hermite nodes and weights for a standard normal: the expectation over a pair's noise term.
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(24)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()
_CHUNK = 100_000  # pairs per block (24 nodes each)


def knowable_success_probability(
    truth: GroundTruth, graduate_ids: Sequence[str] | np.ndarray, vacancy_ids: Sequence[str] | np.ndarray
) -> np.ndarray:
    """The success probability of each pair averaged over the pair's own noise terms.

    The generator draws a standard normal noise per pair into the graduate's utility and another into the
    employer's screening score, a hash of the pair that nothing else in the world reveals. This is
    therefore the most any model can know about a pair whose own decisions it has not seen: the ceiling a
    matcher is held to by the *knowable* oracle and by the plans' ``plan_knowable_share`` (the noisy
    :func:`success_probability` is clairvoyant). The two noises are independent, so the expectation of
    ``p_apply * p_shortlist * (1 - p_interview * p_offer * (1 - p_accept))`` splits into one-dimensional
    expectations, computed by Gauss-Hermite quadrature (deterministic).
    """
    if not has_simulation(truth):
        raise ValueError("the ground truth has no simulation thresholds (regenerate the demo world)")
    g = truth.graduate_rows(np.asarray(graduate_ids, dtype=object))
    v = truth.vacancy_rows(np.asarray(vacancy_ids, dtype=object))
    simulation = truth.params["simulation"]
    th = simulation["thresholds"]
    u_noise = float(truth.params["utility_weights"]["noise"])
    f_noise = float(truth.params["employer_weights"]["noise"])
    out = np.empty(len(g), dtype=np.float64)
    for start in range(0, len(g), _CHUNK):
        part = slice(start, start + _CHUNK)
        utility = truth.utility_at(g[part], v[part], noise=False)[:, None] + u_noise * _NODES[None, :]
        fit = truth.employer_fit_at(g[part], v[part], noise=False)[:, None] + f_noise * _NODES[None, :]
        p_apply = _sigmoid((utility - th["apply"]) / simulation["apply_temperature"])
        p_accept = _sigmoid((utility - th["accept"]) / simulation["accept_temperature"])
        stage = {s: _sigmoid((fit - th[s]) / simulation["employer_temperature"]) for s in _STAGES}
        offered = stage["shortlisted"] * stage["interviewed"] * stage["offered"]
        out[part] = (p_apply @ _WEIGHTS) * (stage["shortlisted"] @ _WEIGHTS) - (
            (p_apply * (1.0 - p_accept)) @ _WEIGHTS
        ) * (offered @ _WEIGHTS)
    return out


def knowable_utility(
    truth: GroundTruth, graduate_ids: Sequence[str] | np.ndarray, vacancy_ids: Sequence[str] | np.ndarray
) -> np.ndarray:
    """The graduate's utility without the pair's noise term (what the knowable oracle ranks
    applications by; the noise is symmetric, so the order is that of the expected utility)."""
    g = truth.graduate_rows(np.asarray(graduate_ids, dtype=object))
    v = truth.vacancy_rows(np.asarray(vacancy_ids, dtype=object))
    return truth.utility_at(g, v, noise=False)


def likely_decisions(
    truth: GroundTruth, graduate_ids: Sequence[str] | np.ndarray, vacancy_ids: Sequence[str] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each side's decision on each pair when every coin falls on its likelier side (probability above
    one half): (the graduate would apply and not decline an offer, the employer would advance them)."""
    utility, fit, simulation = _decision_inputs(truth, graduate_ids, vacancy_ids)
    th = simulation["thresholds"]
    offered = (fit >= th["shortlisted"]) & (fit >= th["interviewed"]) & (fit >= th["offered"])
    interested = (utility >= th["apply"]) & ~(offered & (utility < th["accept"]))
    return np.asarray(interested), np.asarray(fit >= th["shortlisted"])


def would_succeed(
    truth: GroundTruth, graduate_ids: Sequence[str] | np.ndarray, vacancy_ids: Sequence[str] | np.ndarray
) -> np.ndarray:
    """Whether each pair succeeds when every decision goes the likelier way: the graduate would apply and
    not decline, and the employer would advance them."""
    interested, advanced = likely_decisions(truth, graduate_ids, vacancy_ids)
    return interested & advanced


# ---------------------------------------------------------------------- plans
@dataclass(frozen=True)
class Cohort:
    """One programme's graduates seeking at the cut, and the best a plan could do for them."""

    program_id: str
    sponsor: str | None
    graduate_ids: list[str]
    education: list[str]
    best_possible: float  # expected successful placements of the best assignment
    # The best assignment by what can be known (noise averaged out), scored by the true probability: the
    # ceiling of any matcher's plans. With how many of its assignments succeed (likelier decisions).
    knowable_best: float = 0.0
    knowable_assigned: int = 0
    knowable_succeeding: int = 0


@dataclass(frozen=True)
class PlanSetting:
    """What every matcher's plans are made against: sampled cohorts and the vacancies open at the cut."""

    cohorts: list[Cohort]
    vacancy_ids: list[str]  # open at the cut (posted before it)
    capacity: dict[str, int]  # headcount minus hires before the cut
    enterprise: dict[str, str]
    min_education: dict[str, str]
    as_of: pd.Timestamp
    later: tuple[str, ...]  # vacancies posted after the cut: not there yet when the plan is made


@dataclass(frozen=True)
class PlanSuccess:
    """How a matcher's plans did, summed over the sampled programmes."""

    programs: int
    graduates: int
    assigned: int
    expected_successes: float  # sum of the true success probability over the assignments
    best_possible: float
    succeeding: int  # assignments that succeed with every decision on its likelier side
    advanced: int  # ... that the employer would advance (whatever the graduate decides)
    interested: int  # ... that the graduate would take (whatever the employer decides)
    knowable_best: float = 0.0  # expected successes of the best plan by what can be known (the ceiling)
    knowable_assigned: int = 0
    knowable_succeeding: int = 0

    @property
    def success_share(self) -> float:
        return self.expected_successes / self.best_possible if self.best_possible > 0 else 0.0

    @property
    def knowable_share(self) -> float:
        """Expected successes as a share of the best plan by what can be known (see
        :func:`knowable_success_probability`)."""
        return self.expected_successes / self.knowable_best if self.knowable_best > 0 else 0.0

    @property
    def assignment_success(self) -> float:
        return self.succeeding / self.assigned if self.assigned else 0.0

    def metrics(self) -> dict[str, float]:
        return {
            "plan_success_share": self.success_share,
            "plan_assignment_success": self.assignment_success,
            "plan_knowable_share": self.knowable_share,
            # The ceilings themselves: the knowable best plan against the clairvoyant one, and the share
            # of its assignments that succeed.
            "plan_knowable_ceiling": self.knowable_best / self.best_possible
            if self.best_possible > 0
            else 0.0,
            "plan_knowable_assignment_success": (
                self.knowable_succeeding / self.knowable_assigned if self.knowable_assigned else 0.0
            ),
            "plan_employer_advances": self.advanced / self.assigned if self.assigned else 0.0,
            "plan_graduate_interested": self.interested / self.assigned if self.assigned else 0.0,
            "plan_coverage": self.assigned / self.graduates if self.graduates else 0.0,
            "plan_expected_successes": self.expected_successes,
            "plan_best_possible": self.best_possible,
            "plan_programs": float(self.programs),
            "plan_graduates": float(self.graduates),
        }


def program_sponsor(kind: Any, sponsor: Any) -> str | None:
    """The enterprise whose seats a programme's plan fills first (order classes, sponsored trainings)."""
    return sponsor if kind in SPONSORED_KINDS and isinstance(sponsor, str) and sponsor else None


def best_assignment(value: np.ndarray, capacity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(graduate rows, vacancy columns) of the assignment maximising the sum of ``value`` (graduates x
    vacancies, 0 where not allowed) giving each graduate at most one vacancy and each vacancy at most
    ``capacity`` graduates (exact); pairs of value 0 are left out."""
    n_graduates = value.shape[0]
    if n_graduates == 0 or value.shape[1] == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    seats = np.minimum(np.maximum(np.asarray(capacity, dtype=np.int64), 0), n_graduates)
    seat_vacancy = np.repeat(np.arange(len(seats)), seats)
    gain = np.hstack([value[:, seat_vacancy], np.zeros((n_graduates, n_graduates))])  # unassigned gains 0
    rows, cols = linear_sum_assignment(gain, maximize=True)
    taken = (cols < len(seat_vacancy)) & (gain[rows, cols] > 0)
    return rows[taken], seat_vacancy[cols[taken]]


def best_possible(probability: np.ndarray, capacity: np.ndarray) -> float:
    """Largest sum of ``probability`` (graduates x vacancies, 0 where not allowed) over assignments giving
    each graduate at most one vacancy and each vacancy at most ``capacity`` graduates (exact)."""
    rows, cols = best_assignment(probability, capacity)
    return float(probability[rows, cols].sum())


def plan_setting(
    split: Split, truth: GroundTruth, *, programs: int = PLAN_PROGRAMS, seed: int = 7
) -> PlanSetting | None:
    """Sample ``programs`` programmes (seeded) with graduates seeking at the cut; ``None`` when there is
    nothing to plan (no thresholds in the truth, no seeking graduates or no open seat)."""
    if not has_simulation(truth):
        return None
    cut = pd.Timestamp(split.cut)
    graduates = split.test.graduates
    known = pd.Index(truth.graduate_ids)
    seeking = graduates[(graduates[C.status] == "seeking") & graduates[C.graduate].isin(known)]
    vacancies = split.test.vacancies
    posted = pd.to_datetime(vacancies[C.posted_at])
    closes = pd.to_datetime(vacancies[C.closes_at])
    early = (posted < cut).to_numpy()
    is_open = early & (vacancies[C.status] == "open").to_numpy() & ~(closes <= cut).to_numpy()
    is_open &= vacancies[C.vacancy].isin(pd.Index(truth.vacancy_ids)).to_numpy()
    open_vacancies = vacancies[is_open]
    earlier = split.train.interactions
    hires = earlier[earlier[C.event] == "hired"].groupby(C.vacancy)[C.graduate].nunique()
    capacity = {
        str(v): max(0, int(h) - int(hires.get(v, 0)))
        for v, h in zip(open_vacancies[C.vacancy], open_vacancies[C.headcount], strict=True)
    }
    vacancy_ids = [v for v, seats in capacity.items() if seats > 0]
    candidates = sorted(set(seeking[C.program]))
    if not vacancy_ids or not candidates:
        return None
    rng = np.random.default_rng(seed)
    chosen = sorted(rng.choice(candidates, size=min(programs, len(candidates)), replace=False).tolist())
    program_info = split.test.programs.set_index(C.program)
    open_min = open_vacancies.set_index(C.vacancy)[C.min_education]
    vacancy_rank = np.array([EDUCATION_RANK.get(open_min[v], 0) for v in vacancy_ids])
    caps = np.array([capacity[v] for v in vacancy_ids])
    cohorts = []
    for program in chosen:
        members = seeking[seeking[C.program] == program]
        ids = [str(g) for g in members[C.graduate]]
        education = [str(e) for e in members[C.education]]
        grid_g = np.repeat(np.array(ids, dtype=object), len(vacancy_ids))
        grid_v = np.tile(np.array(vacancy_ids, dtype=object), len(ids))
        probability = success_probability(truth, grid_g, grid_v).reshape(len(ids), len(vacancy_ids))
        graduate_rank = np.array([EDUCATION_RANK.get(e, -1) for e in education])
        below = graduate_rank[:, None] < vacancy_rank[None, :]
        probability[below] = 0.0
        knowable = knowable_success_probability(truth, grid_g, grid_v).reshape(probability.shape)
        knowable[below] = 0.0
        rows, cols = best_assignment(knowable, caps)
        wants, takes = likely_decisions(
            truth, np.asarray(ids, dtype=object)[rows], np.asarray(vacancy_ids)[cols]
        )
        info = program_info.loc[program] if program in program_info.index else None
        sponsor = None if info is None else program_sponsor(info[C.kind], info[C.sponsor])
        cohorts.append(
            Cohort(
                str(program),
                sponsor,
                ids,
                education,
                best_possible(probability, caps),
                knowable_best=float(probability[rows, cols].sum()),
                knowable_assigned=len(rows),
                knowable_succeeding=int((wants & takes).sum()),
            )
        )
    later = tuple(str(v) for v in vacancies.loc[~early, C.vacancy])
    return PlanSetting(
        cohorts=cohorts,
        vacancy_ids=vacancy_ids,
        capacity=capacity,
        enterprise={
            str(v): str(e) for v, e in zip(vacancies[C.vacancy], vacancies[C.enterprise], strict=True)
        },
        min_education={str(v): str(m) for v, m in open_min.items()},
        as_of=cut,
        later=later,
    )


def plan_success(
    matcher: Matcher,
    index: MatchIndex,
    setting: PlanSetting,
    truth: GroundTruth,
    *,
    top_k: int = PLAN_TOP_K,
) -> PlanSuccess:
    """Plan each sampled cohort on ``matcher``'s scores and score the plans with the truth.

    Each programme is planned on its own against every open vacancy's remaining seats, as the placement
    page does: every graduate's ``top_k`` open vacancies as the matcher ranks them, plus the sponsor's open
    vacancies, then :func:`models.placement.plan_placement` with the service's minimum score
    (``DEFAULT_MIN_SCORE``) and its default sponsor rule.
    """
    filters = VacancyFilters(as_of=setting.as_of, exclude_vacancies=setting.later)
    graduates = assigned = succeeding = advanced = interested = 0
    expected = best = knowable_best = 0.0
    knowable_assigned = knowable_succeeding = 0
    for cohort in setting.cohorts:
        extra_g: list[str] = []
        extra_v: list[str] = []
        if cohort.sponsor is not None:
            own = [v for v in setting.vacancy_ids if setting.enterprise.get(v) == cohort.sponsor]
            for g, level in zip(cohort.graduate_ids, cohort.education, strict=True):
                rank = EDUCATION_RANK.get(level, -1)
                allowed = [v for v in own if EDUCATION_RANK.get(setting.min_education[v], 0) <= rank]
                extra_g += [g] * len(allowed)
                extra_v += allowed
        ranking = rank_cohort(
            matcher,
            cohort.graduate_ids,
            index=index,
            limit=top_k,
            filters=filters,
            extra_pairs=(extra_g, extra_v) if extra_g else None,
        )
        vacancy_rows, column = np.unique(ranking.vacancy, return_inverse=True)
        column_ids = [str(v) for v in index.vacancies.ids.ids[vacancy_rows]]
        # A score of exactly 0 would vanish from a sparse matrix; the floor keeps the pair listed.
        matrix = sparse.csr_array(
            (np.maximum(ranking.score, 1e-12), (ranking.graduate, column)),
            shape=(len(cohort.graduate_ids), len(column_ids)),
        )
        plan = plan_placement(
            matrix,
            [setting.capacity.get(v, 0) for v in column_ids],
            min_score=DEFAULT_MIN_SCORE,
            top_k=top_k,
            graduate_sponsors=[cohort.sponsor] * len(cohort.graduate_ids),
            vacancy_enterprises=[setting.enterprise.get(v, "") for v in column_ids],
            graduate_education=cohort.education,
            vacancy_min_education=[setting.min_education.get(v, "secondary") for v in column_ids],
        )
        pairs_g = [cohort.graduate_ids[a.graduate] for a in plan.assignments]
        pairs_v = [column_ids[a.vacancy] for a in plan.assignments]
        if pairs_g:
            expected += float(success_probability(truth, pairs_g, pairs_v).sum())
            wants, takes = likely_decisions(truth, pairs_g, pairs_v)
            succeeding += int((wants & takes).sum())
            interested += int(wants.sum())
            advanced += int(takes.sum())
        graduates += len(cohort.graduate_ids)
        assigned += len(pairs_g)
        best += cohort.best_possible
        knowable_best += cohort.knowable_best
        knowable_assigned += cohort.knowable_assigned
        knowable_succeeding += cohort.knowable_succeeding
    return PlanSuccess(
        programs=len(setting.cohorts),
        graduates=graduates,
        assigned=assigned,
        expected_successes=expected,
        best_possible=best,
        succeeding=succeeding,
        advanced=advanced,
        interested=interested,
        knowable_best=knowable_best,
        knowable_assigned=knowable_assigned,
        knowable_succeeding=knowable_succeeding,
    )
