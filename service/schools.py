"""A programme's placement plan from the served model (asked by :mod:`service.usecases.placements`).

The plan takes each seeking graduate's ``top_k`` best open vacancies as the matcher's ``vacancies_for``
ranks them (open, not past ``closes_at``, education at least the minimum), adds every open vacancy of the
programme's sponsor (order-based classes and sponsored training programmes) scored like ``score_pairs``, and
hands the scores, the remaining headcounts (headcount minus hires) and the sponsor to
:func:`models.placement.plan_placement`. The whole cohort is scored in one batch
(:func:`models.cohort.rank_cohort`: one retrieval product, one ranker call); reasons are computed only for
the pairs the plan shows.

The scores a plan shows are the matcher's pair scores as they are (the same number the graduate's
recommendations show for the pair), never rescaled. :meth:`ProgramPlan.assignment_rows` and
:meth:`ProgramPlan.unassigned_rows` are what the API and the placement page both list.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import sparse
from sqlalchemy.orm import Session

from models.cohort import CohortRanking, rank_cohort
from models.columns import EDUCATION_RANK
from models.columns import Columns as C
from models.index import MatchIndex
from models.placement import (
    DEFAULT_MIN_SCORE,
    UNASSIGNED_REASONS,
    Plan,
    PlanMetrics,
    plan_placement,
)
from models.protocol import Matcher
from models.results import Reason, VacancyFilters
from service.matching import MatchingService, Snapshot
from service.store.tables import Graduate, Program
from service.store.vacancies import hires

SPONSORED_KINDS = ("order_class", "training")
SPONSOR_REASON = Reason(code="sponsor_class", message="from the sponsor's order-based class", weight=1.0)
# At most this many missing skills are suggested for training per unassigned graduate.
MAX_TRAINING_HINTS = 5


def percent(value: float) -> str:
    """``0.1`` -> ``"10%"``, ``0.025`` -> ``"2.5%"``."""
    return f"{round(value * 100, 1):g}%"


def unassigned_message(code: str, min_score: float) -> str:
    """Why a graduate is left unassigned, in English (the web pages translate by code)."""
    if code == "no_vacancy_above_min_score":
        return (
            f"no vacancy scores at least the minimum score ({percent(min_score)} chance that the pairing "
            "succeeds): a pairing this unlikely to succeed is not planned; training in the missing skills "
            "listed would raise the graduate's chances"
        )
    return UNASSIGNED_REASONS.get(code, code)


@dataclass(frozen=True)
class TrainingHint:
    """A required skill of an unassigned graduate's best vacancies that the graduate lacks, and the training
    programmes (kind ``training``, not the graduate's own) whose curriculum teaches it."""

    skill_id: str
    taught_by: list[str]


@dataclass(frozen=True)
class AssignmentRow:
    graduate_id: str
    vacancy_id: str
    score: float  # the matcher's pair score, as in the graduate's recommendations
    sponsor: bool
    reasons: list[Reason]


@dataclass(frozen=True)
class AlternativeRow:
    vacancy_id: str
    score: float
    remaining: int
    status: str  # full, below_min_score or available


@dataclass(frozen=True)
class UnassignedRow:
    graduate_id: str
    reason: str  # a code of models.placement.UNASSIGNED_REASONS
    message: str
    alternatives: list[AlternativeRow]
    training: list[TrainingHint]


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
    # The requested programme's seeking graduates (the plan may cover the whole school's).
    program_graduates: frozenset[str] = frozenset()
    min_score: float = DEFAULT_MIN_SCORE
    whole_school: bool = False
    training: dict[str, list[TrainingHint]] = field(default_factory=dict)

    def assignment_rows(self) -> list[AssignmentRow]:
        """The programme's assignments, in the plan's order (by graduate)."""
        rows = []
        for a in self.plan.assignments:
            graduate_id, vacancy_id = self.graduate_ids[a.graduate], self.vacancy_ids[a.vacancy]
            if graduate_id not in self.program_graduates:
                continue
            rows.append(
                AssignmentRow(
                    graduate_id=graduate_id,
                    vacancy_id=vacancy_id,
                    score=_pair_score(a.score),
                    sponsor=a.sponsor,
                    reasons=self.reasons.get((graduate_id, vacancy_id), []),
                )
            )
        return rows

    def unassigned_rows(self) -> list[UnassignedRow]:
        """The programme's unassigned graduates with the reason, their best vacancies and the training that
        would raise their chances."""
        rows = []
        for u in self.plan.unassigned:
            graduate_id = self.graduate_ids[u.graduate]
            if graduate_id not in self.program_graduates:
                continue
            reason = self.reason_override.get(graduate_id, u.reason)
            rows.append(
                UnassignedRow(
                    graduate_id=graduate_id,
                    reason=reason,
                    message=unassigned_message(reason, self.min_score),
                    alternatives=[
                        AlternativeRow(
                            vacancy_id=self.vacancy_ids[alt.vacancy],
                            score=_pair_score(alt.score),
                            remaining=alt.remaining,
                            status=alt.status,
                        )
                        for alt in u.alternatives
                    ],
                    training=self.training.get(graduate_id, []),
                )
            )
        return rows

    def metrics(self) -> PlanMetrics:
        """The plan's metrics; for a school-wide plan, the programme's part (see :func:`program_part`)."""
        if not self.whole_school:
            return self.plan.metrics
        return program_part(self.plan.metrics, self.plan, self.graduate_ids, self.program_graduates)


def _pair_score(value: float) -> float:
    # The matcher's scores are already in [0, 1] (clamped once, in BaseMatcher._scored). What is undone here
    # is the cohort matrix's own floor: it stores a pair scoring exactly 0 as 1e-12 (so the pair stays in
    # the sparse matrix), and the plan shows it as 0.
    return 0.0 if value <= 1e-12 else float(value)


def _teaching(programs: pd.DataFrame) -> dict[str, list[str]]:
    """Skill -> ids of the training programmes (``MarketData.programs`` rows) whose curriculum teaches it."""
    trainings = programs[programs[C.kind] == "training"]
    taught: dict[str, list[str]] = {}
    for program_id, skills in zip(trainings[C.program], trainings[C.skills], strict=True):
        for skill in skills or []:
            taught.setdefault(str(skill), []).append(str(program_id))
    return {skill: sorted(ids) for skill, ids in taught.items()}


def training_hints(
    snapshot: Snapshot, graduate_id: str, vacancy_ids: Sequence[str], teaching: dict[str, list[str]]
) -> list[TrainingHint]:
    """The required skills of ``vacancy_ids`` (best first) that the graduate lacks, with who teaches them."""
    info = snapshot.graduates.get(graduate_id)
    held = set(info.skills) if info is not None else set()
    own = info.program_id if info is not None else None
    hints: list[TrainingHint] = []
    seen: set[str] = set()
    for vacancy_id in vacancy_ids:
        row = snapshot.vacancy_rows.get(vacancy_id) or {}
        for skill in row.get(C.required_skills) or []:
            if skill in held or skill in seen:
                continue
            seen.add(skill)
            hints.append(TrainingHint(skill, [p for p in teaching.get(skill, []) if p != own]))
    return hints[:MAX_TRAINING_HINTS]


class _ScoreCache:
    """A small thread-safe LRU of cohort scores."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, CohortScores] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> CohortScores | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, value: CohortScores) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


def _now() -> pd.Timestamp:
    return pd.Timestamp.now(tz="UTC").tz_localize(None)


def _open_vacancies(vacancies: pd.DataFrame, now: pd.Timestamp) -> pd.DataFrame:
    closes = pd.to_datetime(vacancies[C.closes_at])
    return vacancies[(vacancies[C.status] == "open") & (closes.isna() | (closes >= now))]


def program_sponsor_of(kind: str, sponsor_enterprise_id: object) -> str | None:
    """The enterprise whose vacancies a programme fills first (order classes, sponsored trainings)."""
    if kind in SPONSORED_KINDS and isinstance(sponsor_enterprise_id, str) and sponsor_enterprise_id:
        return sponsor_enterprise_id
    return None


def program_sponsor(program: Program) -> str | None:
    return program_sponsor_of(program.kind, program.sponsor_enterprise_id)


@dataclass
class CohortScores:
    """Model scores of a cohort against its candidate vacancies, as a sparse graduates x vacancies matrix.

    Explanations are not computed here: :meth:`reasons_for` explains only the pairs a plan shows, and
    remembers them (the scores are cached across requests, see :func:`plan_program`).
    """

    graduate_ids: list[str]
    vacancy_ids: list[str]
    matrix: sparse.csr_array
    found: dict[str, int]  # vacancies passing the matcher's hard filters, per graduate
    ranking: CohortRanking | None = field(default=None, repr=False)
    pair_of: dict[tuple[str, str], int] = field(default_factory=dict, repr=False)
    _explained: dict[tuple[str, str], list[Reason]] = field(default_factory=dict, repr=False)

    def reasons_for(
        self, pairs: Iterable[tuple[str, str]], *, matcher: Matcher, index: MatchIndex
    ) -> dict[tuple[str, str], list[Reason]]:
        """Reasons of the given (graduate_id, vacancy_id) pairs: the matcher's explanation for a pair of a
        graduate's top list, the sponsor reason for a sponsor pair added to it, nothing for unknown pairs."""
        asked = list(dict.fromkeys(pairs))
        wanted = [p for p in asked if p in self.pair_of and p not in self._explained]
        ranking = self.ranking
        if wanted and ranking is not None:
            numbers = [self.pair_of[p] for p in wanted]
            ranked = [n for n in numbers if ranking.rank[n] >= 0]
            for match in ranking.matches(matcher, index, ranked) if ranked else []:
                self._explained[(match.graduate_id, match.vacancy_id)] = list(match.reasons)
            for pair, n in zip(wanted, numbers, strict=True):
                if ranking.rank[n] < 0:
                    self._explained[pair] = [SPONSOR_REASON]
        return {p: self._explained[p] for p in asked if p in self._explained}


def cohort_scores(
    *,
    matcher: Matcher,
    index: MatchIndex,
    graduates: Sequence[tuple[str, str]],
    open_vacancies: pd.DataFrame,
    sponsors: Sequence[str | None],
    as_of: pd.Timestamp,
    top_k: int = 20,
) -> CohortScores:
    """Each graduate's ``top_k`` open vacancies as ``vacancies_for`` ranks them, plus their sponsor's open
    vacancies, scored for the whole cohort at once (:func:`models.cohort.rank_cohort`).

    ``graduates`` are ``(graduate_id, education)`` of graduates in ``index``; ``open_vacancies`` the frame
    of open vacancies (used for the sponsors'). ``sponsors`` are the graduates' programme sponsors, one
    per graduate (None: no sponsor).
    """
    graduate_ids = [g for g, _ in graduates]
    per_graduate = list(sponsors)
    if len(per_graduate) != len(graduate_ids):
        raise ValueError(f"{len(per_graduate)} sponsors for {len(graduate_ids)} graduates")
    extra_g: list[str] = []
    extra_v: list[str] = []
    for name in sorted({s for s in per_graduate if s is not None}):
        members = [i for i, s in enumerate(per_graduate) if s == name]
        sponsor_vacancies = open_vacancies[open_vacancies[C.enterprise] == name]
        education = np.array([EDUCATION_RANK.get(graduates[i][1], -1) for i in members])
        minimum = np.array([EDUCATION_RANK.get(m, 0) for m in sponsor_vacancies[C.min_education]])
        g_pos, v_pos = np.nonzero(education[:, None] >= minimum[None, :])
        vacancy_ids = sponsor_vacancies[C.vacancy].to_numpy()
        extra_g += [graduate_ids[members[g]] for g in g_pos]
        extra_v += [str(v) for v in vacancy_ids[v_pos]]
    extra = (extra_g, extra_v) if extra_g else None
    ranking = rank_cohort(
        matcher,
        graduate_ids,
        index=index,
        limit=top_k,
        filters=VacancyFilters(as_of=as_of),
        extra_pairs=extra,
    )
    all_vacancy_ids = index.vacancies.ids.ids
    # Columns in order of first appearance (graduate by graduate, best first, then the sponsor's pairs).
    distinct, first = np.unique(ranking.vacancy, return_index=True)
    column_rows = distinct[np.argsort(first, kind="stable")]
    column_of = np.full(len(index.vacancies), -1, dtype=np.int64)
    column_of[column_rows] = np.arange(len(column_rows))
    # A stored score of exactly 0 would vanish from a sparse matrix; the floor keeps the pair known.
    matrix = sparse.csr_array(
        (np.maximum(ranking.score, 1e-12), (ranking.graduate, column_of[ranking.vacancy])),
        shape=(len(graduate_ids), len(column_rows)),
    )
    vacancy_ids = [str(all_vacancy_ids[v]) for v in column_rows]
    pair_of = {
        (graduate_ids[g], str(all_vacancy_ids[v])): n
        for n, (g, v) in enumerate(zip(ranking.graduate, ranking.vacancy, strict=True))
    }
    found = {g: int(t) for g, t in zip(graduate_ids, ranking.total, strict=True)}
    return CohortScores(graduate_ids, vacancy_ids, matrix, found, ranking=ranking, pair_of=pair_of)


_SCORES = _ScoreCache()


def program_part(
    metrics: PlanMetrics, plan: Plan, graduate_ids: Sequence[str], mine: frozenset[str]
) -> PlanMetrics:
    """``metrics`` of a school-wide plan restricted to one programme's graduates (congestion stays the
    school's: it compares the whole plan with everyone's top-1)."""
    shown = [a for a in plan.assignments if graduate_ids[a.graduate] in mine]
    total = float(sum(a.score for a in shown))
    return replace(
        metrics,
        graduates=len(mine),
        assigned=len(shown),
        coverage=len(shown) / len(mine) if mine else 0.0,
        total_score=total,
        mean_score=total / len(shown) if shown else 0.0,
        headcount_used=len(shown),
        sponsor_seats_filled=sum(a.sponsor for a in shown),
    )


def plan_program(
    *,
    session: Session,
    matching: MatchingService,
    program: Program,
    graduates: list[Graduate],
    min_score: float = DEFAULT_MIN_SCORE,
    top_k: int = 20,
    school_cohorts: Sequence[tuple[Program, list[Graduate]]] | None = None,
) -> ProgramPlan:
    """Plan where the programme's seeking ``graduates`` should go (see the module docstring).

    With ``school_cohorts`` (every programme of the school with its seeking graduates), one plan covers them
    all, each graduate with their own programme's sponsor, so no two programmes' plans count on the same
    seat; ``program_graduates`` of the result says which of its graduates are this programme's.
    """
    snapshot: Snapshot = matching.snapshot(session=session)
    now = _now()
    open_vacancies = _open_vacancies(snapshot.vacancy_frame, now)
    cohorts = list(school_cohorts) if school_cohorts else [(program, graduates)]
    members = [(g, program_sponsor(p)) for p, cohort_graduates in cohorts for g in cohort_graduates]
    graduates = [g for g, _ in members]
    sponsors = tuple(s for _, s in members)
    cohort = [(g.graduate_id, g.education) for g in graduates]
    # Scoring dominates the cost of a plan; the same cohort under the same model and data version (within
    # the same hour, for closing dates) is scored once. Remaining headcounts are always read fresh.
    key = (snapshot.model_version, snapshot.data_version, now.floor("h"), sponsors, top_k, tuple(cohort))
    scored = _SCORES.get(key)
    if scored is None:
        scored = cohort_scores(
            matcher=snapshot.matcher,
            index=snapshot.index,
            graduates=cohort,
            open_vacancies=open_vacancies,
            sponsors=sponsors,
            as_of=now.floor("h"),
            top_k=top_k,
        )
        _SCORES.put(key, scored)
    graduate_ids, vacancy_ids, matrix = scored.graduate_ids, scored.vacancy_ids, scored.matrix
    found = scored.found
    # One vectorised lookup (a per-id ``.at`` costs ~0.1 ms each, 0.3 s for a 500-graduate cohort).
    chosen = snapshot.vacancy_frame.set_index(C.vacancy).loc[vacancy_ids]
    headcounts = chosen[C.headcount].to_numpy()
    hired = hires(session=session, vacancy_ids=vacancy_ids)
    capacities = [max(0, int(h) - hired[v]) for v, h in zip(vacancy_ids, headcounts, strict=True)]
    plan = plan_placement(
        matrix,
        capacities,
        min_score=min_score,
        top_k=top_k,
        graduate_sponsors=list(sponsors),
        vacancy_enterprises=[str(e) for e in chosen[C.enterprise]],
        graduate_education=[g.education for g in graduates],
        vacancy_min_education=[str(m) for m in chosen[C.min_education]],
    )
    # The matcher applies the education minimum itself, so a graduate it finds no vacancy for at all
    # while open vacancies exist is one whose education is below every open vacancy's minimum.
    override = {}
    minimums = [EDUCATION_RANK.get(m, 0) for m in open_vacancies[C.min_education]]
    for graduate in graduates:
        below = minimums and EDUCATION_RANK.get(graduate.education, -1) < min(minimums)
        if found.get(graduate.graduate_id) == 0 and below:
            override[graduate.graduate_id] = "education_below_minimum"
    # Explanations only for what the plan shows: assignments and the alternatives of the unassigned.
    shown = [(graduate_ids[a.graduate], vacancy_ids[a.vacancy]) for a in plan.assignments]
    shown += [
        (graduate_ids[u.graduate], vacancy_ids[alt.vacancy])
        for u in plan.unassigned
        for alt in u.alternatives
    ]
    reasons = scored.reasons_for(shown, matcher=snapshot.matcher, index=snapshot.index)
    teaching = _teaching(snapshot.programs)
    training = {
        graduate_ids[u.graduate]: training_hints(
            snapshot, graduate_ids[u.graduate], [vacancy_ids[alt.vacancy] for alt in u.alternatives], teaching
        )
        for u in plan.unassigned
        if override.get(graduate_ids[u.graduate], u.reason) != "education_below_minimum"
    }
    return ProgramPlan(
        program_id=program.program_id,
        model_version=snapshot.model_version,
        plan=plan,
        graduate_ids=graduate_ids,
        vacancy_ids=vacancy_ids,
        reasons=reasons,
        reason_override=override,
        program_graduates=frozenset(g.graduate_id for g in graduates if g.program_id == program.program_id),
        min_score=min_score,
        whole_school=school_cohorts is not None,
        training=training,
    )
