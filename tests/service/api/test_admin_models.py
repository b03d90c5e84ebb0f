"""GET /api/v1/admin/models and POST /api/v1/admin/models/reload with a real registry-backed holder."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.app import create_app
from service.cli import main
from service.model_holder import ModelHolder
from service.settings import Settings, get_settings
from tests.service.api.conftest import seed, settings_for
from training.registry import Registry, library_versions

MODELS = "/api/v1/admin/models"


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


@dataclass
class AdminApi:
    client: TestClient
    registry: Registry
    headers: dict[str, dict[str, str]]
    versions: list[str]


def write(registry: Registry, value: float, minutes: int) -> str:
    manifest = {
        "libraries": library_versions(),
        "evaluation": {
            "metrics": {"new": {"ndcg": 0.4 + value / 10}, "keyword": {"ndcg": 0.3}, "current": None}
        },
        "gate": {"passed": True},
    }
    created = datetime(2026, 5, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    return registry.write_version(ArrayModel(np.full(2, value)).save, manifest, created_at=created)


@pytest.fixture
def admin_api(sqlite_engine: Engine, tmp_path: Path) -> Iterator[AdminApi]:
    _, headers = seed(sqlite_engine)
    settings: Settings = settings_for(sqlite_engine, tmp_path, model_poll_seconds=3600)
    registry = Registry(settings.artifacts_dir, loader=ArrayModel.load)
    versions = [write(registry, 1.0, 0), write(registry, 2.0, 1)]
    registry.promote(versions[0])
    holder = ModelHolder(settings, registry=registry)
    with TestClient(create_app(settings, model_holder=holder)) as client:
        yield AdminApi(client, registry, headers, versions)


def test_list_models(admin_api: AdminApi) -> None:
    response = admin_api.client.get(MODELS, headers=admin_api.headers["admin"])
    assert response.status_code == 200
    body = response.json()
    first, second = admin_api.versions
    assert body["current_version"] == first and body["serving_version"] == first
    assert [v["version"] for v in body["versions"]] == [second, first]
    listed = body["versions"][1]
    assert listed["current"] and listed["serving"] and listed["gate_passed"]
    assert listed["metrics"]["new"]["ndcg"] == pytest.approx(0.5)
    assert listed["metrics"]["current"] is None


def test_reload_swaps_and_refuses_broken(admin_api: AdminApi) -> None:
    first, second = admin_api.versions
    admin_api.registry.promote(second)
    response = admin_api.client.post(f"{MODELS}/reload", headers=admin_api.headers["admin"])
    assert response.status_code == 200
    assert response.json() == {
        "serving_version": second,
        "changed": True,
        "pointer_version": second,
        "error": None,
    }
    health = admin_api.client.get("/healthz").json()
    assert health["model_version"] == second

    admin_api.registry.promote(first)
    (admin_api.registry.root / first / "weights.npy").write_bytes(b"tampered")
    body = admin_api.client.post(f"{MODELS}/reload", headers=admin_api.headers["admin"]).json()
    assert body["serving_version"] == second and body["changed"] is False
    assert "does not match the manifest" in body["error"]


@pytest.mark.parametrize("name", ["hr_e1", "school_s1"])
def test_admin_only(admin_api: AdminApi, name: str) -> None:
    assert admin_api.client.get(MODELS, headers=admin_api.headers[name]).status_code == 403
    assert admin_api.client.post(f"{MODELS}/reload", headers=admin_api.headers[name]).status_code == 403
    assert admin_api.client.get(MODELS).status_code == 401
    assert admin_api.client.post(f"{MODELS}/reload", headers=admin_api.headers["revoked"]).status_code == 401


def audit_entries(admin_api: AdminApi, action: str) -> list[dict[str, object]]:
    response = admin_api.client.get(
        "/api/v1/admin/audit", params={"action": action}, headers=admin_api.headers["admin"]
    )
    assert response.status_code == 200
    return list(response.json()["items"])


def test_reload_is_audited_with_the_key_and_the_surface(admin_api: AdminApi) -> None:
    admin_api.registry.promote(admin_api.versions[1])
    assert admin_api.client.post(f"{MODELS}/reload", headers=admin_api.headers["admin"]).status_code == 200
    (entry,) = audit_entries(admin_api, "reload_model")
    assert entry["resource"] == "models"
    assert json.loads(str(entry["detail"])) == {
        "via": "api",
        "changed": True,
        "serving": admin_api.versions[1],
    }


@pytest.fixture
def cli_env(admin_api: AdminApi, sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The command line on the same store and registry as the app."""
    monkeypatch.setenv("TALENTMATCH_DATABASE_URL", sqlite_engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("TALENTMATCH_ARTIFACTS_DIR", str(admin_api.registry.root))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_command_line_promotes_and_rolls_back_as_the_audited_operator(
    admin_api: AdminApi, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = admin_api.versions
    assert main(["models", "promote", second]) == 0
    assert main(["models", "rollback"]) == 0
    assert admin_api.registry.current_version() == first
    promoted, rolled_back = (
        audit_entries(admin_api, "promote_model"),
        audit_entries(admin_api, "rollback_model"),
    )
    assert [(e["key_id"], e["resource"]) for e in promoted] == [("cli", f"models/{second}")]
    assert [(e["key_id"], e["resource"]) for e in rolled_back] == [("cli", f"models/{first}")]
    assert json.loads(str(promoted[0]["detail"]))["via"] == "cli"
    # What the app lists is what the command line lists: one use case behind both.
    body = admin_api.client.get(MODELS, headers=admin_api.headers["admin"]).json()
    capsys.readouterr()
    assert main(["models", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()[1:3]
    assert [line.split()[1] for line in lines] == [v["version"] for v in body["versions"]]
    assert lines[1].startswith(f"* {first}") and body["current_version"] == first
