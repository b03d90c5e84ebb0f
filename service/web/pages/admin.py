"""Admin page: the model being served, the registry's versions with their metrics, data counts, audit log."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from service.usecases import admin
from service.web.deps import FormDep, PageContext
from service.web.rendering import flash, redirect, render

router = APIRouter(include_in_schema=False)

AUDIT_SHOWN = 15


@router.get("/admin")
def admin_status(request: Request, ctx: PageContext) -> Response:
    """Model status (current version, trained at, metrics, previous versions) and data counts."""
    status = admin.list_models(ctx)
    store = admin.store_counts(ctx)
    audit = admin.list_audit(ctx, limit=AUDIT_SHOWN)
    return render(
        request,
        "admin/status.html",
        {
            "status": status,
            "current": status.current,
            "versions": status.versions,
            "serving": status.serving_version,
            "pointer_error": status.pointer_error or "",
            "metric_names": status.metric_names,
            "counts": store.counts,
            "data_version": store.data_version,
            "audit": audit.items,
            "audit_total": audit.total,
        },
    )


@router.post("/admin/reload")
def admin_reload(request: Request, ctx: PageContext, form: FormDep) -> Response:
    """Check the registry's pointer now and load the current version if it moved."""
    result = admin.reload_model(ctx)
    flash(request, "admin.reloaded" if result.changed else "admin.unchanged")
    return redirect("/admin")
