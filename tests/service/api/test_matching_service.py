"""MatchingService while its index is stale: answers at once, right where it matters."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine

from models.data import MarketData
from service.matching import MatchingService, _load_candidate_pool
from service.store.session import make_sessionmaker
from service.store.tables import Graduate, Vacancy
from service.store.vacancies import (
    NewVacancy,
    VacancyChanges,
    close_vacancy,
    create_vacancy,
    get_vacancy,
    record_feedback,
    update_vacancy,
)


def test_stale_index_answers_with_fresh_vacancies_and_without_gone_graduates(
    seeded_sqlite: Engine, tiny_model: Any
) -> None:
    sessions = make_sessionmaker(seeded_sqlite)
    gate = threading.Event()
    gate.set()

    def gated_load(session: Any) -> MarketData:
        gate.wait(30)
        return _load_candidate_pool(session)

    matching = MatchingService(lambda: tiny_model, sessionmaker=sessions, load=gated_load)
    with sessions() as session:
        first, _ = matching.candidates(session=session, vacancy="V3", limit=100)
        assert matching.builds == 1
        hired_before = [
            m.graduate_id for m in first.matcher.candidates_for("V3", index=first.index, limit=100).items
        ]
    gate.clear()  # background builds now hang: every answer below comes from the stale index
    with sessions() as session, session.begin():
        posted = create_vacancy(
            session=session,
            data=NewVacancy(title="倒装焊技术员", district="滨海新区", required_skills=["flip_chip"]),
            enterprise_id="E2",
        )
        record_feedback(
            session=session,
            vacancy=get_vacancy(session=session, vacancy_id="V3"),
            graduate_id=hired_before[0],
            event="hired",
        )
        close_vacancy(session=session, vacancy=get_vacancy(session=session, vacancy_id="V5"))
        update_vacancy(
            session=session,
            vacancy=get_vacancy(session=session, vacancy_id="V2"),
            changes=VacancyChanges(required_skills=["ate_test"]),
        )
    try:
        with sessions() as session:
            snapshot, result = matching.candidates(session=session, vacancy=posted.vacancy_id, limit=100)
            assert snapshot is first and matching.builds == 1
            assert result.items and hired_before[0] not in {m.graduate_id for m in result.items}
            _, again = matching.candidates(session=session, vacancy="V3", limit=100)
            assert hired_before[0] not in {m.graduate_id for m in again.items}
            _, edited = matching.candidates(session=session, vacancy="V2", limit=100)  # ranked as edited
            assert edited.items and all(set(m.matched_skills) <= {"ate_test"} for m in edited.items)
            assert any(m.matched_skills == ["ate_test"] for m in edited.items)
            _, suggestions = matching.recommendations(session=session, graduate="G09", limit=100)
            assert "V5" not in {m.vacancy_id for m in suggestions.items}
            assert session.get(Vacancy, "V5").status == "closed"  # type: ignore[union-attr]
            assert session.get(Graduate, hired_before[0]).status == "placed"  # type: ignore[union-attr]
    finally:
        gate.set()
    matching.wait_for_refresh()
    assert matching.builds == 2
    with sessions() as session:
        fresh, result = matching.candidates(session=session, vacancy=posted.vacancy_id, limit=100)
        assert fresh is not first and posted.vacancy_id in fresh.vacancies
        assert hired_before[0] not in {m.graduate_id for m in result.items}
