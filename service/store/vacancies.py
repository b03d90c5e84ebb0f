"""Vacancy queries and writes: post, list, edit, close, reopen, and HR feedback on candidates.

Functions take keyword-only arguments and plain values (:class:`NewVacancy`, :class:`VacancyChanges`), never
the API's schemas, and work in the caller's transaction (they flush, never commit). Every write that changes
what matching sees bumps the data version. The application layer (``service.usecases.vacancies`` and
``service.usecases.outcomes``) owns tenancy, audit and the commit.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from models.columns import EDUCATION_RANK
from service.store.changes import record_changes
from service.store.skills import check_skills
from service.store.tables import Enterprise, Graduate, Interaction, Vacancy, VacancySkill

HIRED = "hired"


class UnknownVacancy(LookupError):
    """No such vacancy, or not one the caller may see (the two are not told apart)."""

    def __init__(self, vacancy_id: str) -> None:
        self.vacancy_id = vacancy_id
        super().__init__(f"vacancy {vacancy_id!r} not found")


class UnknownGraduate(LookupError):
    def __init__(self, graduate_id: str) -> None:
        self.graduate_id = graduate_id
        super().__init__(f"graduate {graduate_id!r} not found")


class EnterpriseRequired(PermissionError):
    """No enterprise named where the key has none of its own (admin posting a vacancy): it may not post
    for itself."""

    def __init__(self) -> None:
        message = "this key belongs to no enterprise: name the vacancy's enterprise in enterprise_id"
        self.details = [{"field": "body.enterprise_id", "message": message}]
        super().__init__(message)


class EnterpriseNotFound(LookupError):
    """A vacancy posted for an enterprise that does not exist (admin keys name one)."""

    def __init__(self, enterprise_id: str) -> None:
        self.enterprise_id = enterprise_id
        message = f"enterprise {enterprise_id!r} not found"
        self.details = [{"field": "body.enterprise_id", "message": message}]
        super().__init__(message)


class VacancyClosed(Exception):
    """The vacancy is closed or filled and takes no more feedback or edits."""

    def __init__(self, vacancy_id: str, status: str) -> None:
        self.vacancy_id = vacancy_id
        self.status = status
        super().__init__(f"vacancy {vacancy_id!r} is {status}")


class NotReopenable(Exception):
    """A closed vacancy that cannot open again: its closing date has passed or its seats are all taken."""

    def __init__(self, vacancy_id: str, reason: str, message: str) -> None:
        self.vacancy_id = vacancy_id
        self.reason = reason  # "past_closing_date" or "filled"
        self.details = [{"reason": reason}]
        super().__init__(f"vacancy {vacancy_id!r} cannot be reopened: {message}")


class VacancyConflict(Exception):
    """An edit the stored vacancy rules out: a salary bound crossing the stored other bound, or a headcount
    below the hires already made; ``details`` name the field."""

    def __init__(self, field: str, message: str) -> None:
        self.details = [{"field": f"body.{field}", "message": message}]
        super().__init__(message)


class GraduateNotSeeking(Exception):
    def __init__(self, graduate_id: str, status: str) -> None:
        self.graduate_id = graduate_id
        super().__init__(f"graduate {graduate_id!r} is {status}, not seeking")


class InvalidVacancy(ValueError):
    """An edit that would leave the vacancy inconsistent; ``details`` name the field."""

    def __init__(self, field: str, message: str) -> None:
        self.details = [{"field": f"body.{field}", "message": message}]
        super().__init__(message)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def new_vacancy_id() -> str:
    return f"v_{secrets.token_hex(6)}"


def required_skills(vacancy: Vacancy) -> list[str]:
    return [s.skill_id for s in vacancy.skills if s.required]


def preferred_skills(vacancy: Vacancy) -> list[str]:
    return [s.skill_id for s in vacancy.skills if not s.required]


def _set_skills(vacancy: Vacancy, required: Sequence[str], preferred: Sequence[str]) -> None:
    required = list(dict.fromkeys(required))
    preferred = [s for s in dict.fromkeys(preferred) if s not in set(required)]
    vacancy.skills = [
        VacancySkill(skill_id=skill, required=True, position=i) for i, skill in enumerate(required)
    ] + [
        VacancySkill(skill_id=skill, required=False, position=len(required) + i)
        for i, skill in enumerate(preferred)
    ]


def get_vacancy(
    *, session: Session, vacancy_id: str, enterprise_id: str | None = None, with_skills: bool = True
) -> Vacancy:
    """The vacancy, restricted to ``enterprise_id`` when given; :class:`UnknownVacancy` otherwise."""
    options = [selectinload(Vacancy.skills)] if with_skills else []
    vacancy = session.get(Vacancy, vacancy_id, options=options)
    if vacancy is None or (enterprise_id is not None and vacancy.enterprise_id != enterprise_id):
        raise UnknownVacancy(vacancy_id)
    return vacancy


def salary_range(low: int | None, high: int | None) -> tuple[int | None, int | None]:
    """A salary range lowest first: bounds given the wrong way round are swapped, not refused."""
    if low is not None and high is not None and low > high:
        return high, low
    return low, high


@dataclass(frozen=True)
class NewVacancy:
    """A vacancy to store, its skills decided (given or extracted by the caller)."""

    title: str
    district: str
    role: str = ""
    required_skills: Sequence[str] = ()
    preferred_skills: Sequence[str] = ()
    min_education: str = "secondary"
    headcount: int = 1
    salary_min: int | None = None
    salary_max: int | None = None
    closes_at: datetime | None = None
    description: str = ""
    skills_extracted: bool = False  # the skills were extracted from the text, none were given


# Fields a change may set to None (the rest are left as they are when None).
CLEARABLE = frozenset({"salary_min", "salary_max", "closes_at"})


@dataclass(frozen=True)
class VacancyChanges:
    """Fields to change on a vacancy: a field left None stays as it is; those named in ``clear`` (of
    :data:`CLEARABLE`) are set to None."""

    title: str | None = None
    role: str | None = None
    required_skills: Sequence[str] | None = None
    preferred_skills: Sequence[str] | None = None
    min_education: str | None = None
    district: str | None = None
    headcount: int | None = None
    salary_min: int | None = None
    salary_max: int | None = None
    closes_at: datetime | None = None
    description: str | None = None
    clear: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        unknown = self.clear - CLEARABLE
        if unknown:
            raise ValueError(f"cannot clear {sorted(unknown)}; only {sorted(CLEARABLE)}")
        if any(getattr(self, name) is not None for name in self.clear):
            raise ValueError("a field is either set or cleared, not both")

    def salary(self, low: int | None, high: int | None) -> tuple[int | None, int | None]:
        """The salary range after these changes, from the current ``low`` and ``high``: both bounds given
        together are stored lowest first (:func:`salary_range`); one bound given alone must not cross the
        stored other (:class:`VacancyConflict` naming it)."""
        sets_low = "salary_min" in self.clear or self.salary_min is not None
        sets_high = "salary_max" in self.clear or self.salary_max is not None
        if sets_low and sets_high:
            return salary_range(self.salary_min, self.salary_max)
        if sets_low:
            low = self.salary_min
        if sets_high:
            high = self.salary_max
        if low is not None and high is not None and low > high:
            given = "salary_min" if sets_low else "salary_max"
            raise VacancyConflict(
                given, f"salary range {low}-{high} would be reversed; send salary_min and salary_max together"
            )
        return low, high

    def values(self) -> dict[str, object]:
        """The plain fields to set (skills excluded), cleared ones as None."""
        names = ("title", "role", "min_education", "district", "headcount", "description", *sorted(CLEARABLE))
        changed: dict[str, object] = {n: getattr(self, n) for n in names if getattr(self, n) is not None}
        changed.update(dict.fromkeys(self.clear))
        return changed


def create_vacancy(*, session: Session, data: NewVacancy, enterprise_id: str) -> Vacancy:
    """Store a new open vacancy for ``enterprise_id`` (:class:`EnterpriseNotFound` when there is none;
    :class:`~service.store.skills.UnknownSkill` naming the list of an unknown skill id)."""
    if session.get(Enterprise, enterprise_id) is None:
        raise EnterpriseNotFound(enterprise_id)
    required, preferred = list(data.required_skills), list(data.preferred_skills)
    low, high = salary_range(data.salary_min, data.salary_max)
    check_skills(session=session, skill_ids=required, field="body.required_skills")
    check_skills(session=session, skill_ids=preferred, field="body.preferred_skills")
    vacancy = Vacancy(
        vacancy_id=new_vacancy_id(),
        enterprise_id=enterprise_id,
        title=data.title,
        role=data.role,
        min_education=data.min_education,
        district=data.district,
        headcount=data.headcount,
        salary_min=low,
        salary_max=high,
        posted_at=utcnow(),
        closes_at=data.closes_at,
        status="open",
        description=data.description,
        skills_extracted=data.skills_extracted,
    )
    _set_skills(vacancy, required, preferred)
    session.add(vacancy)
    session.flush()
    record_changes(session=session, vacancies=[vacancy.vacancy_id])
    return vacancy


def list_vacancies(
    *,
    session: Session,
    enterprise_id: str | None = None,
    status: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> tuple[list[Vacancy], int]:
    """A page of vacancies (newest first) and the total, for one enterprise or all (``None``)."""
    query = select(Vacancy)
    if enterprise_id is not None:
        query = query.where(Vacancy.enterprise_id == enterprise_id)
    if status is not None:
        query = query.where(Vacancy.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = session.scalars(
        query.options(selectinload(Vacancy.skills))
        .order_by(Vacancy.posted_at.desc(), Vacancy.vacancy_id)
        .limit(limit)
        .offset(offset)
    )
    return list(page), int(total)


def hires(*, session: Session, vacancy_ids: Iterable[str]) -> dict[str, int]:
    """Number of distinct graduates hired per vacancy (0 for none), erased graduates' hires included."""
    ids = list(vacancy_ids)
    counts = dict.fromkeys(ids, 0)
    if ids:
        rows = session.execute(
            select(Interaction.vacancy_id, func.count(func.distinct(Interaction.graduate_id)))
            .where(Interaction.vacancy_id.in_(ids), Interaction.event == HIRED)
            .group_by(Interaction.vacancy_id)
        )
        counts.update({vacancy_id: int(n) for vacancy_id, n in rows})
        erased = session.execute(
            select(Vacancy.vacancy_id, Vacancy.erased_hires).where(
                Vacancy.vacancy_id.in_(ids), Vacancy.erased_hires > 0
            )
        )
        for vacancy_id, n in erased:
            counts[vacancy_id] += int(n)
    return counts


def keep_seats_of(*, session: Session, graduate_ids: Iterable[str]) -> None:
    """Before graduates are erased, count their hires on each vacancy so the seats stay taken."""
    ids = list(graduate_ids)
    if not ids:
        return
    rows = session.execute(
        select(Interaction.vacancy_id, func.count(func.distinct(Interaction.graduate_id)))
        .where(Interaction.graduate_id.in_(ids), Interaction.event == HIRED)
        .group_by(Interaction.vacancy_id)
    ).all()
    for vacancy_id, n in rows:
        session.execute(
            update(Vacancy)
            .where(Vacancy.vacancy_id == vacancy_id)
            .values(erased_hires=Vacancy.erased_hires + int(n))
        )


def update_vacancy(*, session: Session, vacancy: Vacancy, changes: VacancyChanges) -> Vacancy:
    """Apply ``changes``; closed or filled vacancies cannot be edited."""
    if vacancy.status != "open":
        raise VacancyClosed(vacancy.vacancy_id, vacancy.status)
    low, high = changes.salary(vacancy.salary_min, vacancy.salary_max)
    hired = hires(session=session, vacancy_ids=[vacancy.vacancy_id])[vacancy.vacancy_id]
    if changes.headcount is not None and changes.headcount < hired:
        raise VacancyConflict(
            "headcount", f"headcount must be at least the {hired} graduate(s) already hired"
        )
    if changes.required_skills is not None or changes.preferred_skills is not None:
        required = list(
            required_skills(vacancy) if changes.required_skills is None else changes.required_skills
        )
        preferred = list(
            preferred_skills(vacancy) if changes.preferred_skills is None else changes.preferred_skills
        )
        check_skills(session=session, skill_ids=required, field="body.required_skills")
        check_skills(session=session, skill_ids=preferred, field="body.preferred_skills")
        _set_skills(vacancy, required, preferred)
    for name, value in changes.values().items():
        setattr(vacancy, name, value)
    vacancy.salary_min, vacancy.salary_max = low, high
    if vacancy.headcount <= hired:
        vacancy.status = "filled"
    session.flush()
    record_changes(session=session, vacancies=[vacancy.vacancy_id])
    return vacancy


def close_vacancy(*, session: Session, vacancy: Vacancy) -> Vacancy:
    """Close an open vacancy (a closed or filled one is left as it is)."""
    if vacancy.status == "open":
        vacancy.status = "closed"
        session.flush()
        record_changes(session=session, vacancies=[vacancy.vacancy_id])
    return vacancy


def reopen_vacancy(
    *, session: Session, vacancy: Vacancy, headcount: int | None = None, now: datetime | None = None
) -> Vacancy:
    """Open a closed or filled vacancy again (an open one is left as it is); ``headcount`` sets a new
    headcount first (a filled vacancy reopens with more seats than its hires).

    Raises
    ------
    NotReopenable
        Its closing date has passed, or every seat is taken (with the headcount given, if any).
    """
    if vacancy.status == "open" and headcount is None:
        return vacancy
    hired = hires(session=session, vacancy_ids=[vacancy.vacancy_id])[vacancy.vacancy_id]
    seats = vacancy.headcount if headcount is None else headcount
    if hired >= seats:
        message = f"all {seats} seat(s) are taken ({hired} hired)"
        if headcount is None:
            message += "; send a larger headcount to reopen it"
        raise NotReopenable(vacancy.vacancy_id, "filled", message)
    if vacancy.status == "open":
        vacancy.headcount = seats
        session.flush()
        record_changes(session=session, vacancies=[vacancy.vacancy_id])
        return vacancy
    now = now or utcnow()
    if vacancy.closes_at is not None and vacancy.closes_at <= now:
        raise NotReopenable(
            vacancy.vacancy_id,
            "past_closing_date",
            f"its closing date {vacancy.closes_at.isoformat()} has passed; post a new vacancy instead",
        )
    vacancy.headcount = seats
    vacancy.status = "open"
    session.flush()
    record_changes(session=session, vacancies=[vacancy.vacancy_id])
    return vacancy


def may_record(*, session: Session, vacancy: Vacancy, graduate: Graduate | None) -> bool:
    """Whether HR may record an outcome for ``graduate`` on ``vacancy``: they are one of its candidates
    (seeking, with at least its minimum education: the matcher's hard filters) or already have an
    interaction with it."""
    if graduate is None:
        return False
    if graduate.status == "seeking" and EDUCATION_RANK.get(graduate.education, -1) >= EDUCATION_RANK.get(
        vacancy.min_education, len(EDUCATION_RANK)
    ):
        return True
    interacted = session.scalar(
        select(Interaction.id)
        .where(Interaction.vacancy_id == vacancy.vacancy_id, Interaction.graduate_id == graduate.graduate_id)
        .limit(1)
    )
    return interacted is not None


def record_feedback(
    *, session: Session, vacancy: Vacancy, graduate_id: str, event: str
) -> tuple[Interaction, bool]:
    """Store HR's outcome for one candidate as an interaction; returns it and whether it is new.

    Idempotent: the same graduate, vacancy and event again returns the first row. ``hired`` places
    the graduate and, when the hires reach the headcount, marks the vacancy filled.

    Raises
    ------
    UnknownGraduate
        No such graduate, or one who is neither a candidate of this vacancy (:func:`may_record`) nor
        already in its pipeline. The same answer for all of them, so it tells nothing of a graduate
        the caller may not see (their school, status or education).
    VacancyClosed
        The vacancy is closed or filled.
    GraduateNotSeeking
        ``hired`` for a graduate in this vacancy's pipeline who is placed or withdrawn.
    """
    graduate = session.get(Graduate, graduate_id)
    if graduate is None or not may_record(session=session, vacancy=vacancy, graduate=graduate):
        raise UnknownGraduate(graduate_id)
    existing = session.scalars(
        select(Interaction)
        .where(
            Interaction.vacancy_id == vacancy.vacancy_id,
            Interaction.graduate_id == graduate_id,
            Interaction.event == event,
        )
        .order_by(Interaction.occurred_at)
        .limit(1)
    ).first()
    if existing is not None:
        return existing, False
    if vacancy.status != "open":
        raise VacancyClosed(vacancy.vacancy_id, vacancy.status)
    if graduate.status != "seeking" and event == HIRED:
        raise GraduateNotSeeking(graduate_id, graduate.status)
    now = utcnow()
    interaction = Interaction(
        graduate_id=graduate_id, vacancy_id=vacancy.vacancy_id, event=event, occurred_at=now
    )
    session.add(interaction)
    if event == HIRED:
        graduate.status = "placed"
        graduate.status_changed_at = now
        session.flush()
        hired = hires(session=session, vacancy_ids=[vacancy.vacancy_id])[vacancy.vacancy_id]
        if hired >= vacancy.headcount:
            vacancy.status = "filled"
        session.flush()
        record_changes(session=session, graduates=[graduate_id], vacancies=[vacancy.vacancy_id])
    else:
        # Interactions are history (training reads them, the candidate index does not): the version
        # moves, no row of the pool changed.
        session.flush()
        record_changes(session=session)
    return interaction, True


def lock_vacancy(*, session: Session, vacancy_id: str) -> None:
    """Serialise writers of one vacancy until the transaction ends, so feedback and hires do not race.

    PostgreSQL locks the row (``SELECT ... FOR UPDATE``). SQLite has no row locks: a no-op ``UPDATE`` as
    the transaction's first statement takes the database's write lock (waiting out the busy timeout), so
    what the caller reads next is what the previous writer committed. Call it before reading anything
    the decision depends on.
    """
    dialect = session.bind.dialect.name if session.bind is not None else ""
    if dialect == "postgresql":
        session.execute(select(Vacancy.vacancy_id).where(Vacancy.vacancy_id == vacancy_id).with_for_update())
    elif dialect == "sqlite":
        session.execute(
            update(Vacancy)
            .where(Vacancy.vacancy_id == vacancy_id)
            .values(headcount=Vacancy.headcount)
            .execution_options(synchronize_session=False)
        )


def vacancy_record(vacancy: Vacancy) -> dict[str, object]:
    """The vacancy with the MarketData ``vacancies`` columns, as the matcher takes a vacancy given as data."""
    import math

    import pandas as pd

    def salary(value: int | None) -> float:
        return math.nan if value is None else float(value)

    return {
        "vacancy_id": vacancy.vacancy_id,
        "enterprise_id": vacancy.enterprise_id,
        "title": vacancy.title,
        "role": vacancy.role,
        "required_skills": required_skills(vacancy),
        "preferred_skills": preferred_skills(vacancy),
        "min_education": vacancy.min_education,
        "district": vacancy.district,
        "headcount": int(vacancy.headcount),
        "salary_min": salary(vacancy.salary_min),
        "salary_max": salary(vacancy.salary_max),
        "posted_at": pd.Timestamp(vacancy.posted_at),
        "closes_at": pd.Timestamp(vacancy.closes_at) if vacancy.closes_at is not None else pd.NaT,
        "status": vacancy.status,
        "description": vacancy.description,
    }


def seeking_graduate_ids(*, session: Session) -> set[str]:
    return set(session.scalars(select(Graduate.graduate_id).where(Graduate.status == "seeking")))


def open_vacancy_ids(*, session: Session) -> set[str]:
    return set(session.scalars(select(Vacancy.vacancy_id).where(Vacancy.status == "open")))
