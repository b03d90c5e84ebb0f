"""Search the skill taxonomy (for building forms); any role."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service.api.deps import CurrentKey, SessionDep
from service.api.routes.common import API_PREFIX, AUTH_ERRORS, Limit, Offset
from service.api.schemas import Page, SkillPublic
from service.store.skills import search_skills, split_aliases

router = APIRouter(prefix=f"{API_PREFIX}/skills", tags=["skills"], responses=AUTH_ERRORS)


@router.get("", response_model=Page[SkillPublic])
def list_skills(
    session: SessionDep,
    key: CurrentKey,
    q: Annotated[
        str, Query(max_length=100, description="Text in the id, Chinese or English name, or an alias.")
    ] = "",
    limit: Limit = 20,
    offset: Offset = 0,
) -> Page[SkillPublic]:
    """Skills matching `q` (case-insensitive), exact name matches first."""
    items, total = search_skills(session=session, q=q, limit=limit, offset=offset)
    return Page[SkillPublic](
        items=[
            SkillPublic(
                skill_id=s.skill_id,
                name_zh=s.name_zh,
                name_en=s.name_en,
                category=s.category,
                aliases=split_aliases(s.aliases),
            )
            for s in items
        ],
        total=total,
        limit=limit,
        offset=offset,
    )
