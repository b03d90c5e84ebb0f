"""How a graduate and a vacancy become features.

Two kinds of features live here:

* **tokens** for LightFM: each graduate/vacancy is a weighted bag of tokens (``skill:SK01``,
  ``program:P1``, ``segment:packaging``...). There are **no per-entity identity features**: a brand-new
  graduate or vacancy gets its representation from its tokens alone, without retraining, and the model
  cannot memorise ids it will never see again (held-out vacancies are always new). Each token group has a
  fixed share of the row's weight (so twenty skills do not drown the programme) and every row sums to 1
  (unnormalised weights can train LightFM into non-finite scores).
* **joined entity frames**: graduates joined with their programme, school and sponsor; vacancies joined
  with their enterprise's segment. The pair features (``models.pairs``) are computed from these.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import scipy.sparse as sp

from models.columns import Columns as C
from models.data import MarketData
from models.ids import IdMap

SCHOOL_DISTRICT = "school_district"
GRADUATE_KIND = "program_kind"
SEGMENT = C.segment
# The kind of job: segment and role together ("packaging/technician").
JOB_FAMILY = "job_family"

# Share of a row's weight that each token group gets (split equally among the group's tokens).
GRADUATE_GROUPS: dict[str, float] = {
    "skill": 3.0,
    "program": 1.0,
    "kind": 0.5,
    "school": 0.5,
    "sponsor": 1.0,
    "edu": 0.5,
    "major": 0.5,
    "district": 1.0,
}
VACANCY_GROUPS: dict[str, float] = {
    "req": 3.0,
    "pref": 1.0,
    "ent": 1.0,
    "segment": 1.0,
    "role": 0.5,
    "minedu": 0.5,
    "district": 1.0,
    "salary": 0.5,
}
SALARY_EDGES = (5000.0, 8000.0, 12000.0, 20000.0)


def _as_list(value: Any) -> list[str]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if isinstance(value, str):
        return [v for v in value.split(";") if v]
    return [str(v) for v in value]


def _text(value: Any) -> str:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def salary_mid(salary_min: pd.Series, salary_max: pd.Series) -> np.ndarray:
    """The mean of the salary ends given, NaN when neither is: pandas' row mean of the two columns
    (skipping missing ends; the same numbers) in numpy, where a frame's row mean cost ~3 ms a written row."""
    low = pd.to_numeric(salary_min, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    high = pd.to_numeric(salary_max, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    given = (~np.isnan(low)).astype(np.float64) + (~np.isnan(high))
    total = np.where(np.isnan(low), 0.0, low) + np.where(np.isnan(high), 0.0, high)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(given > 0, total / given, np.nan)


def salary_band(salary_min: pd.Series, salary_max: pd.Series) -> pd.Series:
    """Monthly salary band label (``b0``..``b4``; ``na`` when both ends are empty)."""
    mid = salary_mid(salary_min, salary_max)
    band = np.searchsorted(np.asarray(SALARY_EDGES), np.where(np.isnan(mid), -1.0, mid), side="right")
    labels = pd.Series([f"b{b}" for b in band], index=salary_min.index, dtype=object)
    labels[np.isnan(mid)] = "na"
    return labels


# ---------------------------------------------------------------- joined frames


def graduate_frame(graduates: pd.DataFrame, programs: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
    """Graduates with their programme's kind, school, sponsor and the school's district.

    List columns become lists (never NaN); unknown programmes give empty strings.
    """
    if len(graduates) <= FEW_ROWS and len(programs) and len(schools):
        return _few_graduates(graduates, programs, schools)
    frame = graduates.reset_index(drop=True).copy()
    prog = programs.set_index(C.program) if len(programs) else None
    school_district = schools.set_index(C.school)[C.district] if len(schools) else pd.Series(dtype=object)
    program_ids = frame[C.program].map(_text)
    if prog is not None:
        frame[C.school] = program_ids.map(prog[C.school]).map(_text)
        frame[GRADUATE_KIND] = program_ids.map(prog[C.kind]).map(_text)
        frame[C.sponsor] = program_ids.map(prog[C.sponsor]).map(_text)
    else:
        frame[C.school] = frame[GRADUATE_KIND] = frame[C.sponsor] = ""
    frame[C.program] = program_ids
    frame[SCHOOL_DISTRICT] = frame[C.school].map(school_district).map(_text)
    frame[C.skills] = frame[C.skills].map(_as_list)
    frame[C.preferred_districts] = frame[C.preferred_districts].map(_as_list)
    for column in (C.education, C.major, C.status):
        frame[column] = frame[column].map(_text)
    return frame


def _few_graduates(graduates: pd.DataFrame, programs: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
    """:func:`graduate_frame` of a few rows (a graduate written, or given as data) in plain Python: the
    same frame, without pandas' fixed cost per column (~4 ms a written graduate at 9 columns)."""
    frame = graduates.reset_index(drop=True)
    program_ids = [_text(p) for p in frame[C.program].tolist()]
    asked = programs[programs[C.program].isin(program_ids)]
    prog = {
        row[0]: row[1:]
        for row in asked[[C.program, C.school, C.kind, C.sponsor]].itertuples(index=False, name=None)
    }
    missing = (math.nan, math.nan, math.nan)
    school = [_text(prog.get(p, missing)[0]) for p in program_ids]
    district_of = dict(zip(schools[C.school].tolist(), schools[C.district].tolist(), strict=True))
    columns: dict[str, Any] = {name: frame[name] for name in frame.columns}
    columns[C.program] = program_ids
    for name in (C.skills, C.preferred_districts):
        columns[name] = [_as_list(v) for v in frame[name].tolist()]
    for name in (C.education, C.major, C.status):
        columns[name] = [_text(v) for v in frame[name].tolist()]
    columns[C.school] = school
    columns[GRADUATE_KIND] = [_text(prog.get(p, missing)[1]) for p in program_ids]
    columns[C.sponsor] = [_text(prog.get(p, missing)[2]) for p in program_ids]
    columns[SCHOOL_DISTRICT] = [_text(district_of.get(s, math.nan)) for s in school]
    return pd.DataFrame(columns)


def vacancy_frame(vacancies: pd.DataFrame, enterprises: pd.DataFrame) -> pd.DataFrame:
    """Vacancies with their enterprise's segment; list columns as lists, times as Timestamps."""
    if len(vacancies) <= FEW_ROWS and len(enterprises):
        return _few_vacancies(vacancies, enterprises)
    frame = vacancies.reset_index(drop=True).copy()
    segment = enterprises.set_index(C.enterprise)[C.segment] if len(enterprises) else pd.Series(dtype=object)
    frame[C.enterprise] = frame[C.enterprise].map(_text)
    frame[SEGMENT] = frame[C.enterprise].map(segment).map(_text)
    frame[C.required_skills] = frame[C.required_skills].map(_as_list)
    frame[C.preferred_skills] = frame[C.preferred_skills].map(_as_list)
    for column in (C.role, C.min_education, C.district, C.status):
        frame[column] = frame[column].map(_text)
    frame[JOB_FAMILY] = frame[SEGMENT] + "/" + frame[C.role]
    for column in (C.posted_at, C.closes_at):
        frame[column] = pd.to_datetime(frame[column], errors="coerce")
    for column in (C.salary_min, C.salary_max):
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return frame


def _few_vacancies(vacancies: pd.DataFrame, enterprises: pd.DataFrame) -> pd.DataFrame:
    """:func:`vacancy_frame` of a few rows (a vacancy written, or given as data) in plain Python where
    pandas' fixed cost per column dominates; the same frame (times and salaries still through pandas)."""
    frame = vacancies.reset_index(drop=True)
    enterprise_ids = [_text(e) for e in frame[C.enterprise].tolist()]
    asked = enterprises[enterprises[C.enterprise].isin(enterprise_ids)]
    segment_of = dict(zip(asked[C.enterprise].tolist(), asked[C.segment].tolist(), strict=True))
    columns: dict[str, Any] = {name: frame[name] for name in frame.columns}
    columns[C.enterprise] = enterprise_ids
    for name in (C.required_skills, C.preferred_skills):
        columns[name] = [_as_list(v) for v in frame[name].tolist()]
    for name in (C.role, C.min_education, C.district, C.status):
        columns[name] = [_text(v) for v in frame[name].tolist()]
    segments = [_text(segment_of.get(e, math.nan)) for e in enterprise_ids]
    columns[SEGMENT] = segments
    columns[JOB_FAMILY] = [f"{s}/{r}" for s, r in zip(segments, columns[C.role], strict=True)]
    # Columns already of the type the conversion gives are kept as they are (what it would return).
    for name in (C.posted_at, C.closes_at):
        if not pd.api.types.is_datetime64_dtype(columns[name].dtype):  # any unit: the store's is [us]
            columns[name] = pd.to_datetime(frame[name], errors="coerce")
    for name in (C.salary_min, C.salary_max):
        if columns[name].dtype != np.float64:
            columns[name] = pd.to_numeric(frame[name], errors="coerce")
    return pd.DataFrame(columns)


def market_frames(data: MarketData) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Joined graduate and vacancy frames of a whole market."""
    return (
        graduate_frame(data.graduates, data.programs, data.schools),
        vacancy_frame(data.vacancies, data.enterprises),
    )


def mapping_frame(record: Mapping[str, Any], columns: tuple[str, ...]) -> pd.DataFrame:
    """A one-row frame from a vacancy/graduate given as data (missing keys become empty)."""
    return pd.DataFrame([{column: record.get(column) for column in columns}], columns=list(columns))


# ---------------------------------------------------------------- LightFM tokens


# Up to this many rows (a vacancy posted, a graduate uploaded, a query given as data) the token table is built
# in plain Python: pandas' fixed cost per call is ~10 ms, the same table's Python cost ~0.1 ms a row.
FEW_ROWS = 64


@dataclass(frozen=True)
class Tokens:
    """A token table: per entry its row, token and weight (the group's share of the row split equally
    among the group's tokens), by group, then row, then value."""

    row: np.ndarray  # int64
    token: np.ndarray  # object (str)
    weight: np.ndarray  # float64


# One group's values: a column of the frame, or values aligned with its rows (``Series`` on its index).
GroupValues: TypeAlias = "str | pd.Series"


def _token_table(
    frame: pd.DataFrame, groups: dict[str, tuple[GroupValues, bool]], shares: dict[str, float]
) -> Tokens:
    """The :class:`Tokens` of ``frame``; ``groups`` maps group -> (column or values, is_list)."""
    if len(frame) <= FEW_ROWS:
        return _few_tokens(frame, groups, shares)
    parts = []
    for group, (column, is_list) in groups.items():
        values = frame[column] if isinstance(column, str) else column
        if is_list:
            exploded = values.explode()
            part = pd.DataFrame({"row": exploded.index.to_numpy(), "value": exploded.to_numpy()})
        else:
            part = pd.DataFrame({"row": np.arange(len(frame)), "value": values.to_numpy()})
        part = part[part["value"].notna() & (part["value"].astype(str) != "")]
        if part.empty:
            continue
        part = part.drop_duplicates()
        part["token"] = group + ":" + part["value"].astype(str)
        size = part.groupby("row")["token"].transform("size")
        part["weight"] = shares[group] / size
        parts.append(part[["row", "token", "weight"]])
    if not parts:
        return Tokens(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object), np.zeros(0))
    table = pd.concat(parts, ignore_index=True)
    return Tokens(
        table["row"].to_numpy(dtype=np.int64),
        table["token"].to_numpy(dtype=object),
        table["weight"].to_numpy(dtype=np.float64),
    )


def _few_tokens(
    frame: pd.DataFrame, groups: dict[str, tuple[GroupValues, bool]], shares: dict[str, float]
) -> Tokens:
    """:func:`_token_table` row by row, the same table in the same order (the first of repeated values;
    values missing or empty left out), in plain Python: a written row's tokens without pandas."""
    rows: list[int] = []
    tokens: list[str] = []
    weights: list[float] = []
    for group, (column, is_list) in groups.items():
        values = frame[column] if isinstance(column, str) else column
        for row, cell in enumerate(values.tolist()):
            listed = cell if is_list and isinstance(cell, list | tuple | np.ndarray) else [cell]
            kept = list(dict.fromkeys(str(v) for v in listed if not _blank(v)))
            if not kept:
                continue
            rows += [row] * len(kept)
            tokens += [f"{group}:{v}" for v in kept]
            weights += [shares[group] / len(kept)] * len(kept)
    return Tokens(
        np.array(rows, dtype=np.int64), np.array(tokens, dtype=object), np.array(weights, dtype=np.float64)
    )


def _blank(value: Any) -> bool:
    return (
        value is None
        or value is pd.NaT
        or (isinstance(value, float) and math.isnan(value))
        or str(value) == ""
    )


def graduate_tokens(frame: pd.DataFrame) -> Tokens:
    groups: dict[str, tuple[GroupValues, bool]] = {
        "skill": (C.skills, True),
        "program": (C.program, False),
        "kind": (GRADUATE_KIND, False),
        "school": (C.school, False),
        "sponsor": (C.sponsor, False),
        "edu": (C.education, False),
        "major": (C.major, False),
        "district": (C.preferred_districts, True),
    }
    return _token_table(frame, groups, GRADUATE_GROUPS)


def vacancy_tokens(frame: pd.DataFrame) -> Tokens:
    groups: dict[str, tuple[GroupValues, bool]] = {
        "req": (C.required_skills, True),
        "pref": (C.preferred_skills, True),
        "ent": (C.enterprise, False),
        "segment": (SEGMENT, False),
        "role": (C.role, False),
        "minedu": (C.min_education, False),
        "district": (C.district, False),
        "salary": (salary_band(frame[C.salary_min], frame[C.salary_max]), False),
    }
    return _token_table(frame, groups, VACANCY_GROUPS)


class FeatureSpace:
    """The token vocabularies of graduates and vacancies, fitted on training data.

    ``transform_*`` returns a row-normalised CSR matrix (rows sum to 1; unknown tokens are dropped,
    a row with no known token stays all-zero and so gets a zero embedding).
    """

    def __init__(self) -> None:
        self.graduate_vocab_: IdMap | None = None
        self.vacancy_vocab_: IdMap | None = None

    def fit(self, graduates: pd.DataFrame, vacancies: pd.DataFrame) -> FeatureSpace:
        self.graduate_vocab_ = IdMap(sorted(set(graduate_tokens(graduates).token.tolist())))
        self.vacancy_vocab_ = IdMap(sorted(set(vacancy_tokens(vacancies).token.tolist())))
        return self

    @staticmethod
    def _matrix(tokens: Tokens, vocab: IdMap, n_rows: int) -> sp.csr_matrix:
        """Row-normalised CSR of the known tokens (repeats summed, columns sorted within a row)."""
        cols = vocab.rows(tokens.token)
        keep = cols >= 0
        matrix = sp.csr_matrix(
            (tokens.weight.astype(np.float32)[keep], (tokens.row[keep], cols[keep])),
            shape=(n_rows, len(vocab)),
            dtype=np.float32,
        )
        matrix.sum_duplicates()
        per_row = np.diff(matrix.indptr)
        owner = np.repeat(np.arange(n_rows), per_row)
        sums = np.bincount(owner, weights=matrix.data, minlength=n_rows).astype(np.float32)
        scale = np.divide(np.float32(1.0), sums, out=np.zeros_like(sums), where=sums > 0)
        matrix.data *= scale[owner]
        return matrix

    def transform_graduates(self, graduates: pd.DataFrame) -> sp.csr_matrix:
        assert self.graduate_vocab_ is not None
        return self._matrix(graduate_tokens(graduates), self.graduate_vocab_, len(graduates))

    def transform_vacancies(self, vacancies: pd.DataFrame) -> sp.csr_matrix:
        assert self.vacancy_vocab_ is not None
        return self._matrix(vacancy_tokens(vacancies), self.vacancy_vocab_, len(vacancies))
