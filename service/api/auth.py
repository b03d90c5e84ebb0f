"""Bearer-key authentication and the access rule.

Access rule (documented in docs/api.md):

- no key, a malformed, unknown or revoked key → **401** ``unauthorized``;
- a role that may never use a route (e.g. ``school`` on ``/vacancies``) → **403** ``forbidden``;
- a resource that exists but belongs to another enterprise or school → **404**, exactly as if it
  did not exist, so existence never leaks across tenants.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from fastapi import Request
from sqlalchemy.orm import Session

from service.api.errors import ApiError, Forbidden, Unauthorized
from service.store.api_keys import KeyIdentity, authenticate

ROLE_ADMIN = "admin"
ROLE_HR = "hr"
ROLE_SCHOOL = "school"
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate_token(*, session: Session, token: str | None) -> KeyIdentity:
    """The identity behind ``token``; raises :class:`Unauthorized` (401) for anything not a live key."""
    if token is None:
        raise Unauthorized("missing API key: send `Authorization: Bearer <key>`", headers=_CHALLENGE)
    identity = authenticate(session=session, token=token)
    if identity is None:
        raise Unauthorized("invalid or revoked API key", headers=_CHALLENGE)
    return identity


def authenticate_request(request: Request, session: Session) -> KeyIdentity:
    identity = authenticate_token(session=session, token=bearer_token(request.headers.get("authorization")))
    # The access log reads the key id (never the key) from the request state.
    request.state.key_id = identity.key_id
    limiter = getattr(request.app.state, "rate_limiter", None)
    if limiter is not None:
        limiter.check(identity.key_id)
    return identity


class RateLimited(ApiError):
    status_code = 429
    code = "rate_limited"


class RateLimiter:
    """A token bucket per key: ``per_minute`` requests a minute, bursts up to the same number.

    Counted per process (each uvicorn worker keeps its own buckets). ``per_minute <= 0`` disables it.
    """

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, last refill time)
        self._lock = threading.Lock()

    def retry_after(self, key_id: str) -> float | None:
        """Take one token for ``key_id``; None when allowed, else seconds until the next token."""
        if self.per_minute <= 0:
            return None
        rate = self.per_minute / 60.0
        with self._lock:
            now = self.clock()
            tokens, last = self._buckets.get(key_id, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - last) * rate)
            if tokens < 1.0:
                self._buckets[key_id] = (tokens, now)
                return (1.0 - tokens) / rate
            self._buckets[key_id] = (tokens - 1.0, now)
            return None

    def check(self, key_id: str) -> None:
        wait = self.retry_after(key_id)
        if wait is not None:
            seconds = max(1, math.ceil(wait))
            raise RateLimited(
                f"too many requests for this key; retry in {seconds} s",
                headers={"Retry-After": str(seconds)},
                details=[{"limit_per_minute": self.per_minute}],
            )


def check_role(identity: KeyIdentity, roles: tuple[str, ...]) -> KeyIdentity:
    if identity.role not in roles:
        raise Forbidden(f"a {identity.role} key may not use this route (allowed: {', '.join(roles)})")
    return identity


def enterprise_scope(identity: KeyIdentity) -> str | None:
    """The enterprise an hr key is bound to; None (all enterprises) for admin."""
    return identity.enterprise_id if identity.role == ROLE_HR else None


def school_scope(identity: KeyIdentity) -> str | None:
    """The school a school key is bound to; None (all schools) for admin."""
    return identity.school_id if identity.role == ROLE_SCHOOL else None


def role_checker(*roles: str) -> Callable[[KeyIdentity], KeyIdentity]:
    def check(identity: KeyIdentity) -> KeyIdentity:
        return check_role(identity, roles)

    return check
