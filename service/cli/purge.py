"""``talentmatch purge``: erase placed and withdrawn graduates kept longer than the retention period.

A graduate whose status became ``placed`` or ``withdrawn`` more than ``--days`` days ago (default: the
``TALENTMATCH_RETENTION_DAYS`` setting) is erased with their skills, districts and interactions, exactly as
``DELETE /api/v1/graduates/{id}`` does; the data version moves, so the next ``train`` never sees them.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

from service.settings import get_settings
from service.store.audit import record
from service.store.graduates import purge_expired
from service.store.session import make_engine, transaction

EXIT_OK = 0
EXIT_BAD_INPUT = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("purge", help="erase placed/withdrawn graduates past the retention period")
    parser.add_argument("--days", type=int, default=None, help="retention in days (default: the setting)")
    parser.add_argument("--dry-run", action="store_true", help="only count who would be erased")
    parser.set_defaults(handler=run_purge)


def run_purge(args: argparse.Namespace) -> int:
    settings = get_settings()
    days = settings.retention_days if args.days is None else args.days
    if days < 0:
        print("error: --days must be 0 or more")
        return EXIT_BAD_INPUT
    cutoff = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=days)
    engine = make_engine(settings.database_url)
    try:
        with transaction(engine) as session:
            ids = purge_expired(session=session, older_than=cutoff, dry_run=args.dry_run)
            if ids and not args.dry_run:
                record(
                    session=session,
                    key_id=None,
                    action="purge_graduates",
                    resource="graduates",
                    detail={"erased": len(ids), "retention_days": days},
                )
    finally:
        engine.dispose()
    verb = "would erase" if args.dry_run else "erased"
    print(f"{verb} {len(ids)} placed/withdrawn graduate(s) whose status changed before {cutoff:%Y-%m-%d}")
    return EXIT_OK
