"""Dependencies of the page routes: the database session, the signed-in user, a CSRF-checked form."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Depends
from starlette.datastructures import FormData
from starlette.requests import Request

from service.api.deps import ServicesDep, SessionDep
from service.store import web_sessions
from service.store.api_keys import KeyIdentity
from service.store.web_sessions import ActiveSession
from service.usecases.context import Context, open_context
from service.web.security import CSRF_FIELD, csrf_valid, web_clock

SESSION_TOKEN_KEY = "sid"  # the cookie's random session token; everything else is on the server


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


def identity_of(active: ActiveSession) -> KeyIdentity:
    key = active.key
    return KeyIdentity(
        key_id=key.key_id,
        role=key.role,
        enterprise_id=key.enterprise_id,
        school_id=key.school_id,
        name=key.name,
    )


def optional_user(request: Request, db: DbDep) -> KeyIdentity | None:
    """The signed-in user, from the server-side session whose random token the cookie carries; checked on
    every request, so sign-out, a revoked key, the idle timeout and the lifetime end it at once."""
    settings = request.app.state.settings
    token = request.session.get(SESSION_TOKEN_KEY)
    active = None
    if token is not None:
        active = web_sessions.resolve(
            session=db,
            token=token,
            now=web_clock(request),
            idle=timedelta(minutes=settings.session_idle_minutes),
        )
        db.commit()  # the touch (or the deletion of an ended session) even when the page writes nothing
        if active is None:
            request.session.pop(SESSION_TOKEN_KEY, None)
    user = identity_of(active) if active is not None else None
    request.state.web_session = active
    request.state.web_user = user
    if user is not None:
        request.state.key_id = user.key_id  # the access log's key id, as for the API
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


async def checked_form(request: Request, user: OptionalUserDep) -> FormData:
    """The POSTed form, after its CSRF token was checked against the session's (the signed-in server-side
    session's once signed in)."""
    form = await request.form()
    if not csrf_valid(request, form.get(CSRF_FIELD)):
        raise PageError(403, title_key="error.csrf.title", body_key="error.csrf.body")
    return form


FormDep = Annotated[FormData, Depends(checked_form)]
