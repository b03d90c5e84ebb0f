"""Training wired to the service: its settings and its store as the data loader.

``training`` does not import the service; it takes the settings it reads and a loader of the store's data
as arguments. This module passes them for the CLI (``train``, ``bootstrap``, ``evaluate``) and for tests.
"""

from __future__ import annotations

from pathlib import Path

from models.data import MarketData
from models.matcher import MatcherConfig
from service.settings import Settings
from service.store.market import load_market
from service.store.migrate import upgrade
from service.store.session import make_engine, make_sessionmaker
from training import pipeline
from training.pipeline import StoreLoader, TrainOutcome

__all__ = ["ensure_model", "read_training_data", "store_loader", "train"]


def store_loader(settings: Settings) -> StoreLoader:
    """A loader reading the whole store of ``settings.database_url`` (migrated first) as a MarketData."""

    def load() -> MarketData:
        engine = make_engine(settings.database_url)
        try:
            upgrade(engine)
            with make_sessionmaker(engine)() as session:
                return load_market(session=session)
        finally:
            engine.dispose()

    return load


def train(
    settings: Settings,
    *,
    bundle: Path | None = None,
    force: bool = False,
    quiet: bool = False,
    seed: int | None = None,
    config: MatcherConfig | None = None,
) -> TrainOutcome:
    """:func:`training.pipeline.train` on the store of ``settings`` (or on ``bundle``)."""
    return pipeline.train(
        settings,
        load_store=store_loader(settings),
        bundle=bundle,
        force=force,
        quiet=quiet,
        seed=seed,
        config=config,
    )


def ensure_model(settings: Settings, *, config: MatcherConfig | None = None) -> bool:
    """:func:`training.pipeline.ensure_model` on the store of ``settings``."""
    return pipeline.ensure_model(settings, load_store=store_loader(settings), config=config)


def read_training_data(settings: Settings, bundle: Path | None) -> tuple[MarketData, str]:
    """:func:`training.pipeline.read_training_data`: ``bundle`` when given, else the store of ``settings``."""
    return pipeline.read_training_data(bundle, store_loader(settings))
