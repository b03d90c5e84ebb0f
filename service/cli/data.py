"""Data commands: ``db upgrade``, ``import``, ``export``, ``demo-data``, ``bootstrap``."""

from __future__ import annotations

import argparse

from service.settings import Settings, get_settings
from service.store.migrate import upgrade
from service.store.session import make_engine


def upgrade_store(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def register(subparsers: argparse._SubParsersAction) -> None:
    db = subparsers.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_upgrade = db_sub.add_parser("upgrade", help="apply the migrations up to the newest")
    db_upgrade.set_defaults(handler=run_db_upgrade)


def run_db_upgrade(args: argparse.Namespace) -> int:
    upgrade_store(get_settings())
    print("database is up to date")
    return 0
