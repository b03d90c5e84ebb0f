"""Transport-level hardening: ``serve`` refuses insecure defaults in production (finding 2), an early 413 logs
no raw path (finding 8), ``/docs`` needs no CDN (finding 12), the files holding personal data are the
owner's only (finding 12), and 405 answers say which methods are allowed (finding 11)."""

from __future__ import annotations

import logging
import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from sqlalchemy import text

from service.cli.bootstrap import _create_demo_keys
from service.store.migrate import upgrade
from service.store.session import make_engine
from tests.live_server import REPO, free_port
from tests.service.api.conftest import Api
from training.registry import Registry

CLI = [sys.executable, "-c", "import sys; from service.cli import main; sys.exit(main())"]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def serve_env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TALENTMATCH_")}
    env.update(
        TALENTMATCH_DATABASE_URL=f"sqlite:///{tmp_path / 'var' / 'talentmatch.db'}",
        TALENTMATCH_ARTIFACTS_DIR=str(tmp_path / "artifacts"),
        PYTHONUNBUFFERED="1",
        **values,
    )
    return env


# ------------------------------------------------------------------------------------ finding 2: serve
@pytest.mark.parametrize("secret", [None, "", "change-me-in-production"])
def test_production_serve_refuses_the_default_session_secret_before_starting(
    tmp_path: Path, secret: str | None
) -> None:
    extra = {} if secret is None else {"TALENTMATCH_SESSION_SECRET": secret}
    port = free_port()
    result = subprocess.run(
        [*CLI, "serve", "--port", str(port)],
        env=serve_env(tmp_path, TALENTMATCH_ENV="production", **extra),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "TALENTMATCH_SESSION_SECRET" in result.stderr
    # Refused before anything ran: no server started, the store was not even migrated.
    assert "Uvicorn running" not in result.stderr + result.stdout
    assert not (tmp_path / "var" / "talentmatch.db").exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("env", "secret", "warned"),
    [("development", None, True), ("production", "a-long-random-secret-for-this-test", False)],
)
def test_serve_starts_in_development_with_a_warning_and_in_production_with_a_secret(
    tmp_path: Path, env: str, secret: str | None, warned: bool
) -> None:
    extra = {} if secret is None else {"TALENTMATCH_SESSION_SECRET": secret}
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [*CLI, "serve", "--port", str(port)],
            env=serve_env(tmp_path, TALENTMATCH_ENV=env, **extra),
            cwd=REPO,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=30)
    output = log.read_text(errors="replace")
    warning = re.search(r"WARNING .*TALENTMATCH_SESSION_SECRET is at its default value", output)
    assert bool(warning) == warned, output


# ------------------------------------------------------------------------------------ finding 8: 413 log
def test_an_early_413_logs_the_route_template_never_the_raw_path(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    too_big = b"x" * 1_000_001
    headers = {**api.headers["admin"], "Content-Type": "application/json"}
    with caplog.at_level(logging.INFO, logger="talentmatch.access"):
        for path in ("/api/v1/graduates/G01secret", "/api/v1/programs/P1/graduates/import", "/G01elsewhere"):
            response = api.client.post(path, content=too_big, headers=headers)
            assert response.status_code == 413
            assert response.json()["error"]["code"] == "payload_too_large"
    lines = [r.getMessage() for r in caplog.records if r.name == "talentmatch.access"]
    assert len(lines) == 3, lines
    assert not [line for line in lines if "G01" in line], lines
    assert "route=/api/v1/graduates/{graduate_id} status=413" in lines[0]
    assert "route=/api/v1/programs/{program_id}/graduates/import status=413" in lines[1]
    assert "route=<unmatched> status=413" in lines[2]


# ------------------------------------------------------------------------------------ finding 12: docs
def test_docs_load_only_same_origin_assets_under_a_csp(api: Api) -> None:
    response = api.client.get("/docs")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "default-src 'none'" in csp
    html = response.text
    references = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert references and all(ref.startswith("/") and not ref.startswith("//") for ref in references)
    assert "http" not in html.lower() and "cdn" not in html.lower()
    # No inline script: every <script> loads a file of this origin and holds nothing itself.
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts and all('src="/' in attrs and not body.strip() for attrs, body in scripts)
    for ref in references:
        asset = api.client.get(ref)
        assert asset.status_code == 200 and len(asset.content) > 100, ref
    init = api.client.get(re.findall(r'<script src="([^"]+)"', html)[-1]).text
    assert '"/openapi.json"' in init and "SwaggerUIBundle(" in init
    assert api.client.get("/openapi.json").status_code == 200
    assert "Apache License" in api.client.get("/docs/assets/LICENSE").text
    assert api.client.get("/redoc").status_code == 404  # ReDoc would load its script from a CDN


# ------------------------------------------------------------------------------------ finding 12: modes
def test_the_sqlite_database_and_its_folder_are_the_owners_only(tmp_path: Path) -> None:
    database = tmp_path / "var" / "talentmatch.db"
    engine = make_engine(f"sqlite:///{database}")
    try:
        upgrade(engine)
        with engine.begin() as connection:  # a write, so the WAL file exists too
            connection.execute(text("INSERT INTO data_version (id, counter) VALUES (1, 1)"))
        assert mode(database.parent) == 0o700
        assert mode(database) == 0o600
        wal = database.with_name(database.name + "-wal")
        assert wal.exists() and mode(wal) == 0o600
    finally:
        engine.dispose()


class ArrayModel:
    def save(self, directory: Path) -> None:
        np.save(directory / "weights.npy", np.zeros(2), allow_pickle=False)


def test_the_model_artifacts_folder_and_versions_are_the_owners_only(tmp_path: Path) -> None:
    registry = Registry(tmp_path / "var" / "artifacts")
    version = registry.write_version(ArrayModel().save, {"gate": {"passed": True}})
    assert mode(registry.root) == 0o700
    assert mode(registry.version_dir(version)) == 0o700


def test_the_demo_keys_file_is_the_owners_only_even_if_it_existed(
    sqlite_engine: object, tmp_path: Path
) -> None:
    keys_file = tmp_path / "var" / "demo-keys.txt"
    _create_demo_keys(sqlite_engine, keys_file)
    assert mode(keys_file.parent) == 0o700 and mode(keys_file) == 0o600
    keys_file.chmod(0o644)
    _create_demo_keys(sqlite_engine, keys_file)
    assert mode(keys_file) == 0o600 and "tm_" in keys_file.read_text()


# ------------------------------------------------------------------------------------ finding 11: 405
@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/api/v1/vacancies", {"GET", "POST"}),
        ("/api/v1/vacancies/V1", {"GET", "PATCH"}),
        ("/api/v1/vacancies/V1/close", {"POST"}),
        ("/api/v1/graduates/G01", {"GET", "DELETE"}),
        ("/api/v1/admin/models", {"GET"}),
        ("/healthz", {"GET"}),
    ],
)
def test_options_and_other_methods_get_405_with_every_allowed_method(
    api: Api, path: str, allowed: set[str]
) -> None:
    for method in ("OPTIONS", "PUT"):
        response = api.client.request(method, path, headers=api.headers["admin"])
        assert response.status_code == 405, (method, path, response.text)
        assert set(response.headers["allow"].split(", ")) == allowed
        assert response.json()["error"]["code"] == "method_not_allowed"
