"""Evaluation: the time split, the metrics (applications and accepted outcomes, calibration, plans), the
report and the ``talentmatch evaluate`` command."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.baselines import RandomMatcher
from models.bundle import read_bundle, write_bundle
from models.columns import Columns as C
from models.keyword import KeywordMatcher
from models.outcomes import FIRST_AT
from service.cli import main
from tests.models.conftest import FAST, small_market
from tests.training.small_world import SMALL
from tests.training.small_world import small_market as demo_market
from training.calibration import calibration, equal_mass_bins, tie_share
from training.demo import generate
from training.demo_success import (
    knowable_success_probability,
    plan_setting,
    plan_success,
    success_probability,
    would_succeed,
)
from training.demo_truth import GROUND_TRUTH_DIR
from training.evaluate import (
    accepted_pairs,
    evaluate_matchers,
    exposed_outcomes,
    flatten,
    gini,
    holdout_metrics,
    ndcg_at,
    time_split,
)
from training.pipeline import ground_truth_of
from training.report import (
    format_reliability,
    format_table,
    markdown_table,
    reliability,
    run_evaluation,
    summary,
    write_report,
)


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
            "ndcg_accepted_vacancy",
            "ndcg_accepted_graduate",
            "recall_accepted_graduate",
            "ndcg_accepted",
            "ece",
            "ties_graduate",
        ):
            assert key in row and np.isfinite(row[key]), key
        assert row["ndcg"] == pytest.approx((row["ndcg_vacancy"] + row["ndcg_graduate"]) / 2)
        assert row["ndcg_accepted"] == pytest.approx(
            (row["ndcg_accepted_vacancy"] + row["ndcg_accepted_graduate"]) / 2
        )
        # Employer-advanced pairs applied first: their queries are among the applications' ones.
        for d in ("vacancy", "graduate"):
            assert 0 < row[f"queries_accepted_{d}"] <= row[f"queries_{d}"]
    assert metrics["keyword"]["ndcg"] > metrics["random"]["ndcg"]
    assert metrics["keyword"]["ndcg_accepted"] > metrics["random"]["ndcg_accepted"]
    assert metrics["keyword"]["auc_vacancy"] > 0.7
    assert metrics["random"]["ties_graduate"] == 0.0  # hashed scores never tie


def test_accepted_relevance_is_what_the_employer_advanced() -> None:
    at = pd.Timestamp("2026-03-01")
    events = pd.DataFrame(
        [
            ("G1", "V1", "viewed"),
            ("G1", "V1", "applied"),
            ("G1", "V1", "shortlisted"),
            ("G1", "V1", "interviewed"),
            ("G1", "V2", "applied"),
            ("G1", "V2", "rejected"),
            ("G2", "V1", "hired"),  # a later stage alone counts (the application was not recorded)
            ("G2", "V2", "viewed"),
            ("G3", "V2", "offered"),
            ("G3", "V2", "declined"),  # the employer advanced them, whatever the graduate did
        ],
        columns=[C.graduate, C.vacancy, C.event],
    ).assign(**{C.occurred_at: at})
    pairs = accepted_pairs(events)
    gains = {(g, v): w for g, v, w in pairs[[C.graduate, C.vacancy, C.weight]].itertuples(index=False)}
    assert gains == {("G1", "V1"): 2.0, ("G2", "V1"): 4.0, ("G3", "V2"): 3.0}

    # NDCG@3 of rows [3, 1, 2] against gains {1: 2, 2: 1}: (2/log2(3) + 1/2) / (2 + 1/log2(3)).
    expected = (2 / np.log2(3) + 0.5) / (2 + 1 / np.log2(3))
    assert ndcg_at(np.array([3, 1, 2]), {1: 2.0, 2: 1.0}, 3) == pytest.approx(expected)
    assert ndcg_at(np.array([1, 2, 3]), {1: 2.0, 2: 1.0}, 3) == pytest.approx(1.0)
    assert ndcg_at(np.array([3, 4]), {}, 2) == 0.0


def test_expected_calibration_error_known_answers() -> None:
    # Perfectly calibrated: among pairs scored p, a share p succeeds.
    scores = np.repeat([0.1, 0.3, 0.5, 0.7, 0.9], 100)
    outcomes = np.concatenate([np.arange(100) < 100 * p for p in (0.1, 0.3, 0.5, 0.7, 0.9)])
    result = calibration(scores, outcomes)
    assert result.ece == pytest.approx(0.0, abs=1e-12)
    assert result.count.tolist() == [100] * 5  # equal scores share a bin
    assert result.predicted == pytest.approx([0.1, 0.3, 0.5, 0.7, 0.9])

    # A constant 0.9 where 10% succeed.
    rng = np.random.default_rng(0)
    outcomes = rng.permutation(np.arange(1000) < 100)
    result = calibration(np.full(1000, 0.9), outcomes)
    assert result.ece == pytest.approx(0.8)
    assert result.pairs == 1000 and len(result.count) == 1

    # Distinct scores: ten bins of equal mass; the gap is the mean |score - outcome share| per bin.
    scores = np.linspace(0.0, 1.0, 200)
    bins = equal_mass_bins(scores, 10)
    assert np.bincount(bins).tolist() == [20] * 10
    result = calibration(scores, np.zeros(200))
    assert result.ece == pytest.approx(scores.mean())
    assert np.isnan(calibration(np.zeros(0), np.zeros(0)).ece)


def test_calibration_is_measured_on_the_holdout_exposures() -> None:
    split = time_split(demo_market())
    index = KeywordMatcher().fit().index(split.test)
    outcomes = exposed_outcomes(split, index, max_pairs=10**6, seed=7)
    before = set(zip(split.train.interactions[C.graduate], split.train.interactions[C.vacancy], strict=True))
    after = set(zip(split.test.interactions[C.graduate], split.test.interactions[C.vacancy], strict=True))
    exposed = set(zip(outcomes[C.graduate], outcomes[C.vacancy], strict=True))
    assert before & after  # pairs under way at the cut exist ...
    assert exposed <= after - before  # ... and are left out,
    # as are those shown too late to be answered by the end of the data.
    assert 0.5 * len(after - before) < len(exposed) < len(after - before)
    latest = outcomes[FIRST_AT].max()
    assert latest < split.test.interactions[C.occurred_at].max() - pd.Timedelta(days=1)
    sample = exposed_outcomes(split, index, max_pairs=50, seed=7)
    assert len(sample) == 50 and set(zip(sample[C.graduate], sample[C.vacancy], strict=True)) <= exposed


def test_ties_in_top_lists() -> None:
    assert tie_share([np.array([0.6, 0.6, 0.6, 0.5]), np.array([0.3, 0.2])]) == pytest.approx(2 / 4)
    assert tie_share([np.array([0.9])]) == 0.0
    assert tie_share([np.full(30, 0.5)], top=20) == pytest.approx(1.0)


def test_plan_success_on_the_small_demo_world() -> None:
    world = generate("small", 7)
    split = time_split(world.data)
    keyword = KeywordMatcher().fit()
    setting = plan_setting(split, world.truth, programs=3, seed=7)
    assert setting is not None and len(setting.cohorts) == 3
    assert all(c.best_possible > 0 for c in setting.cohorts)
    plan = plan_success(keyword, keyword.index(split.test), setting, world.truth)
    assert plan.graduates == sum(len(c.graduate_ids) for c in setting.cohorts) and plan.assigned > 0
    # The plan draws from the seats the best assignment may use: it cannot do better.
    assert 0.0 < plan.success_share <= 1.0 + 1e-9
    assert 0.0 <= plan.assignment_success <= 1.0
    assert plan.succeeding <= min(plan.advanced, plan.interested)
    # A random order plans worse than skill coverage.
    random = RandomMatcher()
    assert (
        plan_success(random, random.index(split.test), setting, world.truth).success_share
        < plan.success_share
    )

    # The true success probability is what the generator realised: the oracle's ECE is small.
    results = evaluate_matchers(
        {"keyword": keyword}, split, truth=world.truth, max_queries=100, plan_programs=2
    )
    oracle = results["oracle"].calibration
    assert oracle is not None and oracle.pairs > 500 and oracle.ece < 0.06
    keyword_plan = results["keyword"].plan
    assert keyword_plan is not None and keyword_plan.programs == 2
    pairs = split.test.interactions[[C.graduate, C.vacancy]].drop_duplicates().head(200)
    probability = success_probability(world.truth, pairs[C.graduate], pairs[C.vacancy])
    likely = would_succeed(world.truth, pairs[C.graduate], pairs[C.vacancy])
    assert ((probability >= 0) & (probability <= 1)).all()
    assert probability[likely].mean() > probability[~likely].mean()


def test_gini_and_reliability() -> None:
    assert gini(np.array([1, 1, 1, 1])) == pytest.approx(0.0)
    assert gini(np.array([0, 0, 0, 10])) == pytest.approx(0.75)
    centres, observed, counts = reliability(
        np.linspace(0, 1, 100), (np.linspace(0, 1, 100) > 0.5).astype(float)
    )
    assert counts.sum() == 100 and observed[0] == 0 and observed[-1] == 1
    assert len(counts) == 10


@pytest.mark.slow
def test_run_evaluation_writes_report(tmp_path: Path) -> None:
    evaluation = run_evaluation(
        small_market(n_graduates=150, n_vacancies=40), config=FAST, ablations=False, k=5
    )
    assert {"random", "popularity", "keyword", "lightfm", "full"} <= set(evaluation.table)
    paths = write_report(evaluation, tmp_path)
    payload = json.loads((tmp_path / "evaluation.json").read_text(encoding="utf-8"))
    assert payload["metrics"]["full"]["ndcg"] > payload["metrics"]["random"]["ndcg"]
    assert "ndcg_accepted_graduate" in payload["metrics"]["full"] and "ece" in payload["metrics"]["full"]
    curve = payload["reliability"]["full"]
    assert curve["ece"] == payload["metrics"]["full"]["ece"]
    assert len(curve["predicted"]) == len(curve["observed"]) == len(curve["count"]) <= 10
    assert sum(curve["count"]) == curve["pairs"] > 0
    assert payload["plans"] == {}  # no ground truth, no plans
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert page.count("<img") == 6 and 'alt="reliability"' in page  # 4 + the fairness section's 2
    assert "Fairness and exposure" in page and 'alt="impact_ratios"' in page
    # The full model re-ranked for exposure, side by side with its own order, and the fairness figures.
    assert payload["rerank_comparison"]["ndcg_vacancy"]["full"] == payload["metrics"]["full"]["ndcg_vacancy"]
    assert "impact_ratio" in json.dumps(payload["fairness"]) and "full_rerank" not in payload["metrics"]
    assert all(p.exists() for p in paths)
    text = format_table(evaluation)
    assert "keyword" in text and "ndcgA@G" in text and "ece" in text
    assert "| full |" in markdown_table(evaluation)
    assert format_reliability(evaluation).startswith("reliability of full")


@pytest.mark.slow
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
    out = capsys.readouterr().out
    assert "ndcg@V" in out and "ndcgA@V" in out and "reliability of full" in out


@pytest.mark.slow
def test_report_on_a_demo_bundle_shows_plans(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    write_bundle(demo_market(), bundle)  # the small demo world, thinned, with its ground truth
    generate("small", 7).truth.save(bundle / GROUND_TRUTH_DIR)
    truth = ground_truth_of(bundle)  # what `talentmatch evaluate --bundle` and `train --bundle` load
    assert truth is not None and ground_truth_of(tmp_path) is None and ground_truth_of(None) is None
    evaluation = run_evaluation(
        read_bundle(bundle), truth=truth, config=SMALL, ablations=False, max_queries=200
    )
    payload = json.loads(
        next(p for p in write_report(evaluation, tmp_path / "out") if p.suffix == ".json").read_text()
    )
    assert 0 < payload["metrics"]["full"]["plan_success_share"] <= 1
    assert set(payload["plans"]) == {"random", "popularity", "keyword", "lightfm", "full"}
    assert payload["metrics"]["oracle"]["oracle_share_accepted"] == pytest.approx(1.0)
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert 'alt="plan_success"' in page and "Placement plans on the ground truth" in page
    text = format_table(evaluation)
    assert "plan_ok" in text and "oracle" in text
    assert "of the best possible" in summary(evaluation.table)


def test_cli_evaluate_bad_input(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["evaluate", "--bundle", str(tmp_path / "missing"), "--quiet"]) == 2
    bundle = tmp_path / "bundle"
    write_bundle(small_market(n_graduates=60, n_vacancies=20), bundle)
    assert main(["evaluate", "--bundle", str(bundle), "--cut", "not-a-date", "--quiet"]) == 2
    assert main(["evaluate", "--bundle", str(bundle), "--cut", "1999-01-01", "--quiet"]) == 2


def test_knowable_success_is_the_truth_with_each_pairs_noise_averaged_out() -> None:
    world = generate("small", 7)
    truth = world.truth
    split = time_split(world.data)
    pairs = split.test.interactions[[C.graduate, C.vacancy]].drop_duplicates().head(300)
    g, v = pairs[C.graduate].to_numpy(), pairs[C.vacancy].to_numpy()
    knowable = knowable_success_probability(truth, g, v)
    assert ((knowable >= 0) & (knowable <= 1)).all()
    # Monte Carlo over the two noises (independent standard normals) agrees with the quadrature.
    rows_g, rows_v = truth.graduate_rows(g), truth.vacancy_rows(v)
    utility = truth.utility_at(rows_g, rows_v, noise=False)
    fit = truth.employer_fit_at(rows_g, rows_v, noise=False)
    noise_u = truth.params["utility_weights"]["noise"]
    noise_f = truth.params["employer_weights"]["noise"]
    rng = np.random.default_rng(0)
    simulation = truth.params["simulation"]
    th = simulation["thresholds"]

    def sigmoid(x: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-x))

    total = np.zeros(len(g))
    draws = 4000
    for _ in range(draws):
        u = utility + noise_u * rng.standard_normal(len(g))
        f = fit + noise_f * rng.standard_normal(len(g))
        stage = [
            sigmoid((f - th[s]) / simulation["employer_temperature"])
            for s in ("shortlisted", "interviewed", "offered")
        ]
        accept = sigmoid((u - th["accept"]) / simulation["accept_temperature"])
        apply = sigmoid((u - th["apply"]) / simulation["apply_temperature"])
        total += apply * stage[0] * (1 - stage[1] * stage[2] * (1 - accept))
    assert np.abs(total / draws - knowable).max() < 0.02
    # Without noise in the world, what can be known is the truth.
    quiet = copy.deepcopy(truth)
    quiet.params["utility_weights"]["noise"] = 0.0
    quiet.params["employer_weights"]["noise"] = 0.0
    assert np.allclose(knowable_success_probability(quiet, g, v), success_probability(quiet, g, v))


def test_plans_are_also_held_to_the_knowable_ceiling() -> None:
    world = generate("small", 7)
    split = time_split(world.data)
    setting = plan_setting(split, world.truth, programs=3, seed=7)
    assert setting is not None
    for cohort in setting.cohorts:
        # The best plan by what can be known, scored by the truth, is no better than the clairvoyant best.
        assert 0 < cohort.knowable_best <= cohort.best_possible + 1e-9
        assert 0 <= cohort.knowable_succeeding <= cohort.knowable_assigned
    keyword = KeywordMatcher().fit()
    plan = plan_success(keyword, keyword.index(split.test), setting, world.truth)
    metrics = plan.metrics()
    assert metrics["plan_knowable_share"] == pytest.approx(plan.expected_successes / plan.knowable_best)
    assert metrics["plan_knowable_share"] >= metrics["plan_success_share"]
    assert 0 < metrics["plan_knowable_ceiling"] <= 1
    results = evaluate_matchers(
        {"keyword": keyword}, split, truth=world.truth, max_queries=100, plan_programs=2
    )
    table = flatten(results)
    assert table["oracle_knowable"]["knowable_share_accepted"] == pytest.approx(1.0)
    assert table["keyword"]["knowable_share_accepted"] > 0
