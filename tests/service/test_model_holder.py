"""ModelHolder: loads the current model, swaps by reference, refuses broken artifacts and pointers."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from models.keyword import KeywordMatcher
from service.model_holder import FALLBACK_VERSION, ModelHolder
from service.settings import Settings
from training.registry import Registry, library_versions


class ArrayModel:
    def __init__(self, values: np.ndarray) -> None:
        self.values = values

    def save(self, directory: Path) -> list[Path]:
        path = directory / "weights.npy"
        np.save(path, self.values, allow_pickle=False)
        return [path]

    @classmethod
    def load(cls, directory: Path) -> ArrayModel:
        return cls(np.load(directory / "weights.npy", allow_pickle=False))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(artifacts_dir=tmp_path / "artifacts", model_poll_seconds=0.05)


@pytest.fixture
def registry(settings: Settings) -> Registry:
    return Registry(settings.artifacts_dir, loader=ArrayModel.load)


def write(registry: Registry, value: float, minutes: int = 0) -> str:
    created = datetime(2026, 5, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    return registry.write_version(
        ArrayModel(np.full(3, value)).save, {"libraries": library_versions()}, created_at=created
    )


def test_no_model_yet_serves_the_keyword_fallback(settings: Settings, registry: Registry) -> None:
    holder = ModelHolder(settings, registry=registry)
    assert holder.check_now() is False
    model = holder.get()
    assert model is not None and model.version == FALLBACK_VERSION
    assert isinstance(model.matcher, KeywordMatcher)
    assert holder.version is None and holder.serving_fallback
    assert holder.status().serving_version == FALLBACK_VERSION and holder.status().fallback


def test_no_model_and_no_fallback(settings: Settings, registry: Registry) -> None:
    holder = ModelHolder(settings.model_copy(update={"keyword_fallback": False}), registry=registry)
    assert holder.check_now() is False
    assert holder.get() is None and not holder.serving_fallback


def test_a_promoted_model_replaces_the_fallback(settings: Settings, registry: Registry) -> None:
    holder = ModelHolder(settings, registry=registry)
    holder.check_now()
    registry.promote(write(registry, 1.0))
    assert holder.check_now() is True
    model = holder.get()
    assert model is not None and isinstance(model.matcher, ArrayModel)
    assert not holder.serving_fallback and holder.status().fallback is False


def test_loads_and_swaps_by_reference(settings: Settings, registry: Registry) -> None:
    first = write(registry, 1.0)
    registry.promote(first)
    holder = ModelHolder(settings, registry=registry)
    assert holder.check_now() is True
    in_flight = holder.get()
    assert in_flight is not None and in_flight.version == first
    assert holder.check_now() is False  # pointer unchanged

    second = write(registry, 2.0, minutes=1)
    registry.promote(second)
    assert holder.check_now() is True
    now = holder.get()
    assert now is not None and now.version == second
    # The request that started before the swap still holds the old, unchanged model.
    assert in_flight.version == first
    np.testing.assert_array_equal(in_flight.matcher.values, np.full(3, 1.0))
    assert now is not in_flight


def test_broken_new_version_refused_old_kept(
    settings: Settings, registry: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    first = write(registry, 1.0)
    registry.promote(first)
    holder = ModelHolder(settings, registry=registry)
    holder.check_now()
    second = write(registry, 2.0, minutes=1)
    registry.promote(second)
    (registry.root / second / "weights.npy").write_bytes(b"truncated")
    assert holder.check_now() is False
    model = holder.get()
    assert model is not None and model.version == first
    assert "model reload refused" in caplog.text and second in caplog.text
    assert holder.status().last_error is not None
    # Logged once per refused version, not at every poll.
    caplog.clear()
    holder.check_now()
    assert "model reload refused" not in caplog.text


@pytest.mark.parametrize("content", ["", "{", '{"version": "nope"}'])
def test_corrupted_pointer_keeps_current(settings: Settings, registry: Registry, content: str) -> None:
    first = write(registry, 1.0)
    registry.promote(first)
    holder = ModelHolder(settings, registry=registry)
    holder.check_now()
    registry.pointer_path.write_text(content)
    assert holder.check_now() is False
    model = holder.get()
    assert model is not None and model.version == first
    assert "corrupted pointer" in (holder.status().last_error or "")


def test_polling_thread_picks_up_promotion_and_rollback(settings: Settings, registry: Registry) -> None:
    first, second = write(registry, 1.0), write(registry, 2.0, minutes=1)
    registry.promote(first)
    holder = ModelHolder(settings, registry=registry)
    holder.start()
    try:
        assert holder.version == first  # start() loads synchronously
        registry.promote(second)
        _wait_for(lambda: holder.version == second)
        registry.rollback()
        _wait_for(lambda: holder.version == first)
    finally:
        holder.stop()
    assert holder._thread is None


def test_readers_never_see_a_missing_model_during_swaps(settings: Settings, registry: Registry) -> None:
    versions = [write(registry, float(i), minutes=i) for i in range(3)]
    registry.promote(versions[0])
    holder = ModelHolder(settings, registry=registry)
    holder.check_now()
    seen: set[str] = set()
    failures: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            model = holder.get()
            if model is None:
                failures.append("none")
                continue
            # The values always belong to the version the object names.
            expected = float(versions.index(model.version))
            if not np.all(model.matcher.values == expected):
                failures.append(model.version)
            seen.add(model.version)
            time.sleep(0.0005)  # let the swapping thread run

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for thread in threads:
        thread.start()
    for i in range(12):
        registry.promote(versions[i % 3])
        holder.check_now()
    stop.set()
    for thread in threads:
        thread.join()
    assert failures == []
    assert seen == set(versions)


def _wait_for(condition, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def test_deleted_pointer_keeps_current(settings: Settings, registry: Registry) -> None:
    first = write(registry, 1.0)
    registry.promote(first)
    holder = ModelHolder(settings, registry=registry)
    holder.check_now()
    registry.pointer_path.unlink()
    assert holder.check_now() is False
    assert holder.version == first


def test_restart_loads_current_without_training(settings: Settings, registry: Registry) -> None:
    first = write(registry, 1.0)
    registry.promote(first)
    for _ in range(2):  # two "service starts" on the same artifacts
        holder = ModelHolder(settings, registry=registry)
        holder.start()
        holder.stop()
        assert holder.version == first
    assert registry.versions() == [first]
