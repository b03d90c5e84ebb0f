"""Accountability of the decisions the service informs: who recorded each outcome, what the model showed them,
and an export of the record for an audit.

No outcome is recorded automatically: the only writer of an outcome is
:func:`service.usecases.outcomes.record_outcome`, called for one graduate and one vacancy by a person's key
(HR through the API or the candidates page). It stamps the outcome with that key, the surface, and the model
version and score the serving model gives the pair at that moment (:func:`shown`, :func:`stamp`). Outcomes
are kept at least ``TALENTMATCH_OUTCOME_RETENTION_DAYS`` (183 by default): ``talentmatch purge`` keeps a
graduate with a younger recorded outcome (:mod:`service.store.retention`). An admin exports them
(:func:`export_outcomes`: ``GET /api/v1/admin/outcomes``, ``talentmatch outcomes export``) as JSON or CSV.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select

from models.results import ModelNotFitted
from models.results import UnknownGraduate as MatcherUnknownGraduate
from models.results import UnknownVacancy as MatcherUnknownVacancy
from service.matching import ModelNotReady
from service.store.tables import Interaction, Vacancy
from service.usecases.context import ADMIN_ROLES, Context

ExportFormat = Literal["json", "csv"]
MAX_EXPORT_ROWS = 1_000_000


@dataclass(frozen=True)
class Shown:
    """What the serving model said of a pair when an outcome was recorded (None when it could not say:
    no model served, or the graduate or vacancy not in its pool)."""

    model_version: str | None
    score: float | None


def shown(ctx: Context, vacancy_id: str, graduate_id: str) -> Shown:
    """The serving model's version and its score for the pair now (what the candidates list shows)."""
    matching = ctx.matching()
    try:
        snapshot, scores = matching.score_pairs(
            session=ctx.session, graduate_ids=[graduate_id], vacancy_ids=[vacancy_id]
        )
    except (ModelNotReady, ModelNotFitted):
        return Shown(None, None)
    except (MatcherUnknownGraduate, MatcherUnknownVacancy):
        model = matching.model_source()
        return Shown(model.version if model is not None else None, None)
    return Shown(snapshot.model_version, round(float(scores[0]), 6))


def stamp(ctx: Context, interaction: Interaction, seen: Shown) -> None:
    """Mark a newly recorded outcome with who recorded it and what the model showed (written with it)."""
    interaction.recorded_by = ctx.principal.key_id
    interaction.recorded_via = ctx.via
    interaction.model_version = seen.model_version
    interaction.shown_score = seen.score


@dataclass(frozen=True)
class OutcomeRecord:
    """One recorded outcome as an audit reads it (pseudonymous graduate id, no other personal data)."""

    occurred_at: str
    vacancy_id: str
    enterprise_id: str
    graduate_id: str
    event: str
    recorded_by: str
    recorded_via: str
    model_version: str
    shown_score: float | None


FIELDS = tuple(OutcomeRecord.__dataclass_fields__)


@dataclass(frozen=True)
class OutcomeExport:
    records: list[OutcomeRecord]
    since: datetime | None
    until: datetime | None

    def to_json(self) -> str:
        return json.dumps(
            {
                "since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None,
                "count": len(self.records),
                "items": [asdict(r) for r in self.records],
            },
            ensure_ascii=False,
            indent=1,
        )

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(FIELDS)
        for record in self.records:
            row = asdict(record)
            writer.writerow(["" if row[f] is None else row[f] for f in FIELDS])
        return out.getvalue()

    def render(self, fmt: ExportFormat) -> str:
        return self.to_csv() if fmt == "csv" else self.to_json()


def export_outcomes(
    ctx: Context,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    enterprise_id: str | None = None,
) -> OutcomeExport:
    """Every outcome recorded by a person (admin only), oldest first, optionally within ``[since, until)``
    and for one enterprise. Imported history (no recorder) is not part of it. Audited with the count."""
    ctx.require(ADMIN_ROLES)
    query = (
        select(Interaction, Vacancy.enterprise_id)
        .join(Vacancy, Vacancy.vacancy_id == Interaction.vacancy_id)
        .where(Interaction.recorded_by.is_not(None))
    )
    if since is not None:
        query = query.where(Interaction.occurred_at >= since)
    if until is not None:
        query = query.where(Interaction.occurred_at < until)
    if enterprise_id is not None:
        query = query.where(Vacancy.enterprise_id == enterprise_id)
    rows = ctx.session.execute(
        query.order_by(Interaction.occurred_at, Interaction.id).limit(MAX_EXPORT_ROWS)
    ).all()
    records = [_record(interaction, enterprise) for interaction, enterprise in rows]
    ctx.audit(
        "export_outcomes",
        "outcomes",
        {
            "count": len(records),
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "enterprise": enterprise_id,
        },
    )
    ctx.commit()
    return OutcomeExport(records, since, until)


def _record(interaction: Interaction, enterprise_id: str) -> OutcomeRecord:
    return OutcomeRecord(
        occurred_at=interaction.occurred_at.isoformat(timespec="seconds"),
        vacancy_id=interaction.vacancy_id,
        enterprise_id=enterprise_id,
        graduate_id=interaction.graduate_id,
        event=interaction.event,
        recorded_by=interaction.recorded_by or "",
        recorded_via=interaction.recorded_via or "",
        model_version=interaction.model_version or "",
        shown_score=interaction.shown_score,
    )


def fields() -> Sequence[str]:
    """The columns of the CSV export, in order."""
    return FIELDS
