"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import text

from service.settings import Settings, get_settings
from service.store.session import make_engine, make_sessionmaker


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        try:
            yield
        finally:
            engine.dispose()

    app = FastAPI(title="talentmatch", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, object]:
        """Liveness and readiness: database reachable, which model serves."""
        database = "ok"
        try:
            with app.state.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure means "not ok"
            database = "error"
        return {
            "status": "ok" if database == "ok" else "degraded",
            "database": database,
            "model_version": None,
        }

    return app
