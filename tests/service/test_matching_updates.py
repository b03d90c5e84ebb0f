"""The property behind incremental freshness: after any sequence of writes through the store's functions,
the snapshot MatchingService updated from the change log answers exactly as one built afresh from the store
(same graduates and vacancies in the same order, the same scores, the same details), on SQLite and on
PostgreSQL, and without a single full rebuild.

The store holds ``tiny_market()`` plus 70 graduates and 50 vacancies, more than the tiny model's retrieval
pool (50), so the rankings go through retrieval too. Hypothesis draws the writes; each example starts a new
MatchingService on the store as the previous examples left it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from models.columns import EDUCATION_LEVELS
from models.columns import Columns as C
from models.data import ENTITY_COLUMNS, MarketData
from models.results import VacancyFilters
from service.matching import MatchingService
from service.snapshot import Snapshot, build_snapshot
from service.store.graduates import erase_graduate, get_graduate
from service.store.market import import_market, load_market
from service.store.session import data_version, make_sessionmaker
from service.store.tables import Graduate, Vacancy
from service.store.vacancies import (
    GraduateNotSeeking,
    NewVacancy,
    NotReopenable,
    UnknownGraduate,
    VacancyChanges,
    VacancyClosed,
    VacancyConflict,
    close_vacancy,
    create_vacancy,
    get_vacancy,
    record_feedback,
    reopen_vacancy,
    update_vacancy,
)
from tests.bundles import tiny_market
from training.registry import LoadedModel

SKILLS = tiny_market().skills[C.skill].tolist()
DISTRICTS = ["越城区", "柯桥区", "滨海新区", "上虞区"]
AS_OF = pd.Timestamp("2026-02-01")
WRITES = ("post", "patch", "close", "reopen", "upload", "erase", "hire", "apply", "read")


def _graduates(rng: random.Random, ids: list[str], statuses: tuple[str, ...] = ("seeking",)) -> pd.DataFrame:
    rows = [
        {
            C.graduate: g,
            C.program: rng.choice(["P1", "P2", "P3"]),
            C.education: rng.choice(EDUCATION_LEVELS[:4]),
            C.major: "微电子技术",
            C.skills: rng.sample(SKILLS, rng.randint(0, 4)),
            C.preferred_districts: rng.sample([*DISTRICTS, f"新区{rng.randrange(3)}"], rng.randint(0, 2)),
            C.available_from: pd.Timestamp("2026-06-30"),
            C.status: rng.choice(statuses),
        }
        for g in ids
    ]
    frame = pd.DataFrame(rows, columns=list(ENTITY_COLUMNS["graduates"]))
    return frame.astype({C.available_from: "datetime64[us]"})


def _seed(sessions: Callable[[], Session]) -> None:
    rng = random.Random(3)
    market = tiny_market()
    vacancies = pd.concat(
        [market.vacancies.iloc[[i % len(market.vacancies)]] for i in range(50)], ignore_index=True
    )
    vacancies[C.vacancy] = [f"W{i:02d}" for i in range(50)]
    vacancies[C.status] = "open"
    vacancies[C.closes_at] = pd.NaT
    vacancies[C.required_skills] = [rng.sample(SKILLS, rng.randint(1, 3)) for _ in range(50)]
    vacancies[C.preferred_skills] = [
        [s for s in preferred if s not in required]
        for preferred, required in zip(
            vacancies[C.preferred_skills], vacancies[C.required_skills], strict=True
        )
    ]
    extra = MarketData(graduates=_graduates(rng, [f"X{i:02d}" for i in range(70)]), vacancies=vacancies)
    with sessions() as session, session.begin():
        import_market(session=session, data=market)
        import_market(session=session, data=extra)


def _ids(session: Session, table: type[Graduate] | type[Vacancy], **where: str) -> list[str]:
    key = table.graduate_id if table is Graduate else table.vacancy_id  # type: ignore[union-attr]
    query = select(key).order_by(key)
    for column, value in where.items():
        query = query.where(getattr(table, column) == value)
    return list(session.scalars(query))


def _write(kind: str, seed: int, session: Session) -> None:
    """One write through the store's functions; a write the store refuses changes nothing."""
    rng = random.Random(seed)
    open_ids = _ids(session, Vacancy, status="open")
    try:
        if kind == "post":
            low = rng.choice([None, 5000])
            create_vacancy(
                session=session,
                data=NewVacancy(
                    title="技术员",
                    district=rng.choice([*DISTRICTS, f"新区{seed % 3}"]),
                    role=rng.choice(["technician", "", f"role{seed % 4}"]),
                    required_skills=rng.sample(SKILLS, rng.randint(1, 3)),
                    preferred_skills=rng.sample(SKILLS, rng.randint(0, 2)),
                    min_education=rng.choice(EDUCATION_LEVELS[:4]),
                    headcount=rng.randint(1, 3),
                    salary_min=low,
                    salary_max=None if low is None else 9000,
                    closes_at=rng.choice([None, datetime(2030, 1, 1)]),
                ),
                enterprise_id=rng.choice(["E1", "E2"]),
            )
        elif kind == "patch" and open_ids:
            changes = rng.choice(
                [
                    VacancyChanges(required_skills=rng.sample(SKILLS, rng.randint(1, 3))),
                    VacancyChanges(
                        district=rng.choice([*DISTRICTS, f"新区{seed % 5}"]), role=f"role{seed % 6}"
                    ),
                    VacancyChanges(
                        min_education=rng.choice(EDUCATION_LEVELS[:4]), salary_min=4000, salary_max=6000
                    ),
                    VacancyChanges(preferred_skills=rng.sample(SKILLS, 2), clear=frozenset({"closes_at"})),
                ]
            )
            update_vacancy(
                session=session,
                vacancy=get_vacancy(session=session, vacancy_id=rng.choice(open_ids)),
                changes=changes,
            )
        elif kind == "close" and open_ids:
            close_vacancy(
                session=session, vacancy=get_vacancy(session=session, vacancy_id=rng.choice(open_ids))
            )
        elif kind == "reopen":
            closed = _ids(session, Vacancy, status="closed")
            if closed:
                reopen_vacancy(
                    session=session, vacancy=get_vacancy(session=session, vacancy_id=rng.choice(closed))
                )
        elif kind == "upload":
            known = _ids(session, Graduate)
            ids = rng.sample(known, min(len(known), rng.randint(0, 2))) + [
                f"N{seed % 997:03d}{i}" for i in range(rng.randint(0, 2))
            ]
            frame = _graduates(rng, ids, ("seeking", "seeking", "placed", "withdrawn"))
            import_market(session=session, data=MarketData(graduates=frame))
        elif kind == "erase":
            known = _ids(session, Graduate)
            erase_graduate(
                session=session, graduate=get_graduate(session=session, graduate_id=rng.choice(known))
            )
        elif kind in ("hire", "apply") and open_ids:
            record_feedback(
                session=session,
                vacancy=get_vacancy(session=session, vacancy_id=rng.choice(open_ids)),
                graduate_id=rng.choice(_ids(session, Graduate, status="seeking")),
                event="hired" if kind == "hire" else "applied",
            )
    except (VacancyClosed, VacancyConflict, NotReopenable, UnknownGraduate, GraduateNotSeeking):
        session.rollback()


def _assert_answers_alike(updated: Snapshot, fresh: Snapshot) -> None:
    matcher = fresh.matcher
    # Rows of graduates gone stay, dead, until a splice drops them; graduates written are appended.
    assert updated.graduate_ids() == fresh.index.graduates.ids.ids.tolist()
    assert updated.index.vacancies.ids.ids.tolist() == fresh.index.vacancies.ids.ids.tolist()
    assert updated.graduates == fresh.graduates and updated.vacancies == fresh.vacancies
    pd.testing.assert_frame_equal(updated.vacancy_frame, fresh.vacancy_frame)
    for vacancy in fresh.index.vacancies.ids.ids.tolist():
        a = matcher.candidates_for(vacancy, index=fresh.index, limit=20)
        b = matcher.candidates_for(vacancy, index=updated.index, limit=20)
        assert [m.graduate_id for m in b.items] == [m.graduate_id for m in a.items] and b.total == a.total
        np.testing.assert_allclose([m.score for m in b.items], [m.score for m in a.items], rtol=1e-12, atol=0)
        assert [(m.matched_skills, m.missing_skills, m.reasons) for m in b.items] == [
            (m.matched_skills, m.missing_skills, m.reasons) for m in a.items
        ]
    for graduate in fresh.index.graduates.ids.ids.tolist()[::2]:
        for filters in (VacancyFilters(as_of=AS_OF), VacancyFilters(open_only=False)):
            a = matcher.vacancies_for(graduate, index=fresh.index, limit=20, filters=filters)
            b = matcher.vacancies_for(graduate, index=updated.index, limit=20, filters=filters)
            assert [m.vacancy_id for m in b.items] == [m.vacancy_id for m in a.items] and b.total == a.total
            np.testing.assert_allclose(
                [m.score for m in b.items], [m.score for m in a.items], rtol=1e-12, atol=0
            )


@pytest.mark.slow
@given(writes=st.lists(st.tuples(st.sampled_from(WRITES), st.integers(0, 10**6)), min_size=1, max_size=14))
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    # The store (function-scoped) carries over from example to example on purpose: each starts a new
    # MatchingService on whatever the writes before it left.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_an_updated_snapshot_answers_as_a_fresh_one(
    engine: Engine, tiny_model: LoadedModel, writes: list[tuple[str, int]]
) -> None:
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        if data_version(session) == 0:
            _seed(sessions)
    matching = MatchingService(lambda: tiny_model, sessionmaker=sessions)
    with sessions() as session:
        matching.snapshot(session=session)
    for kind, seed in writes:
        if kind == "read":  # catch up now: the changes arrive in batches of every size
            with sessions() as session:
                vacancies = _ids(session, Vacancy)
                matching.candidates(session=session, vacancy=random.Random(seed).choice(vacancies))
            continue
        with sessions() as session, session.begin():
            _write(kind, seed, session)
    with sessions() as session:
        updated = matching.snapshot(session=session)
        fresh = build_snapshot(
            tiny_model,
            load_market(session=session, seeking_only=True, with_interactions=False),
            data_version=data_version(session),
        )
    assert matching.builds == 1 and updated.data_version == fresh.data_version
    _assert_answers_alike(updated, fresh)


def test_the_property_sees_a_wrong_update(engine: Engine, tiny_model: LoadedModel) -> None:
    """The comparison above fails when an update is wrong: a snapshot that missed one edit."""
    sessions = make_sessionmaker(engine)
    _seed(sessions)
    with sessions() as session:
        stale = build_snapshot(
            tiny_model,
            load_market(session=session, seeking_only=True, with_interactions=False),
            data_version=0,
        )
    with sessions() as session, session.begin():
        update_vacancy(
            session=session,
            vacancy=get_vacancy(session=session, vacancy_id="W07"),
            changes=VacancyChanges(
                required_skills=["verilog"], closes_at=datetime(2030, 1, 1) + timedelta(days=1)
            ),
        )
    with sessions() as session:
        fresh = build_snapshot(
            tiny_model,
            load_market(session=session, seeking_only=True, with_interactions=False),
            data_version=1,
        )
    try:
        _assert_answers_alike(stale, fresh)
    except AssertionError:
        return
    raise AssertionError("a snapshot that missed an edit passed for a fresh one")
