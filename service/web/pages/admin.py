"""Admin pages: the model being served, the registry's versions and metrics, data counts, the audit log;
the fairness and exposure report."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from service.usecases import admin, fairness
from service.web import charts
from service.web.deps import FormDep, PageContext
from service.web.i18n import translate
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


@router.get("/admin/fairness")
def admin_fairness(request: Request, ctx: PageContext) -> Response:
    """The fairness and exposure report of the served model over the store (docs/fairness.md)."""
    view = fairness.report(ctx)
    report = view.report
    attribute = report.reranked.get("attribute", ctx.settings.fair_rerank_by) if report.reranked else None
    chart = None
    if attribute is not None:
        lang = language(request)
        chart = charts.paired_bars(
            [
                charts.PairedBar(label=g.group, first=g.pool_share or 0.0, second=g.exposure_share or 0.0)
                for g in report.attributes[attribute]["top_k"].groups
            ],
            first_name=translate("fairness.pool_share", lang),
            second_name=translate("fairness.exposure_share", lang),
            title=translate("fairness.chart", lang, attribute=attribute, k=report.k),
        )
    return render(
        request,
        "admin/fairness.html",
        {
            "report": report,
            "flags": report.flags,
            "model_version": view.model_version,
            "data_version": view.data_version,
            # attribute -> group -> its re-ranked top-k figures
            "reranked": {
                attr: {g.group: g for g in tables["top_k"].groups}
                for attr, tables in (report.reranked.get("attributes", {}) if report.reranked else {}).items()
            },
            "rerank_attribute": attribute,
            "rerank_setting": ctx.settings.fair_rerank,
            "chart": chart,
        },
    )


@router.post("/admin/reload")
def admin_reload(request: Request, ctx: PageContext, form: FormDep) -> Response:
    """Check the registry's pointer now and load the current version if it moved."""
    result = admin.reload_model(ctx)
    flash(request, "admin.reloaded" if result.changed else "admin.unchanged")
    return redirect("/admin")
