"""The context a command runs in: a session on the configured store, the services, and the operator's
admin identity (:data:`~service.usecases.context.OPERATOR`, audited as ``via=cli``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from service.settings import Settings, get_settings
from service.store.migrate import upgrade
from service.store.session import make_engine, make_sessionmaker
from service.usecases.context import OPERATOR, Context, build_services, open_context
from training.registry import LoadedModel


class NoModel:
    """The command line serves no model (what the server serves, its own holder knows)."""

    def get(self) -> LoadedModel | None:
        return None


@contextmanager
def operator_context(settings: Settings | None = None, *, migrate: bool = True) -> Iterator[Context]:
    """A :class:`Context` for the operator; the action commits its own work, the rest is rolled back.

    The store is migrated first (as ``serve`` and ``import`` do) unless ``migrate`` is false, for actions
    that read no table (listing model versions); the session connects only when an action uses it.
    """
    settings = settings or get_settings()
    engine = make_engine(settings.database_url)
    try:
        if migrate:
            upgrade(engine)
        sessions = make_sessionmaker(engine)
        services = build_services(settings, sessions, NoModel())
        with sessions() as session:
            yield open_context(services, session, OPERATOR, via="cli")
    finally:
        engine.dispose()
