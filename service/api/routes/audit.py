"""The audit log (admin only): which key listed which candidates or plans, and when."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service.api.deps import AdminContext
from service.api.routes.common import API_PREFIX, AUTH_ERRORS, Limit, Offset, QueryTime, utc
from service.api.schemas import AuditEntryPublic, Page
from service.usecases import admin

router = APIRouter(prefix=f"{API_PREFIX}/admin", tags=["admin"], responses=AUTH_ERRORS)


@router.get("/audit", response_model=Page[AuditEntryPublic])
def list_audit(
    ctx: AdminContext,
    key_id: Annotated[str | None, Query(max_length=32, description="Only entries of this key.")] = None,
    action: Annotated[
        str | None, Query(max_length=64, description="Only this action, e.g. list_candidates.")
    ] = None,
    since: Annotated[
        QueryTime, Query(description="Only entries at or after this time (UTC, ISO 8601).")
    ] = None,
    until: Annotated[QueryTime, Query(description="Only entries before this time (UTC, ISO 8601).")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[AuditEntryPublic]:
    """Audit entries, newest first, with the name of the key that acted."""
    page = admin.list_audit(
        ctx, key_id=key_id, action=action, since=utc(since), until=utc(until), limit=limit, offset=offset
    )
    return Page[AuditEntryPublic](
        items=[
            AuditEntryPublic.model_validate(e, from_attributes=True).model_copy(
                update={"key_name": page.who(e.key_id) or None}
            )
            for e in page.items
        ],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )
