"""Programme queries on a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import pandas as pd
from sqlalchemy.orm import Session

from models.skill_gaps import skill_gaps
from service.store.market import import_market, load_market
from service.store.programs import graduate_counts, list_programs, program_graduates, program_market
from tests.bundles import tiny_market


def test_program_market_gives_the_same_skill_gaps_as_the_whole_store(session: Session) -> None:
    import_market(session=session, data=tiny_market())
    session.commit()
    whole = load_market(session=session)
    now = pd.Timestamp("2026-02-01")
    for program_id in ("P1", "P2", "P3"):
        partial = program_market(session=session, program_id=program_id)
        assert skill_gaps(partial, program_id, now=now) == skill_gaps(whole, program_id, now=now)


def test_listing_counts_and_pages(session: Session) -> None:
    import_market(session=session, data=tiny_market())
    session.commit()
    programs, total = list_programs(session=session, school_id="S1")
    assert total == 2 and [p.program_id for p in programs] == ["P1", "P2"]
    assert graduate_counts(session=session, program_ids=["P2", "P3"]) == {
        "P2": {"seeking": 3, "withdrawn": 1},
        "P3": {"seeking": 3, "placed": 1},
    }
    page, total = program_graduates(session=session, program_id="P3", status="seeking", limit=2, offset=0)
    assert total == 3 and [g.graduate_id for g in page] == ["G09", "G10"]
