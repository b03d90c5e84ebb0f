"""Dependencies of the page routes: the database session, the signed-in user, a CSRF-checked form."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request

from service.api.deps import ServicesDep, SessionDep
from service.store.api_keys import KeyIdentity
from service.store.tables import ApiKey
from service.usecases.context import Context, open_context
from service.web.security import CSRF_FIELD, csrf_valid

USER_SESSION_KEY = "key_id"


class PageError(Exception):
    """Shown to the user as a friendly error page with ``status_code``."""

    def __init__(
        self, status_code: int, *, title_key: str | None = None, body_key: str | None = None
    ) -> None:
        super().__init__(f"page error {status_code}")
        self.status_code = status_code
        self.title_key = title_key or f"error.{status_code}.title"
        self.body_key = body_key or f"error.{status_code}.body"


class SignInRequired(Exception):
    """No (valid) signed-in user: send the browser to the sign-in page."""


DbDep = SessionDep  # one session per request, shared with the context the page's action runs in


def identity_of(session: Session, key_id: object) -> KeyIdentity | None:
    """The identity behind a signed-in session, re-checked on every request (a revoked key ends it)."""
    if not isinstance(key_id, str) or not key_id:
        return None
    key = session.get(ApiKey, key_id)
    if key is None or key.revoked_at is not None:
        return None
    return KeyIdentity(
        key_id=key.key_id,
        role=key.role,
        enterprise_id=key.enterprise_id,
        school_id=key.school_id,
        name=key.name,
    )


def optional_user(request: Request, db: DbDep) -> KeyIdentity | None:
    user = identity_of(db, request.session.get(USER_SESSION_KEY))
    if user is None and USER_SESSION_KEY in request.session:
        request.session.pop(USER_SESSION_KEY, None)
    request.state.web_user = user
    return user


def page_context(
    user: Annotated[KeyIdentity | None, Depends(optional_user)], db: DbDep, services: ServicesDep
) -> Context:
    """The signed-in user's :class:`Context` for this page: one token of the key's rate limit, as an API
    request takes."""
    if user is None:
        raise SignInRequired()
    return open_context(services, db, user, via="web")


PageContext = Annotated[Context, Depends(page_context)]


def current_user(context: PageContext) -> KeyIdentity:
    return context.principal


UserDep = Annotated[KeyIdentity, Depends(current_user)]
OptionalUserDep = Annotated[KeyIdentity | None, Depends(optional_user)]


def require(user: KeyIdentity, *roles: str) -> None:
    """403 page unless the user has one of ``roles``."""
    if user.role not in roles:
        raise PageError(403)


async def checked_form(request: Request) -> FormData:
    """The POSTed form, after its CSRF token was checked against the session's."""
    form = await request.form()
    if not csrf_valid(request, form.get(CSRF_FIELD)):
        raise PageError(403, title_key="error.csrf.title", body_key="error.csrf.body")
    return form


FormDep = Annotated[FormData, Depends(checked_form)]
