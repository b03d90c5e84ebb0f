"""Smoke test of ``benchmarks.cohort_bench`` on the tiny scale: the plan runs both ways and they agree."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.cohort_bench import main


def test_cohort_benchmark_runs_and_both_scorers_agree(tmp_path: Path) -> None:
    results = tmp_path / "results"
    code = main(
        [
            "--scale",
            "tiny",
            "--graduates",
            "30",
            "--vacancies",
            "400",
            "--repeat",
            "1",
            "--per-graduate-repeat",
            "1",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--results-dir",
            str(results),
        ]
    )
    assert code == 0
    payload = json.loads((results / "cohort-30x400.json").read_text(encoding="utf-8"))
    assert payload["per_graduate_equals_batched"] is True
    assert payload["world"]["graduates"] == 30 and payload["world"]["open_vacancies"] == 400
    assert {row["case"] for row in payload["rows"]} >= {
        "plan_program, batched scorer (now)",
        "plan_program, per-graduate vacancies_for (before)",
    }
