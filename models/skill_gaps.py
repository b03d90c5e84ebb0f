"""Programme skill gaps: the skills the suiting vacancies ask for that few of the programme's graduates hold.

This is the school's curriculum feedback. For a programme, the **suiting vacancies** are the open vacancies
(status ``open`` and, when ``now`` is given, not past ``closes_at``) that satisfy both:

* **segment**: the vacancy's enterprise is in one of the programme's target segments, chosen by the first rule
  that applies:

  1. ``segments`` given by the caller;
  2. ``"sponsor"``: a programme with a sponsor enterprise (an order-based class, or a sponsored training
     programme) targets its sponsor's segment;
  3. ``"history"``: when the programme's graduates have at least ``min_history`` positive interactions
     (applied or further), every segment holding at least ``history_share`` of those interactions;
  4. ``"curriculum"``: the segments whose open vacancies' required skills are covered best by the curriculum
     (mean share of required skills in the curriculum), every segment within 80% of the best one;
  5. no curriculum and no history: every segment.

* **education**: the vacancy's minimum education is at most the cohort's education, taken as the lower median
  of its graduates' levels (no graduates: no education condition).

For each skill required by at least one suiting vacancy: ``vacancy_share`` (share of suiting vacancies
requiring it), ``cohort_share`` (share of the programme's graduates, whatever their status, holding it),
``gap`` (the difference), whether the curriculum contains it, and which training programmes (kind
``training``) teach it (their curriculum contains it). The report lists the skills with a
positive gap, largest gap first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from models.columns import EDUCATION_LEVELS, EDUCATION_RANK, EVENT_WEIGHTS, SEGMENTS
from models.columns import Columns as C
from models.data import MarketData


@dataclass(frozen=True)
class SkillGap:
    skill_id: str
    name_zh: str
    name_en: str
    vacancy_share: float
    cohort_share: float
    gap: float
    in_curriculum: bool
    taught_by: list[str] = field(default_factory=list)  # ids of training programmes teaching it


@dataclass(frozen=True)
class SkillGapReport:
    program_id: str
    segments: list[str]
    segment_source: str  # "given", "sponsor", "history", "curriculum" or "all"
    education: str | None
    vacancies: int
    cohort_size: int
    gaps: list[SkillGap]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _as_list(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return []


def _open_vacancies(data: MarketData, now: pd.Timestamp | None) -> pd.DataFrame:
    vacancies = data.vacancies
    mask = vacancies[C.status] == "open"
    if now is not None:
        closes = pd.to_datetime(vacancies[C.closes_at])
        mask &= closes.isna() | (closes >= now)
    segment_of = dict(zip(data.enterprises[C.enterprise], data.enterprises[C.segment], strict=True))
    frame = vacancies.loc[mask, [C.vacancy, C.enterprise, C.required_skills, C.min_education]].copy()
    frame[C.segment] = frame[C.enterprise].map(segment_of)
    return frame


def cohort_education(levels: Sequence[str]) -> str | None:
    """The lower median education level of a cohort, or None for an empty cohort."""
    ranks = sorted(EDUCATION_RANK[level] for level in levels if level in EDUCATION_RANK)
    if not ranks:
        return None
    return EDUCATION_LEVELS[ranks[(len(ranks) - 1) // 2]]


def target_segments(
    data: MarketData,
    program_id: str,
    *,
    open_vacancies: pd.DataFrame | None = None,
    min_history: int = 5,
    history_share: float = 0.2,
) -> tuple[list[str], str]:
    """The segments a programme targets and which rule chose them (see the module docstring)."""
    program = _program_row(data, program_id)
    sponsor = program[C.sponsor]
    if isinstance(sponsor, str) and sponsor:
        segment = data.enterprises.loc[data.enterprises[C.enterprise] == sponsor, C.segment]
        if len(segment):
            return [str(segment.iloc[0])], "sponsor"

    graduates = set(data.graduates.loc[data.graduates[C.program] == program_id, C.graduate])
    interactions = data.interactions
    positive = interactions[
        interactions[C.graduate].isin(graduates) & interactions[C.event].isin(list(EVENT_WEIGHTS))
    ]
    if len(positive) >= min_history:
        enterprise_of = dict(zip(data.vacancies[C.vacancy], data.vacancies[C.enterprise], strict=True))
        segment_of = dict(zip(data.enterprises[C.enterprise], data.enterprises[C.segment], strict=True))
        counts = Counter(segment_of.get(enterprise_of.get(v, "")) for v in positive[C.vacancy].tolist())
        counts.pop(None, None)
        total = sum(counts.values())
        if total:
            chosen = sorted(
                (str(s) for s, n in counts.items() if s is not None and n / total >= history_share),
                key=lambda s: (-counts[s], s),
            )
            if chosen:
                return [str(s) for s in chosen], "history"

    curriculum = set(_as_list(program[C.skills]))
    if curriculum:
        frame = open_vacancies if open_vacancies is not None else _open_vacancies(data, None)
        coverage: dict[str, list[float]] = {}
        for segment, required in zip(frame[C.segment], frame[C.required_skills], strict=True):
            skills = _as_list(required)
            if skills and isinstance(segment, str):
                coverage.setdefault(segment, []).append(len(curriculum.intersection(skills)) / len(skills))
        means = {s: sum(v) / len(v) for s, v in coverage.items()}
        best = max(means.values(), default=0.0)
        if best > 0:
            chosen = sorted((s for s, m in means.items() if m >= 0.8 * best), key=lambda s: (-means[s], s))
            return chosen, "curriculum"
    return list(SEGMENTS), "all"


def _program_row(data: MarketData, program_id: str) -> pd.Series:
    rows = data.programs.loc[data.programs[C.program] == program_id]
    if rows.empty:
        raise ValueError(f"unknown programme {program_id!r}")
    return rows.iloc[0]


def skill_gaps(
    data: MarketData,
    program_id: str,
    *,
    now: pd.Timestamp | None = None,
    segments: Sequence[str] | None = None,
    limit: int = 20,
    min_history: int = 5,
    history_share: float = 0.2,
) -> SkillGapReport:
    """The skills most demanded by the vacancies suiting a programme that few of its graduates hold.

    Parameters
    ----------
    data
        The market (vacancies, enterprises, programmes, graduates, skills, interactions).
    program_id
        The programme; ``ValueError`` if unknown.
    now
        Vacancies closing before this moment are ignored (None: only the status counts).
    segments
        Target segments; None chooses them as the module docstring says.
    limit
        At most this many skills, largest gap first (ties: larger vacancy share, then skill id).
    min_history, history_share
        Parameters of the "history" segment rule.

    Returns
    -------
    SkillGapReport
    """
    program = _program_row(data, program_id)
    open_vacancies = _open_vacancies(data, now)
    if segments is not None:
        chosen, source = [str(s) for s in segments], "given"
    else:
        chosen, source = target_segments(
            data,
            program_id,
            open_vacancies=open_vacancies,
            min_history=min_history,
            history_share=history_share,
        )

    cohort = data.graduates.loc[data.graduates[C.program] == program_id]
    education = cohort_education([str(e) for e in cohort[C.education]])
    suiting = open_vacancies[open_vacancies[C.segment].isin(chosen)]
    if education is not None:
        rank = EDUCATION_RANK[education]
        suiting = suiting[suiting[C.min_education].map(lambda e: EDUCATION_RANK.get(e, 0) <= rank)]

    demand: Counter[str] = Counter()
    for required in suiting[C.required_skills]:
        demand.update(set(_as_list(required)))
    holding: Counter[str] = Counter()
    for skills in cohort[C.skills]:
        holding.update(set(_as_list(skills)))
    curriculum = set(_as_list(program[C.skills]))

    taught_by: dict[str, list[str]] = {}
    trainings = data.programs[
        (data.programs[C.kind] == "training") & (data.programs[C.program] != program_id)
    ]
    for pid, skills in zip(trainings[C.program], trainings[C.skills], strict=True):
        for skill in set(_as_list(skills)):
            taught_by.setdefault(skill, []).append(str(pid))

    names = {
        str(row[0]): (str(row[1]), str(row[2]))
        for row in data.skills[[C.skill, C.name_zh, C.name_en]].itertuples(index=False, name=None)
    }
    n_vacancies, n_cohort = len(suiting), len(cohort)
    gaps = []
    for skill, count in demand.items():
        vacancy_share = count / n_vacancies
        cohort_share = holding[skill] / n_cohort if n_cohort else 0.0
        gap = vacancy_share - cohort_share
        if gap <= 0:
            continue
        name_zh, name_en = names.get(skill, (skill, skill))
        gaps.append(
            SkillGap(
                skill_id=skill,
                name_zh=name_zh,
                name_en=name_en,
                vacancy_share=round(vacancy_share, 6),
                cohort_share=round(cohort_share, 6),
                gap=round(gap, 6),
                in_curriculum=skill in curriculum,
                taught_by=sorted(taught_by.get(skill, [])),
            )
        )
    gaps.sort(key=lambda g: (-g.gap, -g.vacancy_share, g.skill_id))
    return SkillGapReport(
        program_id=program_id,
        segments=chosen,
        segment_source=source,
        education=education,
        vacancies=n_vacancies,
        cohort_size=n_cohort,
        gaps=gaps[: max(0, limit)],
    )
