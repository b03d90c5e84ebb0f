"""HR's ranked candidates for a vacancy: the one place both the API and the candidates page ask."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from sqlalchemy import select

from models.rerank import RERANK_WINDOW, RerankMode, rerank_candidates
from models.results import CandidateFilters, Match
from service.matching import GraduateInfo, ModelNotReady, RankedPage, Snapshot
from service.store.tables import Interaction
from service.store.vacancies import UnknownVacancy, get_vacancy
from service.usecases.context import HR_ROLES, ROLE_HR, Context
from service.usecases.errors import Forbidden

# What HR may not learn of a graduate: their own preferences (which districts they would work in). The
# reasons naming them are left out of an hr key's candidates, and an hr key may not filter by district
# (it would tell which graduates prefer it). Admin, who may read a graduate's record anyway, keeps both.
PRIVATE_REASONS = frozenset({"district_preference"})
DISTRICT_FILTER_REFUSED = (
    "an HR key may not filter candidates by district: the filter would tell which graduates prefer it, "
    "and graduates' preferences are theirs (admin keys may)"
)


class FilterNotAllowed(Forbidden):
    """A candidate filter this key may not use (403); ``details`` name the parameter."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.details = [{"field": f"query.{parameter}", "message": message}]


@dataclass(frozen=True)
class Candidate:
    """One ranked graduate with the details a list shows (programme, school, education, skills)."""

    match: Match
    info: GraduateInfo


@dataclass(frozen=True)
class CandidateList:
    """One page of a vacancy's candidates, split at the recommendation floor."""

    vacancy_id: str
    model_version: str
    recommended: list[Candidate]  # scoring at least the floor, best first
    below: list[Candidate]  # the page's ranks under the floor (not recommendations)
    total: int  # how many passed the hard filters
    below_from_here: int  # ranks from this page on under the floor, when the recommendations end here
    floor: float
    limit: int
    offset: int
    page: RankedPage
    rerank: RerankMode = "none"  # the re-ranking asked for
    reranked: bool = False  # the order differs from the model's (scores unchanged)

    def shown(self, *, include_below: bool = False) -> list[Candidate]:
        return self.recommended + self.below if include_below else list(self.recommended)


def list_for_vacancy(
    ctx: Context,
    vacancy_id: str,
    *,
    filters: CandidateFilters | None = None,
    limit: int = 20,
    offset: int = 0,
    personalised: bool = True,
    rerank: RerankMode | None = None,
) -> CandidateList:
    """Seeking graduates ranked best first for one of the caller's vacancies (404 for another
    enterprise's), audited with the graduates shown, committed. An hr key sees no reason naming a
    graduate's own preferences and may not filter by district (:data:`PRIVATE_REASONS`).

    ``rerank`` (default ``TALENTMATCH_FAIR_RERANK``): ``exposure`` re-orders the recommendations among the
    first :data:`~models.rerank.RERANK_WINDOW` ranks by :func:`~models.rerank.rerank_candidates` (groups by
    ``TALENTMATCH_FAIR_RERANK_BY``); the scores stay the pairs' own and no rank below the floor moves up.
    """
    ctx.require(HR_ROLES)
    filters = filters or CandidateFilters()
    hr = ctx.principal.role == ROLE_HR
    if hr and filters.district:
        raise FilterNotAllowed("district", DISTRICT_FILTER_REFUSED)
    matching = ctx.matching(personalised=personalised)
    try:
        snapshot = matching.latest(session=ctx.session)
    except ModelNotReady:
        _visible_vacancy(ctx, None, vacancy_id)  # a vacancy the caller may not see is a 404 all the same
        raise
    if not _visible_vacancy(ctx, snapshot, vacancy_id):
        # In the store, not yet in the snapshot: posted a moment ago through another worker or replica.
        snapshot = matching.latest(session=ctx.session, fresh=True)
    mode: RerankMode = rerank or ctx.settings.fair_rerank
    reranked = False
    if mode == "exposure":
        window = max(RERANK_WINDOW, offset + limit)
        head = matching.recommended_candidates(
            snapshot, vacancy=vacancy_id, limit=window, offset=0, filters=filters
        )
        page, reranked = _reranked(head, vacancy_id, filters, ctx.settings.fair_rerank_by)
        page = replace(page, items=page.items[offset : offset + limit], offset=offset)
    else:
        page = matching.recommended_candidates(
            snapshot, vacancy=vacancy_id, limit=limit, offset=offset, filters=filters
        )
    if hr:
        page = replace(page, items=[_without_private_reasons(m) for m in page.items])
    graduates = page.snapshot.graduates
    # A graduate missing from the snapshot's details cannot be shown (cannot happen with one snapshot).
    recommended = [
        Candidate(m, graduates[m.graduate_id]) for m in page.recommended if m.graduate_id in graduates
    ]
    below = [Candidate(m, graduates[m.graduate_id]) for m in page.below if m.graduate_id in graduates]
    ctx.audit_read(
        "list_candidates",
        f"vacancy:{vacancy_id}",
        {
            "graduates": [c.match.graduate_id for c in recommended + below],
            "count": len(recommended),
            "total": page.total,
            "below_floor": len(below),
            "limit": limit,
            "offset": offset,
            "personalised": personalised,
            "rerank": mode,
            "model_version": page.snapshot.model_version,
        },
    )
    ctx.commit()
    return CandidateList(
        vacancy_id=vacancy_id,
        model_version=page.snapshot.model_version,
        recommended=recommended,
        below=below,
        total=page.total,
        below_from_here=page.below_from_here,
        floor=page.floor,
        limit=limit,
        offset=offset,
        page=page,
        rerank=mode,
        reranked=reranked,
    )


def _visible_vacancy(ctx: Context, snapshot: Snapshot | None, vacancy_id: str) -> bool:
    """Raise :class:`UnknownVacancy` (404) unless the caller may see the vacancy. Told by the snapshot, which
    holds every vacancy with its enterprise (an enterprise never changes), without reading the store; a
    vacancy the snapshot does not hold (or without one) is looked up in the store. Returns whether the
    snapshot holds it."""
    info = snapshot.vacancies.get(vacancy_id) if snapshot is not None else None
    scope = ctx.enterprise_scope
    if info is None:
        get_vacancy(session=ctx.session, vacancy_id=vacancy_id, enterprise_id=scope, with_skills=False)
        return False
    if scope is not None and info.enterprise_id != scope:
        raise UnknownVacancy(vacancy_id)
    return True


def _reranked(
    page: RankedPage, vacancy_id: str, filters: CandidateFilters, attribute: str
) -> tuple[RankedPage, bool]:
    """``page`` (ranks from 0) with its recommendations among the first ``RERANK_WINDOW`` ranks re-ordered
    for exposure; ranks below the floor and past the window keep their places."""
    index = page.snapshot.index
    window = page.items[:RERANK_WINDOW]
    head = [m for m in window if m.score >= page.floor]  # the recommendations come first (ranked by score)
    vacancy_row = int(index.vacancies.ids.rows([vacancy_id])[0])
    rows = index.graduates.ids.rows([m.graduate_id for m in head])
    if vacancy_row < 0 or len(head) < 2 or (rows < 0).any():
        return page, False
    scores = np.array([m.score for m in head], dtype=np.float64)
    result = rerank_candidates(index, vacancy_row, rows, scores, filters=filters, attribute=attribute)
    items = [head[i] for i in result.order] + page.items[len(head) :]
    return replace(page, items=items), result.changed


def _without_private_reasons(match: Match) -> Match:
    return replace(match, reasons=[r for r in match.reasons if r.code not in PRIVATE_REASONS])


def recorded_events(ctx: Context, vacancy_id: str, graduate_ids: list[str]) -> dict[str, list[str]]:
    """The outcomes already recorded on ``vacancy_id`` for each of ``graduate_ids``, oldest first."""
    if not graduate_ids:
        return {}
    rows = ctx.session.execute(
        select(Interaction.graduate_id, Interaction.event)
        .where(Interaction.vacancy_id == vacancy_id, Interaction.graduate_id.in_(graduate_ids))
        .order_by(Interaction.occurred_at)
    ).all()
    recorded: dict[str, list[str]] = {}
    for graduate_id, event in rows:
        events = recorded.setdefault(graduate_id, [])
        if event not in events:
            events.append(event)
    return recorded
