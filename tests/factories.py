"""Small factories for store rows: ``make_vacancy(session, **overrides)`` and friends.

Each factory adds one row (creating what it references when not given), flushes, and returns it.
Ids are unique per call. Callers commit when they need other sessions (e.g. the app) to see the rows.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from service.store.api_keys import create_api_key
from service.store.tables import (
    Enterprise,
    Graduate,
    GraduateDistrict,
    GraduateSkill,
    Program,
    ProgramSkill,
    School,
    Skill,
    Vacancy,
    VacancySkill,
)

_counter = itertools.count(1)


def _next(prefix: str) -> str:
    return f"{prefix}{next(_counter):05d}"


def make_skill(session: Session, **overrides: Any) -> Skill:
    skill_id = overrides.pop("skill_id", None) or _next("skill_")
    values: dict[str, Any] = {
        "name_zh": f"技能{skill_id}",
        "name_en": f"skill {skill_id}",
        "category": "process",
        "aliases": "",
    }
    values.update(overrides)
    if isinstance(values["aliases"], list | tuple):
        values["aliases"] = ";".join(values["aliases"])
    skill = Skill(skill_id=skill_id, **values)
    session.add(skill)
    session.flush()
    return skill


def make_enterprise(session: Session, **overrides: Any) -> Enterprise:
    values: dict[str, Any] = {
        "enterprise_id": _next("E"),
        "name": "测试半导体有限公司",
        "segment": "packaging",
        "district": "越城区",
    }
    values.update(overrides)
    enterprise = Enterprise(**values)
    session.add(enterprise)
    session.flush()
    return enterprise


def make_school(session: Session, **overrides: Any) -> School:
    values: dict[str, Any] = {
        "school_id": _next("S"),
        "name": "测试职业技术学院",
        "kind": "vocational_college",
        "district": "柯桥区",
    }
    values.update(overrides)
    school = School(**values)
    session.add(school)
    session.flush()
    return school


def make_program(session: Session, **overrides: Any) -> Program:
    skills = overrides.pop("skills", [])
    if "school_id" not in overrides:
        overrides["school_id"] = make_school(session).school_id
    values: dict[str, Any] = {
        "program_id": _next("P"),
        "name": "集成电路封装订单班",
        "kind": "degree",
        "sponsor_enterprise_id": None,
        "cohort_year": 2026,
    }
    values.update(overrides)
    program = Program(**values)
    program.skills = [ProgramSkill(skill_id=s, position=i) for i, s in enumerate(skills)]
    session.add(program)
    session.flush()
    return program


def make_graduate(session: Session, **overrides: Any) -> Graduate:
    skills = overrides.pop("skills", [])
    districts = overrides.pop("preferred_districts", [])
    if "program_id" not in overrides:
        overrides["program_id"] = make_program(session).program_id
    values: dict[str, Any] = {
        "graduate_id": _next("G"),
        "education": "associate",
        "major": "微电子技术",
        "available_from": None,
        "status": "seeking",
        "status_changed_at": None,
    }
    values.update(overrides)
    graduate = Graduate(**values)
    graduate.skills = [GraduateSkill(skill_id=s, position=i) for i, s in enumerate(skills)]
    graduate.districts = [GraduateDistrict(district=d, position=i) for i, d in enumerate(districts)]
    session.add(graduate)
    session.flush()
    return graduate


def make_vacancy(session: Session, **overrides: Any) -> Vacancy:
    required = overrides.pop("required_skills", [])
    preferred = overrides.pop("preferred_skills", [])
    if "enterprise_id" not in overrides:
        overrides["enterprise_id"] = make_enterprise(session).enterprise_id
    values: dict[str, Any] = {
        "vacancy_id": _next("V"),
        "title": "封装工艺技术员",
        "role": "technician",
        "min_education": "secondary",
        "district": "越城区",
        "headcount": 2,
        "salary_min": 5000,
        "salary_max": 8000,
        "posted_at": datetime(2026, 11, 1, 9, 0, 0),
        "closes_at": None,
        "status": "open",
        "description": "",
    }
    values.update(overrides)
    vacancy = Vacancy(**values)
    vacancy.skills = [VacancySkill(skill_id=s, required=True, position=i) for i, s in enumerate(required)] + [
        VacancySkill(skill_id=s, required=False, position=len(required) + i) for i, s in enumerate(preferred)
    ]
    session.add(vacancy)
    session.flush()
    return vacancy


def make_api_key(
    session: Session,
    role: str = "admin",
    enterprise_id: str | None = None,
    school_id: str | None = None,
    name: str = "test",
) -> tuple[str, str]:
    """Add a key; returns ``(key_id, plaintext)`` for an ``Authorization: Bearer`` header."""
    key, plaintext = create_api_key(
        session=session, role=role, enterprise_id=enterprise_id, school_id=school_id, name=name
    )
    return key.key_id, plaintext
