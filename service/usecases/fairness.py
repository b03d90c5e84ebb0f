"""The fairness and exposure report of the served model over the store (admin page, ``talentmatch fairness``).

The figures are :func:`training.fairness.fairness_report`'s: the model ranks every open vacancy's
candidates and every seeking graduate's vacancies as the evaluation does, and the history gives who was
shortlisted and hired. That takes about a minute at the medium demo scale, so the process keeps the latest
report and answers from it while the model is the same and the report is younger than
:data:`MAX_AGE_SECONDS` or the store has not changed since (the page says which data version it is of).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from service.model_holder import keyword_fallback
from service.store.market import load_market
from service.store.session import data_version
from service.usecases.context import ADMIN_ROLES, Context
from training.fairness import FairnessReport, fairness_report
from training.registry import ArtifactError, LoadedModel, Registry

__all__ = ["FairnessView", "report"]

MAX_AGE_SECONDS = 600.0
# (database, model version, k, groups) -> (data version, computed at, report): the latest asked for.
_CACHE: dict[tuple[str, str, int, str], tuple[int, float, FairnessReport]] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class FairnessView:
    report: FairnessReport
    model_version: str
    data_version: int


def _model(ctx: Context) -> LoadedModel:
    """The served model; from the command line (which serves none) the registry's current version, else
    the keyword fallback the service would serve."""
    served = ctx.services.model_holder.get()
    if served is not None:
        return served
    try:
        return Registry(ctx.settings.artifacts_dir).load()
    except ArtifactError:
        return keyword_fallback()


def report(ctx: Context, *, k: int = 10) -> FairnessView:
    """The report for the model being served and the store as it is now (admin only), audited."""
    ctx.require(ADMIN_ROLES)
    model = _model(ctx)
    version = data_version(ctx.session)
    key = (ctx.settings.database_url, model.version, int(k), ctx.settings.fair_rerank_by)
    with _LOCK:
        cached = _CACHE.get(key)
        fresh = cached is not None and (
            cached[0] == version or time.monotonic() - cached[1] < MAX_AGE_SECONDS
        )
        if cached is None or not fresh:
            data = load_market(session=ctx.session)
            report_now = fairness_report(model.matcher, data, k=k, rerank_by=ctx.settings.fair_rerank_by)
            report_now.model_version = model.version
            _CACHE.clear()  # one report kept: the latest asked for
            cached = _CACHE[key] = (version, time.monotonic(), report_now)
        version, found = cached[0], cached[2]
    ctx.audit_read(
        "fairness_report",
        "fairness",
        {"model_version": model.version, "data_version": version, "k": k, "flags": len(found.flags)},
    )
    ctx.commit()
    return FairnessView(report=found, model_version=model.version, data_version=version)
