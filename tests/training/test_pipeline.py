"""``talentmatch train`` end to end on a small demo market: gate, exit codes, manifest, crash safety."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from models.bundle import write_bundle
from models.columns import EDUCATION_RANK
from models.columns import Columns as C
from models.data import MarketData
from models.matcher import MatcherConfig
from service.cli import main
from service.retrain import ensure_model
from service.settings import Settings, get_settings
from service.store.market import import_market
from service.store.migrate import upgrade
from service.store.session import make_engine, make_sessionmaker
from service.usecases.notice import card_from_manifest
from tests.training.small_world import SMALL, WORSE, small_market
from training.pipeline import BadTrainingData, decide, read_training_data, selection_of, train
from training.registry import ArtifactError, Registry


@dataclass
class World:
    bundle: Path
    market: MarketData
    configs: Path
    first_artifacts: Path
    first_version: str


def write_config(path: Path, config: MatcherConfig) -> Path:
    path.write_text(json.dumps(config.to_dict()))
    return path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("world")
    market = small_market()
    write_bundle(market, root / "bundle")
    configs = root / "configs"
    configs.mkdir()
    write_config(configs / "small.json", SMALL)
    write_config(configs / "worse.json", WORSE)
    settings = Settings(artifacts_dir=root / "first", database_url=f"sqlite:///{root / 'unused.db'}")
    with threadpool_limits(1):
        # Forced so that the other tests have a current model even if the demo world changes; the
        # first-model rule itself is tested on decide() below.
        outcome = train(settings, bundle=root / "bundle", quiet=True, config=SMALL, force=True)
    assert outcome.promoted, outcome.summary()
    yield World(root / "bundle", market, configs, root / "first", outcome.version)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the CLI at a fresh artifacts dir and store under tmp_path; returns the artifacts dir."""
    artifacts = tmp_path / "artifacts"
    monkeypatch.setenv("TALENTMATCH_ARTIFACTS_DIR", str(artifacts))
    monkeypatch.setenv("TALENTMATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    get_settings.cache_clear()
    with threadpool_limits(1):
        yield artifacts
    get_settings.cache_clear()


def with_first_model(world: World, artifacts: Path) -> None:
    shutil.copytree(world.first_artifacts, artifacts)


def test_first_model_promoted_with_complete_manifest(world: World) -> None:
    registry = Registry(world.first_artifacts)
    assert registry.current_version() == world.first_version
    manifest = registry.verify(world.first_version)
    assert manifest["data"]["counts"] == world.market.counts()
    assert manifest["data"]["source"].startswith("bundle:")
    assert len(manifest["data"]["sha256"]) == 64
    assert manifest["data"]["latest_event_at"] == world.market.interactions[C.occurred_at].max().isoformat()
    assert manifest["parameters"] == SMALL.to_dict()
    assert set(manifest["libraries"]) >= {
        "numpy",
        "scipy",
        "scikit-learn",
        "lightfm",
        "pandas",
        "joblib",
        "python",
    }
    metrics = manifest["evaluation"]["metrics"]
    assert metrics["current"] is None
    assert manifest["gate"]["passed"] == (metrics["new"]["ndcg"] > metrics["keyword"]["ndcg"])
    # Reported beside the gate's figure: both directions on accepted outcomes, and calibration.
    for key in ("ndcg_accepted_vacancy", "ndcg_accepted_graduate", "ndcg_accepted", "ece"):
        assert 0.0 <= metrics["new"][key] <= 1.0, key
    curve = manifest["evaluation"]["reliability"]["new"]
    assert curve["ece"] == metrics["new"]["ece"] and sum(curve["count"]) == curve["pairs"] > 0
    assert "oracle" not in metrics  # no ground truth in this bundle
    selection = manifest.get("selection")  # recorded when the fit chose among configurations
    if selection is not None:
        assert selection["chosen"] in selection["candidates"]
    # The model card's fairness figures: the trained model's own lists and history, per group.
    fairness = manifest["fairness"]
    assert fairness["as_of"].startswith(world.market.interactions[C.occurred_at].max().isoformat()[:10])
    assert set(fairness["attributes"]) >= {"school", "school_kind", "education", "district"}
    assert fairness["counts"]["open_vacancies_ranked"] > 0 and 0.0 <= fairness["coverage"] <= 1.0
    ratios = [g["impact_ratio"] for t in fairness["attributes"]["school_kind"].values() for g in t["groups"]]
    assert any(r is not None and 0.0 <= r <= 1.0 for r in ratios)
    assert manifest["timings"]["fairness_seconds"] >= 0
    card = card_from_manifest(world.first_version, manifest)  # what GET /api/v1/models/{version}/card shows
    assert card.fairness is not None and "school_kind" in card.fairness["min_impact_ratio"]
    assert manifest["gate"]["promote"]
    assert "matcher.joblib" in manifest["files"] and any(f.endswith(".npy") for f in manifest["files"])
    # The loaded artifact answers queries.
    loaded = registry.load()
    index = loaded.matcher.index(world.market)
    vacancy = world.market.vacancies.iloc[0]
    graduates = world.market.graduates
    eligible = (graduates[C.status] == "seeking") & (
        graduates[C.education].map(EDUCATION_RANK) >= EDUCATION_RANK[vacancy[C.min_education]]
    )
    result = loaded.matcher.candidates_for(vacancy[C.vacancy], index=index, limit=5)
    assert result.total == int(eligible.sum()) > 5
    assert len(result.items) == 5
    assert {m.graduate_id for m in result.items} <= set(graduates.loc[eligible, C.graduate])
    scores = [m.score for m in result.items]
    assert scores == sorted(scores, reverse=True) and all(0.0 <= s <= 1.0 for s in scores)


@pytest.mark.slow
def test_gate_refuses_worse_model_exit_3(
    world: World, env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with_first_model(world, env)
    monkeypatch.setenv("TALENTMATCH_GATE_TOLERANCE", "0")
    get_settings.cache_clear()
    code = main(
        ["train", "--bundle", str(world.bundle), "--config", str(world.configs / "worse.json"), "--quiet"]
    )
    out = capsys.readouterr().out
    assert code == 3, out
    assert "worse than the current model" in out
    assert "accepted" in out and "ece" in out  # reported, not gated
    assert "NOT promoted" in out
    registry = Registry(env)
    assert registry.current_version() == world.first_version
    new = [v for v in registry.versions() if v != world.first_version]
    assert len(new) == 1  # written, kept, not current
    manifest = registry.manifest(new[0])
    assert manifest["evaluation"]["current_mode"] == "refit"  # the current model saw these events
    assert not manifest["gate"]["passed"] and not manifest["gate"]["promote"]
    metrics = manifest["evaluation"]["metrics"]
    assert metrics["new"]["ndcg"] < metrics["current"]["ndcg"]


@pytest.mark.slow
def test_force_promotes_worse_model(
    world: World, env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with_first_model(world, env)
    # Tolerance 0, as in the refusal test: the worse config loses, but by less than the default tolerance.
    monkeypatch.setenv("TALENTMATCH_GATE_TOLERANCE", "0")
    get_settings.cache_clear()
    code = main(
        [
            "train",
            "--bundle",
            str(world.bundle),
            "--config",
            str(world.configs / "worse.json"),
            "--quiet",
            "--force",
        ]
    )
    assert code == 0, capsys.readouterr().out
    registry = Registry(env)
    pointer = registry.read_pointer()
    assert pointer is not None and pointer.previous == world.first_version
    manifest = registry.manifest(pointer.version)
    assert manifest["gate"]["forced"] and not manifest["gate"]["passed"]
    # ... and the operator can roll it back.
    assert main(["models", "rollback"]) == 0
    assert registry.current_version() == world.first_version


@pytest.mark.slow
def test_gate_scores_current_artifact_on_events_it_never_saw(tmp_path: Path) -> None:
    """A model trained on older events is scored as it is, on the newer events only."""
    market = small_market(0.25)  # no quality asserted here: the smaller, the faster
    cut = market.interactions[C.occurred_at].quantile(0.7)
    early = replace(market, interactions=market.interactions[market.interactions[C.occurred_at] < cut])
    write_bundle(early, tmp_path / "early")
    write_bundle(market, tmp_path / "all")
    settings = Settings(artifacts_dir=tmp_path / "artifacts", gate_tolerance=0.5)
    with threadpool_limits(1):
        first = train(settings, bundle=tmp_path / "early", quiet=True, config=SMALL, force=True)
        second = train(settings, bundle=tmp_path / "all", quiet=True, config=SMALL)
    evaluation = second.manifest["evaluation"]
    assert evaluation["current_version"] == first.version
    assert evaluation["current_mode"] == "artifact"
    assert evaluation["cut"] > evaluation["current_latest_event_at"]
    assert second.metrics["current"] is not None


def test_bad_bundle_exit_2(
    world: World, env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = tmp_path / "bad"
    shutil.copytree(world.bundle, bundle)
    path = bundle / "interactions.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace("applied", "teleported").replace("viewed", "teleported")
    lines[3] = ",".join(lines[3].split(",")[:2] + ["teleported", "not-a-date"])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["train", "--bundle", str(bundle), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "interactions.csv:4" in err
    assert Registry(env).versions() == []


def test_no_positive_interactions_exit_2(world: World, env: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    market = world.market
    views = market.interactions[market.interactions[C.event] == "viewed"]
    write_bundle(replace(market, interactions=views), tmp_path / "views")
    assert main(["train", "--bundle", str(tmp_path / "views"), "--quiet"]) == 2
    assert "no positive interactions" in capsys.readouterr().err


def test_bad_config_exit_2(world: World, env: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "c.json").write_text('{"epochz": 3}')
    assert main(["train", "--bundle", str(world.bundle), "--config", str(tmp_path / "c.json")]) == 2
    assert "unknown parameter(s) epochz" in capsys.readouterr().err


@pytest.mark.slow
def test_kill_9_midway_leaves_current_and_next_train_works(world: World, env: Path, tmp_path: Path) -> None:
    with_first_model(world, env)
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    command = [
        sys.executable,
        "-c",
        "import sys; from service.cli import main; sys.exit(main())",
        "train",
        "--bundle",
        str(world.bundle),
        "--config",
        str(world.configs / "small.json"),
        "--quiet",
    ]
    process = subprocess.Popen(
        command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        # Kill once it is fitting (the log line is written after the data is read and the lock taken).
        assert process.stderr is not None
        for line in process.stderr:
            if "fitting on events before" in line:
                break
        time.sleep(0.5)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    # A write that was cut short leaves a .tmp-* directory at worst; simulate one too.
    (env / ".tmp-killed").mkdir()
    (env / ".tmp-killed" / "matcher.joblib").write_bytes(b"half")
    registry = Registry(env)
    assert registry.current_version() == world.first_version
    assert registry.versions() == [world.first_version]

    # The lock died with the process: the next train runs to the end and cleans up. (Same data and
    # parameters as the current model, so it is compared with itself: only the keyword check can refuse.)
    code = main(
        ["train", "--bundle", str(world.bundle), "--config", str(world.configs / "small.json"), "--quiet"]
    )
    assert code in (0, 3)
    assert not any(p.name.startswith(".tmp-") for p in env.iterdir())
    assert len(registry.versions()) == 2


def test_training_reads_the_store_only_through_the_loader_it_is_given(world: World, tmp_path: Path) -> None:
    with pytest.raises(BadTrainingData, match="no bundle given and no store to read"):
        read_training_data(None, None)
    data, source = read_training_data(None, lambda: world.market)
    assert data is world.market and source == "store"
    data, source = read_training_data(world.bundle, None)
    assert source.startswith("bundle:") and data.counts() == world.market.counts()
    # A Settings is all the settings training needs; without a bundle nor a loader nothing is trained.
    settings = Settings(artifacts_dir=tmp_path / "artifacts", database_url=f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(BadTrainingData):
        train(settings, quiet=True, config=SMALL)
    assert not (tmp_path / "x.db").exists()


@pytest.mark.slow
def test_ensure_model_trains_from_the_store_once(world: World, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with make_sessionmaker(engine)() as session, session.begin():
        import_market(session=session, data=world.market)
    engine.dispose()
    settings = Settings(database_url=url, artifacts_dir=tmp_path / "artifacts")
    with threadpool_limits(1):
        assert ensure_model(settings, config=SMALL) is True
        version = Registry(settings.artifacts_dir).current_version()
        assert version is not None
        assert Registry(settings.artifacts_dir).manifest(version)["data"]["source"] == "store"
        assert ensure_model(settings, config=SMALL) is False


def test_manifest_records_the_configuration_choice_and_plans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A matcher that chose its configuration in ``fit`` (``selection_``) has the choice in the manifest
    and in ``models show``; a demo bundle with its ground truth adds plan success to the figures."""
    from models.matcher import Matcher
    from training.demo import generate
    from training.demo_truth import GROUND_TRUTH_DIR

    fit = Matcher.fit

    def choosing_fit(self: Matcher, *args: object, **kwargs: object) -> Matcher:
        fit(self, *args, **kwargs)  # type: ignore[arg-type]
        self.selection_ = {
            "metric": "ndcg_accepted_graduate",
            "chosen": "skills_first",
            "candidates": {
                "skills_first": {"ndcg_accepted_graduate": np.float64(0.41), "ece": 0.03},
                "history_first": {"ndcg_accepted_graduate": 0.38, "ece": 0.05},
            },
        }
        return self

    monkeypatch.setattr(Matcher, "fit", choosing_fit)
    bundle = tmp_path / "bundle"
    write_bundle(small_market(0.25), bundle)
    generate("small", 7).truth.save(bundle / GROUND_TRUTH_DIR)
    artifacts = tmp_path / "artifacts"
    # One process: the patched fit must be the one that fits the artifact.
    settings = Settings(
        artifacts_dir=artifacts, database_url=f"sqlite:///{tmp_path / 'unused.db'}", train_jobs=1
    )
    with threadpool_limits(1):
        outcome = train(settings, bundle=bundle, quiet=True, config=SMALL, force=True)
    selection = outcome.manifest["selection"]
    assert selection["chosen"] == "skills_first"
    assert selection["candidates"]["skills_first"]["ndcg_accepted_graduate"] == 0.41
    new = outcome.metrics["new"]
    assert new is not None and 0.0 < new["plan_success_share"] <= 1.0
    assert 0.0 <= new["plan_assignment_success"] <= 1.0
    text = outcome.summary()
    assert "accepted" in text and "ece" in text and "plans" in text and "skills_first" in text

    monkeypatch.setenv("TALENTMATCH_ARTIFACTS_DIR", str(artifacts))
    get_settings.cache_clear()
    try:
        assert main(["models", "show", outcome.version]) == 0
    finally:
        get_settings.cache_clear()
    captured = capsys.readouterr()
    assert json.loads(captured.out)["selection"] == selection  # stdout stays the manifest, as JSON
    lines = captured.err.splitlines()
    assert any("configuration chosen in fit: skills_first" in line for line in lines)
    chosen = next(line for line in lines if line.lstrip().startswith("* skills_first"))
    assert "ndcg_accepted_graduate 0.4100" in chosen and "ece 0.0300" in chosen
    assert any(line.lstrip().startswith("history_first") for line in lines)


def test_a_matcher_without_a_selection_records_none() -> None:
    class Plain:
        pass

    assert selection_of(Plain()) is None
    chosen = type(
        "Chosen",
        (),
        {"selection_": {"metric": "m", "chosen": "a", "candidates": {"a": {"m": np.float32(0.5)}}}},
    )()
    assert selection_of(chosen) == {"metric": "m", "chosen": "a", "candidates": {"a": {"m": 0.5}}}


def metrics(new: float, keyword: float, current: float | None) -> dict[str, dict[str, float] | None]:
    return {
        "new": {"ndcg": new},
        "keyword": {"ndcg": keyword},
        "current": None if current is None else {"ndcg": current},
    }


@pytest.mark.parametrize(
    ("new", "keyword", "current", "tolerance", "force", "passed", "promote"),
    [
        (0.30, 0.20, None, 0.02, False, True, True),  # first model, beats keyword
        (0.20, 0.30, None, 0.02, False, False, False),  # first model, worse than keyword
        (0.20, 0.30, None, 0.02, True, False, True),  # ... forced
        (0.30, 0.20, 0.305, 0.02, False, True, True),  # within the tolerance of the current one
        (0.30, 0.20, 0.31, 0.02, False, False, False),  # more than 2% worse than the current one
        (0.30, 0.20, 0.3001, 0.0, False, False, False),  # tolerance 0: any loss refuses
        (0.30, 0.20, 0.31, 0.02, True, False, True),  # forced
    ],
)
def test_gate_decision(
    new: float,
    keyword: float,
    current: float | None,
    tolerance: float,
    force: bool,
    passed: bool,
    promote: bool,
) -> None:
    decision = decide(metrics(new, keyword, current), non_finite=[], tolerance=tolerance, force=force)
    assert (decision.passed, decision.promote) == (passed, promote)
    assert decision.reasons


def test_gate_nan_metric_is_a_quality_failure() -> None:
    decision = decide(metrics(float("nan"), 0.2, 0.3), non_finite=[], tolerance=0.02, force=False)
    assert not decision.passed and not decision.promote
    assert "not a finite number" in decision.reasons[0]
    assert decide(metrics(float("nan"), 0.2, None), non_finite=[], tolerance=0.02, force=True).promote
    # A current model that could not be scored leaves the keyword comparison.
    assert decide(metrics(0.3, 0.2, float("nan")), non_finite=[], tolerance=0.02, force=False).passed


def test_gate_never_promotes_non_finite_even_forced() -> None:
    decision = decide(
        metrics(0.3, 0.2, None), non_finite=["final by_graduate.user_embeddings_"], tolerance=0.02, force=True
    )
    assert not decision.passed and not decision.promote
    assert any("non-finite" in reason for reason in decision.reasons)
    assert any("--force cannot" in reason for reason in decision.reasons)


@pytest.mark.parametrize("damage", ["truncate_joblib", "edit_npy", "drop_npy"])
def test_real_artifact_damage_refused(world: World, tmp_path: Path, damage: str) -> None:
    artifacts = tmp_path / "artifacts"
    shutil.copytree(world.first_artifacts, artifacts)
    directory = artifacts / world.first_version
    npy = sorted(directory.glob("*.npy"))[0]
    if damage == "truncate_joblib":
        joblib_file = directory / "matcher.joblib"
        joblib_file.write_bytes(joblib_file.read_bytes()[:100])
    elif damage == "edit_npy":
        raw = bytearray(npy.read_bytes())
        raw[-1] ^= 0xFF
        npy.write_bytes(bytes(raw))
    else:
        npy.unlink()
    with pytest.raises(ArtifactError, match=world.first_version):
        Registry(artifacts).load()


def test_a_second_process_fits_the_same_artifact(world: World, tmp_path: Path) -> None:
    """``train_jobs=2`` fits the artifact on all the data in a spawned process meanwhile: the version it
    writes is the same model as one run one fit after the other, and nothing of the child is left."""
    versions = {}
    for jobs in (1, 2):
        settings = Settings(
            artifacts_dir=tmp_path / f"jobs{jobs}",
            database_url=f"sqlite:///{tmp_path / 'unused.db'}",
            train_jobs=jobs,
        )
        with threadpool_limits(1):
            outcome = train(settings, bundle=world.bundle, quiet=True, config=SMALL, force=True)
        registry = Registry(settings.artifacts_dir)
        versions[jobs] = registry.load(outcome.version)
        assert not any(p.name.startswith(".tmp-") for p in settings.artifacts_dir.iterdir())
        timings = versions[jobs].manifest["timings"]
        assert ("fit_all_waited_seconds" in timings) == (jobs == 2)
    one, two = versions[1].matcher, versions[2].matcher
    arrays_one, arrays_two = one.learned_arrays(), two.learned_arrays()
    assert arrays_one.keys() == arrays_two.keys()
    for name, array in arrays_one.items():
        assert np.array_equal(array, arrays_two[name], equal_nan=True), name
    index = one.index(world.market)
    vacancy = str(world.market.vacancies[C.vacancy].iloc[0])
    answers = [
        [(m.graduate_id, m.score) for m in matcher.candidates_for(vacancy, index=index, limit=10).items]
        for matcher in (one, two)
    ]
    assert answers[0] == answers[1]
    assert versions[1].manifest["evaluation"]["metrics"] == versions[2].manifest["evaluation"]["metrics"]
    # The model card's fairness figures, computed by the child after its fit, are the same too.
    assert versions[2].manifest.get("fairness") is not None
    assert versions[1].manifest["fairness"] == versions[2].manifest["fairness"]


def test_the_second_process_raises_its_error_and_stops_with_the_run(world: World, tmp_path: Path) -> None:
    """The child's error is raised in the run as its own fit would raise it; a run that stops early
    (leaves the context) stops the child and removes its files."""
    from models.matcher import NoTrainingData
    from training.background_fit import BackgroundFit

    frames = world.market.frames()
    events = world.market.interactions
    frames["interactions"] = events[events[C.event] == "viewed"].reset_index(drop=True)
    with BackgroundFit(SMALL, MarketData(**frames), workdir=tmp_path) as fit, pytest.raises(NoTrainingData):
        fit.result()
    with BackgroundFit(SMALL, world.market, workdir=tmp_path) as fit:
        process = fit._process
        assert process.is_alive()
    assert not process.is_alive() and process.exitcode is not None
    assert not list(tmp_path.iterdir())
