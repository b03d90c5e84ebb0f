"""Model versions in the registry, and a forced reload of the current one (admin only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from service.api.deps import AdminKey, SettingsDep
from service.api.routes.common import API_PREFIX, AUTH_ERRORS
from training.registry import ArtifactError, Registry

router = APIRouter(prefix=f"{API_PREFIX}/admin/models", tags=["admin"], responses=AUTH_ERRORS)


class ModelMetrics(BaseModel):
    """Holdout NDCG@k of one model: ranking graduates for vacancies, vacancies for graduates, their mean."""

    ndcg: float | None = None
    ndcg_vacancy: float | None = None
    ndcg_graduate: float | None = None


class ModelVersionPublic(BaseModel):
    version: str
    created_at: str | None
    current: bool
    previous: bool
    serving: bool
    gate_passed: bool | None
    metrics: dict[str, ModelMetrics | None]
    data_latest_event_at: str | None
    problem: str | None = None


class ModelsPublic(BaseModel):
    current_version: str | None
    previous_version: str | None
    serving_version: str | None
    pointer_error: str | None
    versions: list[ModelVersionPublic]


class ReloadPublic(BaseModel):
    serving_version: str | None
    changed: bool
    pointer_version: str | None
    error: str | None


def _metrics(manifest: dict[str, Any]) -> dict[str, ModelMetrics | None]:
    found = (manifest.get("evaluation") or {}).get("metrics") or {}
    out: dict[str, ModelMetrics | None] = {}
    for name, values in found.items():
        if isinstance(values, dict):
            fields = {k: v for k, v in values.items() if k in ModelMetrics.model_fields and _number(v)}
            out[str(name)] = ModelMetrics(**fields)
        else:
            out[str(name)] = None
    return out


def _number(value: Any) -> bool:
    # JSON has no NaN/inf; a manifest holding them (a failed gate) must still list cleanly.
    return isinstance(value, int | float) and value == value and abs(value) != float("inf")


def _serving_version(request: Request) -> str | None:
    model = request.app.state.model_holder.get()
    return model.version if model is not None else None


@router.get("", response_model=ModelsPublic)
def list_models(request: Request, settings: SettingsDep, key: AdminKey) -> ModelsPublic:
    """Model versions (newest first) with holdout metrics, and which one is current and serving."""
    registry = Registry(settings.artifacts_dir)
    pointer_error = None
    try:
        pointer = registry.read_pointer()
    except ArtifactError as error:
        pointer, pointer_error = None, str(error)
    serving = _serving_version(request)
    items = []
    for version in reversed(registry.versions()):
        try:
            manifest, problem = registry.manifest(version), None
        except ArtifactError as error:
            manifest, problem = {}, str(error)
        items.append(
            ModelVersionPublic(
                version=version,
                created_at=manifest.get("created_at"),
                current=pointer is not None and pointer.version == version,
                previous=pointer is not None and pointer.previous == version,
                serving=serving == version,
                gate_passed=(manifest.get("gate") or {}).get("passed"),
                metrics=_metrics(manifest),
                data_latest_event_at=(manifest.get("data") or {}).get("latest_event_at"),
                problem=problem,
            )
        )
    return ModelsPublic(
        current_version=pointer.version if pointer else None,
        previous_version=pointer.previous if pointer else None,
        serving_version=serving,
        pointer_error=pointer_error,
        versions=items,
    )


@router.post("/reload", response_model=ReloadPublic)
def reload_model(request: Request, key: AdminKey) -> ReloadPublic:
    """Check the pointer now and load the current version if it changed; a broken one is refused."""
    holder = request.app.state.model_holder
    changed = bool(holder.check_now()) if hasattr(holder, "check_now") else False
    status = holder.status() if hasattr(holder, "status") else None
    return ReloadPublic(
        serving_version=_serving_version(request),
        changed=changed,
        pointer_version=status.pointer_version if status else None,
        error=status.last_error if status else None,
    )
