"""The fairness and exposure report: who the matcher puts in front of employers, and who employers advance.

For groups of graduates (:data:`models.rerank.GROUP_ATTRIBUTES`: school, school kind, programme kind, order
class or not, education, the school's district), the **selection rate** at three stages:

* ``top_k`` -- of the seeking graduates, the share in at least one open vacancy's top ``k`` candidates
  (the matcher's own ranking, :meth:`~models.protocol.Matcher.rank_graduates`, as the evaluation ranks);
* ``shortlisted`` -- of the graduates who applied (the history), the share an employer advanced
  (shortlisted, interviewed, offered or hired) at least once;
* ``hired`` -- of the graduates who applied, the share hired.

Each group's **impact ratio** is its rate over the most-favoured group's (the highest rate among groups
with at least ``min_n`` members); below 0.8 it is flagged (the four-fifths rule of the US EEOC, as New
York's Local Law 144 reports it), but only for groups of at least ``min_n``: a smaller group's rate is
shown with its Wilson 95% interval and marked ``low_n``, never flagged. ``significant`` says whether the
group's interval lies wholly below the most-favoured group's.

Exposure: each group's share of all top-``k`` slots against its share of the pool. Vacancy side: every
seeking graduate's top ``k`` vacancies (:func:`models.cohort.rank_cohort`, what the placement plans rank),
the **congestion** (share of all those slots taken by the most-shown 10% of open vacancies) and the
**Gini** of the vacancies' exposure. Graduate side: **coverage**, the share of seeking graduates in at
least one vacancy's top 20.

The same figures with the exposure-aware re-ranking (:class:`models.rerank.ExposureReranked`) sit beside
them (``reranked``), so the report shows what the option changes.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from models.cohort import rank_cohort
from models.columns import Columns as C
from models.data import MarketData
from models.index import MatchIndex, time_ns
from models.protocol import Matcher
from models.rerank import GROUP_ATTRIBUTES, ExposureReranked, graduate_groups
from models.results import CandidateFilters, VacancyFilters
from training.metrics import gini

__all__ = [
    "FOUR_FIFTHS",
    "STAGES",
    "FairnessReport",
    "GroupRate",
    "StageTable",
    "congestion",
    "coverage",
    "fairness_report",
    "impact_table",
    "wilson",
]

FOUR_FIFTHS = 0.8
MIN_GROUP = 30  # a group smaller than this is shown (low_n), never flagged
STAGES = ("top_k", "shortlisted", "hired")
COVERAGE_K = 20
TOP_SHARE = 0.10  # congestion: the share of slots taken by this top fraction of vacancies
ADVANCED_EVENTS = ("shortlisted", "interviewed", "offered", "hired")


def wilson(selected: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of ``selected / n`` (95% for the default ``z``); (0, 1) when n is 0."""
    if n <= 0:
        return 0.0, 1.0
    p = selected / n
    denominator = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1.0 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def congestion(exposure: np.ndarray, top: float = TOP_SHARE) -> float:
    """Share of all slots held by the most-exposed ``top`` fraction of items (at least one item)."""
    exposure = np.asarray(exposure, dtype=np.float64)
    if len(exposure) == 0 or exposure.sum() == 0:
        return 0.0
    count = max(1, math.ceil(top * len(exposure)))
    return float(np.sort(exposure)[::-1][:count].sum() / exposure.sum())


def coverage(shown: np.ndarray, pool: np.ndarray) -> float:
    """Share of the ``pool`` (a boolean mask) that was ``shown`` (a boolean mask) at least once."""
    pool = np.asarray(pool, dtype=bool)
    return float((np.asarray(shown, dtype=bool) & pool).sum() / pool.sum()) if pool.any() else 0.0


@dataclass(frozen=True)
class GroupRate:
    """One group at one stage."""

    group: str
    n: int  # the stage's denominator (seeking graduates, or applicants)
    selected: int
    rate: float
    ci_low: float  # Wilson 95% interval of the rate
    ci_high: float
    impact_ratio: float | None  # rate / the most-favoured group's rate (None when that rate is 0)
    flagged: bool  # impact ratio under 0.8 and n >= min_n
    low_n: bool  # n < min_n: shown, not flagged
    significant: bool  # the interval lies wholly below the most-favoured group's
    pool_share: float | None = None  # top_k only: share of the seeking pool
    exposure_share: float | None = None  # top_k only: share of all top-k slots


@dataclass(frozen=True)
class StageTable:
    reference: str | None  # the most-favoured group
    groups: list[GroupRate]

    @property
    def min_impact_ratio(self) -> float | None:
        ratios = [g.impact_ratio for g in self.groups if g.impact_ratio is not None and not g.low_n]
        return min(ratios) if ratios else None


def impact_table(
    labels: np.ndarray,
    names: list[str],
    denominator: np.ndarray,
    selected: np.ndarray,
    *,
    min_n: int = MIN_GROUP,
    slots: np.ndarray | None = None,
) -> StageTable:
    """Selection rates and impact ratios of the groups ``labels`` (codes into ``names``) of one stage.

    ``denominator`` and ``selected`` are boolean masks over the same graduates; ``slots`` (optional) how
    many top-k places each graduate took, for the exposure shares.
    """
    labels = np.asarray(labels, dtype=np.int64)
    base = np.asarray(denominator, dtype=bool)
    chosen = np.asarray(selected, dtype=bool) & base
    n = np.bincount(labels[base], minlength=len(names))
    k = np.bincount(labels[chosen], minlength=len(names))
    rates = np.divide(k, n, out=np.zeros(len(names)), where=n > 0)
    present = np.flatnonzero(n > 0)
    big = [int(a) for a in present if n[a] >= min_n] or [int(a) for a in present]
    reference = max(big, key=lambda a: (rates[a], n[a])) if big else None
    ref_rate = rates[reference] if reference is not None else 0.0
    ref_low = wilson(int(k[reference]), int(n[reference]))[0] if reference is not None else 0.0
    exposure = share = None
    if slots is not None:
        counts = np.bincount(
            labels[base], weights=np.asarray(slots, dtype=np.float64)[base], minlength=len(names)
        )
        exposure = counts / counts.sum() if counts.sum() else counts
        share = n / n.sum() if n.sum() else n.astype(np.float64)
    groups = []
    for a in present:
        low, high = wilson(int(k[a]), int(n[a]))
        ratio = float(rates[a] / ref_rate) if ref_rate > 0 else None
        small = bool(n[a] < min_n)
        groups.append(
            GroupRate(
                group=names[a],
                n=int(n[a]),
                selected=int(k[a]),
                rate=float(rates[a]),
                ci_low=low,
                ci_high=high,
                impact_ratio=ratio,
                flagged=bool(ratio is not None and ratio < FOUR_FIFTHS and not small),
                low_n=small,
                significant=bool(a != reference and high < ref_low),
                pool_share=None if share is None else float(share[a]),
                exposure_share=None if exposure is None else float(exposure[a]),
            )
        )
    return StageTable(reference=names[reference] if reference is not None else None, groups=groups)


@dataclass
class Exposure:
    """What one ranking policy shows: per graduate row, lists and slots; per vacancy row, slots."""

    in_top_k: np.ndarray  # graduate rows in at least one top-k candidate list
    slots: np.ndarray  # top-k candidate places per graduate row
    in_top_coverage: np.ndarray  # in at least one top-20
    vacancy_slots: np.ndarray  # places in graduates' top-k suggestions, per vacancy row
    open_vacancies: np.ndarray  # mask of the vacancies ranked


@dataclass
class FairnessReport:
    """The report; :meth:`to_dict` is the JSON (``--json``)."""

    k: int
    as_of: str
    min_n: int
    counts: dict[str, int]
    attributes: dict[str, dict[str, StageTable]]  # attribute -> stage -> table
    vacancies: dict[str, float]  # congestion, gini, open, slots
    coverage: float
    reranked: dict[str, Any] = field(default_factory=dict)  # the top_k tables and coverage, re-ranked
    model_version: str = ""

    @property
    def flags(self) -> list[dict[str, Any]]:
        """Every flagged (attribute, stage, group), worst impact ratio first."""
        found = [
            {"attribute": attr, "stage": stage, **asdict(g)}
            for attr, stages in self.attributes.items()
            for stage, table in stages.items()
            for g in table.groups
            if g.flagged
        ]
        return sorted(found, key=lambda f: (f["impact_ratio"], f["attribute"], f["stage"], f["group"]))

    def to_dict(self) -> dict[str, Any]:
        def tables(stages: dict[str, StageTable]) -> dict[str, Any]:
            return {
                stage: {
                    "reference": t.reference,
                    "min_impact_ratio": t.min_impact_ratio,
                    "groups": [asdict(g) for g in t.groups],
                }
                for stage, t in stages.items()
            }

        return {
            "model_version": self.model_version,
            "as_of": self.as_of,
            "k": self.k,
            "coverage_k": COVERAGE_K,
            "min_n": self.min_n,
            "four_fifths": FOUR_FIFTHS,
            "counts": self.counts,
            "attributes": {attr: tables(stages) for attr, stages in self.attributes.items()},
            "vacancies": self.vacancies,
            "coverage": self.coverage,
            "flags": self.flags,
            "reranked": {
                "attribute": self.reranked.get("attribute"),
                "coverage": self.reranked.get("coverage"),
                "vacancies": self.reranked.get("vacancies"),
                "attributes": {attr: tables(s) for attr, s in self.reranked.get("attributes", {}).items()},
            }
            if self.reranked
            else {},
        }


def _exposure(
    matcher: Matcher,
    index: MatchIndex,
    *,
    k: int,
    as_of: pd.Timestamp,
    vacancy_rows: np.ndarray,
    graduate_rows: np.ndarray,
    vacancy_side: bool,
) -> Exposure:
    g, v = index.graduates, index.vacancies
    in_top_k = np.zeros(len(g), dtype=bool)
    in_cov = np.zeros(len(g), dtype=bool)
    slots = np.zeros(len(g), dtype=np.int64)
    depth = max(k, COVERAGE_K)
    for row in vacancy_rows.tolist():
        ranking = matcher.rank_graduates(
            str(v.ids.ids[row]), index=index, need=depth, filters=CandidateFilters()
        )
        top = ranking.rows[:k]
        in_top_k[top] = True
        slots[top] += 1
        in_cov[ranking.rows[:COVERAGE_K]] = True
    vacancy_slots = np.zeros(len(v), dtype=np.int64)
    open_mask = np.zeros(len(v), dtype=bool)
    open_mask[vacancy_rows] = True
    if vacancy_side and len(graduate_rows):
        ids = [str(x) for x in g.ids.ids[graduate_rows]]
        for start in range(0, len(ids), 500):
            cohort = rank_cohort(
                matcher, ids[start : start + 500], index=index, limit=k, filters=VacancyFilters(as_of=as_of)
            )
            np.add.at(vacancy_slots, cohort.vacancy[cohort.rank >= 0], 1)
    return Exposure(in_top_k, slots, in_cov, vacancy_slots, open_mask)


def _vacancy_figures(exposure: Exposure) -> dict[str, float]:
    shown = exposure.vacancy_slots[exposure.open_vacancies]
    return {
        "open": float(exposure.open_vacancies.sum()),
        "slots": float(shown.sum()),
        "congestion": congestion(shown),
        "gini": gini(shown),
        "shown_share": float((shown > 0).mean()) if len(shown) else 0.0,
    }


def fairness_report(
    matcher: Matcher,
    data: MarketData,
    *,
    k: int = 10,
    as_of: pd.Timestamp | None = None,
    min_n: int = MIN_GROUP,
    rerank_by: str | None = "school_kind",
    max_vacancies: int = 2000,
    max_graduates: int = 5000,
    seed: int = 7,
    index: MatchIndex | None = None,
) -> FairnessReport:
    """The report for a fitted ``matcher`` over ``data`` (the store, or a holdout) at ``as_of`` (default now).

    Open vacancies beyond ``max_vacancies`` and seeking graduates beyond ``max_graduates`` (the vacancy
    side) are a seeded sample. ``rerank_by`` (a :data:`GROUP_ATTRIBUTES` name, or None) adds the same top-k
    figures under :class:`~models.rerank.ExposureReranked` grouped by it.
    """
    as_of = pd.Timestamp(as_of) if as_of is not None else pd.Timestamp.now(tz="UTC").tz_localize(None)
    index = index if index is not None else matcher.index(data)
    g, v = index.graduates, index.vacancies
    rng = np.random.default_rng(seed)
    seeking = g.seeking & g.live
    open_rows = np.flatnonzero(v.open & (v.closes_at > time_ns(as_of)))
    if len(open_rows) > max_vacancies:
        open_rows = np.sort(rng.choice(open_rows, size=max_vacancies, replace=False))
    seeking_rows = np.flatnonzero(seeking)
    if len(seeking_rows) > max_graduates:
        seeking_rows = np.sort(rng.choice(seeking_rows, size=max_graduates, replace=False))

    # The history's stages, per graduate row.
    events = data.interactions
    rows_of = g.ids.rows
    applied_ids = events.loc[events[C.event] != "viewed", C.graduate].unique()
    advanced_ids = events.loc[events[C.event].isin(ADVANCED_EVENTS), C.graduate].unique()
    hired_ids = events.loc[events[C.event] == "hired", C.graduate].unique()

    def mask(ids: np.ndarray) -> np.ndarray:
        out = np.zeros(len(g), dtype=bool)
        rows = rows_of([str(x) for x in ids]) if len(ids) else np.zeros(0, dtype=np.int64)
        out[rows[rows >= 0]] = True
        return out

    applicants, advanced, hired = mask(applied_ids), mask(advanced_ids), mask(hired_ids)
    plain = _exposure(
        matcher,
        index,
        k=k,
        as_of=as_of,
        vacancy_rows=open_rows,
        graduate_rows=seeking_rows,
        vacancy_side=True,
    )

    attributes: dict[str, dict[str, StageTable]] = {}
    for attribute in GROUP_ATTRIBUTES:
        labels, names = graduate_groups(index, attribute)
        attributes[attribute] = {
            "top_k": impact_table(labels, names, seeking, plain.in_top_k, min_n=min_n, slots=plain.slots),
            "shortlisted": impact_table(labels, names, applicants, advanced, min_n=min_n),
            "hired": impact_table(labels, names, applicants, hired, min_n=min_n),
        }
    report = FairnessReport(
        k=k,
        as_of=str(as_of),
        min_n=min_n,
        counts={
            "seeking": int(seeking.sum()),
            "applicants": int(applicants.sum()),
            "open_vacancies_ranked": len(open_rows),
            "graduates_ranked": len(seeking_rows),
        },
        attributes=attributes,
        vacancies=_vacancy_figures(plain),
        coverage=coverage(plain.in_top_coverage, seeking),
    )
    if rerank_by is not None:
        fair = _exposure(
            ExposureReranked(matcher, attribute=rerank_by),
            index,
            k=k,
            as_of=as_of,
            vacancy_rows=open_rows,
            graduate_rows=seeking_rows,
            vacancy_side=False,  # the re-ranking orders candidates; graduates' suggestions stay the model's
        )
        tables = {}
        for attribute in GROUP_ATTRIBUTES:
            labels, names = graduate_groups(index, attribute)
            tables[attribute] = {
                "top_k": impact_table(labels, names, seeking, fair.in_top_k, min_n=min_n, slots=fair.slots)
            }
        report.reranked = {
            "attribute": rerank_by,
            "coverage": coverage(fair.in_top_coverage, seeking),
            "vacancies": report.vacancies,
            "attributes": tables,
        }
    return report
