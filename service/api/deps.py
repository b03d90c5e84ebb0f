"""Typed dependencies of the API routes: ``SessionDep``, ``CurrentKey``, role-restricted keys and
``MatchingDep``.

Usage in a route::

    def list_things(session: SessionDep, key: SchoolKey) -> ...

``SchoolKey`` lets admin and school keys in (403 for others); ``CurrentKey`` any valid key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from service.api.auth import authenticate_request, check_role
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


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    """A session per request; routes commit their writes, anything uncommitted is rolled back."""
    with request.app.state.sessionmaker() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_context(request: Request, session: SessionDep, services: ServicesDep) -> Context:
    """The request's :class:`Context`: the bearer key authenticated, one token of its rate limit taken."""
    identity = authenticate_request(request, session, services.keys)
    return open_context(services, session, identity, via="api")


ContextDep = Annotated[Context, Depends(get_context)]


def get_current_key(context: ContextDep) -> KeyIdentity:
    return context.principal


CurrentKey = Annotated[KeyIdentity, Depends(get_current_key)]


def _role_context(roles: tuple[str, ...]) -> Callable[[Context], Context]:
    # Checked before the body is validated, so a role that may never call a route gets 403, not 422.
    def check(context: ContextDep) -> Context:
        check_role(context.principal, roles)
        return context

    return check


AdminContext = Annotated[Context, Depends(_role_context(ADMIN_ROLES))]
HrContext = Annotated[Context, Depends(_role_context(HR_ROLES))]  # admin or hr
SchoolContext = Annotated[Context, Depends(_role_context(SCHOOL_ROLES))]  # admin or school


def _admin(key: CurrentKey) -> KeyIdentity:
    return check_role(key, (ROLE_ADMIN,))


def _hr(key: CurrentKey) -> KeyIdentity:
    return check_role(key, (ROLE_ADMIN, ROLE_HR))


def _school(key: CurrentKey) -> KeyIdentity:
    return check_role(key, (ROLE_ADMIN, ROLE_SCHOOL))


AdminKey = Annotated[KeyIdentity, Depends(_admin)]
HrKey = Annotated[KeyIdentity, Depends(_hr)]  # admin or hr
SchoolKey = Annotated[KeyIdentity, Depends(_school)]  # admin or school


def get_matching(request: Request) -> MatchingService:
    return request.app.state.matching


MatchingDep = Annotated[MatchingService, Depends(get_matching)]
