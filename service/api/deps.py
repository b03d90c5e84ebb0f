"""Typed dependencies of the API routes: ``SessionDep``, ``CurrentKey``, role-restricted keys and
``MatchingDep``.

Usage in a route::

    def list_things(session: SessionDep, key: SchoolKey) -> ...

``SchoolKey`` lets admin and school keys in (403 for others); ``CurrentKey`` any valid key.

Dependencies that only read the app's state or check a role are ``async``, and so is the session's (see
:func:`get_session`): FastAPI runs a plain ``def`` dependency in the thread pool, one hop per dependency per
request (two for a generator). The context is opened on the event loop when its key is cached and its rate
limit counted in this process, else in the thread pool, where it may read the database or Redis
(:func:`get_context`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

import anyio
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from service.api.auth import authenticate_request, cached_identity, check_role
from service.matching import MatchingService
from service.settings import Settings
from service.store.api_keys import KeyIdentity
from service.usecases.context import (
    ADMIN_ROLES,
    HR_ROLES,
    ROLE_ADMIN,
    ROLE_HR,
    ROLE_SCHOOL,
    SCHOOL_ROLES,
    Context,
    Services,
    open_context,
)


async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session per request; routes commit their writes, anything uncommitted is rolled back.

    Made on the event loop (a session connects only when first used) and, once its work is committed, closed
    there too (nothing is left to roll back, the connection is already back in the pool); a session still in
    a transaction is rolled back and closed in the thread pool, shielded so a client gone away cannot leak it.
    """
    session = request.app.state.sessionmaker()
    try:
        yield session
    finally:
        if session.in_transaction():
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(session.close)
        else:
            session.close()


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_context(request: Request, session: SessionDep, services: ServicesDep) -> Context:
    """The request's :class:`Context`: the bearer key authenticated, one token of its rate limit taken.

    On the event loop when neither needs to wait (the key cached, the rate limit counted in this process),
    else in the thread pool: a thread-pool hop costs more than the check, and under load each hop waits for
    the interpreter lock twice."""
    identity = None if services.rate_limiter.blocking else cached_identity(request, services.keys)
    if identity is not None:
        return open_context(services, session, identity, via="api")
    return await run_in_threadpool(_opened_context, request, session, services)


def _opened_context(request: Request, session: Session, services: Services) -> Context:
    identity = authenticate_request(request, session, services.keys)
    return open_context(services, session, identity, via="api")


ContextDep = Annotated[Context, Depends(get_context)]


async def get_current_key(context: ContextDep) -> KeyIdentity:
    return context.principal


CurrentKey = Annotated[KeyIdentity, Depends(get_current_key)]


def _role_context(roles: tuple[str, ...]) -> Callable[[Context], Awaitable[Context]]:
    # Checked before the body is validated, so a role that may never call a route gets 403, not 422.
    async def check(context: ContextDep) -> Context:
        check_role(context.principal, roles)
        return context

    return check


AdminContext = Annotated[Context, Depends(_role_context(ADMIN_ROLES))]
HrContext = Annotated[Context, Depends(_role_context(HR_ROLES))]  # admin or hr
SchoolContext = Annotated[Context, Depends(_role_context(SCHOOL_ROLES))]  # admin or school


async def _admin(key: CurrentKey) -> KeyIdentity:
    return check_role(key, (ROLE_ADMIN,))


async def _hr(key: CurrentKey) -> KeyIdentity:
    return check_role(key, (ROLE_ADMIN, ROLE_HR))


async def _school(key: CurrentKey) -> KeyIdentity:
    return check_role(key, (ROLE_ADMIN, ROLE_SCHOOL))


AdminKey = Annotated[KeyIdentity, Depends(_admin)]
HrKey = Annotated[KeyIdentity, Depends(_hr)]  # admin or hr
SchoolKey = Annotated[KeyIdentity, Depends(_school)]  # admin or school


async def get_matching(request: Request) -> MatchingService:
    return request.app.state.matching


MatchingDep = Annotated[MatchingService, Depends(get_matching)]
