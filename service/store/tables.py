"""SQLAlchemy tables of the store. Lists (skills, districts) live in association tables."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ID = String(64)


class Base(DeclarativeBase):
    pass


class Skill(Base):
    __tablename__ = "skills"

    skill_id: Mapped[str] = mapped_column(ID, primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(100))
    aliases: Mapped[str] = mapped_column(Text, default="")  # ';'-joined, as in the bundle


class Enterprise(Base):
    __tablename__ = "enterprises"

    enterprise_id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    segment: Mapped[str] = mapped_column(String(32))
    district: Mapped[str] = mapped_column(String(100))


class School(Base):
    __tablename__ = "schools"

    school_id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(32))
    district: Mapped[str] = mapped_column(String(100))


class Program(Base):
    __tablename__ = "programs"

    program_id: Mapped[str] = mapped_column(ID, primary_key=True)
    school_id: Mapped[str] = mapped_column(ID, ForeignKey("schools.school_id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(32))
    sponsor_enterprise_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("enterprises.enterprise_id"), nullable=True
    )
    cohort_year: Mapped[int] = mapped_column(Integer)

    skills: Mapped[list[ProgramSkill]] = relationship(
        cascade="all, delete-orphan", order_by="ProgramSkill.position"
    )


class ProgramSkill(Base):
    __tablename__ = "program_skills"

    program_id: Mapped[str] = mapped_column(
        ID, ForeignKey("programs.program_id", ondelete="CASCADE"), primary_key=True
    )
    skill_id: Mapped[str] = mapped_column(ID, ForeignKey("skills.skill_id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Graduate(Base):
    __tablename__ = "graduates"

    graduate_id: Mapped[str] = mapped_column(ID, primary_key=True)
    program_id: Mapped[str] = mapped_column(ID, ForeignKey("programs.program_id"), index=True)
    # The school's own id for the graduate (its student number), unique within the school only: the id a
    # school uploads and sees. None: the same as graduate_id (graduates loaded from a bundle).
    student_id: Mapped[str | None] = mapped_column(ID, nullable=True, index=True)
    education: Mapped[str] = mapped_column(String(16))
    major: Mapped[str] = mapped_column(String(200), default="")
    available_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    # When the status last changed; drives the retention of placed/withdrawn graduates.
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    skills: Mapped[list[GraduateSkill]] = relationship(
        cascade="all, delete-orphan", order_by="GraduateSkill.position"
    )
    districts: Mapped[list[GraduateDistrict]] = relationship(
        cascade="all, delete-orphan", order_by="GraduateDistrict.position"
    )


class GraduateSkill(Base):
    __tablename__ = "graduate_skills"

    graduate_id: Mapped[str] = mapped_column(
        ID, ForeignKey("graduates.graduate_id", ondelete="CASCADE"), primary_key=True
    )
    skill_id: Mapped[str] = mapped_column(ID, ForeignKey("skills.skill_id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class GraduateDistrict(Base):
    __tablename__ = "graduate_districts"

    graduate_id: Mapped[str] = mapped_column(
        ID, ForeignKey("graduates.graduate_id", ondelete="CASCADE"), primary_key=True
    )
    district: Mapped[str] = mapped_column(String(100), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Vacancy(Base):
    __tablename__ = "vacancies"

    vacancy_id: Mapped[str] = mapped_column(ID, primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(ID, ForeignKey("enterprises.enterprise_id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(100))
    min_education: Mapped[str] = mapped_column(String(16))
    district: Mapped[str] = mapped_column(String(100))
    headcount: Mapped[int] = mapped_column(Integer)
    salary_min: Mapped[int | None] = mapped_column(Integer, nullable=True)
    salary_max: Mapped[int | None] = mapped_column(Integer, nullable=True)
    posted_at: Mapped[datetime] = mapped_column(DateTime)
    closes_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # Hires of graduates who were erased since (PIPL): their rows are gone, their seats stay taken.
    erased_hires: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The skill lists were extracted from the title and description when it was posted (none were sent).
    skills_extracted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    skills: Mapped[list[VacancySkill]] = relationship(
        cascade="all, delete-orphan", order_by="VacancySkill.position"
    )


class VacancySkill(Base):
    __tablename__ = "vacancy_skills"

    vacancy_id: Mapped[str] = mapped_column(
        ID, ForeignKey("vacancies.vacancy_id", ondelete="CASCADE"), primary_key=True
    )
    skill_id: Mapped[str] = mapped_column(ID, ForeignKey("skills.skill_id"), primary_key=True)
    required: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Interaction(Base):
    __tablename__ = "interactions"
    __table_args__ = (
        UniqueConstraint("graduate_id", "vacancy_id", "event", "occurred_at", name="uq_interaction"),
        Index("ix_interactions_vacancy_event", "vacancy_id", "event"),
        Index("ix_interactions_occurred_at", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    graduate_id: Mapped[str] = mapped_column(
        ID, ForeignKey("graduates.graduate_id", ondelete="CASCADE"), index=True
    )
    vacancy_id: Mapped[str] = mapped_column(ID, ForeignKey("vacancies.vacancy_id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(DateTime)
    # An outcome HR recorded: the key that recorded it, through which surface (api, web), and the model
    # version and score the service gave the pair then (docs/accountability.md). None for imported history.
    recorded_by: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    recorded_via: Mapped[str | None] = mapped_column(String(8), nullable=True)
    model_version: Mapped[str | None] = mapped_column(String(100), nullable=True)
    shown_score: Mapped[float | None] = mapped_column(Float, nullable=True)


class ApiKey(Base):
    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16))
    enterprise_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("enterprises.enterprise_id"), nullable=True
    )
    school_id: Mapped[str | None] = mapped_column(ID, ForeignKey("schools.school_id"), nullable=True)
    salt: Mapped[str] = mapped_column(String(64))
    key_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class WebSession(Base):
    """A signed-in web session. The browser's cookie holds a random token; only its sha256 is stored, so
    the table cannot be used to sign in. Sign-out deletes the row, revoking the key deletes its rows."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("api_keys.key_id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)  # the absolute end


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    key_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    action: Mapped[str] = mapped_column(String(64))
    resource: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")


class DataVersion(Base):
    """One row; its counter moves on every write that changes what matching sees.

    The service caches its candidate pools per counter value, so a posted vacancy
    or an erased graduate shows up (or disappears) at once.
    """

    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counter: Mapped[int] = mapped_column(Integer, default=0)


class DataChange(Base):
    """One graduate or vacancy a write touched, with the data version the write moved the counter to.

    The service re-reads just these rows to bring its candidate index up to date
    (:mod:`service.store.changes`); ``entity`` ``*`` stands for a change it cannot follow row by row.
    """

    __tablename__ = "data_changes"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[int] = mapped_column(Integer, index=True)
    entity: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[str] = mapped_column(ID, default="")
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
