"""The layers of the house hold: import-linter's contracts (pyproject.toml) and, end to end, training and
the models run without the service."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _lint_imports() -> str:
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint_imports is None:
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    return lint_imports


def test_import_contracts_hold() -> None:
    result = subprocess.run([_lint_imports()], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_cycle_among_the_service_packages_breaks_the_contracts(tmp_path: Path) -> None:
    # A copy of the packages where the use cases import the API back, from inside a function: a local
    # import hides a cycle from Python's import order, not from the contract.
    for package in ("service", "models", "training"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    inputs = tmp_path / "service" / "usecases" / "inputs.py"
    inputs.write_text(
        inputs.read_text()
        + "\n\ndef _error_shape() -> object:\n"
        + "    from service.api.schemas import ErrorResponse\n\n"
        + "    return ErrorResponse\n"
    )
    result = subprocess.run(
        [_lint_imports(), "--no-cache"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert result.returncode != 0, result.stdout + result.stderr
    assert "1 broken" in result.stdout, result.stdout
    broken = result.stdout.split("Broken contracts", 1)[1]
    assert "No import cycles among the service's subpackages" in broken, result.stdout
    assert ".usecases -> .api" in broken, result.stdout


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
