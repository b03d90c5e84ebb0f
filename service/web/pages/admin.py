"""Admin page: the model being served, the registry's versions with their metrics, data counts, audit log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response

from service.api.deps import SessionDep, SettingsDep
from service.store import audit
from service.store.session import data_version
from service.store.tables import (
    ApiKey,
    Enterprise,
    Graduate,
    Interaction,
    Program,
    School,
    Skill,
    Vacancy,
)
from service.web.deps import FormDep, UserDep, require
from service.web.rendering import flash, redirect, render
from training.registry import ArtifactError, Registry

router = APIRouter(include_in_schema=False)

COUNTED = {
    "skills": Skill,
    "enterprises": Enterprise,
    "schools": School,
    "programs": Program,
    "graduates": Graduate,
    "vacancies": Vacancy,
    "interactions": Interaction,
    "api_keys": ApiKey,
}


def _finite(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and value == value
        and abs(value) != float("inf")
    )


def manifest_metrics(manifest: dict[str, Any]) -> dict[str, dict[str, float]]:
    """``{matcher name: {metric: value}}`` from a manifest's evaluation section (numbers only)."""
    found = (manifest.get("evaluation") or {}).get("metrics") or {}
    table: dict[str, dict[str, float]] = {}
    for name, values in found.items():
        if isinstance(values, dict):
            numbers = {str(k): float(v) for k, v in values.items() if _finite(v)}
            if numbers:
                table[str(name)] = numbers
    return table


def model_status(registry: Registry, serving: str | None) -> dict[str, Any]:
    """The registry as the page shows it: pointer, versions newest first, each with metrics."""
    pointer_error = ""
    try:
        pointer = registry.read_pointer()
    except ArtifactError as error:
        pointer, pointer_error = None, str(error)
    versions = []
    for version in reversed(registry.versions()):
        try:
            manifest, problem = registry.manifest(version), ""
        except ArtifactError as error:
            manifest, problem = {}, str(error)
        versions.append(
            {
                "version": version,
                "created_at": manifest.get("created_at") or "",
                "current": pointer is not None and pointer.version == version,
                "previous": pointer is not None and pointer.previous == version,
                "serving": serving == version,
                "gate_passed": (manifest.get("gate") or {}).get("passed"),
                "metrics": manifest_metrics(manifest),
                "data": manifest.get("data") or {},
                "problem": problem,
            }
        )
    current = next((v for v in versions if v["current"]), None)
    return {"pointer_error": pointer_error, "versions": versions, "current": current, "serving": serving}


@router.get("/admin")
def admin_status(request: Request, db: SessionDep, settings: SettingsDep, user: UserDep) -> Response:
    """Model status (current version, trained at, metrics, previous versions) and data counts."""
    require(user, "admin")
    model = request.app.state.model_holder.get()
    status = model_status(Registry(settings.artifacts_dir), model.version if model is not None else None)
    counts = {
        name: int(db.scalar(select(func.count()).select_from(table)) or 0) for name, table in COUNTED.items()
    }
    entries, audit_total = audit.list_entries(session=db, limit=15)
    metric_names = sorted({m for v in status["versions"] for values in v["metrics"].values() for m in values})
    return render(
        request,
        "admin/status.html",
        {
            **status,
            "counts": counts,
            "data_version": data_version(db),
            "audit": entries,
            "audit_total": audit_total,
            "metric_names": metric_names,
        },
    )


@router.post("/admin/reload")
def admin_reload(request: Request, user: UserDep, form: FormDep) -> Response:
    """Check the registry's pointer now and load the current version if it moved."""
    require(user, "admin")
    holder = request.app.state.model_holder
    changed = bool(holder.check_now()) if hasattr(holder, "check_now") else False
    flash(request, "admin.reloaded" if changed else "admin.unchanged")
    return redirect("/admin")
