"""Skill taxonomy queries: search, existence checks, and the taxonomy for skill extraction."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from models.skill_extraction import SkillExtractor, TaxonomyEntry
from service.store.tables import Skill

ALIAS_SEPARATOR = ";"


class UnknownSkill(ValueError):
    """Skill ids that are not in the taxonomy; ``details`` name each one."""

    def __init__(self, skill_ids: Iterable[str], *, field: str = "skills") -> None:
        self.skill_ids = sorted(set(skill_ids))
        self.field = field
        super().__init__(f"unknown skill id(s): {', '.join(self.skill_ids)}")

    @property
    def details(self) -> list[dict[str, str]]:
        return [{"field": self.field, "value": s, "message": "unknown skill id"} for s in self.skill_ids]


def split_aliases(aliases: str | None) -> list[str]:
    return [a.strip() for a in (aliases or "").split(ALIAS_SEPARATOR) if a.strip()]


def taxonomy(*, session: Session) -> list[TaxonomyEntry]:
    """Every skill as ``(skill_id, (name_zh, name_en), aliases)`` for :mod:`models.skill_extraction`."""
    rows = session.execute(select(Skill.skill_id, Skill.name_zh, Skill.name_en, Skill.aliases)).all()
    return [(sid, (zh, en), split_aliases(aliases)) for sid, zh, en, aliases in rows]


def extractor(*, session: Session) -> SkillExtractor:
    return SkillExtractor(taxonomy(session=session))


def missing_skill_ids(*, session: Session, skill_ids: Iterable[str]) -> list[str]:
    """Those of ``skill_ids`` that are not in the taxonomy, sorted."""
    wanted = set(skill_ids)
    if not wanted:
        return []
    known = set(session.scalars(select(Skill.skill_id).where(Skill.skill_id.in_(wanted))))
    return sorted(wanted - known)


def check_skills(*, session: Session, skill_ids: Iterable[str], field: str) -> None:
    """Raise :class:`UnknownSkill` naming ``field`` when any id is not in the taxonomy."""
    missing = missing_skill_ids(session=session, skill_ids=skill_ids)
    if missing:
        raise UnknownSkill(missing, field=field)


def _like_pattern(q: str) -> str:
    escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_skills(
    *, session: Session, q: str = "", limit: int = 20, offset: int = 0
) -> tuple[list[Skill], int]:
    """Skills whose id, Chinese name, English name or an alias contains ``q`` (case-insensitive).

    Returns the page and the total number of matches; exact name matches come first.
    """
    query = select(Skill)
    q = q.strip()
    order = [Skill.skill_id]
    if q:
        pattern = _like_pattern(q)
        query = query.where(
            or_(
                *(
                    func.lower(column).like(pattern, escape="\\")
                    for column in (Skill.skill_id, Skill.name_zh, Skill.name_en, Skill.aliases)
                )
            )
        )
        exact = or_(func.lower(Skill.name_zh) == q.lower(), func.lower(Skill.name_en) == q.lower())
        order = [exact.desc(), Skill.skill_id]  # type: ignore[list-item]
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = list(session.scalars(query.order_by(*order).limit(limit).offset(offset)))
    return items, int(total)
