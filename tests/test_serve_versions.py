"""``benchmarks.serve_versions`` on two real commits (a few queries): the side-by-side script does not rot."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.serve_versions import run


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "versions"
    for tree in (tmp_path / "versions").glob("tree-*"):
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], check=False, capture_output=True)


@pytest.mark.slow
def test_two_commits_are_fitted_and_measured_side_by_side(cache: Path) -> None:
    payload = run("HEAD~1", "HEAD", scale="small", rounds=1, cache=cache, queries=5)
    before, after = payload["before"], payload["after"]
    assert before != after
    for commit in (before, after):
        (measured,) = payload["rounds"][commit]
        for case in ("candidates", "suggestions"):
            assert 0 < measured[case]["p50"] <= measured[case]["p99"]
    assert {row["case"] for row in payload["rows"]} == {"candidates", "suggestions"}
    assert all(row["ratio p50"] > 0 for row in payload["rows"])
