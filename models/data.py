"""The in-memory shape of the talent market that training and the models consume.

A :class:`MarketData` is what a CSV bundle, the store and the demo generator all produce:
one DataFrame per entity, columns as in :class:`models.columns.Columns`, list-valued
columns as Python lists of strings, times as naive UTC ``datetime64``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cache

import pandas as pd

from models.columns import Columns as C

ENTITY_COLUMNS: dict[str, tuple[str, ...]] = {
    "skills": (C.skill, C.name_zh, C.name_en, C.category, C.aliases),
    "enterprises": (C.enterprise, C.name, C.segment, C.district),
    "schools": (C.school, C.name, C.kind, C.district),
    "programs": (C.program, C.school, C.name, C.kind, C.sponsor, C.cohort_year, C.skills),
    "graduates": (
        C.graduate,
        C.program,
        C.education,
        C.major,
        C.skills,
        C.preferred_districts,
        C.available_from,
        C.status,
    ),
    "vacancies": (
        C.vacancy,
        C.enterprise,
        C.title,
        C.role,
        C.required_skills,
        C.preferred_skills,
        C.min_education,
        C.district,
        C.headcount,
        C.salary_min,
        C.salary_max,
        C.posted_at,
        C.closes_at,
        C.status,
        C.description,
    ),
    "interactions": (C.graduate, C.vacancy, C.event, C.occurred_at),
}
LIST_COLUMNS = frozenset({C.aliases, C.skills, C.preferred_districts, C.required_skills, C.preferred_skills})


def empty_frame(entity: str) -> pd.DataFrame:
    # A copy of one made once: building it costs ~1.5 ms in pandas 3, a copy ~0.01 ms (a write's index
    # update builds several).
    return _empty(entity).copy()


@cache
def _empty(entity: str) -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype=object) for column in ENTITY_COLUMNS[entity]})


@dataclass
class MarketData:
    """All entities of one talent market. Every frame has exactly ``ENTITY_COLUMNS[name]``."""

    skills: pd.DataFrame = field(default_factory=lambda: empty_frame("skills"))
    enterprises: pd.DataFrame = field(default_factory=lambda: empty_frame("enterprises"))
    schools: pd.DataFrame = field(default_factory=lambda: empty_frame("schools"))
    programs: pd.DataFrame = field(default_factory=lambda: empty_frame("programs"))
    graduates: pd.DataFrame = field(default_factory=lambda: empty_frame("graduates"))
    vacancies: pd.DataFrame = field(default_factory=lambda: empty_frame("vacancies"))
    interactions: pd.DataFrame = field(default_factory=lambda: empty_frame("interactions"))

    @classmethod
    def entity_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def frames(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in self.entity_names()}

    def counts(self) -> dict[str, int]:
        return {name: len(frame) for name, frame in self.frames().items()}
