"""Two HR clicks on the same outcome at the same moment store it once (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from service.store.session import make_sessionmaker
from service.store.tables import Interaction, Vacancy
from service.store.vacancies import VacancyClosed, get_vacancy, lock_vacancy, record_feedback
from tests.factories import make_graduate, make_vacancy

WRITERS = 6


def _race(engine: Engine, vacancy_id: str, graduate_ids: list[str], event: str) -> list[BaseException]:
    """Every writer records ``event`` for its graduate at once, as the feedback route does."""
    start = threading.Barrier(len(graduate_ids))
    errors: list[BaseException] = []

    def write(graduate_id: str) -> None:
        try:
            with make_sessionmaker(engine)() as session:
                start.wait()
                lock_vacancy(session=session, vacancy_id=vacancy_id)
                vacancy = get_vacancy(session=session, vacancy_id=vacancy_id, enterprise_id=None)
                record_feedback(session=session, vacancy=vacancy, graduate_id=graduate_id, event=event)
                session.commit()
        except BaseException as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(g,)) for g in graduate_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_the_same_outcome_recorded_at_once_is_stored_once(engine: Engine) -> None:
    with make_sessionmaker(engine)() as session:
        graduate_id = make_graduate(session).graduate_id
        vacancy_id = make_vacancy(session, headcount=3).vacancy_id
        session.commit()

    errors = _race(engine, vacancy_id, [graduate_id] * WRITERS, "shortlisted")

    assert errors == []
    with make_sessionmaker(engine)() as session:
        stored = session.scalar(
            select(func.count()).select_from(Interaction).where(Interaction.vacancy_id == vacancy_id)
        )
    assert stored == 1


def test_simultaneous_hires_never_exceed_the_headcount(engine: Engine) -> None:
    with make_sessionmaker(engine)() as session:
        graduate_ids = [make_graduate(session).graduate_id for _ in range(WRITERS)]
        vacancy_id = make_vacancy(session, headcount=2).vacancy_id
        session.commit()

    errors = _race(engine, vacancy_id, graduate_ids, "hired")

    # The writers after the second hire find the vacancy filled (a clear domain error, not a lost write).
    assert all(isinstance(error, VacancyClosed) for error in errors), errors
    with make_sessionmaker(engine)() as session:
        hires = session.scalar(
            select(func.count())
            .select_from(Interaction)
            .where(Interaction.vacancy_id == vacancy_id, Interaction.event == "hired")
        )
        vacancy = session.get(Vacancy, vacancy_id)
        assert vacancy is not None
        assert hires == 2 and vacancy.status == "filled"
    assert len(errors) == WRITERS - 2
