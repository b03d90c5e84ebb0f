"""What the school routes compute: a programme's placement plan and its skill gaps, from the served model.

The plan takes each seeking graduate's ``top_k`` best open vacancies from the matcher (``vacancies_for``:
open, not past ``closes_at``, education at least the minimum), adds every open vacancy of the programme's
sponsor (order-based classes and sponsored training programmes) scored with ``score_pairs``, and hands the
scores, the remaining headcounts (headcount minus hires) and the sponsor to
:func:`models.placement.plan_placement`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sqlalchemy.orm import Session

from models.columns import EDUCATION_RANK
from models.columns import Columns as C
from models.placement import Plan, SponsorRule, plan_placement
from models.results import Reason, VacancyFilters
from models.skill_gaps import SkillGapReport, skill_gaps
from service.matching import MatchingService, Snapshot
from service.store.programs import program_market
from service.store.tables import Graduate, Program
from service.store.vacancies import hires

SPONSORED_KINDS = ("order_class", "training")
SPONSOR_REASON = Reason(code="sponsor_class", message="from the sponsor's order-based class", weight=1.0)


@dataclass
class ProgramPlan:
    """A plan with the ids put back: the model's rows and columns mapped to graduates and vacancies."""

    program_id: str
    model_version: str
    plan: Plan
    graduate_ids: list[str]
    vacancy_ids: list[str]
    reasons: dict[tuple[str, str], list[Reason]] = field(default_factory=dict)
    reason_override: dict[str, str] = field(default_factory=dict)


class _ScoreCache:
    """A small thread-safe LRU of cohort scores."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._items: OrderedDict[Any, CohortScores] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> CohortScores | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Any, value: CohortScores) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


def _now() -> pd.Timestamp:
    return pd.Timestamp.now(tz="UTC").tz_localize(None)


def _open_vacancies(data: Any, now: pd.Timestamp) -> pd.DataFrame:
    vacancies = data.vacancies
    closes = pd.to_datetime(vacancies[C.closes_at])
    return vacancies[(vacancies[C.status] == "open") & (closes.isna() | (closes >= now))]


def program_sponsor_of(kind: str, sponsor_enterprise_id: Any) -> str | None:
    """The enterprise whose vacancies a programme fills first (order classes, sponsored trainings)."""
    if kind in SPONSORED_KINDS and isinstance(sponsor_enterprise_id, str) and sponsor_enterprise_id:
        return sponsor_enterprise_id
    return None


def program_sponsor(program: Program) -> str | None:
    return program_sponsor_of(program.kind, program.sponsor_enterprise_id)


@dataclass
class CohortScores:
    """Model scores of a cohort against its candidate vacancies, as a sparse graduates x vacancies matrix."""

    graduate_ids: list[str]
    vacancy_ids: list[str]
    matrix: sparse.csr_array
    reasons: dict[tuple[str, str], list[Reason]]
    found: dict[str, int]  # vacancies passing the matcher's hard filters, per graduate


def cohort_scores(
    *,
    matcher: Any,
    index: Any,
    graduates: Sequence[tuple[str, str]],
    open_vacancies: pd.DataFrame,
    sponsor: str | None,
    as_of: pd.Timestamp,
    top_k: int = 20,
) -> CohortScores:
    """Each graduate's ``top_k`` open vacancies from ``vacancies_for``, plus the sponsor's open vacancies.

    ``graduates`` are ``(graduate_id, education)`` of graduates in ``index``; ``open_vacancies`` the frame
    of open vacancies (used for the sponsor's).
    """
    graduate_ids = [g for g, _ in graduates]
    columns: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    values: list[float] = []
    reasons: dict[tuple[str, str], list[Reason]] = {}
    found: dict[str, int] = {}
    filters = VacancyFilters(as_of=as_of)
    for row, graduate_id in enumerate(graduate_ids):
        result = matcher.vacancies_for(graduate_id, index=index, limit=top_k, filters=filters)
        found[graduate_id] = int(result.total)
        for match in result.items:
            rows.append(row)
            cols.append(columns.setdefault(match.vacancy_id, len(columns)))
            values.append(float(match.score))
            reasons[(graduate_id, match.vacancy_id)] = list(match.reasons)

    if sponsor is not None and graduate_ids:
        sponsor_vacancies = open_vacancies[open_vacancies[C.enterprise] == sponsor]
        pairs = [
            (row, vacancy_id)
            for row, (graduate_id, education) in enumerate(graduates)
            for vacancy_id, minimum in zip(
                sponsor_vacancies[C.vacancy], sponsor_vacancies[C.min_education], strict=True
            )
            if (graduate_id, vacancy_id) not in reasons
            and EDUCATION_RANK.get(education, -1) >= EDUCATION_RANK.get(minimum, 0)
        ]
        if pairs:
            scores = matcher.score_pairs(
                [graduate_ids[r] for r, _ in pairs], [v for _, v in pairs], index=index
            )
            for (row, vacancy_id), score in zip(pairs, np.asarray(scores, dtype=float), strict=True):
                rows.append(row)
                cols.append(columns.setdefault(vacancy_id, len(columns)))
                values.append(float(score))
                reasons[(graduate_ids[row], vacancy_id)] = [SPONSOR_REASON]

    # A stored score of exactly 0 would vanish from a sparse matrix; the floor keeps the pair known.
    matrix = sparse.csr_array(
        (np.maximum(np.asarray(values, dtype=float), 1e-12), (rows, cols)),
        shape=(len(graduate_ids), len(columns)),
    )
    return CohortScores(graduate_ids, list(columns), matrix, reasons, found)


_SCORES = _ScoreCache()


def plan_program(
    *,
    session: Session,
    matching: MatchingService,
    program: Program,
    graduates: list[Graduate],
    min_score: float,
    top_k: int = 20,
    sponsor_rule: SponsorRule = "lexicographic",
) -> ProgramPlan:
    """Plan where the programme's seeking ``graduates`` should go (see the module docstring)."""
    snapshot: Snapshot = matching.snapshot(session=session)
    now = _now()
    open_vacancies = _open_vacancies(snapshot.data, now)
    sponsor = program_sponsor(program)
    cohort = [(g.graduate_id, g.education) for g in graduates]
    # Scoring dominates the cost of a plan; the same cohort under the same model and data version (within
    # the same hour, for closing dates) is scored once. Remaining headcounts are always read fresh.
    key = (snapshot.model_version, snapshot.data_version, now.floor("h"), sponsor, top_k, tuple(cohort))
    scored = _SCORES.get(key)
    if scored is None:
        scored = cohort_scores(
            matcher=snapshot.matcher,
            index=snapshot.index,
            graduates=cohort,
            open_vacancies=open_vacancies,
            sponsor=sponsor,
            as_of=now.floor("h"),
            top_k=top_k,
        )
        _SCORES.put(key, scored)
    graduate_ids, vacancy_ids, matrix = scored.graduate_ids, scored.vacancy_ids, scored.matrix
    reasons, found = scored.reasons, scored.found
    by_id = snapshot.data.vacancies.set_index(C.vacancy)
    hired = hires(session=session, vacancy_ids=vacancy_ids)
    capacities = [max(0, int(by_id.at[v, C.headcount]) - hired[v]) for v in vacancy_ids]
    plan = plan_placement(
        matrix,
        capacities,
        min_score=min_score,
        top_k=top_k,
        graduate_sponsors=[sponsor] * len(graduate_ids),
        vacancy_enterprises=[str(by_id.at[v, C.enterprise]) for v in vacancy_ids],
        sponsor_rule=sponsor_rule,
        graduate_education=[g.education for g in graduates],
        vacancy_min_education=[str(by_id.at[v, C.min_education]) for v in vacancy_ids],
    )
    # The matcher applies the education minimum itself, so a graduate it finds no vacancy for at all
    # while open vacancies exist is one whose education is below every open vacancy's minimum.
    override = {}
    minimums = [EDUCATION_RANK.get(m, 0) for m in open_vacancies[C.min_education]]
    for graduate in graduates:
        below = minimums and EDUCATION_RANK.get(graduate.education, -1) < min(minimums)
        if found.get(graduate.graduate_id) == 0 and below:
            override[graduate.graduate_id] = "education_below_minimum"
    return ProgramPlan(
        program_id=program.program_id,
        model_version=snapshot.model_version,
        plan=plan,
        graduate_ids=graduate_ids,
        vacancy_ids=vacancy_ids,
        reasons=reasons,
        reason_override=override,
    )


def program_skill_gaps(*, session: Session, program_id: str, limit: int = 20) -> SkillGapReport:
    """The programme's skill gaps from the store (open vacancies, its graduates and their history)."""
    data = program_market(session=session, program_id=program_id)
    return skill_gaps(data, program_id, now=_now(), limit=limit)
