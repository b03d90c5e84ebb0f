"""Data commands: ``db upgrade``, ``import``, ``export``, ``demo-data``, ``bootstrap``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TextIO

from sqlalchemy.exc import SQLAlchemyError

from models.bundle import BundleError, read_bundle
from models.columns import Columns as C
from models.data import MarketData
from service.settings import Settings, get_settings
from service.store import audit
from service.store.market import ImportReport, export_market, import_market
from service.store.migrate import upgrade
from service.store.session import make_engine, transaction
from service.usecases.posting_check import (
    PostingsRefused,
    RowWarning,
    check_rows,
    rows_audit_detail,
    screen_rows,
)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
SHOWN_PROBLEMS = 50


def upgrade_store(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def posting_findings(data: MarketData) -> list[RowWarning]:
    """Discriminatory requirements in the bundle's vacancies (``service.usecases.posting_check``)."""
    vacancies = data.vacancies
    columns = [vacancies[c].tolist() for c in (C.vacancy, C.title, C.role, C.description)]
    return check_rows(
        (key, {"title": title, "role": role, "description": description})
        for key, title, role, description in zip(*columns, strict=True)
    )


def import_bundle(settings: Settings, directory: str | Path) -> tuple[ImportReport, list[RowWarning]]:
    """Migrate the store, validate the bundle in ``directory`` and write it in one transaction; the report
    and the discriminatory requirements found in its vacancies (audited with the import).

    Raises :class:`models.bundle.BundleError` (before anything is written) when the bundle is
    invalid, :class:`~service.usecases.posting_check.PostingsRefused` when its vacancies state requirements
    that ``TALENTMATCH_POSTING_CHECK=refuse`` refuses.
    """
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        data = read_bundle(directory)
        found = posting_findings(data)
        screen_rows(settings, found)
        with transaction(engine) as session:
            report = import_market(session=session, data=data)
            if found:
                audit.record(
                    session=session,
                    key_id="cli",
                    action="import_flagged_vacancies",
                    resource="bundle",
                    detail={"via": "cli", **rows_audit_detail(found)},
                )
            return report, found
    finally:
        engine.dispose()


def format_problems(error: BundleError, limit: int = SHOWN_PROBLEMS) -> list[str]:
    """The first ``limit`` problems, one per line, and a count of the rest."""
    lines = [str(problem) for problem in error.problems[:limit]]
    if error.total > limit:
        lines.append(f"... and {error.total - limit} more problems")
    return lines


def register(subparsers: argparse._SubParsersAction) -> None:
    db = subparsers.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_upgrade = db_sub.add_parser("upgrade", help="apply the migrations up to the newest")
    db_upgrade.set_defaults(handler=run_db_upgrade)

    importer = subparsers.add_parser(
        "import",
        help="validate a CSV bundle and upsert it into the store",
        description="Validate every file of the bundle in DIR; on any problem write nothing, print the "
        "problems as file:line: column: message and exit 2. Otherwise upsert it in one transaction.",
    )
    importer.add_argument("directory", metavar="DIR", type=Path, help="the bundle folder")
    importer.add_argument("--check", action="store_true", help="only validate; write nothing")
    importer.set_defaults(handler=run_import)

    exporter = subparsers.add_parser(
        "export", help="write the store as a CSV bundle (deterministic: rows sorted by id)"
    )
    exporter.add_argument("directory", metavar="DIR", type=Path, help="the folder to write into")
    exporter.set_defaults(handler=run_export)


def run_db_upgrade(args: argparse.Namespace) -> int:
    upgrade_store(get_settings())
    print("database is up to date")
    return EXIT_OK


def run_import(args: argparse.Namespace) -> int:
    settings = get_settings()
    start = time.perf_counter()
    try:
        if args.check:
            data = read_bundle(args.directory)
            found = posting_findings(data)
            _print_findings(found)
            screen_rows(settings, found)
            counts = ", ".join(f"{n} {entity}" for entity, n in data.counts().items())
            print(f"{args.directory}: valid ({counts})")
            return EXIT_OK
        report, found = import_bundle(settings, args.directory)
    except BundleError as error:
        print(f"{args.directory}: {error.total} problem(s); nothing was imported", file=sys.stderr)
        for line in format_problems(error):
            print(line, file=sys.stderr)
        return EXIT_BAD_INPUT
    except PostingsRefused as error:
        if not args.check:
            _print_findings(error.found, file=sys.stderr)
        print(f"{args.directory}: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except SQLAlchemyError as error:
        print(f"import failed, nothing was written: {error}", file=sys.stderr)
        return EXIT_FAILURE
    for line in report.lines():
        print(line)
    _print_findings(found)
    state = "imported" if report.changed else "nothing changed"
    print(f"{state} in {time.perf_counter() - start:.1f}s")
    return EXIT_OK


def _print_findings(found: list[RowWarning], file: TextIO | None = None) -> None:
    """The import report's list of discriminatory requirements (at most SHOWN_PROBLEMS, then a count)."""
    if not found:
        return
    rows = len({f.row for f in found})
    print(f"vacancies: {len(found)} requirement(s) that may discriminate in {rows} vacancy(ies):", file=file)
    for item in found[:SHOWN_PROBLEMS]:
        print(f"  {item.line()}", file=file)
    if len(found) > SHOWN_PROBLEMS:
        print(f"  ... and {len(found) - SHOWN_PROBLEMS} more", file=file)


def run_export(args: argparse.Namespace) -> int:
    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        with transaction(engine) as session:
            paths = export_market(session=session, directory=args.directory)
    finally:
        engine.dispose()
    print(f"wrote {len(paths)} files to {args.directory}")
    return EXIT_OK
