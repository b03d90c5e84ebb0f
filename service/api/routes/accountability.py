"""The record of decisions for an audit (admin only): every outcome a person recorded, with the model version
and score shown then (:mod:`service.usecases.accountability`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from service.api.deps import AdminContext
from service.api.routes.common import API_PREFIX, AUTH_ERRORS, QueryTime, responses, utc
from service.api.schemas import OutcomesExportPublic
from service.usecases import accountability

router = APIRouter(prefix=f"{API_PREFIX}/admin", tags=["admin"], responses=AUTH_ERRORS)

CSV_RESPONSE: dict[int, dict[str, Any]] = {
    200: {
        "description": "With `format=csv`: the same records as CSV (UTF-8, a header row; columns as the JSON "
        "items' keys).",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


@router.get("/outcomes", response_model=OutcomesExportPublic, responses=responses(CSV_RESPONSE))
def export_outcomes(
    ctx: AdminContext,
    format: Annotated[Literal["json", "csv"], Query(description="json (default) or csv.")] = "json",
    since: Annotated[
        QueryTime, Query(description="Only outcomes at or after this time (UTC, ISO 8601).")
    ] = None,
    until: Annotated[QueryTime, Query(description="Only outcomes before this time (UTC, ISO 8601).")] = None,
    enterprise_id: Annotated[
        str | None, Query(max_length=64, description="Only this enterprise's vacancies.")
    ] = None,
) -> Any:
    """Every outcome recorded by a person, oldest first: who recorded it, through which surface, and the
    model version and score the service showed for the pair then (audited)."""
    result = accountability.export_outcomes(
        ctx, since=utc(since), until=utc(until), enterprise_id=enterprise_id
    )
    if format == "csv":
        return Response(
            result.to_csv(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="outcomes.csv"'},
        )
    return OutcomesExportPublic.model_validate_json(result.to_json())
