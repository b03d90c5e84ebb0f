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
from benchmarks.mixed_bench import ROUNDS


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


@pytest.mark.slow
def test_every_benchmark_runs_and_writes_json(tiny_run: tuple[int, Path]) -> None:
    code, results = tiny_run
    assert code == 0
    for name in BENCHMARKS:
        payload = json.loads((results / f"{name}-tiny.json").read_text(encoding="utf-8"))
        assert payload["scale"] == "tiny"
        assert payload["machine"]["cores"] >= 1
        assert "load_average" in payload["machine"]
    assert (results / "scaling-tiny.png").stat().st_size > 0


@pytest.mark.slow
def test_http_benchmark_has_no_errors(tiny_run: tuple[int, Path]) -> None:
    _, results = tiny_run
    payload = json.loads((results / "http-tiny.json").read_text(encoding="utf-8"))
    assert [row["errors"] for row in payload["rows"]] == [0, 0]
    assert all(row["requests"] > 0 for row in payload["rows"])


@pytest.mark.slow
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


@pytest.mark.slow
def test_reads_while_writing_and_two_workers_have_no_errors(tiny_run: tuple[int, Path]) -> None:
    _, results = tiny_run
    payload = json.loads((results / "mixed-tiny.json").read_text(encoding="utf-8"))
    assert [row["errors"] for row in payload["rows"]] == [0, 0, 0]
    with_writer = payload["rows"][1]
    assert with_writer["writes"] >= ROUNDS and with_writer["write_errors"] == 0  # one per window at least
    assert set(payload["ratios"]) == set(payload["targets"])
    # read-only and with-writer side by side: alternated windows, pooled
    assert len(payload["rounds"]) == ROUNDS
    assert payload["rows"][0]["windows"] == payload["rows"][1]["windows"] == ROUNDS


@pytest.mark.slow
def test_the_request_profile_serves_a_tree_and_prices_an_audit_batch(
    tiny_run: tuple[int, Path], tmp_path: Path
) -> None:
    from benchmarks import request_profile

    _, results = tiny_run
    repo = Path(__file__).resolve().parents[1]
    argv = [
        "--tree",
        f"here={repo}",
        "--scale",
        "tiny",
        "--requests",
        "5",
        "--cache-dir",
        str(results.parent / "cache"),
    ]
    assert request_profile.main([*argv, "--results-dir", str(tmp_path)]) == 0
    tiny = json.loads((tmp_path / "request_profile.json").read_text(encoding="utf-8"))["scales"]["tiny"]
    (row,) = tiny["trees"]
    assert row["tree"] == "here" and row["n"] == 5 and row["server_cpu_ms"] > 0
    assert row.get("profile") is None or row["profile"]["samples"] > 0  # with py-spy installed
    assert tiny["audit_batch"]["entries"] == 50 and tiny["audit_batch"]["batch_cpu_ms_p50"] > 0


def test_profile_samples_become_stages_scaled_to_the_measured_cpu(tmp_path: Path) -> None:
    from benchmarks.request_profile import summarise

    raw = tmp_path / "py-spy.raw"
    loop = "run (uvicorn/main.py:1);Handle._run (asyncio/events.py:2)"
    raw.write_text(
        f"{loop};list_for_vacancy (/x/service/usecases/candidates.py:3);"
        "candidates_for (/x/models/base.py:4) 30\n"
        f"{loop};authenticate (/x/service/usecases/key_cache.py:5) 10\n"
        f"{loop};EpollSelector.select (selectors.py:6) 500\n"  # waiting: not work
        "ModelHolder._poll (/x/service/model_holder.py:7);compute (/x/models/index.py:8) 7\n"
        f"{loop} 60\n",
        encoding="utf-8",
    )
    profile = summarise(raw, requests=10, cpu_ms=5.0)
    stages = {s["stage"]: s["ms"] for s in profile["stages"]}
    assert profile["samples"] == 100
    assert stages == {"HTTP and framework": 3.0, "matcher (models/)": 1.5, "API key lookup": 0.5}
    assert profile["top_inclusive_ours"][0] == {
        "function": "list_for_vacancy (service/usecases/candidates.py)",
        "ms": 1.5,
    }


@pytest.mark.slow
def test_two_replicas_answer_each_other_s_writes_within_two_seconds(tiny_run: tuple[int, Path]) -> None:
    _, results = tiny_run
    payload = json.loads((results / "replicas-tiny.json").read_text(encoding="utf-8"))
    if "skipped" in payload:
        pytest.skip(payload["skipped"])
    assert {row["write"] for row in payload["rows"]} == {"post a vacancy", "erase a graduate"}
    assert all(row["max_ms"] <= payload["target_visible_s"] * 1000 for row in payload["rows"])
