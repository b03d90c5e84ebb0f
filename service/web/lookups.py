"""Names the pages show instead of ids: skills in the page's language, enterprises, programmes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.store.tables import Enterprise, Skill, Vacancy


def skill_names(session: Session, lang: str) -> dict[str, str]:
    """``skill_id -> name`` in ``lang`` (Chinese by default; English falls back to Chinese)."""
    rows = session.execute(select(Skill.skill_id, Skill.name_zh, Skill.name_en)).all()
    if lang == "en":
        return {sid: en or zh or sid for sid, zh, en in rows}
    return {sid: zh or en or sid for sid, zh, en in rows}


def enterprise_names(session: Session) -> dict[str, str]:
    return dict(
        session.execute(select(Enterprise.enterprise_id, Enterprise.name).order_by(Enterprise.name)).all()
    )


def districts(session: Session) -> list[str]:
    """Districts in use (for the form's suggestions)."""
    found = set(session.scalars(select(Enterprise.district).distinct()))
    found |= set(session.scalars(select(Vacancy.district).distinct()))
    return sorted(d for d in found if d)


class Names:
    """A lookup that never fails: unknown ids show as themselves."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def __call__(self, key: object) -> str:
        return self.names.get(str(key), str(key))
