"""One error shape for the whole API: ``{"error": {"code", "message", "details": [...]}}``.

Domain exceptions live beside the code that raises them; this module maps each one to an HTTP status
and a stable ``code``. Other areas add theirs with :func:`register_error`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from models.results import InvalidQuery, ModelNotFitted
from models.results import UnknownGraduate as MatcherUnknownGraduate
from models.results import UnknownVacancy as MatcherUnknownVacancy
from service.api.route_match import allowed_methods
from service.matching import ModelNotReady
from service.store.api_keys import InvalidKeyRequest
from service.store.outcomes import UndoExpired, UnknownOutcome
from service.store.skills import UnknownSkill
from service.store.vacancies import (
    EnterpriseNotFound,
    EnterpriseRequired,
    GraduateNotSeeking,
    InvalidVacancy,
    NotReopenable,
    UnknownGraduate,
    UnknownVacancy,
    VacancyClosed,
    VacancyConflict,
)
from service.usecases.admin import ModelRefused, TrainRunning, UnknownKey, UnknownModelVersion
from service.usecases.errors import Forbidden, RateLimited
from service.usecases.posting_check import DiscriminatoryPosting, PostingsRefused

logger = logging.getLogger("talentmatch.api")


class ApiError(Exception):
    """An error raised by the HTTP layer itself (authentication, access, limits)."""

    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        code: str | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []
        self.headers = headers
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code


class Unauthorized(ApiError):
    status_code = 401
    code = "unauthorized"


class NotFound(ApiError):
    status_code = 404
    code = "not_found"


class PayloadTooLarge(ApiError):
    status_code = 413
    code = "payload_too_large"


# exception type -> (status, code); the message is str(exc), details exc.details when present.
_DOMAIN_ERRORS: dict[type[Exception], tuple[int, str]] = {}


def register_error(exception: type[Exception], status_code: int, code: str) -> None:
    """Map a domain exception to a status and a stable error code."""
    _DOMAIN_ERRORS[exception] = (status_code, code)


register_error(Forbidden, 403, "forbidden")
register_error(UnknownVacancy, 404, "vacancy_not_found")
register_error(UnknownGraduate, 404, "graduate_not_found")
register_error(EnterpriseRequired, 403, "enterprise_required")
register_error(EnterpriseNotFound, 404, "enterprise_not_found")
register_error(UnknownSkill, 404, "unknown_skill")
register_error(VacancyClosed, 409, "vacancy_closed")
register_error(VacancyConflict, 409, "vacancy_conflict")
register_error(NotReopenable, 409, "vacancy_not_reopenable")
register_error(GraduateNotSeeking, 409, "graduate_not_seeking")
register_error(UnknownOutcome, 404, "outcome_not_found")
register_error(UndoExpired, 409, "undo_window_passed")
register_error(InvalidKeyRequest, 422, "invalid_key_request")
register_error(UnknownModelVersion, 404, "model_version_not_found")
register_error(ModelRefused, 409, "model_refused")
register_error(TrainRunning, 409, "train_running")
register_error(UnknownKey, 404, "key_not_found")
register_error(InvalidVacancy, 422, "invalid_vacancy")
register_error(DiscriminatoryPosting, 422, "discriminatory_posting")
register_error(PostingsRefused, 422, "discriminatory_posting")
register_error(ModelNotReady, 503, "model_not_ready")
register_error(ModelNotFitted, 503, "model_not_ready")
register_error(MatcherUnknownGraduate, 404, "graduate_not_found")
register_error(MatcherUnknownVacancy, 404, "vacancy_not_found")
register_error(InvalidQuery, 422, "invalid_query")


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


def error_body(code: str, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or []}}


def error_response(
    status_code: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status_code, headers=headers)


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


def validation_details(errors: list[Any]) -> list[dict[str, Any]]:
    details = []
    for error in errors:
        detail: dict[str, Any] = {
            "field": _field_path(error.get("loc", ())),
            "message": str(error.get("msg", "invalid value")),
            "type": str(error.get("type", "value_error")),
        }
        details.append(detail)
    return details


async def _rate_limited(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RateLimited)
    return error_response(
        429, "rate_limited", str(exc), exc.details, headers={"Retry-After": str(exc.retry_after)}
    )


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status_code, exc.code, exc.message, exc.details, exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(
            400, "malformed_json", "the request body is not valid JSON", validation_details(errors)
        )
    return error_response(422, "validation_error", "the request is not valid", validation_details(errors))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    if exc.status_code == 404 and message == "Not Found":
        message = "no such route"
    headers = getattr(exc, "headers", None)
    if exc.status_code == 405:
        message = f"method {request.method} is not allowed here"
        # Every method of the path: Starlette's own Allow names only the first route's (one route per method).
        allowed = allowed_methods(request.app, request.scope.get("path", ""))
        headers = {**(headers or {}), "Allow": ", ".join(allowed)}
    return error_response(exc.status_code, code, message, headers=headers)


def _domain_handler(status_code: int, code: str) -> Callable[..., Any]:
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        details = getattr(exc, "details", None)
        return error_response(status_code, code, str(exc), details if isinstance(details, list) else None)

    return handle


def _route(request: Request) -> str:
    """The route template (``/api/v1/graduates/{graduate_id}``): logs name no graduate or vacancy ids."""
    return getattr(request.scope.get("route"), "path", None) or "<unmatched>"


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    # Locked or unreachable database: retryable, and the driver's text (SQL, paths) stays in the log.
    request_id = request.scope.get("state", {}).get("request_id", "-")
    logger.warning(
        "database error in %s %s (request %s): %s",
        request.method,
        _route(request),
        request_id,
        getattr(exc, "orig", None) or type(exc).__name__,  # the driver's words, not the SQL's parameters
    )
    return error_response(
        503,
        "database_unavailable",
        "the database is busy or unreachable; retry shortly",
        headers={"Retry-After": "1"},
    )


async def _bad_value(request: Request, exc: Exception) -> JSONResponse:
    # e.g. a NUL byte PostgreSQL cannot store: the client's fault, answered without the driver's text.
    logger.info("database refused a value in %s %s: %s", request.method, _route(request), type(exc).__name__)
    return error_response(422, "invalid_value", "a value in the request cannot be stored or searched for")


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    for kind in type(exc).__mro__:  # a domain error registered after the app was built
        if kind in _DOMAIN_ERRORS:
            return await _domain_handler(*_DOMAIN_ERRORS[kind])(request, exc)
    request_id = request.scope.get("state", {}).get("request_id", "-")
    logger.exception("unhandled error in %s %s (request %s)", request.method, _route(request), request_id)
    return error_response(
        500, "internal_error", f"internal error; quote request id {request_id} when reporting it"
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register every handler on ``app`` (called by ``create_app``)."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RateLimited, _rate_limited)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for exception, (status_code, code) in _DOMAIN_ERRORS.items():
        app.add_exception_handler(exception, _domain_handler(status_code, code))
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(DataError, _bad_value)
    app.add_exception_handler(Exception, _unexpected)
