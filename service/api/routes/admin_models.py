"""Model versions in the registry, and a forced reload of the current one (admin only)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from service.api.deps import AdminContext
from service.api.routes.common import API_PREFIX, AUTH_ERRORS
from service.usecases import admin

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


def _metrics(values: dict[str, float] | None) -> ModelMetrics | None:
    if values is None:
        return None
    return ModelMetrics(**{k: v for k, v in values.items() if k in ModelMetrics.model_fields})


def _version(v: admin.ModelVersion) -> ModelVersionPublic:
    latest = v.data.get("latest_event_at")
    return ModelVersionPublic(
        version=v.version,
        created_at=v.created_at,
        current=v.current,
        previous=v.previous,
        serving=v.serving,
        gate_passed=v.gate_passed if isinstance(v.gate_passed, bool) else None,
        metrics={name: _metrics(values) for name, values in v.metrics.items()},
        data_latest_event_at=latest if isinstance(latest, str) else None,
        problem=v.problem,
    )


@router.get("", response_model=ModelsPublic)
def list_models(ctx: AdminContext) -> ModelsPublic:
    """Model versions (newest first) with holdout metrics, and which one is current and serving."""
    status = admin.list_models(ctx)
    return ModelsPublic(
        current_version=status.current_version,
        previous_version=status.previous_version,
        serving_version=status.serving_version,
        pointer_error=status.pointer_error,
        versions=[_version(v) for v in status.versions],
    )


@router.post("/reload", response_model=ReloadPublic)
def reload_model(ctx: AdminContext) -> ReloadPublic:
    """Check the pointer now and load the current version if it changed; a broken one is refused."""
    result = admin.reload_model(ctx)
    return ReloadPublic(
        serving_version=result.serving_version,
        changed=result.changed,
        pointer_version=result.pointer_version,
        error=result.error,
    )
