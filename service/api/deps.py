"""Typed dependencies of the API routes: ``SessionDep``, ``CurrentKey``, role-restricted keys,
``ModelDep`` and ``MatchingDep``.

Usage in a route::

    def list_things(session: SessionDep, key: SchoolKey) -> ...

``SchoolKey`` lets admin and school keys in (403 for others); ``CurrentKey`` any valid key.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from service.api.auth import ROLE_ADMIN, ROLE_HR, ROLE_SCHOOL, authenticate_request, check_role
from service.matching import MatchingService, ModelNotReady
from service.settings import Settings
from service.store.api_keys import KeyIdentity


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    """A session per request; routes commit their writes, anything uncommitted is rolled back."""
    with request.app.state.sessionmaker() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def get_current_key(request: Request, session: SessionDep) -> KeyIdentity:
    return authenticate_request(request, session)


CurrentKey = Annotated[KeyIdentity, Depends(get_current_key)]


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


def get_model(request: Request) -> Any:
    """The LoadedModel to use for this whole request; 503 ``model_not_ready`` before the first model."""
    model = request.app.state.model_holder.get()
    if model is None:
        raise ModelNotReady()
    return model


ModelDep = Annotated[Any, Depends(get_model)]
