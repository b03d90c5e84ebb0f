"""Server-rendered pages for HR staff, placement officers and administrators.

``install_web(app, settings)`` mounts everything on the app: the session cookie (the token of a server-side
session once signed in, see ``service/web/security.py``), the security
headers, the stylesheet, the page routes and friendly HTML error pages (the API keeps its JSON errors).
Call it last in ``create_app``, after the API's error handlers are installed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from service.settings import Settings
from service.store.api_keys import utcnow
from service.web.deps import PageError, SignInRequired
from service.web.pages import admin, auth, hr, notice, school, uploads
from service.web.rendering import STATIC_DIR, flash, redirect, render
from service.web.security import CLOCK_STATE, SESSION_COOKIE, SecurityHeadersMiddleware, is_page_path

logger = logging.getLogger("talentmatch.web")

Handler = Callable[[Request, Exception], Awaitable[Response] | Response]


def build_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)
    for module in (auth, uploads, hr, school, admin):  # uploads first: /vacancies/import is no vacancy id
        router.include_router(module.router)
    router.include_router(notice.router)  # the algorithm notice: public
    return router


def error_page(
    request: Request,
    status_code: int,
    *,
    title_key: str | None = None,
    body_key: str | None = None,
    detail: str = "",
) -> Response:
    known = {400, 401, 403, 404, 429, 500}
    shown = status_code if status_code in known else (500 if status_code >= 500 else 400)
    title_key = title_key or {409: "error.conflict.title", 503: "error.model.title"}.get(
        status_code, f"error.{shown}.title"
    )
    if body_key is None:
        body_key = {503: "error.model.body"}.get(status_code, "" if detail else f"error.{shown}.body")
    return render(
        request,
        "error.html",
        {"status_code": status_code, "title_key": title_key, "body_key": body_key, "detail": detail},
        status_code=status_code,
    )


async def _page_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageError)
    return error_page(request, exc.status_code, title_key=exc.title_key, body_key=exc.body_key)


async def _sign_in_required(request: Request, exc: Exception) -> Response:
    flash(request, "signin.expired", "error")
    return redirect("/")


def _wrap(original: Handler) -> Handler:
    """Keep the API's JSON answer for API paths; turn it into a friendly page on page paths."""

    async def handle(request: Request, exc: Exception) -> Response:
        result = original(request, exc)
        response = await result if isinstance(result, Awaitable) else result
        if not is_page_path(request.url.path):
            return response
        status = response.status_code
        detail = ""
        if status in (409, 422):
            # Domain messages (e.g. "vacancy is closed") are useful; server errors never leak details.
            try:
                body: Any = json.loads(bytes(response.body))
                detail = str(body.get("error", {}).get("message", ""))
            except (ValueError, AttributeError):
                detail = ""
        if status in (401, 403, 404):
            detail = ""
        return error_page(request, status, detail=detail)

    return handle


async def _fallback(request: Request, exc: Exception) -> Response:
    from starlette.exceptions import HTTPException

    if isinstance(exc, HTTPException):
        return Response(status_code=exc.status_code)
    logger.exception("unhandled error on %s", request.url.path)
    return Response(status_code=500)


def install_web(app: FastAPI, settings: Settings) -> None:
    """Add the pages, session cookie, security headers and HTML error pages to ``app``."""
    from starlette.exceptions import HTTPException as StarletteHTTPException

    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.session_secret,
        session_cookie=SESSION_COOKIE,
        max_age=int(settings.session_lifetime_hours * 3600),
        same_site="lax",
        https_only=settings.session_https_only,
    )
    setattr(app.state, CLOCK_STATE, utcnow)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    app.include_router(build_router())
    app.add_exception_handler(PageError, _page_error)
    app.add_exception_handler(SignInRequired, _sign_in_required)
    for exc_type in (StarletteHTTPException, Exception):
        if exc_type not in app.exception_handlers:
            app.add_exception_handler(exc_type, _fallback)
    for exc_type, handler in list(app.exception_handlers.items()):
        if exc_type in (PageError, SignInRequired):
            continue
        app.add_exception_handler(exc_type, _wrap(handler))
