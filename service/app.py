"""The FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy import text
from threadpoolctl import threadpool_limits

from service.api.compute import make_limiter
from service.api.docs import install_docs
from service.api.errors import install_error_handlers
from service.api.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from service.api.routes import ROUTERS
from service.settings import Settings, get_settings
from service.store.session import make_engine, make_sessionmaker
from service.usecases.context import build_services
from service.web import install_web

log = logging.getLogger(__name__)

DESCRIPTION = """
Matches graduates and trainees of Shaoxing's IC schools to enterprise vacancies.

Every `/api/v1` route needs `Authorization: Bearer <key>` (create keys with `talentmatch apikey create`).
Missing, unknown or revoked key → 401; a role not allowed on a route → 403; a resource of another
enterprise or school → 404 (existence does not leak). Errors always read
`{"error": {"code", "message", "details"}}`.
"""


def _make_holder(settings: Settings) -> Any:
    from service.model_holder import ModelHolder

    return ModelHolder(settings)


def create_app(settings: Settings | None = None, *, model_holder: Any | None = None) -> FastAPI:
    """Build the app. ``model_holder`` (anything with ``get()``, optionally ``start()``/``stop()``)
    replaces the registry-backed :class:`~service.model_holder.ModelHolder`, e.g. in tests."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # One BLAS/OpenMP thread per worker: requests run in parallel threads, not parallel math.
        limiter = threadpool_limits(limits=max(1, settings.serving_threads))
        engine = make_engine(settings.database_url)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        holder = model_holder if model_holder is not None else _make_holder(settings)
        app.state.model_holder = holder
        services = build_services(settings, app.state.sessionmaker, holder)
        app.state.services = services
        app.state.matching = services.matching
        app.state.plain_matching = services.plain_matching
        app.state.rate_limiter = services.rate_limiter
        app.state.compute_limiter = make_limiter(settings.compute_threads)
        # Replays the audit journal a killed process left, then writes reads' entries in the background.
        services.audit_buffer.start()
        if hasattr(holder, "start"):
            holder.start()
        # Build the candidate index now rather than on the first request.
        app.state.matching.refresh_in_background()
        try:
            yield
        finally:
            if hasattr(holder, "stop"):
                holder.stop()
            services.audit_buffer.stop()  # flushes what is left
            services.rate_limiter.close()
            engine.dispose()
            limiter.restore_original_limits()

    # /docs from the installed Swagger UI files (no CDN); ReDoc would load its script from one, so it is off.
    app = FastAPI(
        title="talentmatch",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install_docs(app)
    app.state.settings = settings
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    # Added last = outermost: the request id wraps everything, including 413 answers.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:  # off unless configured: browsers of other origins get no CORS headers
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    app.add_middleware(RequestContextMiddleware)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, object]:
        """Liveness and readiness: database reachable, which model serves."""
        database = "ok"
        try:
            with app.state.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure means "not ok"
            database = "error"
        model = app.state.model_holder.get()
        return {
            "status": "ok" if database == "ok" else "degraded",
            "database": database,
            "model_version": model.version if model is not None else None,
            # True while the keyword matcher answers because no trained model is promoted yet.
            "model_fallback": bool(model is not None and model.manifest.get("fallback")),
        }

    # Web pages last: their HTML error pages wrap the API's handlers above.
    install_web(app, settings)
    return app
