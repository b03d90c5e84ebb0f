"""Routers of the API. Each area appends its router here (one line) and ``create_app`` includes them all."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.routes import (
    accountability,
    admin_models,
    audit,
    candidates,
    graduates,
    notice,
    programs,
    skills,
    spreadsheets,
    vacancies,
)

ROUTERS: list[APIRouter] = [
    vacancies.router,
    spreadsheets.router,
    candidates.router,
    skills.router,
    audit.router,
    admin_models.router,
    programs.router,
    graduates.router,
    accountability.router,
    notice.router,
]
