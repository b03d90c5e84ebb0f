"""The registry: atomic versions, sha256 verification, the pointer, rollback, retention.

These tests exercise the registry's file handling with a plain-array model (saved as .npy, loaded with
``allow_pickle=False``); the pipeline tests use the real matcher.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from training import registry as registry_module
from training.lock import FileLock, LockBusy
from training.registry import ArtifactError, Registry


class ArrayModel:
    """A stand-in model: one array, saved the way the matcher saves plain arrays."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = values

    def save(self, directory: Path) -> list[Path]:
        path = directory / "weights.npy"
        np.save(path, self.values, allow_pickle=False)
        (directory / "sub").mkdir()
        extra = directory / "sub" / "bias.npy"
        np.save(extra, self.values.sum(keepdims=True), allow_pickle=False)
        return [path, extra]

    @classmethod
    def load(cls, directory: Path) -> ArrayModel:
        return cls(np.load(directory / "weights.npy", allow_pickle=False))


def make_registry(root: Path) -> Registry:
    return Registry(root, loader=ArrayModel.load)


def write(registry: Registry, value: float, *, minutes: int = 0, **manifest: object) -> str:
    created = datetime(2026, 5, 1, 12, 0, tzinfo=UTC) + timedelta(minutes=minutes)
    model = ArrayModel(np.full(4, value))
    return registry.write_version(
        model.save,
        {"libraries": registry_module.library_versions(), **manifest},
        created_at=created,
    )


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    return make_registry(tmp_path / "artifacts")


def test_write_version_names_it_by_time_and_content(registry: Registry) -> None:
    version = write(registry, 1.0)
    assert re.fullmatch(r"20260501T120000Z-[0-9a-f]{8}", version)
    manifest = registry.manifest(version)
    assert set(manifest["files"]) == {"weights.npy", "sub/bias.npy"}
    assert manifest["version"] == version
    assert manifest["created_at"] == "2026-05-01T12:00:00Z"
    assert registry.versions() == [version]
    # Nothing temporary is left behind.
    assert [p.name for p in registry.root.iterdir() if p.name.startswith(".tmp-")] == []


def test_first_promote_and_load(registry: Registry) -> None:
    assert registry.current_version() is None
    version = write(registry, 2.0)
    pointer = registry.promote(version)
    assert pointer.version == version and pointer.previous is None
    loaded = registry.load()
    assert loaded.version == version
    np.testing.assert_array_equal(loaded.matcher.values, np.full(4, 2.0))
    pointer_file = json.loads(registry.pointer_path.read_text())
    assert pointer_file["version"] == version


def test_promote_then_rollback_then_rollback_undoes(registry: Registry) -> None:
    first, second = write(registry, 1.0), write(registry, 2.0, minutes=1)
    registry.promote(first)
    registry.promote(second)
    assert (registry.current_version(), registry.previous_version()) == (second, first)
    registry.rollback()
    assert (registry.current_version(), registry.previous_version()) == (first, second)
    assert registry.load().version == first
    registry.rollback()
    assert registry.current_version() == second


def test_rollback_without_previous_fails(registry: Registry) -> None:
    with pytest.raises(ArtifactError, match="no previous"):
        registry.rollback()
    registry.promote(write(registry, 1.0))
    with pytest.raises(ArtifactError, match="no previous"):
        registry.rollback()


def test_tampered_file_refused(registry: Registry) -> None:
    version = write(registry, 1.0)
    path = registry.root / version / "weights.npy"
    np.save(path, np.full(4, 666.0), allow_pickle=False)
    with pytest.raises(ArtifactError, match="sha256 of weights.npy does not match"):
        registry.load(version)
    with pytest.raises(ArtifactError):
        registry.promote(version)
    assert registry.current_version() is None


def test_truncated_file_refused(registry: Registry) -> None:
    version = write(registry, 1.0)
    path = registry.root / version / "sub" / "bias.npy"
    path.write_bytes(path.read_bytes()[:10])
    with pytest.raises(ArtifactError, match="sub/bias.npy"):
        registry.load(version)


def test_tampered_file_with_matching_manifest_entry_refused(registry: Registry) -> None:
    version = write(registry, 1.0)
    path = registry.root / version / "weights.npy"
    np.save(path, np.full(4, 666.0), allow_pickle=False)
    manifest_path = registry.root / version / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"]["weights.npy"] = registry_module.sha256_file(path)
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="do not match the version name"):
        registry.load(version)


def test_missing_and_unlisted_files_refused(registry: Registry) -> None:
    version = write(registry, 1.0)
    (registry.root / version / "extra.joblib").write_bytes(b"x")
    with pytest.raises(ArtifactError, match="extra.joblib is not in the manifest"):
        registry.verify(version)
    (registry.root / version / "extra.joblib").unlink()
    (registry.root / version / "weights.npy").unlink()
    with pytest.raises(ArtifactError, match="weights.npy is missing"):
        registry.verify(version)


def test_missing_or_broken_manifest_refused(registry: Registry) -> None:
    version = write(registry, 1.0)
    manifest_path = registry.root / version / "manifest.json"
    manifest_path.write_text("{not json")
    with pytest.raises(ArtifactError, match="unreadable"):
        registry.load(version)
    manifest_path.unlink()
    with pytest.raises(ArtifactError, match="manifest.json is missing"):
        registry.load(version)


def test_symlinked_file_refused(registry: Registry, tmp_path: Path) -> None:
    version = write(registry, 1.0)
    outside = tmp_path / "outside.npy"
    path = registry.root / version / "weights.npy"
    outside.write_bytes(path.read_bytes())
    path.unlink()
    path.symlink_to(outside)
    with pytest.raises(ArtifactError, match="symlink"):
        registry.verify(version)


@pytest.mark.parametrize("name", ["../etc", "/tmp/x", "20260501T120000Z-../../x", "latest"])
def test_version_names_cannot_leave_the_root(registry: Registry, name: str) -> None:
    with pytest.raises(ArtifactError, match="not a model version name"):
        registry.load(name)


def test_strict_library_mismatch_refused(registry: Registry, caplog: pytest.LogCaptureFixture) -> None:
    libraries = registry_module.library_versions()
    old_sklearn = {**libraries, "scikit-learn": "0.24.2"}
    version = write(registry, 1.0, libraries=old_sklearn)
    with pytest.raises(ArtifactError, match="scikit-learn 0.24.2"):
        registry.load(version)
    other_numpy = {**libraries, "numpy": "1.0.0"}
    version = write(registry, 2.0, minutes=1, libraries=other_numpy)
    assert registry.load(version).version == version
    assert "trained with numpy 1.0.0" in caplog.text


def test_artifact_of_another_model_format_refused(registry: Registry) -> None:
    """A model saved by code whose features or layout differ is refused at load, not at request time."""
    version = write(registry, 1.0, model_format=registry_module.model_format() - 1)
    with pytest.raises(ArtifactError, match="artifact format"):
        registry.load(version)
    current = write(registry, 2.0, minutes=1)
    assert registry.manifest(current)["model_format"] == registry_module.model_format()
    assert registry.load(current).version == current


@pytest.mark.parametrize(
    "content",
    [b"", b"{trunc", b"[]", b'{"version": "../x"}', b'{"version": 5}', b"\xff\xfe", b'{"previous": null}'],
)
def test_corrupted_pointer_refused(registry: Registry, content: bytes) -> None:
    registry.root.mkdir(parents=True)
    registry.pointer_path.write_bytes(content)
    with pytest.raises(ArtifactError, match="corrupted pointer"):
        registry.current_version()
    with pytest.raises(ArtifactError):
        registry.load()


def test_pointer_to_missing_version_refused(registry: Registry) -> None:
    registry.promote(write(registry, 1.0))
    pointer = json.loads(registry.pointer_path.read_text())
    pointer["version"] = "20990101T000000Z-00000000"
    registry.pointer_path.write_text(json.dumps(pointer))
    with pytest.raises(ArtifactError, match="no such version"):
        registry.load()


def test_retention_keeps_newest_and_current_and_previous(registry: Registry) -> None:
    versions = [write(registry, float(i), minutes=i) for i in range(8)]
    registry.promote(versions[0])
    registry.promote(versions[1])  # current = 1, previous = 0: both old, both protected
    deleted = registry.prune(3)
    assert deleted == versions[2:5]
    assert registry.versions() == versions[:2] + versions[5:]
    assert registry.load().version == versions[1]


def test_prune_with_corrupted_pointer_deletes_nothing(registry: Registry) -> None:
    for i in range(4):
        write(registry, float(i), minutes=i)
    registry.pointer_path.write_text("garbage")
    assert registry.prune(1) == []
    assert len(registry.versions()) == 4


def test_crash_while_writing_leaves_nothing_current(registry: Registry) -> None:
    first = write(registry, 1.0)
    registry.promote(first)

    def crash(directory: Path) -> None:
        (directory / "weights.npy").write_bytes(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        registry.write_version(crash, {})
    assert registry.versions() == [first]
    assert registry.current_version() == first
    # A kill -9 would skip the cleanup; the next train removes what it left.
    leftover = registry.root / ".tmp-deadbeef"
    leftover.mkdir()
    (leftover / "weights.npy").write_bytes(b"half")
    (registry.root / ".tmp-CURRENT-x").write_text("{")
    removed = registry.clean_temp()
    assert sorted(p.name for p in removed) == [".tmp-CURRENT-x", ".tmp-deadbeef"]
    assert registry.current_version() == first


def test_train_lock_is_exclusive_and_released(registry: Registry) -> None:
    with registry.train_lock(), pytest.raises(LockBusy, match=f"pid {os.getpid()}"):
        registry.train_lock().acquire()
    lock = FileLock(registry.root / ".train.lock")
    lock.acquire()
    assert lock.held
    lock.release()
