"""``talentmatch outcomes export``: every outcome a person recorded, with the model version and score shown
then, as JSON or CSV for an audit (:func:`service.usecases.accountability.export_outcomes`)."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from service.cli.context import operator_context
from service.usecases.accountability import export_outcomes

EXIT_OK = 0
EXIT_BAD_INPUT = 2


def _time(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not an ISO date or time: {value!r}") from error


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("outcomes", help="the record of outcomes recorded by people (audit)")
    sub = parser.add_subparsers(dest="outcomes_command", required=True)
    export = sub.add_parser(
        "export",
        help="export every recorded outcome with who recorded it and the model version and score shown",
    )
    export.add_argument("--format", choices=("json", "csv"), default="json")
    export.add_argument("--since", type=_time, metavar="DATE", help="only outcomes at or after (UTC)")
    export.add_argument("--until", type=_time, metavar="DATE", help="only outcomes before (UTC)")
    export.add_argument("--enterprise", metavar="ID", help="only this enterprise's vacancies")
    export.add_argument("--out", type=Path, metavar="FILE", help="write here instead of standard output")
    export.set_defaults(handler=run_export)


def run_export(args: argparse.Namespace) -> int:
    with operator_context() as ctx:
        result = export_outcomes(ctx, since=args.since, until=args.until, enterprise_id=args.enterprise)
    text = result.render(args.format)
    if args.out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        args.out.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        print(f"wrote {len(result.records)} outcome(s) to {args.out}", file=sys.stderr)
    return EXIT_OK
