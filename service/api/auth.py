"""Bearer-key authentication and the access rule.

Access rule (documented in docs/api.md):

- no key, a malformed, unknown or revoked key → **401** ``unauthorized``;
- a role that may never use a route (e.g. ``school`` on ``/vacancies``) → **403** ``forbidden``;
- a resource that exists but belongs to another enterprise or school → **404**, exactly as if it
  did not exist, so existence never leaks across tenants.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request
from sqlalchemy.orm import Session

from service.api.errors import Unauthorized
from service.store.api_keys import KeyIdentity
from service.usecases.context import ROLE_HR, ROLE_SCHOOL, require_role
from service.usecases.key_cache import KeyCache

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate_token(*, session: Session, token: str | None, keys: KeyCache) -> KeyIdentity:
    """The identity behind ``token``; raises :class:`Unauthorized` (401) for anything not a live key.

    ``keys`` remembers verified keys for a few seconds (the secret is checked every time)."""
    if token is None:
        raise Unauthorized("missing API key: send `Authorization: Bearer <key>`", headers=_CHALLENGE)
    identity = keys.authenticate(session=session, token=token)
    if identity is None:
        raise Unauthorized("invalid or revoked API key", headers=_CHALLENGE)
    return identity


def authenticate_request(request: Request, session: Session, keys: KeyCache) -> KeyIdentity:
    token = bearer_token(request.headers.get("authorization"))
    identity = authenticate_token(session=session, token=token, keys=keys)
    # The access log reads the key id (never the key) from the request state.
    request.state.key_id = identity.key_id
    return identity


def cached_identity(request: Request, keys: KeyCache) -> KeyIdentity | None:
    """The request's identity when its key is cached (:meth:`KeyCache.known`: no store read, so fit for
    the event loop); None when :func:`authenticate_request` has to answer."""
    token = bearer_token(request.headers.get("authorization"))
    identity = keys.known(token) if token is not None else None
    if identity is not None:
        request.state.key_id = identity.key_id
    return identity


def check_role(identity: KeyIdentity, roles: tuple[str, ...]) -> KeyIdentity:
    require_role(identity, roles)
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
