"""Smoke test: ``python -m benchmarks`` runs every benchmark on the tiny scale, so the scripts don't rot.

``tiny`` is the small demo world with a fast training config and tiny bounds (a few queries, a one-second
HTTP load); the cache and the results go to a temporary folder. The HTTP benchmark starts a real
``talentmatch serve`` on 127.0.0.1; PostgreSQL is used for the import when reachable.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.__main__ import BENCHMARKS, main


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path]:
    root = tmp_path_factory.mktemp("bench")
    results = root / "results"
    code = main(
        [
            "--scale",
            "tiny",
            "--only",
            ",".join(BENCHMARKS),
            "--cache-dir",
            str(root / "cache"),
            "--results-dir",
            str(results),
        ]
    )
    return code, results


def test_every_benchmark_runs_and_writes_json(tiny_run: tuple[int, Path]) -> None:
    code, results = tiny_run
    assert code == 0
    for name in BENCHMARKS:
        payload = json.loads((results / f"{name}-tiny.json").read_text(encoding="utf-8"))
        assert payload["scale"] == "tiny"
        assert payload["machine"]["cores"] >= 1
        assert "load_average" in payload["machine"]
    assert (results / "scaling-tiny.png").stat().st_size > 0


def test_http_benchmark_has_no_errors(tiny_run: tuple[int, Path]) -> None:
    _, results = tiny_run
    payload = json.loads((results / "http-tiny.json").read_text(encoding="utf-8"))
    assert [row["errors"] for row in payload["rows"]] == [0, 0]
    assert all(row["requests"] > 0 for row in payload["rows"])


def test_serving_compares_ours_with_the_baselines(tiny_run: tuple[int, Path]) -> None:
    _, results = tiny_run
    rows = json.loads((results / "serve-tiny.json").read_text(encoding="utf-8"))["rows"]
    ways = {(row["case"], row["way"]) for row in rows}
    for way in ("ours", "keyword", "lightfm_predict"):
        assert ("candidates (top 20)", way) in ways


def test_unknown_benchmark_name_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["--only", "nope"])
    assert raised.value.code == 2
    assert "unknown benchmark" in capsys.readouterr().err


def test_reads_while_writing_and_two_workers_have_no_errors(tiny_run: tuple[int, Path]) -> None:
    _, results = tiny_run
    payload = json.loads((results / "mixed-tiny.json").read_text(encoding="utf-8"))
    assert [row["errors"] for row in payload["rows"]] == [0, 0, 0]
    with_writer = payload["rows"][1]
    assert with_writer["writes"] > 0 and with_writer["write_errors"] == 0
    assert set(payload["ratios"]) == set(payload["targets"])
