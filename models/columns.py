"""Column names shared by the bundle, the store adapters, training and the models.

One place owns them, so no pandas code spells a column as a loose string.
"""

from __future__ import annotations


class Columns:
    skill = "skill_id"
    enterprise = "enterprise_id"
    school = "school_id"
    program = "program_id"
    graduate = "graduate_id"
    vacancy = "vacancy_id"

    name = "name"
    name_zh = "name_zh"
    name_en = "name_en"
    category = "category"
    aliases = "aliases"
    segment = "segment"
    district = "district"
    kind = "kind"
    sponsor = "sponsor_enterprise_id"
    cohort_year = "cohort_year"
    skills = "skills"
    education = "education"
    major = "major"
    preferred_districts = "preferred_districts"
    available_from = "available_from"
    status = "status"
    title = "title"
    role = "role"
    required_skills = "required_skills"
    preferred_skills = "preferred_skills"
    min_education = "min_education"
    headcount = "headcount"
    salary_min = "salary_min"
    salary_max = "salary_max"
    posted_at = "posted_at"
    closes_at = "closes_at"
    description = "description"
    event = "event"
    occurred_at = "occurred_at"
    weight = "weight"
    score = "score"


SEGMENTS = ("foundry", "packaging", "testing", "design", "equipment", "materials", "display", "other")
SCHOOL_KINDS = ("university", "vocational_college", "vocational_school", "training_center")
PROGRAM_KINDS = ("order_class", "training", "degree")
EDUCATION_LEVELS = ("secondary", "associate", "bachelor", "master", "doctor")
EDUCATION_RANK = {level: rank for rank, level in enumerate(EDUCATION_LEVELS)}
GRADUATE_STATUSES = ("seeking", "placed", "withdrawn")
VACANCY_STATUSES = ("open", "closed", "filled")
EVENTS = ("viewed", "applied", "shortlisted", "interviewed", "offered", "hired", "rejected", "declined")
# Events HR records through the API (the rest come from job boards and imports).
FEEDBACK_EVENTS = ("shortlisted", "interviewed", "offered", "hired", "rejected")
# How far an interaction went; used as LightFM sample weight. viewed/rejected/declined are not positives.
EVENT_WEIGHTS = {"applied": 1.0, "shortlisted": 2.0, "interviewed": 3.0, "offered": 4.0, "hired": 5.0}
