"""Retraining: read the data, fit, evaluate on a time-based holdout, gate, write a version, promote.

The evaluation fits the candidate on the events before the holdout cut and scores it, the keyword matcher
and the model currently serving on the same held-out (most recent) events. The artifact is then refitted on
all the data with the same configuration, so the served model knows the newest events; the manifest's
metrics are those of the holdout fit: NDCG and recall on applications and on employer-accepted outcomes in
both directions, the calibration error of the score (``ece``) with its reliability curve and, for a demo
bundle with its ground truth, plan success. Only the NDCG on applications decides the gate; the rest is
reported.

Training does not import the service: it takes the few settings it reads (:class:`TrainSettings`, which
``service.settings.Settings`` satisfies) and a loader of the store's data as arguments
(``service.retrain`` and ``talentmatch train`` wire them).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

from models.bundle import SORT_KEYS, BundleError, read_bundle
from models.columns import EVENT_WEIGHTS
from models.columns import Columns as C
from models.data import MarketData
from training.background_fit import BackgroundFit
from training.demo_truth import GROUND_TRUTH_DIR, GroundTruth, load_ground_truth
from training.registry import ArtifactError, LoadedModel, Registry, library_versions
from training.split import Split, time_split

# The model and evaluation code (scikit-learn, LightFM: ~1.7 s to import) is imported where a run needs it:
# ``models list|show`` read this module's figures and need none of it. None of these imports hides a cycle
# (models imports nothing of training).
if TYPE_CHECKING:
    from models.matcher import Matcher as TrainedMatcher
    from models.matcher import MatcherConfig
    from models.protocol import Matcher

log = logging.getLogger(__name__)

EXIT_PROMOTED = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
EXIT_NOT_PROMOTED = 3
HOLDOUT_K = 10
MODEL_NAMES = ("new", "keyword", "current")


class TrainSettings(Protocol):
    """The settings a train run reads (``service.settings.Settings`` has them)."""

    @property
    def artifacts_dir(self) -> Path: ...

    @property
    def gate_tolerance(self) -> float: ...

    @property
    def keep_versions(self) -> int: ...

    @property
    def train_jobs(self) -> int: ...


# Reads the store (migrated) as a MarketData: what ``train`` trains on when no bundle is given.
StoreLoader = Callable[[], MarketData]


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
        lines = [
            f"trained model {self.version} (holdout NDCG@{HOLDOUT_K}; V = graduates for new vacancies, "
            "G = vacancies for graduates; ece = calibration error of the score against realised success)"
        ]
        mode = (self.manifest.get("evaluation") or {}).get("current_mode")
        for name in MODEL_NAMES:
            values = self.metrics.get(name)
            if values:
                note = f"  [{self.previous_version}, {mode}]" if name == "current" else ""
                lines.append(f"  {name:8s} {format_metrics(values)}{note}")
            elif name == "current":
                lines.append("  current  (none serving)")
        selection = self.manifest.get("selection")
        if isinstance(selection, Mapping) and selection.get("chosen") is not None:
            lines.append(
                f"  configuration chosen in fit: {selection['chosen']} by {selection.get('metric', '?')} "
                f"of {len(selection.get('candidates') or {})} candidates (`models show {self.version}`)"
            )
        verdict = (
            "promoted to current"
            if self.promoted
            else "NOT promoted; current stays " + str(self.previous_version)
        )
        lines.append(f"  {verdict}")
        lines.extend(f"  - {reason}" for reason in self.gate.reasons)
        return "\n".join(lines)


def _figure(values: Mapping[str, Any], key: str, digits: int = 4) -> str:
    value = values.get(key)
    return f"{value:.{digits}f}" if _is_finite(value) else "-"


def format_metrics(values: Mapping[str, Any]) -> str:
    """One model's holdout figures on one line: NDCG on applications and on accepted outcomes (mean, V, G),
    ECE and, when measured on a ground truth, plan success."""
    parts = []
    for label, family in (("ndcg", ""), ("accepted", "_accepted")):
        parts.append(
            f"{label} {_figure(values, f'ndcg{family}')} (V {_figure(values, f'ndcg{family}_vacancy')}, "
            f"G {_figure(values, f'ndcg{family}_graduate')})"
        )
    parts.append(f"ece {_figure(values, 'ece', 3)}")
    if "plan_success_share" in values:
        parts.append(
            f"plans {_figure(values, 'plan_success_share', 2)} of best, "
            f"{_figure(values, 'plan_assignment_success', 2)} succeed"
        )
    return "; ".join(parts)


def selection_of(matcher: Any) -> dict[str, Any] | None:
    """The configuration choice a matcher made inside ``fit`` (its ``selection_``: metric, chosen,
    candidates with their scores), as plain JSON values; ``None`` when it made none."""
    selection = getattr(matcher, "selection_", None)
    if not isinstance(selection, Mapping):
        return None
    return _plain(dict(selection))  # type: ignore[no-any-return]


def _plain(value: Any) -> Any:
    """``value`` with numpy scalars and arrays, tuples and dataclasses turned into JSON values."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


# ---------------------------------------------------------------------- data
def read_training_data(bundle: Path | None, load_store: StoreLoader | None) -> tuple[MarketData, str]:
    """The market to train on (the bundle when given, else the store), and a label of its source."""
    if bundle is not None:
        try:
            return read_bundle(bundle), f"bundle:{Path(bundle).resolve()}"
        except BundleError as error:
            problems = [str(p) for p in error.problems]
            if error.total > len(problems):
                problems.append(f"... and {error.total - len(problems)} more problems")
            raise BadTrainingData(
                f"{bundle}: {error.total} problem(s) in the bundle; nothing was trained", problems=problems
            ) from error
        except FileNotFoundError as error:
            raise BadTrainingData(f"invalid bundle {bundle}: {error}") from error
    if load_store is None:
        raise BadTrainingData("nothing to train on: no bundle given and no store to read")
    return load_store(), "store"


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
def make_config(seed: int | None, base: MatcherConfig | None = None) -> MatcherConfig:
    """The matcher configuration to train: ``base`` (default: the defaults), with ``seed`` when given."""
    from models.matcher import MatcherConfig

    config = base if base is not None else MatcherConfig()
    return config if seed is None else dataclasses.replace(config, seed=seed)


def arrays_finite(matcher: TrainedMatcher) -> list[str]:
    """Names of learned arrays holding NaN or infinity (empty when all are finite)."""
    bad = []
    for name, array in matcher.learned_arrays().items():
        values = np.asarray(array)
        if values.dtype.kind in "fc" and not np.isfinite(values).all():
            bad.append(name)
    return bad


def _holdout_scores_finite(matcher: Matcher, data: MarketData, test: MarketData) -> bool:
    """Score the held-out pairs (the ones the metrics rank); all must be finite."""
    pairs = test.interactions[[C.graduate, C.vacancy]].drop_duplicates()
    if len(pairs) == 0:
        return True
    index = matcher.index(data)
    scores = np.asarray(matcher.score_pairs(list(pairs[C.graduate]), list(pairs[C.vacancy]), index=index))
    return bool(np.isfinite(scores).all())


def _is_finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def decide(
    metrics: Mapping[str, Mapping[str, float] | None],
    *,
    non_finite: list[str],
    tolerance: float,
    force: bool,
) -> GateDecision:
    """The quality gate.

    Passes when everything learned and scored is finite (``non_finite`` names what is not), the new
    model's holdout NDCG (mean of both directions) is a number that beats the keyword matcher's, and it
    is not below the current model's by more than ``tolerance`` (relative). ``force`` promotes a model
    that failed on quality, but never one with non-finite learned arrays or scores: it could not serve.
    """
    new, keyword, current = metrics.get("new"), metrics.get("keyword"), metrics.get("current")
    if new is None or keyword is None:
        raise TrainingError("the gate needs holdout metrics for the new model and the keyword matcher")
    reasons = []
    finite = not non_finite
    if not finite:
        reasons.append(f"non-finite values in: {', '.join(non_finite)}")
    if not _is_finite(new.get("ndcg")):
        reasons.append(f"the new model's holdout NDCG is not a finite number ({new.get('ndcg')})")
    elif not _is_finite(keyword.get("ndcg")):
        reasons.append(f"the keyword matcher's holdout NDCG is not a finite number ({keyword.get('ndcg')})")
    elif not new["ndcg"] > keyword["ndcg"]:
        reasons.append(
            f"does not beat the keyword matcher: NDCG@{HOLDOUT_K} {new['ndcg']:.4f} "
            f"<= keyword {keyword['ndcg']:.4f}"
        )
    if current is not None and not _is_finite(current.get("ndcg")):
        log.warning("the current model's holdout NDCG is not finite; judging against the keyword matcher")
        current = None
    if current is not None and _is_finite(new.get("ndcg")):
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


# How the current model is compared with the candidate.
MODE_ARTIFACT = "artifact"  # the serving artifact as it is, on events it has never seen
MODE_REFIT = "refit"  # its parameters refitted on the candidate's training events (it saw the holdout)
# The holdout moved past the current model's data must keep at least this many events (and share).
MIN_UNSEEN_EVENTS = 100
MIN_UNSEEN_SHARE = 0.05


def choose_split(data: MarketData, current: LoadedModel | None) -> tuple[Split, str | None]:
    """The time split for the evaluation, and how the current model will be compared on it.

    A model scored on events it was trained on looks far better than it is (on the demo world the
    serving model's NDCG on its own training events was about 1.5x the honest figure), so the current
    artifact is scored as it is only on events after the latest one it saw: the default holdout (the most
    recent 20%) when it saw none of them, else a holdout moved to start after its data, when that still
    holds enough events. Otherwise the current model's parameters are refitted on the same events as the
    candidate (``refit``): that compares configurations fairly but cannot catch a data regression, which
    the keyword-matcher check still does.

    Raises
    ------
    BadTrainingData
        The events cannot be split in time.
    """
    try:
        split = time_split(data)
    except ValueError as error:
        raise BadTrainingData(f"cannot make a time-based holdout: {error}") from error
    if current is None:
        return split, None
    seen = (current.manifest.get("data") or {}).get("latest_event_at")
    seen_until = pd.Timestamp(seen) if seen else None
    if seen_until is None or pd.isna(seen_until):
        return split, MODE_REFIT
    if seen_until < pd.Timestamp(split.cut):
        return split, MODE_ARTIFACT
    times = pd.to_datetime(data.interactions[C.occurred_at])
    unseen = times[times > seen_until]
    if len(unseen) >= max(MIN_UNSEEN_EVENTS, MIN_UNSEEN_SHARE * len(times)):
        try:
            return time_split(data, cut=unseen.min()), MODE_ARTIFACT
        except ValueError:
            pass
    return split, MODE_REFIT


def _config_from_manifest(manifest: Mapping[str, Any], fallback: MatcherConfig) -> MatcherConfig:
    from models.matcher import MatcherConfig

    parameters = manifest.get("parameters")
    return MatcherConfig.from_dict(parameters) if isinstance(parameters, dict) else fallback


def _evaluate(
    matchers: dict[str, Matcher], split: Split, truth: GroundTruth | None = None
) -> tuple[dict[str, dict[str, float] | None], dict[str, Any]]:
    """Holdout metrics and reliability curves; a current model that cannot be scored (e.g. made by older
    code) is left out."""
    from training.evaluate import evaluate_matchers, flatten

    try:
        results = evaluate_matchers(matchers, split, k=HOLDOUT_K, truth=truth, oracle=False)
    except Exception as error:
        if "current" not in matchers:
            raise
        log.warning(
            "could not evaluate the current model (%r); comparing with the keyword matcher only", error
        )
        rest = {name: m for name, m in matchers.items() if name != "current"}
        results = evaluate_matchers(rest, split, k=HOLDOUT_K, truth=truth, oracle=False)
    reliability = {
        name: result.calibration.to_dict()
        for name, result in results.items()
        if result.calibration is not None
    }
    return dict(flatten(results)), reliability


def ground_truth_of(bundle: Path | None) -> GroundTruth | None:
    """The demo world's ground truth when ``bundle`` carries one (``ground_truth/``), else ``None``."""
    if bundle is None or not (Path(bundle) / GROUND_TRUTH_DIR).is_dir():
        return None
    try:
        return load_ground_truth(bundle)
    except (OSError, ValueError, KeyError) as error:
        log.warning("ignoring the bundle's ground truth (%s)", error)
        return None


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
    settings: TrainSettings,
    *,
    load_store: StoreLoader | None = None,
    bundle: Path | None = None,
    force: bool = False,
    quiet: bool = False,
    seed: int | None = None,
    config: MatcherConfig | None = None,
) -> TrainOutcome:
    """Train, evaluate, gate, write a version and promote it when the gate passes (or ``force``).

    Trains on ``bundle`` when given, else on what ``load_store`` reads. ``config`` is a ``MatcherConfig``
    to train instead of the defaults (tests use small ones); ``seed`` overrides its seed.

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
        return _train_locked(
            registry,
            settings,
            load_store=load_store,
            bundle=bundle,
            force=force,
            quiet=quiet,
            seed=seed,
            config=config,
        )


def _train_locked(
    registry: Registry,
    settings: TrainSettings,
    *,
    load_store: StoreLoader | None,
    bundle: Path | None,
    force: bool,
    quiet: bool,
    seed: int | None,
    config: MatcherConfig | None,
) -> TrainOutcome:
    started = time.perf_counter()
    data, source = read_training_data(bundle, load_store)
    check_trainable(data)
    snapshot = data_snapshot(data, source)
    log.info("training data: %s", ", ".join(f"{k} {v}" for k, v in snapshot["counts"].items()))
    config = make_config(seed, config)

    current = _load_current(registry)
    split, mode = choose_split(data, current)
    if len(split.test.interactions) == 0 or len(split.train.interactions) == 0:
        raise BadTrainingData("cannot make a time-based holdout: too few distinct event times")
    timings: dict[str, float] = {}
    # The artifact's fit on all the data needs nothing of the holdout's: with two cores it runs meanwhile.
    # So do the model card's fairness figures, which the child computes right after it.
    background = (
        BackgroundFit(
            config,
            data,
            workdir=registry.root,
            then=functools.partial(model_fairness, as_of=snapshot.get("latest_event_at")),
        )
        if settings.train_jobs >= 2
        else None
    )
    with background or contextlib.nullcontext():
        # Imported here: checking the data needs no model code.
        from models.keyword import KeywordMatcher
        from models.matcher import Matcher as TrainedMatcher

        tick = time.perf_counter()
        log.info("fitting on events before %s for the holdout evaluation", split.cut)
        candidate = TrainedMatcher(config).fit(split.train, progress=not quiet)
        timings["fit_holdout_seconds"] = time.perf_counter() - tick

        matchers: dict[str, Matcher] = {"new": candidate, "keyword": KeywordMatcher().fit(split.train)}
        same_as_new = False
        if current is not None and mode == MODE_ARTIFACT:
            matchers["current"] = current.matcher
        elif current is not None and mode == MODE_REFIT:
            current_config = _config_from_manifest(current.manifest, config)
            same_as_new = current_config == config
            if not same_as_new:
                log.info("refitting the current model's parameters on the same events for the comparison")
                matchers["current"] = TrainedMatcher(current_config).fit(split.train, progress=not quiet)
        tick = time.perf_counter()
        metrics, reliability = _evaluate(matchers, split, ground_truth_of(bundle))
        if current is not None and "current" not in metrics and not same_as_new:
            mode = None  # could not be scored: judged against the keyword matcher only
        if same_as_new:
            # The current model's parameters retrained on these events would be this very candidate.
            metrics["current"] = dict(metrics["new"]) if metrics["new"] is not None else None
            if "new" in reliability:
                reliability["current"] = reliability["new"]
        metrics.setdefault("current", None)
        timings["evaluate_seconds"] = time.perf_counter() - tick

        non_finite = [f"holdout-fit {name}" for name in arrays_finite(candidate)]
        if not _holdout_scores_finite(candidate, data, split.test):
            non_finite.append("holdout scores")

        tick = time.perf_counter()
        if background is None:
            log.info("refitting on all the data for the artifact")
            final = TrainedMatcher(config).fit(data, progress=not quiet)
            timings["fit_all_seconds"] = time.perf_counter() - tick
            tick = time.perf_counter()
            fairness = model_fairness(final, data, snapshot.get("latest_event_at"))
            timings["fairness_seconds"] = time.perf_counter() - tick
        else:
            log.info("waiting for the fit on all the data (process %s)", background.pid)
            final, seconds, fairness = background.result()
            timings["fit_all_seconds"], timings["fairness_seconds"] = seconds["fit"], seconds["then"]
            timings["fit_all_waited_seconds"] = time.perf_counter() - tick
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
                "current_latest_event_at": current_latest,
                # artifact: the serving model as it is, on events it never saw; refit: its parameters
                # refitted on the candidate's training events (see choose_split).
                "current_mode": mode if current else None,
                "metrics": metrics,
                # Per model: ECE and, per equal-mass bin of its score, the mean score, the observed success
                # share and the number of pairs (the holdout's exposed pairs).
                "reliability": reliability,
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
        selection = selection_of(final)
        if selection is not None:
            manifest["selection"] = selection
        if fairness is not None:
            manifest["fairness"] = fairness
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


FAIRNESS_VACANCIES = 300  # open vacancies sampled for the model card's fairness figures (seeded)
FAIRNESS_GRADUATES = 2000  # seeking graduates sampled for the vacancy side


def model_fairness(matcher: Matcher, data: MarketData, as_of: Any) -> dict[str, Any] | None:
    """The fairness and exposure figures of a trained model on its own data, for its manifest and model
    card (:mod:`training.fairness` on a seeded sample of the open vacancies, without the re-ranked
    variant; ``talentmatch fairness`` gives the full report). None when there is nothing to measure (no
    open vacancy or no seeking graduate at ``as_of``)."""
    from training.fairness import fairness_report

    try:
        report = fairness_report(
            matcher,
            data,
            as_of=pd.Timestamp(as_of) if as_of else None,
            rerank_by=None,
            max_vacancies=FAIRNESS_VACANCIES,
            max_graduates=FAIRNESS_GRADUATES,
        )
    except ValueError as exc:
        log.info("no fairness figures for the manifest: %s", exc)
        return None
    return report.to_dict()


def _safe_current(registry: Registry) -> str | None:
    try:
        return registry.current_version()
    except ArtifactError:
        return None


def ensure_model(
    settings: TrainSettings, *, load_store: StoreLoader, config: MatcherConfig | None = None
) -> bool:
    """Train and promote a first model from the store (``load_store``) when no usable current model
    exists (for ``make run``).

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
    outcome = train(settings, load_store=load_store, quiet=True, config=config)
    if not outcome.promoted:
        raise TrainingError("the first model was not promoted:\n" + outcome.summary())
    return True
