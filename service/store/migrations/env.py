"""Alembic environment: the engine comes from the caller (see service.store.migrate)."""

from __future__ import annotations

from alembic import context

from service.store.tables import Base

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    context.run_migrations()
