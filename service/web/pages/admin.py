"""Admin page: the model being served, the registry's versions with their metrics, data counts, audit log."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from service.usecases import admin
from service.web.deps import FormDep, PageContext
from service.web.metric_names import KEY_METRICS, describe, matcher_label
from service.web.pagination import page_number, pager
from service.web.rendering import flash, language, redirect, render

router = APIRouter(include_in_schema=False)

AUDIT_PAGE = 25


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw.strip()) if raw.strip() else None
    except ValueError:
        return None


@router.get("/admin")
def admin_status(
    request: Request,
    ctx: PageContext,
    who: str = "",
    what: str = "",
    since: str = "",
    until: str = "",
    page: str = "1",
) -> Response:
    """Model status (current version, trained at, metrics named and explained, previous versions), data
    counts and the audit log (by key name, paged, filtered by who, what and when)."""
    status = admin.list_models(ctx)
    store = admin.store_counts(ctx)
    number = page_number(page)
    first, last = _day(since), _day(until)
    audit = admin.list_audit(
        ctx,
        key_id=who.strip()[:32] or None,
        action=what.strip()[:64] or None,
        since=datetime.combine(first, time()) if first else None,
        until=datetime.combine(last + timedelta(days=1), time()) if last else None,
        limit=AUDIT_PAGE,
        offset=(number - 1) * AUDIT_PAGE,
    )
    lang = language(request)
    measured = status.current.measured if status.current else {}
    names = {m: describe(m, lang) for m in status.metric_names}
    filters = {
        "who": who,
        "what": what,
        "since": first.isoformat() if first else "",
        "until": last.isoformat() if last else "",
    }
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
            "metrics": names,
            "key_metrics": [m for m in KEY_METRICS if m in names],
            "matchers": {name: matcher_label(name, lang) for name in measured},
            "counts": store.counts,
            "data_version": store.data_version,
            "audit": audit,
            "filters": filters,
            "pager": pager(audit.total, number, AUDIT_PAGE, filters),
        },
    )


@router.post("/admin/reload")
def admin_reload(request: Request, ctx: PageContext, form: FormDep) -> Response:
    """Check the registry's pointer now and load the current version if it moved."""
    result = admin.reload_model(ctx)
    flash(request, "admin.reloaded" if result.changed else "admin.unchanged")
    return redirect("/admin")
