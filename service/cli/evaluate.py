"""``talentmatch evaluate``: fit every matcher on events before a cut and compare them on what came after.

Exit codes: 0 done, 2 bad input (bad bundle, bad --cut, nothing to split), 1 anything else.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from service.settings import get_settings

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="compare the matcher with random, popularity, keyword and LightFM baselines on a time split",
        description=(
            "Train on events before the cut; rank graduates for vacancies posted after it and vacancies "
            "for graduates seeking at it, scored on applications and on employer-accepted outcomes; "
            "measure how well the score is calibrated against realised success and, on a demo bundle with "
            "its ground truth, how placement plans fare. Prints the tables; writes evaluation.json, "
            "report.html and plots under ARTIFACTS_DIR/evaluation (or --out)."
        ),
    )
    parser.add_argument("--bundle", type=Path, help="evaluate on this CSV bundle instead of the store")
    parser.add_argument("--cut", help="ISO date or time of the split (default: 80%% of events before it)")
    parser.add_argument("--k", type=int, default=10, help="cut-off of the ranking metrics (default 10)")
    parser.add_argument("--out", type=Path, help="report directory (default ARTIFACTS_DIR/evaluation)")
    parser.add_argument("--no-ablations", action="store_true", help="skip the ablation models (faster)")
    parser.add_argument("--max-queries", type=int, default=2000, help="queries per direction (sampled)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument(
        "--no-fairness",
        action="store_true",
        help="skip the fairness section and the re-ranking comparison (docs/fairness.md)",
    )
    parser.set_defaults(handler=run_evaluate)


def run_evaluate(args: argparse.Namespace) -> int:
    from service.retrain import read_training_data
    from training.pipeline import TrainingError, ground_truth_of
    from training.report import (
        format_reliability,
        format_rerank,
        format_table,
        run_evaluation,
        summary,
        write_report,
    )

    settings = get_settings()
    if args.k < 1:
        print("error: --k must be at least 1", file=sys.stderr)
        return EXIT_BAD_INPUT
    cut = None
    if args.cut:
        try:
            cut = pd.Timestamp(args.cut)
        except ValueError:
            print(f"error: --cut {args.cut!r} is not an ISO date or time", file=sys.stderr)
            return EXIT_BAD_INPUT
        if cut.tzinfo is not None:
            cut = cut.tz_convert("UTC").tz_localize(None)
    try:
        data, source = read_training_data(settings, args.bundle)
    except TrainingError as error:
        print(f"error: {error}", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return error.exit_code
    truth = ground_truth_of(args.bundle)
    quiet = bool(args.quiet) or not sys.stderr.isatty()
    try:
        evaluation = run_evaluation(
            data,
            cut=cut,
            k=args.k,
            truth=truth,
            ablations=not args.no_ablations,
            progress=not quiet,
            max_queries=args.max_queries,
            fairness=not args.no_fairness,
            rerank_by=settings.fair_rerank_by,
        )
    except ValueError as error:
        print(f"error: cannot evaluate {source}: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    out = args.out or Path(settings.artifacts_dir) / "evaluation"
    paths = write_report(evaluation, out)
    print(format_table(evaluation))
    reliability = format_reliability(evaluation)
    if reliability:
        print(reliability)
    rerank = format_rerank(evaluation)
    if rerank:
        print(rerank)
    if evaluation.fairness is not None:
        flags = evaluation.fairness.flags
        print(
            f"fairness: {len(flags)} flagged group(s) (impact ratio under 0.8); "
            "see the report's fairness section"
        )
    print(f"full model: {summary(evaluation.table)}")
    print(f"report: {paths[1]} (Chinese: {paths[2]})  metrics: {paths[0]}")
    return EXIT_OK
