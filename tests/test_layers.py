"""The layers of the house hold: import-linter's contracts (pyproject.toml) and, end to end, training and
the models run without the service."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold() -> None:
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint_imports is None:
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    result = subprocess.run([lint_imports], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_training_and_the_models_load_no_service_module() -> None:
    code = (
        "import sys\n"
        "import models.bundle, models.cohort, models.matcher, models.protocol\n"
        "import training.pipeline, training.evaluate, training.registry, training.demo\n"
        "print(sorted(m for m in sys.modules if m == 'service' or m.startswith('service.')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
