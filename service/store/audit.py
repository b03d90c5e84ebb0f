"""The audit log: who (which key) listed which candidates or plans, and when."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.store.tables import AuditEntry


def record(
    *,
    session: Session,
    key_id: str | None,
    action: str,
    resource: str,
    detail: Mapping[str, Any] | str | None = None,
) -> AuditEntry:
    """Add an audit entry to the caller's transaction.

    ``detail`` is a small mapping (stored as JSON) or a string; never put personal data in it.
    """
    text = detail if isinstance(detail, str) else json.dumps(dict(detail or {}), ensure_ascii=False)
    entry = AuditEntry(
        at=datetime.now(UTC).replace(tzinfo=None),
        key_id=key_id,
        action=action,
        resource=resource,
        detail=text,
    )
    session.add(entry)
    return entry


def list_entries(
    *,
    session: Session,
    key_id: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[AuditEntry], int]:
    """Newest first, optionally for one key, one action, and from ``since`` (inclusive) to ``until``
    (exclusive, naive UTC); returns the page and the total."""
    query = select(AuditEntry)
    if key_id:
        query = query.where(AuditEntry.key_id == key_id)
    if action:
        query = query.where(AuditEntry.action == action)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = session.scalars(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit).offset(offset)
    )
    return list(items), int(total)


def actions(*, session: Session) -> list[str]:
    """The actions the log holds, by name."""
    return sorted(session.scalars(select(AuditEntry.action).distinct()))
