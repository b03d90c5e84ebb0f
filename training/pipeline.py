"""Retraining: read the data, fit, evaluate on a time-based holdout, gate, write a version, promote.

The evaluation fits the candidate on the events before the holdout cut and scores it, the keyword matcher
and the model currently serving on the same held-out (most recent) events. The artifact is then refitted on
all the data with the same configuration, so the served model knows the newest events; the manifest's
metrics are those of the holdout fit.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models.columns import EVENT_WEIGHTS
from models.columns import Columns as C
from models.data import MarketData
from service.settings import Settings
from training.bundle import SORT_KEYS
from training.registry import ArtifactError, LoadedModel, Registry, library_versions

log = logging.getLogger(__name__)

EXIT_PROMOTED = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
EXIT_NOT_PROMOTED = 3
HOLDOUT_K = 10
MODEL_NAMES = ("new", "keyword", "current")


class TrainingError(Exception):
    """Training could not produce a version; ``exit_code`` is what the CLI returns."""

    exit_code = EXIT_FAILURE

    def __init__(self, message: str, *, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class BadTrainingData(TrainingError):
    """Nothing to train on (no interactions, no positives) or an invalid bundle."""

    exit_code = EXIT_BAD_INPUT


@dataclass(frozen=True)
class GateDecision:
    """Whether a trained version becomes current, and why (in words an operator can act on)."""

    passed: bool
    promote: bool
    reasons: list[str]


@dataclass
class TrainOutcome:
    """The result of one ``train`` run."""

    version: str
    promoted: bool
    gate: GateDecision
    metrics: dict[str, dict[str, float] | None]
    previous_version: str | None
    manifest: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def exit_code(self) -> int:
        return EXIT_PROMOTED if self.promoted else EXIT_NOT_PROMOTED

    def summary(self) -> str:
        lines = [f"trained model {self.version}"]
        for name in MODEL_NAMES:
            values = self.metrics.get(name)
            if values:
                parts = ", ".join(
                    f"{key} {values[key]:.4f}" for key in ("ndcg", "ndcg_vacancy", "ndcg_graduate")
                )
                lines.append(f"  {name:8s} {parts}")
            elif name == "current":
                lines.append("  current  (none serving)")
        verdict = (
            "promoted to current"
            if self.promoted
            else "NOT promoted; current stays " + str(self.previous_version)
        )
        lines.append(f"  {verdict}")
        lines.extend(f"  - {reason}" for reason in self.gate.reasons)
        return "\n".join(lines)


# ---------------------------------------------------------------------- data
def read_training_data(settings: Settings, bundle: Path | None) -> tuple[MarketData, str]:
    """The market to train on, and a label of its source. The store is migrated first."""
    if bundle is not None:
        from training.bundle import read_bundle

        try:
            from training.bundle import BundleError
        except ImportError:  # pragma: no cover - the bundle reader always defines it
            BundleError = ValueError  # type: ignore[misc,assignment]  # noqa: N806
        try:
            return read_bundle(bundle), f"bundle:{Path(bundle).resolve()}"
        except BundleError as error:
            problems = [str(p) for p in getattr(error, "problems", [])]
            raise BadTrainingData(f"invalid bundle {bundle}: {error}", problems=problems) from error
        except FileNotFoundError as error:
            raise BadTrainingData(f"invalid bundle {bundle}: {error}") from error

    from service.store.market import load_market
    from service.store.migrate import upgrade
    from service.store.session import make_engine, make_sessionmaker

    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        with make_sessionmaker(engine)() as session:
            return load_market(session=session), "store"
    finally:
        engine.dispose()


def check_trainable(data: MarketData) -> None:
    """Raise :class:`BadTrainingData` when there is nothing to learn from."""
    interactions = data.interactions
    if len(interactions) == 0:
        raise BadTrainingData("nothing to train on: there are no interactions")
    positives = int(interactions[C.event].isin(list(EVENT_WEIGHTS)).sum())
    if positives == 0:
        raise BadTrainingData(
            "nothing to train on: no positive interactions "
            "(applied, shortlisted, interviewed, offered, hired)"
        )
    if len(data.graduates) == 0 or len(data.vacancies) == 0:
        raise BadTrainingData("nothing to train on: no graduates or no vacancies")


def data_snapshot(data: MarketData, source: str) -> dict[str, Any]:
    """Row counts, the latest event time and a sha256 of the data (rows sorted, so order does not matter)."""
    digest = hashlib.sha256()
    for name, frame in data.frames().items():
        digest.update(name.encode() + b"\n")
        if len(frame):
            keys = [key for key in SORT_KEYS.get(name, []) if key in frame.columns]
            ordered = frame.sort_values(keys, kind="mergesort") if keys else frame
            digest.update(ordered.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S").encode())
    latest = data.interactions[C.occurred_at].max() if len(data.interactions) else None
    return {
        "source": source,
        "counts": data.counts(),
        "positive_interactions": int(data.interactions[C.event].isin(list(EVENT_WEIGHTS)).sum()),
        "latest_event_at": None if latest is None or pd.isna(latest) else pd.Timestamp(latest).isoformat(),
        "sha256": digest.hexdigest(),
    }


# ---------------------------------------------------------------------- model
def make_config(seed: int | None) -> Any:
    """The matcher's default configuration, with ``seed`` applied when given."""
    from models.matcher import MatcherConfig

    config = MatcherConfig()
    if seed is None:
        return config
    names = {f.name for f in dataclasses.fields(config)}
    for name in ("seed", "random_state"):
        if name in names:
            return dataclasses.replace(config, **{name: seed})
    raise TrainingError(f"MatcherConfig has no seed field (fields: {sorted(names)})")


def arrays_finite(matcher: Any) -> list[str]:
    """Names of learned arrays holding NaN or infinity (empty when all are finite)."""
    bad = []
    for name, array in matcher.learned_arrays().items():
        values = np.asarray(array)
        if values.dtype.kind in "fc" and not np.isfinite(values).all():
            bad.append(name)
    return bad


def _holdout_scores_finite(matcher: Any, data: MarketData, test: MarketData) -> bool:
    """Score the held-out pairs (the ones the metrics rank); all must be finite."""
    pairs = test.interactions[[C.graduate, C.vacancy]].drop_duplicates()
    if len(pairs) == 0:
        return True
    index = matcher.index(data)
    scores = np.asarray(matcher.score_pairs(list(pairs[C.graduate]), list(pairs[C.vacancy]), index=index))
    return bool(np.isfinite(scores).all())


def _finite_metrics(metrics: Mapping[str, float]) -> bool:
    return all(isinstance(v, int | float) and math.isfinite(v) for v in metrics.values())


def decide(
    metrics: Mapping[str, Mapping[str, float] | None],
    *,
    non_finite: list[str],
    tolerance: float,
    force: bool,
) -> GateDecision:
    """The quality gate.

    Passes when everything learned and scored is finite, the new model's holdout NDCG (mean of both
    directions) beats the keyword matcher's, and it is not below the current model's by more than
    ``tolerance`` (relative). ``force`` promotes a model that failed on quality, but never one with
    non-finite values: it could not serve.
    """
    new, keyword, current = metrics.get("new"), metrics.get("keyword"), metrics.get("current")
    if new is None or keyword is None:
        raise TrainingError("the gate needs holdout metrics for the new model and the keyword matcher")
    reasons = []
    finite = not non_finite
    if not finite:
        reasons.append(f"non-finite values in: {', '.join(non_finite)}")
    if not new["ndcg"] > keyword["ndcg"]:
        reasons.append(
            f"does not beat the keyword matcher: NDCG@{HOLDOUT_K} {new['ndcg']:.4f} "
            f"<= keyword {keyword['ndcg']:.4f}"
        )
    if current is not None:
        floor = current["ndcg"] * (1.0 - tolerance)
        if not new["ndcg"] >= floor:
            reasons.append(
                f"worse than the current model: NDCG@{HOLDOUT_K} {new['ndcg']:.4f} < current "
                f"{current['ndcg']:.4f} - {tolerance:.0%} tolerance ({floor:.4f})"
            )
    passed = not reasons
    if passed:
        reasons.append(
            f"passed the gate: NDCG@{HOLDOUT_K} {new['ndcg']:.4f} vs keyword {keyword['ndcg']:.4f}"
            + (f" and current {current['ndcg']:.4f}" if current is not None else " (no current model)")
        )
    promote = passed or (force and finite)
    if force and not passed:
        reasons.append("promoted anyway (--force)" if promote else "--force cannot promote non-finite values")
    return GateDecision(passed=passed, promote=promote, reasons=reasons)


def _load_current(registry: Registry) -> LoadedModel | None:
    try:
        version = registry.current_version()
    except ArtifactError as error:
        log.warning("%s; comparing against the keyword matcher only", error)
        return None
    if version is None:
        return None
    try:
        return registry.load(version)
    except ArtifactError as error:
        log.warning("current model cannot be loaded (%s); comparing against the keyword matcher only", error)
        return None


# ---------------------------------------------------------------------- the run
def train(
    settings: Settings,
    *,
    bundle: Path | None = None,
    force: bool = False,
    quiet: bool = False,
    seed: int | None = None,
) -> TrainOutcome:
    """Train, evaluate, gate, write a version and promote it when the gate passes (or ``force``).

    Raises
    ------
    training.lock.LockBusy
        Another train holds ``ARTIFACTS_DIR/.train.lock``.
    BadTrainingData
        Nothing to train on, or the bundle is invalid.
    TrainingError
        Anything else that stopped the run; nothing became current.
    """
    registry = Registry(settings.artifacts_dir)
    with registry.train_lock():
        registry.clean_temp()
        return _train_locked(registry, settings, bundle=bundle, force=force, quiet=quiet, seed=seed)


def _train_locked(
    registry: Registry,
    settings: Settings,
    *,
    bundle: Path | None,
    force: bool,
    quiet: bool,
    seed: int | None,
) -> TrainOutcome:
    started = time.perf_counter()
    data, source = read_training_data(settings, bundle)
    check_trainable(data)
    # Imported here: checking the data needs no model code.
    from models.keyword import KeywordMatcher

    from models.matcher import Matcher
    from training.evaluate import holdout_metrics, time_split

    snapshot = data_snapshot(data, source)
    log.info("training data: %s", ", ".join(f"{k} {v}" for k, v in snapshot["counts"].items()))
    config = make_config(seed)

    try:
        split = time_split(data)
    except ValueError as error:
        raise BadTrainingData(f"cannot make a time-based holdout: {error}") from error
    if len(split.test.interactions) == 0 or len(split.train.interactions) == 0:
        raise BadTrainingData("cannot make a time-based holdout: too few distinct event times")

    current = _load_current(registry)
    timings: dict[str, float] = {}
    tick = time.perf_counter()
    log.info("fitting on events before %s for the holdout evaluation", split.cut)
    candidate = Matcher(config).fit(split.train, progress=not quiet)
    timings["fit_holdout_seconds"] = time.perf_counter() - tick
    keyword = KeywordMatcher().fit(split.train)

    matchers: dict[str, Any] = {"new": candidate, "keyword": keyword}
    if current is not None:
        matchers["current"] = current.matcher
    tick = time.perf_counter()
    try:
        metrics: dict[str, dict[str, float] | None] = dict(holdout_metrics(matchers, split, k=HOLDOUT_K))
    except Exception as error:
        if current is None:
            raise
        # The serving model could not be scored here (e.g. made by older code): judge against the keyword one.
        log.warning(
            "could not evaluate the current model %s (%r); comparing with keyword only",
            current.version,
            error,
        )
        del matchers["current"]
        metrics = dict(holdout_metrics(matchers, split, k=HOLDOUT_K))
        current = None
    metrics.setdefault("current", None)
    timings["evaluate_seconds"] = time.perf_counter() - tick

    non_finite = [f"holdout-fit {name}" for name in arrays_finite(candidate)]
    if not _holdout_scores_finite(candidate, data, split.test):
        non_finite.append("holdout scores")
    non_finite += [
        f"{name} metrics" for name, m in metrics.items() if m is not None and not _finite_metrics(m)
    ]

    tick = time.perf_counter()
    log.info("refitting on all the data for the artifact")
    final = Matcher(config).fit(data, progress=not quiet)
    timings["fit_all_seconds"] = time.perf_counter() - tick
    non_finite += [f"final {name}" for name in arrays_finite(final)]

    decision = decide(metrics, non_finite=non_finite, tolerance=settings.gate_tolerance, force=force)
    previous_version = current.version if current else _safe_current(registry)
    current_latest = (current.manifest.get("data") or {}).get("latest_event_at") if current else None
    manifest = {
        "model": "models.matcher.Matcher",
        "data": snapshot,
        "parameters": config.to_dict(),
        "seed": seed,
        "libraries": library_versions(),
        "evaluation": {
            "k": HOLDOUT_K,
            "cut": pd.Timestamp(split.cut).isoformat() if split.cut is not None else None,
            "train_interactions": len(split.train.interactions),
            "test_interactions": len(split.test.interactions),
            "current_version": current.version if current else None,
            # The serving model saw events up to this time; held-out events before it favour it.
            "current_latest_event_at": current_latest,
            "metrics": metrics,
        },
        "gate": {
            "passed": decision.passed,
            "promote": decision.promote,
            "forced": force and not decision.passed and decision.promote,
            "tolerance": settings.gate_tolerance,
            "reasons": decision.reasons,
        },
        "timings": {k: round(v, 3) for k, v in timings.items()},
    }
    version = registry.write_version(final.save, manifest, created_at=datetime.now(UTC))
    promoted = False
    if decision.promote:
        registry.promote(version)
        promoted = True
    registry.prune(settings.keep_versions)
    log.info("train finished in %.1f s", time.perf_counter() - started)
    return TrainOutcome(
        version=version,
        promoted=promoted,
        gate=decision,
        metrics=metrics,
        previous_version=previous_version,
        manifest=registry.manifest(version),
    )


def _safe_current(registry: Registry) -> str | None:
    try:
        return registry.current_version()
    except ArtifactError:
        return None


def ensure_model(settings: Settings) -> bool:
    """Train and promote a first model when no usable current model exists (for ``make run``).

    Returns
    -------
    bool
        True when a model was trained and promoted here, False when a verified current model already exists.

    Raises
    ------
    TrainingError
        A model was needed but none could be promoted (nothing to train on, or it failed the gate).
    """
    registry = Registry(settings.artifacts_dir)
    try:
        version = registry.current_version()
        if version is not None:
            registry.verify(version)
            return False
    except ArtifactError as error:
        log.warning("current model unusable (%s); training a new one", error)
    outcome = train(settings, quiet=True)
    if not outcome.promoted:
        raise TrainingError("the first model was not promoted:\n" + outcome.summary())
    return True
