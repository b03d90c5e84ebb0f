"""Evaluation: the time split, the metrics, the report and the ``talentmatch evaluate`` command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.baselines import RandomMatcher
from models.columns import Columns as C
from models.keyword import KeywordMatcher
from service.cli import main
from tests.models.conftest import FAST, small_market
from training.bundle import write_bundle
from training.evaluate import gini, holdout_metrics, time_split
from training.report import format_table, markdown_table, reliability, run_evaluation, write_report


def test_time_split_rewinds_to_the_cut() -> None:
    data = small_market()
    split = time_split(data, holdout_fraction=0.25)
    assert (split.train.interactions[C.occurred_at] < split.cut).all()
    assert (split.test.interactions[C.occurred_at] >= split.cut).all()
    assert len(split.train.interactions) + len(split.test.interactions) == len(data.interactions)
    assert (pd.to_datetime(split.train.vacancies[C.posted_at]) < split.cut).all()
    assert len(split.test.vacancies) == len(data.vacancies)
    with pytest.raises(ValueError):
        time_split(data, cut="2000-01-01")


def test_time_split_with_coarse_timestamps_cuts_at_the_next_distinct_time() -> None:
    data = small_market()
    times = data.interactions[C.occurred_at]
    # A day-stamped export where 85% of the events carry the first date: the 80% quantile ties with it.
    first, second = times.min().normalize(), times.min().normalize() + pd.Timedelta(days=1)
    late = np.arange(len(times)) >= int(0.85 * len(times))
    data.interactions[C.occurred_at] = np.where(late, second, first).astype("datetime64[us]")
    split = time_split(data)
    assert split.cut == second
    assert len(split.train.interactions) == int((~late).sum()) and len(split.test.interactions) == late.sum()

    data.interactions[C.occurred_at] = first
    with pytest.raises(ValueError, match="no interactions on one side"):
        time_split(data)  # one timestamp for everything: no time-based holdout exists


def test_time_split_placed_only_if_hired_before_the_cut() -> None:
    data = small_market()
    cut = data.interactions[C.occurred_at].quantile(0.5)
    hired = pd.DataFrame(
        {
            C.graduate: ["G0001", "G0002"],
            C.vacancy: ["V000", "V000"],
            C.event: "hired",
            C.occurred_at: [cut - pd.Timedelta(days=1), cut + pd.Timedelta(days=1)],
        }
    )
    data.interactions = pd.concat([data.interactions, hired], ignore_index=True)
    split = time_split(data, cut=cut)
    status = split.train.graduates.set_index(C.graduate)[C.status]
    assert status["G0001"] == "placed" and status["G0002"] == "seeking"


def test_holdout_metrics_shape_and_order() -> None:
    data = small_market()
    split = time_split(data)
    metrics = holdout_metrics({"random": RandomMatcher(), "keyword": KeywordMatcher().fit()}, split, k=5)
    for row in metrics.values():
        for key in (
            "ndcg_vacancy",
            "ndcg_graduate",
            "ndcg",
            "recall_vacancy",
            "auc_graduate",
            "gini_vacancy",
        ):
            assert key in row and np.isfinite(row[key])
        assert row["ndcg"] == pytest.approx((row["ndcg_vacancy"] + row["ndcg_graduate"]) / 2)
    assert metrics["keyword"]["ndcg"] > metrics["random"]["ndcg"]
    assert metrics["keyword"]["auc_vacancy"] > 0.7


def test_gini_and_reliability() -> None:
    assert gini(np.array([1, 1, 1, 1])) == pytest.approx(0.0)
    assert gini(np.array([0, 0, 0, 10])) == pytest.approx(0.75)
    centres, observed, counts = reliability(
        np.linspace(0, 1, 100), (np.linspace(0, 1, 100) > 0.5).astype(float)
    )
    assert counts.sum() == 100 and observed[0] == 0 and observed[-1] == 1


def test_run_evaluation_writes_report(tmp_path: Path) -> None:
    evaluation = run_evaluation(
        small_market(n_graduates=150, n_vacancies=40), config=FAST, ablations=False, k=5
    )
    assert {"random", "popularity", "keyword", "lightfm", "full"} <= set(evaluation.table)
    paths = write_report(evaluation, tmp_path)
    payload = json.loads((tmp_path / "evaluation.json").read_text(encoding="utf-8"))
    assert payload["metrics"]["full"]["ndcg"] > payload["metrics"]["random"]["ndcg"]
    assert (tmp_path / "report.html").read_text(encoding="utf-8").count("<img") == 4
    assert all(p.exists() for p in paths)
    assert "keyword" in format_table(evaluation) and "| full |" in markdown_table(evaluation)


def test_cli_evaluate_on_a_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    bundle = tmp_path / "bundle"
    write_bundle(small_market(n_graduates=120, n_vacancies=40), bundle)
    monkeypatch.setenv("TALENTMATCH_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    from service.settings import get_settings

    get_settings.cache_clear()
    try:
        code = main(["evaluate", "--bundle", str(bundle), "--k", "5", "--no-ablations", "--quiet"])
    finally:
        get_settings.cache_clear()
    assert code == 0, capsys.readouterr().err
    assert (tmp_path / "artifacts" / "evaluation" / "report.html").exists()
    assert "ndcg@V" in capsys.readouterr().out


def test_cli_evaluate_bad_input(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["evaluate", "--bundle", str(tmp_path / "missing"), "--quiet"]) == 2
    bundle = tmp_path / "bundle"
    write_bundle(small_market(n_graduates=60, n_vacancies=20), bundle)
    assert main(["evaluate", "--bundle", str(bundle), "--cut", "not-a-date", "--quiet"]) == 2
    assert main(["evaluate", "--bundle", str(bundle), "--cut", "1999-01-01", "--quiet"]) == 2
