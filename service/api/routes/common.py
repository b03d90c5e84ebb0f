"""Shared bits of the routers: the documented error responses and pagination parameters."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Header, Query
from pydantic import BeforeValidator

from service.api.schemas import ErrorResponse
from service.usecases.upload_text import accept_language

API_PREFIX = "/api/v1"


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: _error("Missing, unknown or revoked API key."),
    403: _error("This key's role may not use this route."),
    422: _error("The request is not valid; `details` name each field."),
    429: _error("This key went over its rate limit; see `Retry-After`."),
}
NOT_FOUND: dict[int, dict[str, Any]] = {
    404: _error("No such resource, or one of another enterprise or school.")
}
CONFLICT: dict[int, dict[str, Any]] = {
    409: _error("The resource's state does not allow this (e.g. a closed vacancy).")
}
BODY_ERRORS: dict[int, dict[str, Any]] = {
    400: _error("The body is not valid JSON."),
    413: _error("The body is larger than the limit."),
}
MODEL_NOT_READY: dict[int, dict[str, Any]] = {503: _error("No trained model is served yet.")}


def responses(*parts: Mapping[int, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    """Merge documented responses for a route's ``responses=``."""
    merged: dict[int | str, dict[str, Any]] = {}
    for part in parts:
        for status_code, spec in part.items():
            merged[status_code] = spec
    return merged


Limit = Annotated[int, Query(ge=1, le=100, description="Page size (at most 100).")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip.")]
Personalised = Annotated[
    bool,
    Query(
        description="false: a non-personalised list by plain filters and skill overlap, without the "
        "trained model (PIPL art. 24); `model_version` then reads `non-personalised`."
    ),
]
IncludeBelowFloor = Annotated[
    bool,
    Query(
        description="true: also list the ranks asked for that score below the recommendation floor "
        "(they are not recommendations; `below_floor` counts them either way)."
    ),
]


def request_language(
    accept_language_header: Annotated[
        str | None,
        Header(
            alias="Accept-Language",
            description="The language of an upload's problems: `en` or Chinese (the default, zh-CN).",
        ),
    ] = None,
) -> str:
    return accept_language(accept_language_header)


Language = Annotated[str, Depends(request_language)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_RESPONSE: dict[int, dict[str, Any]] = {
    200: {
        "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
        "description": "An .xlsx file.",
    }
}


def utc(value: datetime | None) -> datetime | None:
    """A query time as the store keeps times: naive UTC (an offset is converted, none means UTC)."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _not_a_number(value: object) -> object:
    """Times are ISO 8601 text: a bare number (which pydantic would read as a Unix time) is refused."""
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value.strip())):
        raise ValueError("expected an ISO 8601 date or time, e.g. 2026-11-01 or 2026-11-01T09:00:00")
    return value


# A time in a query string: ISO 8601 only (never a bare number read as a Unix time).
QueryTime = Annotated[datetime | None, BeforeValidator(_not_a_number)]

# ``?preview=true`` on an upload: what would be written, nothing written.
Preview = Annotated[
    bool, Query(description="true: answer what would be added and updated (each row), write nothing.")
]
