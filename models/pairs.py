"""Explicit features of a (graduate, vacancy) pair, computed vectorised over aligned row arrays.

Each feature belongs to a *reason group*; explanations are computed per group (``models.explain``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from models.history import ADVANCE_STATS, PAIR_STATS, RATE_STATS, HistoryStats
from models.ids import IdMap
from models.index import GraduateBlock, MatchIndex, VacancyBlock

# name -> reason group. Counts of past events (an employer's applications per vacancy, a graduate's
# applications) are relative to the market's average: raw counts grow with the length of the history, and
# the examples' features come from a shorter one than the serving features.
FEATURES: dict[str, str] = {
    "required_coverage": "required_skills",
    "required_missing": "required_skills",
    "missing_key_share": "required_skills",
    "preferred_coverage": "preferred_skills",
    "preferred_matched": "preferred_skills",
    "skill_focus": "skill_focus",
    "n_required": "vacancy_profile",
    "education_gap": "education",
    "district_preference": "district_preference",
    "school_district": "local_school",
    "sponsor_match": "sponsor_class",
    "other_sponsor": "sponsor_class",
    "program_segment": "program_segment_history",
    "program_enterprise": "employer_history",
    "school_enterprise": "employer_history",
    "program_district": "program_district_history",
    "program_role": "program_role_history",
    "program_family": "program_role_history",
    "program_family_rate": "program_role_history",
    "program_enterprise_rate": "employer_history",
    "enterprise_rate": "employer_appeal",
    "enterprise_advance": "employer_screening",
    "program_enterprise_advance": "employer_screening",
    "program_segment_advance": "employer_screening",
    "graduate_rate": "graduate_activity",
    "enterprise_appeal": "employer_appeal",
    "graduate_activity": "graduate_activity",
    "salary": "salary",
    "program_kind": "program_kind",
    "segment": "vacancy_profile",
    "lightfm_graduate": "collaborative",
    "lightfm_vacancy": "collaborative",
}
FEATURE_NAMES = tuple(FEATURES)
# Directions every market should share: more of the required and preferred skills, the sponsor's own
# order class and a preferred district never lower a pair's score (holding one more required skill raises
# coverage and focus and lowers what is missing). Everything else the trees learn freely.
MONOTONIC: dict[str, int] = {
    "required_coverage": 1,
    "required_missing": -1,
    "missing_key_share": -1,
    "skill_focus": 1,
    "preferred_coverage": 1,
    "preferred_matched": 1,
    "sponsor_match": 1,
    "district_preference": 1,
}
LIGHTFM_FEATURES = ("lightfm_graduate", "lightfm_vacancy")
CATEGORICAL_FEATURES = ("program_kind", "segment")  # category codes, not quantities
RETRIEVAL = "retrieval"  # per-entity array name holding the concatenated normalised LightFM representations


# The vocabularies (``Vocabularies`` fields) each history key is coded by.
_VOCAB_OF = {
    "program_id": "programs",
    "school_id": "schools",
    "segment": "segments",
    "enterprise_id": "enterprises",
    "district": "districts",
    "role": "roles",
    "job_family": "families",
}


def history_tables(
    stats: HistoryStats, index: MatchIndex, previous: MatchIndex | None = None
) -> dict[str, np.ndarray]:
    """Lift matrices of ``stats`` in the codes of ``index`` (the last row/column is "unknown").

    With ``previous`` (the index ``index`` was updated from, its tables of the same ``stats``), a table whose
    vocabularies are the same objects in both is taken as it is: a write that brings a new job family only
    recomputes the tables coded by families (a table is a function of ``stats`` and its vocabularies alone).
    All of them took ~22-30 ms at the medium scale, on the write's path. A pair table whose vocabularies
    only grew (values appended, every code kept: ``Vocabularies.grown``) is the old one for the old values,
    and computed from the statistics of the new values alone for the rest (:func:`_grown_table`).
    """
    v = index.vocab
    kept = previous.tables if previous is not None else {}
    old = previous.vocab if previous is not None else None

    def table(
        name: str, axes: tuple[str, ...], build: Callable[..., np.ndarray], pairs: pd.Series | None = None
    ) -> np.ndarray:
        vocabs = [getattr(v, axis) for axis in axes]
        if old is None or name not in kept:
            return build(name, *vocabs)
        olds = [getattr(old, axis) for axis in axes]
        if all(o is w for o, w in zip(olds, vocabs, strict=True)):
            return kept[name]
        if pairs is not None:
            grown = _grown_table(kept[name], pairs, olds, vocabs, build, name)
            if grown is not None:
                return grown
        return build(name, *vocabs)

    tables: dict[str, np.ndarray] = {}
    for stats_of, build, series in (
        (PAIR_STATS, stats.lift_matrix, stats.pair_counts),
        (RATE_STATS, stats.rate_matrix, stats.rates),
        (ADVANCE_STATS, stats.rate_matrix, stats.rates),
    ):
        for name, (a, b) in stats_of.items():
            tables[name] = table(name, (_VOCAB_OF[a], _VOCAB_OF[b]), build, series.get(name))
    tables["enterprise_advance"] = table("enterprise_advance", ("enterprises",), stats.rate_vector)
    tables["advanced_skills"] = table(
        "advanced_skills",
        ("enterprises", "skills"),
        lambda _, e, k, **only: stats.advanced_skill_matrix(e, k, **only),
        stats.advanced_skills,
    )
    tables["enterprise_rate"] = table("enterprise_rate", ("enterprises",), stats.rate_vector)
    tables["enterprise_appeal"] = table(
        "enterprise_appeal", ("enterprises",), lambda _, e: stats.enterprise_vector(e)
    )
    return tables


def _grown_table(
    old: np.ndarray,
    pairs: pd.Series,
    olds: list[IdMap],
    vocabs: list[IdMap],
    build: Callable[..., np.ndarray],
    name: str,
) -> np.ndarray | None:
    """The table ``build`` gives for the grown vocabularies ``vocabs`` (``(left, right)``), from
    ``old`` (its table for ``olds``): the rows and columns of the appended values computed from the entries
    of ``pairs`` that name one of them (``build(..., only=...)``), the old values' block copied. ``None``
    when a vocabulary is not the old one with values appended.

    Every entry of a new value's row or column is one of those entries or what an unseen pair gets, and
    the latter depends on one key alone (a lift table's left key's totals; the market's share of a skill),
    so the table is the one a full computation gives (tested); the cost is that of the new values' entries,
    not of every entry of the statistics (a new job family took ~15 ms more than any other post at the
    large scale)."""
    for before, now in zip(olds, vocabs, strict=True):
        if len(now) < len(before) or not np.array_equal(now.ids[: len(before)], before.ids):
            return None
    (left_before, right_before), (left, right) = olds, vocabs
    only = HistoryStats.touching(pairs, left.ids[len(left_before) :], right.ids[len(right_before) :])
    if only is None:
        return None
    out = build(name, left, right, only=only)
    out[: len(left_before), : len(right_before)] = old[: len(left_before), : len(right_before)]
    return out


class _RowEntries:
    """The stored entries of some rows of a binary CSR matrix, as sorted keys ``position * width + column``.

    ``pair_features`` asks, for a few hundred aligned pairs, which of a vacancy's skills the graduate
    holds; gathering the rows' entries with numpy and matching keys by binary search gives the same
    counts as scipy's row indexing and element-wise products, without their per-call overhead (about
    half of a request's feature time).
    """

    def __init__(self, matrix, rows: np.ndarray, width: int) -> None:  # type: ignore[no-untyped-def]
        indptr = matrix.indptr
        starts = indptr[rows].astype(np.int64)
        counts = indptr[rows + 1].astype(np.int64) - starts
        self.owner = np.repeat(np.arange(len(rows), dtype=np.int64), counts)
        ends = np.cumsum(counts)
        offsets = np.arange(int(ends[-1]) if len(ends) else 0, dtype=np.int64)
        offsets += np.repeat(starts - (ends - counts), counts)
        self.column = matrix.indices[offsets].astype(np.int64)
        self.keys = self.owner * width + self.column
        if len(self.keys) > 1 and not (np.diff(self.keys) > 0).all():
            order = np.argsort(self.keys, kind="stable")
            self.owner, self.column, self.keys = self.owner[order], self.column[order], self.keys[order]
        self.width = width

    def holds(self, keys: np.ndarray) -> np.ndarray:
        """Whether each of ``keys`` is an entry."""
        if len(self.keys) == 0:
            return np.zeros(len(keys), dtype=bool)
        at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return self.keys[at] == keys

    def matched(self, other: _RowEntries, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Per position, how many of this block's entries ``other`` also holds (float32), and the mask of
        this block's entries it does not hold."""
        held = other.holds(self.keys)
        return np.bincount(self.owner[held], minlength=n).astype(np.float32), ~held


# From this many pairs, pairs that mostly fill the grid of their graduates and vacancies (a cohort against
# every open vacancy) are counted with one sparse product of the distinct rows (:func:`_grid_counts`): the
# entries of 1.8M pairs gathered and matched one by one took 0.6 s at the large scale.
GRID_MIN_PAIRS = 50_000


def _grid_counts(
    graduates: GraduateBlock, g_rows: np.ndarray, vacancies: VacancyBlock, v_rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`skills_held` of pairs that fill at least a quarter of the grid of their distinct graduates and
    vacancies: each count is an entry of (graduates' skills) x (vacancies' skills)^T over the distinct rows,
    the skill matrices binary (the counts of the entries matched one by one). ``None`` for sparser pairs."""
    g_unique, g_at = np.unique(g_rows, return_inverse=True)
    v_unique, v_at = np.unique(v_rows, return_inverse=True)
    if len(g_unique) * len(v_unique) > 4 * len(g_rows):
        return None
    held = _binary(graduates.skills[g_unique], merge=True)
    counts = []
    for wanted in (vacancies.required, vacancies.preferred):
        product = (held @ _binary(wanted[v_unique], merge=False).T).toarray()
        counts.append(product[g_at, v_at].astype(np.float32))
    return counts[0], counts[1]


def _binary(matrix: sp.csr_matrix, *, merge: bool) -> sp.csr_matrix:
    """A float32 copy of ``matrix`` with every stored entry 1; ``merge``: a column stored twice in a row
    counts once (a graduate holds a skill or not), else once per entry (as a vacancy's entries count)."""
    out = sp.csr_matrix(matrix, dtype=np.float32, copy=True)
    if merge:
        out.sum_duplicates()
    out.data[:] = 1.0
    return out


def skills_held(
    graduates: GraduateBlock, g_rows: np.ndarray, vacancies: VacancyBlock, v_rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(required, preferred) skills of the vacancy the graduate holds, per aligned pair (float32 counts)."""
    g_rows = np.asarray(g_rows, dtype=np.int64)
    v_rows = np.asarray(v_rows, dtype=np.int64)
    if len(g_rows) >= GRID_MIN_PAIRS:
        grid = _grid_counts(graduates, g_rows, vacancies, v_rows)
        if grid is not None:
            return grid
    width = max(graduates.skills.shape[1], vacancies.required.shape[1], vacancies.preferred.shape[1])
    held = _RowEntries(graduates.skills, g_rows, width)
    required, _ = _RowEntries(vacancies.required, v_rows, width).matched(held, len(g_rows))
    preferred, _ = _RowEntries(vacancies.preferred, v_rows, width).matched(held, len(g_rows))
    return required, preferred


def _missing_key_share(
    required: _RowEntries, missing: np.ndarray, shares: np.ndarray, enterprise: np.ndarray, n: int
) -> np.ndarray:
    """Per pair: the largest share, among the graduates this employer advanced, of holders of a required
    skill this graduate lacks (0 when nothing is missing or the employer has no history). ``missing``
    marks the entries of ``required`` (the pairs' required skills) the graduate does not hold."""
    rows, cols = required.owner[missing], required.column[missing]
    out = np.zeros(n, dtype=np.float32)
    if len(rows):
        np.maximum.at(out, rows, shares[enterprise[rows], cols])
    return out


def _rowdot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", a, b).astype(np.float32)


def pair_features(
    graduates: GraduateBlock,
    g_rows: np.ndarray,
    vacancies: VacancyBlock,
    v_rows: np.ndarray,
    tables: dict[str, np.ndarray],
) -> np.ndarray:
    """The ``(n, len(FEATURE_NAMES))`` float32 matrix of aligned pairs ``(g_rows[i], v_rows[i])``.

    Missing values are NaN (the gradient-boosted ranker handles them natively).
    """
    g_rows = np.asarray(g_rows, dtype=np.int64)
    v_rows = np.asarray(v_rows, dtype=np.int64)
    n = len(g_rows)
    out = np.full((n, len(FEATURE_NAMES)), np.nan, dtype=np.float32)
    if n == 0:
        return out
    col = {name: i for i, name in enumerate(FEATURE_NAMES)}
    width = max(graduates.skills.shape[1], vacancies.required.shape[1], vacancies.preferred.shape[1])
    g_skills = _RowEntries(graduates.skills, g_rows, width)
    required = _RowEntries(vacancies.required, v_rows, width)
    matched_req, missing = required.matched(g_skills, n)
    matched_pref, _ = _RowEntries(vacancies.preferred, v_rows, width).matched(g_skills, n)
    n_req = vacancies.n_required[v_rows]
    n_pref = vacancies.n_preferred[v_rows]
    out[:, col["required_coverage"]] = np.where(n_req > 0, matched_req / np.maximum(n_req, 1), 1.0)
    out[:, col["required_missing"]] = n_req - matched_req
    if "advanced_skills" in tables:
        out[:, col["missing_key_share"]] = _missing_key_share(
            required, missing, tables["advanced_skills"], vacancies.enterprise[v_rows], n
        )
    out[:, col["preferred_coverage"]] = np.where(n_pref > 0, matched_pref / np.maximum(n_pref, 1), np.nan)
    out[:, col["preferred_matched"]] = matched_pref
    n_skills = graduates.n_skills[g_rows]
    out[:, col["skill_focus"]] = np.where(
        n_skills > 0, (matched_req + matched_pref) / np.maximum(n_skills, 1), 0
    )
    out[:, col["n_required"]] = n_req

    edu = graduates.education[g_rows].astype(np.float32)
    min_edu = vacancies.min_education[v_rows].astype(np.float32)
    gap = edu - np.where(min_edu < 0, 0, min_edu)
    out[:, col["education_gap"]] = np.where(edu < 0, np.nan, gap)

    district = vacancies.district[v_rows]
    districts = _RowEntries(graduates.districts, g_rows, graduates.districts.shape[1])
    prefers = districts.holds(np.arange(n) * districts.width + np.maximum(district, 0)).astype(np.float32)
    prefers = np.where(district < 0, 0.0, prefers)
    out[:, col["district_preference"]] = np.where(graduates.has_preference[g_rows], prefers, np.nan)
    school_district = graduates.school_district[g_rows]
    out[:, col["school_district"]] = ((school_district == district) & (district >= 0)).astype(np.float32)

    sponsor = graduates.sponsor[g_rows]
    enterprise = vacancies.enterprise[v_rows]
    out[:, col["sponsor_match"]] = ((sponsor == enterprise) & (sponsor >= 0)).astype(np.float32)
    out[:, col["other_sponsor"]] = ((sponsor != enterprise) & (sponsor >= 0)).astype(np.float32)

    program = graduates.program[g_rows]
    school = graduates.school[g_rows]
    if tables:
        out[:, col["program_segment"]] = tables["program_segment"][program, vacancies.segment[v_rows]]
        out[:, col["program_enterprise"]] = tables["program_enterprise"][program, enterprise]
        out[:, col["school_enterprise"]] = tables["school_enterprise"][school, enterprise]
        out[:, col["program_district"]] = tables["program_district"][program, district]
        out[:, col["program_role"]] = tables["program_role"][program, vacancies.role[v_rows]]
        out[:, col["program_family"]] = tables["program_family"][program, vacancies.family[v_rows]]
        out[:, col["program_family_rate"]] = tables["program_family_rate"][program, vacancies.family[v_rows]]
        out[:, col["program_enterprise_rate"]] = tables["program_enterprise_rate"][program, enterprise]
        out[:, col["enterprise_rate"]] = tables["enterprise_rate"][enterprise]
        out[:, col["enterprise_appeal"]] = tables["enterprise_appeal"][enterprise]
        if "enterprise_advance" in tables:
            out[:, col["enterprise_advance"]] = tables["enterprise_advance"][enterprise]
            out[:, col["program_enterprise_advance"]] = tables["program_enterprise_advance"][
                program, enterprise
            ]
            out[:, col["program_segment_advance"]] = tables["program_segment_advance"][
                program, vacancies.segment[v_rows]
            ]
    activity = graduates.arrays.get("activity")
    if activity is not None:
        out[:, col["graduate_activity"]] = activity[g_rows]
    apply_rate = graduates.arrays.get("apply_rate")
    if apply_rate is not None:
        out[:, col["graduate_rate"]] = apply_rate[g_rows]
    out[:, col["salary"]] = vacancies.salary[v_rows]
    kind = graduates.kind[g_rows].astype(np.float32)
    out[:, col["program_kind"]] = np.where(kind < 0, np.nan, kind)
    segment = vacancies.segment[v_rows].astype(np.float32)
    out[:, col["segment"]] = np.where(segment < 0, np.nan, segment)

    g_retrieval = graduates.arrays.get(RETRIEVAL)
    v_retrieval = vacancies.arrays.get(RETRIEVAL)
    if g_retrieval is not None and v_retrieval is not None:
        half = g_retrieval.shape[1] // 2
        g_part, v_part = g_retrieval[g_rows], v_retrieval[v_rows]
        out[:, col["lightfm_graduate"]] = _rowdot(g_part[:, :half], v_part[:, :half])
        out[:, col["lightfm_vacancy"]] = _rowdot(g_part[:, half:], v_part[:, half:])
    return out
