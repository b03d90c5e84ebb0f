"""``talentmatch fairness``: the fairness and exposure report of the served model over the store.

For groups of graduates (school, school kind, programme kind, order class, education, district): the
selection rate in the top-k lists, at shortlisting and at hiring, with Wilson intervals and the impact
ratio against the most-favoured group (flagged under 0.8); exposure against pool share; congestion and the
Gini of vacancy exposure; coverage; the same top-k figures under the exposure-aware re-ranking.
Exit codes: 0 done, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from service.cli.context import operator_context

EXIT_OK, EXIT_BAD_INPUT = 0, 2


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fairness",
        help="selection rates and impact ratios by group, exposure, congestion, coverage (docs/fairness.md)",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    parser.add_argument("--k", type=int, default=10, help="length of the top lists (default 10)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON instead of tables")
    parser.add_argument(
        "--html", type=Path, metavar="DIR", help="also write fairness.html, .json and plots here"
    )
    parser.set_defaults(handler=run_fairness)


def run_fairness(args: argparse.Namespace) -> int:
    from service.usecases import fairness
    from training.fairness_report import format_fairness, write_fairness

    if not 1 <= args.k <= 100:
        print("error: --k must be between 1 and 100", file=sys.stderr)
        return EXIT_BAD_INPUT
    with operator_context() as ctx:
        view = fairness.report(ctx, k=args.k)
    report = view.report
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(format_fairness(report))
    if args.html:
        paths = write_fairness(report, args.html)
        print(f"report: {paths[1]}", file=sys.stderr if args.json else sys.stdout)
    return EXIT_OK
