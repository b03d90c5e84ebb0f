"""Crash safety: ``kill -9`` in the middle of an import or a train, and a damaged artifact.

- ``talentmatch import`` of a large bundle is killed once it has started writing (SQLite, and PostgreSQL in
  the middle of its COPY): the store is exactly as before (row counts and a hash of every row), and the next
  import works.
- ``talentmatch train`` is killed while fitting and again while refitting/writing the artifact: no new version
  becomes current, the serving holder keeps its model, and the next ``train`` works.
- A truncated or edited artifact made current behind the service's back is refused: the service keeps
  answering with its model.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from threadpoolctl import threadpool_limits

from models.bundle import write_bundle
from models.columns import Columns as C
from service.app import create_app
from service.retrain import train
from service.settings import Settings
from service.store.market import import_market
from service.store.migrate import upgrade
from service.store.session import make_engine, make_sessionmaker
from service.store.tables import Base
from tests.bundles import tiny_market
from tests.factories import make_api_key
from tests.service.store.test_market import row_counts
from tests.training.small_world import SMALL, small_market
from training.demo import generate
from training.registry import Registry

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
CLI = [sys.executable, "-c", "import sys; from service.cli import main; sys.exit(main())"]


def store_hash(engine: Engine) -> str:
    """A hash over every row of every table, in primary-key order."""
    digest = hashlib.sha256()
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            digest.update(table.name.encode())
            for row in connection.execute(select(table).order_by(*table.primary_key.columns)):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def big_bundle(directory: Path, copies: int = 12) -> Path:
    """The small demo world with its interactions repeated ``copies`` times a second apart (~200k rows)."""
    data = generate("small", 7).data
    events = data.interactions
    shifted = [
        events.assign(**{C.occurred_at: events[C.occurred_at] + pd.Timedelta(seconds=k)})
        for k in range(copies)
    ]
    write_bundle(replace(data, interactions=pd.concat(shifted, ignore_index=True)), directory)
    return directory


def kill_import_while_writing(
    url: str, bundle: Path, writing: Callable[[], bool], pause: float = 0.0
) -> None:
    """Start ``talentmatch import bundle`` against ``url`` and ``kill -9`` it once ``writing()`` holds."""
    process = subprocess.Popen(
        [*CLI, "import", str(bundle)],
        env={**ENV, "TALENTMATCH_DATABASE_URL": url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not writing():
            assert process.poll() is None, "the import finished before it was killed: make the bundle bigger"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        time.sleep(pause)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


@pytest.mark.slow
def test_kill_9_during_import_leaves_the_store_exactly_as_before(tmp_path: Path) -> None:
    database = tmp_path / "store.db"
    url = f"sqlite:///{database}"
    engine = make_engine(url)
    upgrade(engine)
    with make_sessionmaker(engine)() as session, session.begin():
        import_market(session=session, data=tiny_market())
    counts, digest = row_counts(engine), store_hash(engine)
    engine.dispose()
    bundle = big_bundle(tmp_path / "bundle")
    wal = Path(f"{database}-wal")
    baseline = wal.stat().st_size if wal.exists() else 0

    # Rows are being written once the write-ahead log has grown.
    kill_import_while_writing(
        url, bundle, lambda: (wal.stat().st_size if wal.exists() else 0) > baseline + 256 * 1024
    )

    engine = make_engine(url)
    assert row_counts(engine) == counts
    assert store_hash(engine) == digest
    engine.dispose()
    # The next import runs (and a re-run of the same bundle then changes nothing).
    done = subprocess.run(
        [*CLI, "import", str(bundle)], env={**ENV, "TALENTMATCH_DATABASE_URL": url}, timeout=300
    )
    assert done.returncode == 0
    engine = make_engine(url)
    assert row_counts(engine)["interactions"] > counts["interactions"]
    engine.dispose()


@pytest.mark.slow
@pytest.mark.postgres
def test_kill_9_during_a_postgres_import_leaves_the_store_exactly_as_before(
    postgres_url: str, tmp_path: Path
) -> None:
    engine = make_engine(postgres_url)
    upgrade(engine)
    with make_sessionmaker(engine)() as session, session.begin():
        import_market(session=session, data=tiny_market())
    counts, digest = row_counts(engine), store_hash(engine)
    bundle = big_bundle(tmp_path / "bundle")

    def copying() -> bool:
        # The importer streams rows with COPY inside its one transaction.
        with engine.connect() as connection:
            return bool(
                connection.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE state = 'active' AND query ILIKE 'COPY %' AND pid <> pg_backend_pid()"
                    )
                ).scalar()
            )

    kill_import_while_writing(postgres_url, bundle, copying, pause=0.2)  # some rows in the server's hands

    # The server notices the dead client and rolls its transaction back.
    deadline = time.monotonic() + 30
    while copying() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert row_counts(engine) == counts
    assert store_hash(engine) == digest
    engine.dispose()


@dataclass
class Trained:
    settings: Settings
    url: str
    version: str
    config: Path
    key: str


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    root = tmp_path_factory.mktemp("trained")
    url = f"sqlite:///{root / 'store.db'}"
    settings = Settings(database_url=url, artifacts_dir=root / "artifacts", rate_limit_per_minute=0)
    engine = make_engine(url)
    upgrade(engine)
    with make_sessionmaker(engine)() as session, session.begin():
        import_market(session=session, data=small_market(0.25))
        _, key = make_api_key(session, role="admin", name="crash")
    engine.dispose()
    with threadpool_limits(1):
        outcome = train(settings, quiet=True, config=SMALL, force=True)
    config = root / "small.json"
    config.write_text(json.dumps(SMALL.to_dict()))
    return Trained(settings, url, outcome.version, config, key)


@pytest.fixture
def world(trained: Trained, tmp_path: Path) -> Iterator[Trained]:
    """A private copy of the trained store and artifacts."""
    shutil.copyfile(trained.settings.database_url.split("///")[1], tmp_path / "store.db")
    shutil.copytree(trained.settings.artifacts_dir, tmp_path / "artifacts")
    url = f"sqlite:///{tmp_path / 'store.db'}"
    settings = Settings(
        database_url=url,
        artifacts_dir=tmp_path / "artifacts",
        rate_limit_per_minute=0,
        model_poll_seconds=3600,
    )
    yield replace(trained, settings=settings, url=url)


def _train(world: Trained) -> tuple[list[str], dict[str, str]]:
    """The forced ``talentmatch train`` of ``world`` and its environment."""
    env = {
        **ENV,
        "TALENTMATCH_DATABASE_URL": world.url,
        "TALENTMATCH_ARTIFACTS_DIR": str(world.settings.artifacts_dir),
    }
    return [*CLI, "train", "--config", str(world.config), "--force", "--quiet"], env


def _children(pid: int) -> list[int]:
    """The child processes of ``pid`` (Linux)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _kill_train_after(world: Trained, marker: str, delay: float, *, jobs: int) -> None:
    """Start a train with ``jobs`` processes, kill -9 it ``delay`` s after ``marker`` is logged; with a
    second process, that one must die with it."""
    command, env = _train(world)
    process = subprocess.Popen(
        command,
        env={**env, "TALENTMATCH_TRAIN_JOBS": str(jobs)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    children: list[int] = []
    try:
        assert process.stderr is not None
        for line in process.stderr:
            if marker in line:
                break
        else:
            pytest.fail(f"train ended before {marker!r}")
        time.sleep(delay)
        children = _children(process.pid)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "train finished before the kill"
    if jobs >= 2:
        assert children, "the fit on all the data runs in a second process"
    deadline = time.monotonic() + 10
    while any(_alive(c) for c in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(c) for c in children), "a fit outlived the killed train"


@pytest.mark.slow
def test_kill_9_during_train_changes_nothing_and_the_next_train_works(world: Trained) -> None:
    registry = Registry(world.settings.artifacts_dir)
    with TestClient(create_app(world.settings)) as client:
        headers = {"Authorization": f"Bearer {world.key}"}
        assert client.get("/healthz").json()["model_version"] == world.version
        for marker, delay, jobs in (
            ("fitting on events before", 0.5, 1),
            ("refitting on all the data", 0.0, 1),
            ("fitting on events before", 0.5, 2),
            ("waiting for the fit on all the data", 0.0, 2),
        ):
            _kill_train_after(world, marker, delay, jobs=jobs)
            assert registry.current_version() == world.version
            # Killed while fitting, nothing is written; killed (on a fast machine) just after the atomic write
            # of the new version but before it is promoted, that version is whole. Never a half-written one.
            for version in registry.versions():
                registry.verify(version)
            # At most the second process's working folder is left (the next train's clean_temp removes it).
            left = [p.name for p in world.settings.artifacts_dir.iterdir() if p.name.startswith(".tmp-")]
            assert all(name.startswith(".tmp-fit-") for name in left), left
            reload = client.post("/api/v1/admin/models/reload", headers=headers).json()
            assert reload["serving_version"] == world.version and reload["changed"] is False
    command, env = _train(world)
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert registry.current_version() != world.version
    assert registry.previous_version() == world.version
    assert not any(p.name.startswith(".tmp-") for p in world.settings.artifacts_dir.iterdir())


def _damaged_copy(registry: Registry, version: str, damage: str) -> str:
    """A copy of ``version`` under a new, well-formed name with one file damaged; made current directly."""
    name = f"20990101T000000Z-{hashlib.sha256(damage.encode()).hexdigest()[:8]}"
    target = registry.root / name
    shutil.copytree(registry.version_dir(version), target)
    manifest = json.loads((target / "manifest.json").read_text())
    manifest["version"] = name
    (target / "manifest.json").write_text(json.dumps(manifest))
    victim = target / "matcher.joblib"
    data = victim.read_bytes()
    if damage == "truncated":
        victim.write_bytes(data[: len(data) // 2])
    elif damage == "edited":
        victim.write_bytes(data[:100] + bytes([data[100] ^ 0xFF]) + data[101:])
    elif damage == "edited with its manifest entry":
        victim.write_bytes(data[:100] + bytes([data[100] ^ 0xFF]) + data[101:])
        manifest["files"]["matcher.joblib"] = hashlib.sha256(victim.read_bytes()).hexdigest()
        (target / "manifest.json").write_text(json.dumps(manifest))
    elif damage == "npy removed":
        next(target.glob("*.npy")).unlink()
    (registry.root / "CURRENT").write_text(json.dumps({"version": name, "previous": version}))
    return name


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["truncated", "edited", "edited with its manifest entry", "npy removed"])
def test_a_damaged_artifact_is_refused_and_the_service_keeps_its_model(world: Trained, damage: str) -> None:
    registry = Registry(world.settings.artifacts_dir)
    with TestClient(create_app(world.settings)) as client:
        headers = {"Authorization": f"Bearer {world.key}"}
        vacancies = client.get("/api/v1/vacancies?status=open&limit=5", headers=headers).json()["items"]
        url = f"/api/v1/vacancies/{vacancies[0]['vacancy_id']}/candidates?limit=5"
        before = client.get(url, headers=headers).json()
        assert before["model_version"] == world.version
        bad = _damaged_copy(registry, world.version, damage)
        reload = client.post("/api/v1/admin/models/reload", headers=headers).json()
        assert reload["serving_version"] == world.version
        assert reload["pointer_version"] == bad and reload["error"] and bad in reload["error"]
        after = client.get(url, headers=headers)
        assert after.status_code == 200 and after.json() == before
        assert client.get("/healthz").json()["model_version"] == world.version
