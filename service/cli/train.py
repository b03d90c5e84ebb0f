"""Model commands: ``train`` and ``models list|show|promote|rollback`` (the latter as the operator through
:mod:`service.usecases.admin`; promote and rollback are audited).

Exit codes of ``train``: 0 promoted, 3 trained but not promoted, 2 bad input or nothing to train on,
1 anything else (including another train already running).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from service.cli.context import operator_context
from service.settings import get_settings
from service.usecases import admin
from training.lock import LockBusy
from training.registry import ArtifactError

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
SHOWN_PROBLEMS = 20


def register(subparsers: argparse._SubParsersAction) -> None:
    train = subparsers.add_parser(
        "train",
        help="retrain the model, evaluate it, and promote it if it passes the quality gate",
        description="Exit 0 promoted, 3 trained but not promoted, 2 no data or bad bundle, 1 other.",
    )
    train.add_argument("--bundle", type=Path, help="train on this CSV bundle instead of the store")
    train.add_argument("--force", action="store_true", help="promote even if the gate fails on quality")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    train.add_argument("--seed", type=int, help="random seed for the model (default: the config's)")
    train.add_argument(
        "--config",
        type=Path,
        metavar="JSON",
        help="matcher parameters as a JSON object (MatcherConfig fields; the rest keep their defaults)",
    )
    train.set_defaults(handler=run_train)

    models = subparsers.add_parser("models", help="list, inspect, promote and roll back model versions")
    sub = models.add_subparsers(dest="models_command", required=True)
    sub.add_parser("list", help="versions with time, key metrics and which is current").set_defaults(
        handler=run_list
    )
    show = sub.add_parser(
        "show",
        help="print a version's manifest",
        description=(
            "Prints the manifest as JSON on stdout (for jq and scripts) and, on stderr, a readable summary: "
            "the holdout figures and the configuration the fit chose, with every candidate's scores."
        ),
    )
    show.add_argument("version")
    show.set_defaults(handler=run_show)
    promote = sub.add_parser("promote", help="verify a version and make it current")
    promote.add_argument("version")
    promote.set_defaults(handler=run_promote)
    sub.add_parser("rollback", help="make the previous version current again").set_defaults(
        handler=run_rollback
    )


def run_train(args: argparse.Namespace) -> int:
    from service.retrain import store_loader
    from training.pipeline import TrainingError, train

    quiet = bool(args.quiet) or not sys.stderr.isatty()
    settings = get_settings()
    try:
        config = _read_config(args.config) if args.config else None
        # Training reads the settings it needs and the store through the loader it is given.
        outcome = train(
            settings,
            load_store=store_loader(settings),
            bundle=args.bundle,
            force=args.force,
            quiet=quiet,
            seed=args.seed,
            config=config,
        )
    except LockBusy as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except TrainingError as error:
        print(f"error: {error}", file=sys.stderr)
        for problem in error.problems[:SHOWN_PROBLEMS]:
            print(problem, file=sys.stderr)
        if len(error.problems) > SHOWN_PROBLEMS:
            print(f"... and {len(error.problems) - SHOWN_PROBLEMS} more lines", file=sys.stderr)
        return error.exit_code
    except ArtifactError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except Exception:  # noqa: BLE001 - exit 1 with the traceback in the log; nothing became current
        log.exception("train failed")
        return EXIT_FAILURE
    print(outcome.summary())
    return outcome.exit_code


def _read_config(path: Path) -> Any:
    """A MatcherConfig from a JSON object; unknown keys are an error, not silently ignored."""
    from models.matcher import MatcherConfig
    from training.pipeline import BadTrainingData

    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadTrainingData(f"--config {path}: cannot read a JSON object ({error})") from None
    if not isinstance(values, dict):
        raise BadTrainingData(f"--config {path}: expected a JSON object")
    known = set(MatcherConfig().to_dict())
    unknown = sorted(set(values) - known)
    if unknown:
        raise BadTrainingData(f"--config {path}: unknown parameter(s) {', '.join(unknown)}")
    return MatcherConfig.from_dict(values)


def _metric(version: admin.ModelVersion, model: str) -> str:
    value = (version.metrics.get(model) or {}).get("ndcg")
    return f"{value:.4f}" if value is not None else "-"


def run_list(args: argparse.Namespace) -> int:
    with operator_context(migrate=False) as ctx:
        status = admin.list_models(ctx)
    if status.pointer_error:
        print(f"warning: {status.pointer_error}", file=sys.stderr)
    if not status.versions:
        print(f"no model versions in {get_settings().artifacts_dir}")
        return EXIT_OK
    header = f"{'':2}{'version':27}{'created (UTC)':22}{'ndcg':>8}{'keyword':>9}{'gate':>7}"
    print(header)
    for version in status.versions:
        mark = "* " if version.current else ("p " if version.previous else "  ")
        if version.problem:
            print(f"{mark}{version.version:27}unreadable: {version.problem}")
            continue
        verdict = "pass" if version.gate_passed else ("forced" if version.gate_forced else "fail")
        created = str(version.created_at or "?")[:19]
        print(
            f"{mark}{version.version:27}{created:22}{_metric(version, 'new'):>8}"
            f"{_metric(version, 'keyword'):>9}{verdict:>7}"
        )
    print("(* current, p previous; ndcg = holdout NDCG@10, mean of both directions)")
    return EXIT_OK


def run_show(args: argparse.Namespace) -> int:
    try:
        with operator_context(migrate=False) as ctx:
            manifest = admin.show_model(ctx, args.version)
    except admin.UnknownModelVersion as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False))
    summary = manifest_summary(manifest)
    if summary:
        print(summary, file=sys.stderr)
    return EXIT_OK


def manifest_summary(manifest: dict[str, Any]) -> str:
    """A manifest's holdout figures and configuration choice in words ("" when it records neither)."""
    from training.pipeline import MODEL_NAMES, format_metrics

    lines = []
    metrics = (manifest.get("evaluation") or {}).get("metrics") or {}
    shown = [name for name in MODEL_NAMES if isinstance(metrics.get(name), dict)]
    if shown:
        lines.append(f"holdout figures of {manifest.get('version', '?')}:")
        lines += [f"  {name:8s} {format_metrics(metrics[name])}" for name in shown]
    selection = manifest.get("selection")
    if isinstance(selection, dict):
        lines += _selection_lines(selection)
    return "\n".join(lines)


def _selection_lines(selection: dict[str, Any]) -> list[str]:
    chosen = selection.get("chosen")
    candidates = selection.get("candidates") or {}
    lines = [
        f"configuration chosen in fit: {chosen} (by {selection.get('metric', '?')}; "
        f"{len(candidates)} candidates, * = chosen)"
    ]
    if not isinstance(candidates, dict):
        return lines
    width = max((len(str(name)) for name in candidates), default=0)
    for name, scores in candidates.items():
        mark = "*" if name == chosen else " "
        lines.append(f"  {mark} {str(name):{width}}  {_scores_text(scores)}")
    return lines


def _scores_text(scores: Any, prefix: str = "") -> str:
    """``key value`` pairs of a candidate's scores (nested dicts as ``outer.inner``)."""
    if not isinstance(scores, dict):
        return _number_text(scores)
    parts = []
    for key, value in scores.items():
        if isinstance(value, dict):
            parts.append(_scores_text(value, f"{prefix}{key}."))
        else:
            parts.append(f"{prefix}{key} {_number_text(value)}")
    return "  ".join(part for part in parts if part)


def _number_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, list):
        shown = ", ".join(_number_text(v) for v in value[:3])
        more = f", ... ({len(value)} in all)" if len(value) > 3 else ""
        return f"[{shown}{more}]"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def run_promote(args: argparse.Namespace) -> int:
    try:
        with operator_context() as ctx:
            pointer = admin.promote_model(ctx, args.version)
    except admin.TrainRunning as error:
        return _train_running(error, "promote")
    except admin.ModelRefused as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"current model is now {pointer.version} (previous {pointer.previous})")
    return EXIT_OK


def run_rollback(args: argparse.Namespace) -> int:
    try:
        with operator_context() as ctx:
            pointer = admin.rollback_model(ctx)
    except admin.TrainRunning as error:
        return _train_running(error, "rollback")
    except admin.ModelRefused as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"rolled back: current model is now {pointer.version} (previous {pointer.previous})")
    return EXIT_OK


def _train_running(error: admin.TrainRunning, action: str) -> int:
    print(f"error: {error}; run `models {action}` again then", file=sys.stderr)
    return EXIT_FAILURE
