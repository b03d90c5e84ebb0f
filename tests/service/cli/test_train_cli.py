"""``talentmatch models list|show|promote|rollback`` and the ``train`` lock and exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from service.cli import main
from service.settings import get_settings
from training.registry import Registry, library_versions


class ArrayModel:
    def __init__(self, values: np.ndarray) -> None:
        self.values = values

    def save(self, directory: Path) -> list[Path]:
        path = directory / "weights.npy"
        np.save(path, self.values, allow_pickle=False)
        return [path]


@pytest.fixture
def artifacts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "artifacts"
    monkeypatch.setenv("TALENTMATCH_ARTIFACTS_DIR", str(root))
    monkeypatch.setenv("TALENTMATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    get_settings.cache_clear()
    yield root
    get_settings.cache_clear()


def write(root: Path, value: float, minutes: int = 0) -> str:
    manifest = {
        "libraries": library_versions(),
        "evaluation": {"metrics": {"new": {"ndcg": 0.5 + value / 100}, "keyword": {"ndcg": 0.3}}},
        "gate": {"passed": True},
    }
    created = datetime(2026, 5, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    return Registry(root).write_version(ArrayModel(np.full(2, value)).save, manifest, created_at=created)


def test_models_list_empty(artifacts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "list"]) == 0
    assert "no model versions" in capsys.readouterr().out


def test_models_promote_list_show_rollback(artifacts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = write(artifacts, 1.0), write(artifacts, 2.0, minutes=1)
    assert main(["models", "promote", first]) == 0
    assert main(["models", "promote", second]) == 0
    capsys.readouterr()

    assert main(["models", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith(f"* {second}") and "0.5200" in lines[1] and "0.3000" in lines[1]
    assert lines[2].startswith(f"p {first}")

    assert main(["models", "show", first]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["version"] == first and "weights.npy" in shown["files"]

    assert main(["models", "rollback"]) == 0
    assert f"now {first}" in capsys.readouterr().out
    assert Registry(artifacts).current_version() == first


def test_models_promote_refuses_tampered_version(artifacts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = write(artifacts, 1.0), write(artifacts, 2.0, minutes=1)
    assert main(["models", "promote", first]) == 0
    (artifacts / second / "weights.npy").write_bytes(b"edited")
    assert main(["models", "promote", second]) == 2
    assert "does not match the manifest" in capsys.readouterr().err
    assert Registry(artifacts).current_version() == first


def test_models_errors(artifacts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "rollback"]) == 2
    assert "no previous version" in capsys.readouterr().err
    assert main(["models", "show", "../../etc/passwd"]) == 2
    assert "not a model version name" in capsys.readouterr().err
    assert main(["models", "promote", "20260101T000000Z-00000000"]) == 2


def test_models_list_with_corrupted_pointer(artifacts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(artifacts, 1.0)
    (artifacts / "CURRENT").write_text("{broken")
    assert main(["models", "list"]) == 0
    captured = capsys.readouterr()
    assert "corrupted pointer" in captured.err


def test_promote_and_rollback_wait_for_a_running_train(
    artifacts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = write(artifacts, 1.0), write(artifacts, 2.0, minutes=1)
    assert main(["models", "promote", first]) == 0
    assert main(["models", "promote", second]) == 0
    with Registry(artifacts).train_lock():
        assert main(["models", "rollback"]) == 1
        assert main(["models", "promote", first]) == 1
        assert "another train is running" in capsys.readouterr().err
        assert Registry(artifacts).current_version() == second
    assert main(["models", "rollback"]) == 0
    assert Registry(artifacts).current_version() == first


def test_concurrent_train_refused(artifacts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Registry(artifacts).train_lock():
        assert main(["train", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "another train is running" in err


def test_train_with_empty_store_exits_2(artifacts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--quiet"]) == 2
    assert "no interactions" in capsys.readouterr().err
    assert Registry(artifacts).versions() == []
