"""Administration: the model registry (list, show, reload, promote, roll back), API keys (create, list,
revoke), the audit log and the store's counts. Admin only; the API, the admin page and the ``talentmatch
models`` / ``apikey`` commands (as :data:`~service.usecases.context.OPERATOR`) all call these.

Changes (reload, promote, roll back, key creation and revocation) are audited; listing is not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from service.store import audit
from service.store.api_keys import create_api_key, list_api_keys, revoke_api_key
from service.store.session import data_version
from service.store.tables import (
    ApiKey,
    AuditEntry,
    Enterprise,
    Graduate,
    Interaction,
    Program,
    School,
    Skill,
    Vacancy,
)
from service.usecases.context import ADMIN_ROLES, OPERATOR, Context
from training.lock import LockBusy
from training.registry import ArtifactError, Pointer, Registry


class UnknownModelVersion(LookupError):
    """No such model version, or its manifest cannot be read (404)."""


class ModelRefused(ValueError):
    """The registry refused the change: the version does not verify, or there is no previous one (409)."""


class TrainRunning(RuntimeError):
    """A train is running; its promotion would overtake a manual promote or rollback (409)."""


class UnknownKey(LookupError):
    """No API key with this id (404)."""


# ---------------------------------------------------------------------------------------------- models
@dataclass(frozen=True)
class ModelVersion:
    """One version in the registry as an administrator sees it."""

    version: str
    created_at: str | None
    current: bool
    previous: bool
    serving: bool
    gate_passed: bool | None
    gate_forced: bool  # promoted with --force although the gate failed
    # Holdout figures by matcher ("new", "keyword", "current"); None where the manifest records none.
    metrics: dict[str, dict[str, float] | None]
    data: dict[str, Any] = field(default_factory=dict)  # the manifest's data section (counts, latest event)
    problem: str | None = None  # why the version cannot be read

    @property
    def measured(self) -> dict[str, dict[str, float]]:
        """The matchers with figures."""
        return {name: values for name, values in self.metrics.items() if values}


@dataclass(frozen=True)
class ModelRegistryStatus:
    current_version: str | None
    previous_version: str | None
    serving_version: str | None  # what this process serves (None from the command line)
    pointer_error: str | None
    versions: list[ModelVersion]  # newest first

    @property
    def current(self) -> ModelVersion | None:
        return next((v for v in self.versions if v.current), None)

    @property
    def metric_names(self) -> list[str]:
        return sorted({m for v in self.versions for values in v.measured.values() for m in values})


@dataclass(frozen=True)
class ReloadResult:
    serving_version: str | None
    changed: bool
    pointer_version: str | None
    error: str | None


def _finite(value: Any) -> bool:
    # JSON has no NaN/inf; a manifest holding them (a failed gate) must still list cleanly.
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and value == value
        and abs(value) != float("inf")
    )


def manifest_metrics(manifest: dict[str, Any]) -> dict[str, dict[str, float] | None]:
    """``{matcher: {metric: value}}`` from a manifest's evaluation section (finite numbers only)."""
    found = (manifest.get("evaluation") or {}).get("metrics") or {}
    table: dict[str, dict[str, float] | None] = {}
    for name, values in found.items():
        if isinstance(values, dict):
            table[str(name)] = {str(k): float(v) for k, v in values.items() if _finite(v)}
        else:
            table[str(name)] = None
    return table


def _registry(ctx: Context) -> Registry:
    return Registry(ctx.settings.artifacts_dir)


def _serving(ctx: Context) -> str | None:
    if ctx.via == "cli":  # the command line serves nothing; the running server may serve anything
        return None
    model = ctx.services.model_holder.get()
    return model.version if model is not None else None


def list_models(ctx: Context) -> ModelRegistryStatus:
    """The registry's versions, newest first, with their holdout figures and which is current and serving."""
    ctx.require(ADMIN_ROLES)
    registry = _registry(ctx)
    pointer_error = None
    try:
        pointer = registry.read_pointer()
    except ArtifactError as error:
        pointer, pointer_error = None, str(error)
    serving = _serving(ctx)
    versions = []
    for version in reversed(registry.versions()):
        try:
            manifest, problem = registry.manifest(version), None
        except ArtifactError as error:
            manifest, problem = {}, str(error)
        data, gate = manifest.get("data"), manifest.get("gate") or {}
        versions.append(
            ModelVersion(
                version=version,
                created_at=manifest.get("created_at"),
                current=pointer is not None and pointer.version == version,
                previous=pointer is not None and pointer.previous == version,
                serving=serving == version,
                gate_passed=gate.get("passed") if isinstance(gate.get("passed"), bool) else None,
                gate_forced=gate.get("forced") is True,
                metrics=manifest_metrics(manifest),
                data=data if isinstance(data, dict) else {},
                problem=problem,
            )
        )
    return ModelRegistryStatus(
        current_version=pointer.version if pointer else None,
        previous_version=pointer.previous if pointer else None,
        serving_version=serving,
        pointer_error=pointer_error,
        versions=versions,
    )


def show_model(ctx: Context, version: str) -> dict[str, Any]:
    """A version's manifest; :class:`UnknownModelVersion` when there is no such (readable) version."""
    ctx.require(ADMIN_ROLES)
    try:
        return _registry(ctx).manifest(version)
    except ArtifactError as error:
        raise UnknownModelVersion(str(error)) from None


def reload_model(ctx: Context) -> ReloadResult:
    """Check the pointer now and load the current version if it moved (a broken one is refused)."""
    ctx.require(ADMIN_ROLES)
    holder = ctx.services.model_holder
    check_now = getattr(holder, "check_now", None)
    changed = bool(check_now()) if callable(check_now) else False
    status_of = getattr(holder, "status", None)
    status = status_of() if callable(status_of) else None
    result = ReloadResult(
        serving_version=_serving(ctx),
        changed=changed,
        pointer_version=getattr(status, "pointer_version", None),
        error=getattr(status, "last_error", None),
    )
    ctx.audit("reload_model", "models", {"changed": changed, "serving": result.serving_version})
    ctx.commit()
    return result


def promote_model(ctx: Context, version: str) -> Pointer:
    """Verify ``version`` and make it current (the old current becomes previous)."""
    ctx.require(ADMIN_ROLES)
    pointer = _change_pointer(ctx, lambda registry: registry.promote(version))
    ctx.audit("promote_model", f"models/{pointer.version}", {"previous": pointer.previous})
    ctx.commit()
    return pointer


def rollback_model(ctx: Context) -> Pointer:
    """Make the previous version current again."""
    ctx.require(ADMIN_ROLES)
    pointer = _change_pointer(ctx, lambda registry: registry.rollback())
    ctx.audit("rollback_model", f"models/{pointer.version}", {"previous": pointer.previous})
    ctx.commit()
    return pointer


def _change_pointer(ctx: Context, change: Callable[[Registry], Pointer]) -> Pointer:
    registry = _registry(ctx)
    try:
        with registry.train_lock():
            pointer = change(registry)
    except LockBusy as error:
        # A train finishing after a manual change would overtake it with its own promotion.
        raise TrainRunning(f"{error}; its promotion would overtake this change") from None
    except ArtifactError as error:
        raise ModelRefused(str(error)) from None
    return pointer


# ---------------------------------------------------------------------------------------------- keys
@dataclass(frozen=True)
class ApiKeyInfo:
    """An API key as listed: never the key or its hash."""

    key_id: str
    name: str
    role: str
    enterprise_id: str | None
    school_id: str | None
    created_at: str
    revoked_at: str | None

    @property
    def scope(self) -> str:
        return self.enterprise_id or self.school_id or "all"

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyInfo:
        return cls(
            key_id=key.key_id,
            name=key.name,
            role=key.role,
            enterprise_id=key.enterprise_id,
            school_id=key.school_id,
            created_at=key.created_at.isoformat(timespec="seconds"),
            revoked_at=key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else None,
        )


@dataclass(frozen=True)
class CreatedKey:
    info: ApiKeyInfo
    plaintext: str  # shown once; only a salted hash is stored


def create_key(
    ctx: Context,
    *,
    role: str,
    enterprise_id: str | None = None,
    school_id: str | None = None,
    name: str = "",
) -> CreatedKey:
    """A new key (:class:`~service.store.api_keys.InvalidKeyRequest` for a bad role or scope)."""
    ctx.require(ADMIN_ROLES)
    key, plaintext = create_api_key(
        session=ctx.session, role=role, enterprise_id=enterprise_id, school_id=school_id, name=name
    )
    info = ApiKeyInfo.of(key)
    ctx.audit("create_key", f"api_keys/{info.key_id}", {"role": role, "scope": info.scope})
    ctx.commit()
    return CreatedKey(info=info, plaintext=plaintext)


def list_keys(ctx: Context) -> list[ApiKeyInfo]:
    ctx.require(ADMIN_ROLES)
    return [ApiKeyInfo.of(key) for key in list_api_keys(session=ctx.session)]


def revoke_key(ctx: Context, key_id: str) -> ApiKeyInfo:
    """Revoke the key (idempotent) and end its web sessions; refused by this process from its next request
    on, by others within ``TALENTMATCH_KEY_CACHE_SECONDS``. :class:`UnknownKey` when there is none."""
    ctx.require(ADMIN_ROLES)
    key = revoke_api_key(session=ctx.session, key_id=key_id)
    if key is None:
        raise UnknownKey(f"no key with id {key_id!r}")
    ctx.audit("revoke_key", f"api_keys/{key_id}")
    ctx.commit()
    # After the commit: a request reading the row from now on sees it revoked (other processes within
    # TALENTMATCH_KEY_CACHE_SECONDS, see service.usecases.key_cache).
    ctx.services.keys.forget(key_id)
    return ApiKeyInfo.of(key)


# ---------------------------------------------------------------------------------------------- audit, counts
@dataclass(frozen=True)
class AuditPage:
    items: list[AuditEntry]
    total: int
    limit: int
    offset: int
    key_names: dict[str, str] = field(default_factory=dict)  # key id -> its name, for every key
    actions: list[str] = field(default_factory=list)  # every action the log holds

    def who(self, key_id: str | None) -> str:
        """The name of the key that acted (the operator for ``cli``); its id when it has no name."""
        if key_id is None:
            return ""
        return self.key_names.get(key_id) or key_id


def list_audit(
    ctx: Context,
    *,
    key_id: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> AuditPage:
    """Audit entries, newest first, optionally of one key, one action, and from ``since`` to ``until``
    (naive UTC); every request this process has answered is in it (the batched entries of reads are
    written first). The page carries every key's name and the actions the log holds, for the filters."""
    ctx.require(ADMIN_ROLES)
    ctx.services.audit_buffer.flush()
    items, total = audit.list_entries(
        session=ctx.session,
        key_id=key_id,
        action=action,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    names = {key.key_id: key.name for key in list_api_keys(session=ctx.session)}
    names.setdefault(OPERATOR.key_id, OPERATOR.name)
    return AuditPage(
        items=items,
        total=total,
        limit=limit,
        offset=offset,
        key_names=names,
        actions=audit.actions(session=ctx.session),
    )


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


@dataclass(frozen=True)
class StoreCounts:
    counts: dict[str, int]  # rows by kind (COUNTED's names)
    data_version: int


def store_counts(ctx: Context) -> StoreCounts:
    """How many of each thing the store holds, and its data version."""
    ctx.require(ADMIN_ROLES)
    counts = {
        name: int(ctx.session.scalar(select(func.count()).select_from(table)) or 0)
        for name, table in COUNTED.items()
    }
    return StoreCounts(counts=counts, data_version=data_version(ctx.session))
