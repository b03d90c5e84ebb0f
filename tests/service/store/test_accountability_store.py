"""Accountability in the store, on SQLite and PostgreSQL: migration 0007 adds who recorded an outcome and
what the model showed (and goes down and up again); ``purge`` keeps a graduate past retention while an
outcome recorded for them is younger than the outcome retention, and erases them once it ages out."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, inspect, select

from service.store.market import import_market
from service.store.migrate import downgrade, upgrade
from service.store.retention import purge_expired
from service.store.session import make_sessionmaker
from service.store.tables import Graduate, Interaction
from tests.bundles import tiny_market

COLUMNS = {"recorded_by", "recorded_via", "model_version", "shown_score"}


def _columns(engine: Engine) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns("interactions")}


def test_migration_adds_the_accountability_columns_and_reverts(engine: Engine) -> None:
    assert _columns(engine) >= COLUMNS
    assert "ix_interactions_recorded_by" in {i["name"] for i in inspect(engine).get_indexes("interactions")}
    downgrade(engine, "0006")
    assert not COLUMNS & _columns(engine)
    upgrade(engine)
    assert _columns(engine) >= COLUMNS


def _placed_with_outcome(engine: Engine, *, recorded_at: datetime, recorded_by: str | None) -> None:
    """G04 (placed, status changed long ago) with an outcome on V1 recorded at ``recorded_at``."""
    with make_sessionmaker(engine)() as session, session.begin():
        import_market(session=session, data=tiny_market())
        graduate = session.get(Graduate, "G04")
        assert graduate is not None and graduate.status == "placed"
        graduate.status_changed_at = datetime(2025, 1, 1)
        session.add(
            Interaction(
                graduate_id="G04",
                vacancy_id="V1",
                event="rejected",
                occurred_at=recorded_at,
                recorded_by=recorded_by,
                recorded_via="api" if recorded_by else None,
                model_version="v-test" if recorded_by else None,
                shown_score=0.12 if recorded_by else None,
            )
        )


def test_purge_keeps_a_graduate_with_a_recent_recorded_outcome(engine: Engine) -> None:
    now = datetime(2026, 12, 3)
    _placed_with_outcome(engine, recorded_at=now - timedelta(days=30), recorded_by="k_hr")
    with make_sessionmaker(engine)() as session, session.begin():
        report = purge_expired(session=session, retention_days=0, now=now, outcome_retention_days=183)
        assert report.held == 1 and "G04" not in report.graduate_ids
        assert any("kept 1 more past retention" in line for line in report.lines())
    with make_sessionmaker(engine)() as session:
        assert session.get(Graduate, "G04") is not None
        row = session.scalars(select(Interaction).where(Interaction.recorded_by == "k_hr")).one()
        assert (row.model_version, row.shown_score, row.recorded_via) == ("v-test", 0.12, "api")


def test_purge_erases_once_the_outcome_ages_out(engine: Engine) -> None:
    now = datetime(2026, 12, 3)
    _placed_with_outcome(engine, recorded_at=now - timedelta(days=200), recorded_by="k_hr")
    with make_sessionmaker(engine)() as session, session.begin():
        report = purge_expired(session=session, retention_days=0, now=now, outcome_retention_days=183)
        assert report.held == 0 and "G04" in report.graduate_ids
    with make_sessionmaker(engine)() as session:
        assert session.get(Graduate, "G04") is None


def test_imported_history_holds_nobody(engine: Engine) -> None:
    """Only outcomes recorded by a person are kept for the audit: imported events do not hold a graduate."""
    now = datetime(2026, 12, 3)
    _placed_with_outcome(engine, recorded_at=now - timedelta(days=1), recorded_by=None)
    with make_sessionmaker(engine)() as session, session.begin():
        report = purge_expired(session=session, retention_days=0, now=now, outcome_retention_days=183)
        assert report.held == 0 and "G04" in report.graduate_ids
