"""``talentmatch demo-data DIR [--scale small|medium|large] [--seed N] [--as-of DATE] [--variant NAME]``."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from training.demo import DEFAULT_AS_OF, DEFAULT_VARIANT, SCALES, VARIANTS, get_variant, write_demo_bundle


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo-data",
        help="write a synthetic Shaoxing IC talent market as a bundle (with its ground truth)",
        description="Write the demo world as a CSV bundle in DIR plus DIR/ground_truth/ (import ignores it).",
    )
    parser.add_argument("directory", type=Path, metavar="DIR", help="folder to write the bundle into")
    parser.add_argument("--scale", choices=tuple(SCALES), default="small", help="size of the world")
    parser.add_argument("--seed", type=int, default=7, help="random seed (equal seeds, equal worlds)")
    parser.add_argument(
        "--as-of",
        default=DEFAULT_AS_OF.strftime("%Y-%m-%d"),
        help="end of the simulated year, ISO date (default %(default)s)",
    )
    parser.add_argument(
        "--variant",
        default=DEFAULT_VARIANT,
        metavar="NAME",
        help=f"hidden model to draw the interactions from: {', '.join(VARIANTS)} (default %(default)s; "
        "see docs/demo.md)",
    )
    parser.set_defaults(handler=run_demo_data)


def run_demo_data(args: argparse.Namespace) -> int:
    try:
        as_of = pd.Timestamp(args.as_of)
    except ValueError:
        print(f"--as-of: not an ISO date: {args.as_of!r}")
        return 2
    try:
        get_variant(args.variant)
    except ValueError as exc:
        print(f"--variant: {exc}")
        return 2
    if args.directory.exists() and not args.directory.is_dir():
        print(f"{args.directory}: exists and is not a folder")
        return 2
    clock = time.perf_counter()
    world = write_demo_bundle(args.directory, args.scale, args.seed, as_of=as_of, variant=args.variant)
    elapsed = time.perf_counter() - clock
    print(
        f"demo world (scale {args.scale}, seed {args.seed}, variant {args.variant}, as of {as_of:%Y-%m-%d}) "
        f"written to {args.directory}"
    )
    for name, count in world.data.counts().items():
        print(f"  {name:<13} {count:>10,}")
    steps = ", ".join(f"{k} {v:.1f}s" for k, v in world.timings.items() if k != "total")
    print(f"  generated in {world.timings['total']:.1f}s ({steps}); total {elapsed:.1f}s")
    return 0
