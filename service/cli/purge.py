"""``talentmatch purge``: erase placed and withdrawn graduates kept longer than the retention period.

Uses ``TALENTMATCH_RETENTION_DAYS`` (``Settings.retention_days``) unless ``--days`` is given; a graduate with
an outcome recorded within ``TALENTMATCH_OUTCOME_RETENTION_DAYS`` is kept whatever ``--days`` says. Prints
counts only, never ids. The next ``talentmatch train`` reads the store, so purged graduates leave the next
model.
"""

from __future__ import annotations

import argparse
import sys

from sqlalchemy.exc import SQLAlchemyError

from service.settings import get_settings
from service.store.audit_buffer import lock_out_audit_writes
from service.store.migrate import upgrade
from service.store.retention import purge_expired
from service.store.session import make_engine, transaction

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "purge",
        help="erase placed/withdrawn graduates past the retention period (PIPL)",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    parser.add_argument("--dry-run", action="store_true", help="count what would be erased; change nothing")
    parser.add_argument(
        "--days", type=int, metavar="N", help="retention in days (default: TALENTMATCH_RETENTION_DAYS)"
    )
    parser.set_defaults(handler=run_purge)


def run_purge(args: argparse.Namespace) -> int:
    settings = get_settings()
    days = settings.retention_days if args.days is None else args.days
    if days < 0:
        print("error: --days must be 0 or more", file=sys.stderr)
        return EXIT_BAD_INPUT
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        with transaction(engine) as session:
            if not args.dry_run:
                lock_out_audit_writes(session)  # servers' batched audit entries naming them are redacted too
            report = purge_expired(
                session=session,
                retention_days=days,
                dry_run=args.dry_run,
                outcome_retention_days=settings.outcome_retention_days,
            )
    except SQLAlchemyError as error:
        print(f"purge failed, nothing was deleted: {type(error).__name__}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        engine.dispose()
    for line in report.lines():
        print(line)
    return EXIT_OK
