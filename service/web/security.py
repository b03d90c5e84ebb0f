"""Security of the web pages: the session cookie, CSRF tokens and response headers.

The cookie is signed, but its signature is not what keeps sessions safe: a signed-in cookie carries only the
random token of a server-side session (:mod:`service.store.web_sessions`). Once signed in, the CSRF token is
derived from that session, so a forged cookie (say, with the default secret) has neither a session nor a
valid CSRF token. Before sign-in, the sign-in form's CSRF token lives in the cookie.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Iterable
from datetime import datetime

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.store.api_keys import utcnow
from service.store.web_sessions import ActiveSession, csrf_for

SESSION_COOKIE = "talentmatch_session"
# Where the pages read the time for sessions (naive UTC); a test sets its own clock on ``app.state``.
Clock = Callable[[], datetime]
CLOCK_STATE = "web_clock"
CSRF_FIELD = "csrf_token"
CSRF_SESSION_KEY = "csrf"

# No inline scripts or styles anywhere: charts are inline SVG with presentation attributes.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"cache-control", b"no-store"),
)
# Paths whose pages are not ours (the API answers JSON; Swagger UI needs its own scripts).
FOREIGN_PREFIXES = ("/api/", "/docs", "/redoc", "/openapi.json", "/healthz")


def is_page_path(path: str) -> bool:
    return not any(path == p.rstrip("/") or path.startswith(p) for p in FOREIGN_PREFIXES)


def web_clock(request: Request) -> datetime:
    clock: Clock = getattr(request.app.state, CLOCK_STATE, utcnow)
    return clock()


def _signed_in(request: Request) -> ActiveSession | None:
    active = getattr(request.state, "web_session", None)
    return active if isinstance(active, ActiveSession) else None


def csrf_token(request: Request) -> str:
    """This session's CSRF token: the server-side session's when signed in, else one made on first use."""
    active = _signed_in(request)
    if active is not None:
        return csrf_for(active)
    token = request.session.get(CSRF_SESSION_KEY)
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_SESSION_KEY] = token
    return token


def csrf_valid(request: Request, submitted: object) -> bool:
    active = _signed_in(request)
    expected = csrf_for(active) if active is not None else request.session.get(CSRF_SESSION_KEY)
    if not isinstance(expected, str) or not isinstance(submitted, str) or not submitted:
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())


class SecurityHeadersMiddleware:
    """Adds the page headers (CSP, nosniff, frame denial, referrer policy) to every web page response."""

    def __init__(self, app: ASGIApp, headers: Iterable[tuple[bytes, bytes]] = PAGE_HEADERS) -> None:
        self.app = app
        self.headers = tuple(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_page_path(scope.get("path", "")):
            await self.app(scope, receive, send)
            return

        static = scope.get("path", "").startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in self.headers if n not in present]
                if static:  # the stylesheet and icon may be cached
                    extra = [(n, v) for n, v in extra if n != b"cache-control"]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)
