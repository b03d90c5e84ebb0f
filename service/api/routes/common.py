"""Shared bits of the routers: the documented error responses and pagination parameters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Depends, Header, Query

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
