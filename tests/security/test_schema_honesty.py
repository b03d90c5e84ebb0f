"""The OpenAPI schema describes the rules the API enforces: schemathesis's command line, every check.

``st run --checks all`` against a real uvicorn process on the seeded tiny store, once per role, one
worker, a fixed seed and a bounded number of examples per operation. Beyond the fuzz test's response
checks (tests/security/test_fuzz.py), "all" adds what a client relies on: a request the schema calls
valid is accepted (``positive_data_acceptance``; the one exception, what an uploaded CSV holds, is in
schemathesis.toml with its reason), one it calls invalid is refused (``negative_data_rejection``),
methods a path does not have answer 405 with an ``Allow`` header that lists exactly the ones it has, a
deleted resource is gone, and a request without its key is refused.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.live_server import seeded_server

ROLES = ("admin", "hr_e1", "school_s1")
MAX_EXAMPLES = 5  # per operation and phase: bounded, and enough to reach every rule of the schema
SEED = 1
# The one rule JSON Schema cannot hold (what an uploaded CSV contains), said once, with the reason.
CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.fixture
def server(sqlite_engine: Engine, tmp_path: Path) -> Iterator[tuple[str, dict[str, dict[str, str]]]]:
    with seeded_server(
        sqlite_engine, tmp_path, {"TALENTMATCH_RATE_LIMIT_PER_MINUTE": "0"}, timeout=60
    ) as served:
        yield served


def _st(base: str, authorization: str, report: Path) -> subprocess.CompletedProcess[str]:
    # Run in the report's folder: schemathesis keeps a cache folder where it runs.
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(CONFIG),
        "run",
        f"{base}/openapi.json",
        "--checks",
        "all",
        "--workers",
        "1",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--generation-deterministic",
        "--no-color",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
        "-H",
        f"Authorization: {authorization}",
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "", "NO_COLOR": "1"}
    return subprocess.run(
        command, capture_output=True, text=True, timeout=900, env=env, check=False, cwd=report.parent
    )


@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES)
def test_every_check_passes_for_each_role(
    server: tuple[str, dict[str, dict[str, str]]], role: str, tmp_path: Path
) -> None:
    base, headers = server
    result = _st(base, headers[role]["Authorization"], tmp_path / f"{role}.xml")
    output = result.stdout + result.stderr
    summary = [line for line in output.splitlines() if "generated" in line or "passed" in line]
    print(f"\nschemathesis ({role}): {' | '.join(summary[-2:])}")
    assert result.returncode == 0, output[-6000:]
    assert "unique failures" not in output, output[-6000:]
