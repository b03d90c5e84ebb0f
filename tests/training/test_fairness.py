"""The fairness report's metrics on hand-made data, and the report on the demo world (biased on purpose
and not)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from models.keyword import KeywordMatcher
from training.demo import generate
from training.fairness import (
    FOUR_FIFTHS,
    congestion,
    coverage,
    fairness_report,
    impact_table,
    wilson,
)
from training.metrics import gini


def test_wilson_interval_matches_the_formula() -> None:
    low, high = wilson(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)
    assert wilson(0, 0) == (0.0, 1.0)
    low, high = wilson(0, 20)
    assert low == 0.0 and 0.0 < high < 0.2
    # The interval narrows with n around the same rate.
    assert np.diff(wilson(50, 100)) < np.diff(wilson(5, 10))


def test_impact_ratio_four_fifths_and_low_n() -> None:
    # Group a: 50 of 100 selected; b: 30 of 100 (0.6 of a: flagged); c: 1 of 10 (low n: never flagged).
    labels = np.array([0] * 100 + [1] * 100 + [2] * 10)
    selected = np.array([1] * 50 + [0] * 50 + [1] * 30 + [0] * 70 + [1] + [0] * 9, dtype=bool)
    table = impact_table(labels, ["a", "b", "c", "unknown"], np.ones(210, dtype=bool), selected, min_n=30)
    rows = {g.group: g for g in table.groups}
    assert table.reference == "a" and set(rows) == {"a", "b", "c"}
    assert rows["a"].impact_ratio == 1.0 and not rows["a"].flagged
    assert rows["b"].impact_ratio == pytest.approx(0.6) and rows["b"].flagged and rows["b"].significant
    assert rows["c"].impact_ratio == pytest.approx(0.2) and rows["c"].low_n and not rows["c"].flagged
    assert rows["b"].ci_low < 0.3 < rows["b"].ci_high
    assert table.min_impact_ratio == pytest.approx(0.6)
    # At exactly four fifths nothing is flagged.
    selected = np.array([1] * 50 + [0] * 50 + [1] * 40 + [0] * 60, dtype=bool)
    table = impact_table(labels[:200], ["a", "b"], np.ones(200, dtype=bool), selected)
    assert {g.group: g.impact_ratio for g in table.groups}["b"] == pytest.approx(FOUR_FIFTHS)
    assert not any(g.flagged for g in table.groups)


def test_a_small_group_is_not_the_reference_and_exposure_shares_add_up() -> None:
    labels = np.array([0] * 5 + [1] * 40 + [2] * 40)
    selected = np.array([1] * 5 + [1] * 20 + [0] * 20 + [1] * 10 + [0] * 30, dtype=bool)
    slots = np.where(selected, 2, 0)
    table = impact_table(labels, ["tiny", "b", "c"], np.ones(85, dtype=bool), selected, min_n=30, slots=slots)
    rows = {g.group: g for g in table.groups}
    assert table.reference == "b"  # "tiny" has the highest rate but only 5 members
    assert rows["tiny"].impact_ratio == pytest.approx(2.0) and rows["tiny"].low_n
    assert sum(g.exposure_share or 0 for g in table.groups) == pytest.approx(1.0)
    assert sum(g.pool_share or 0 for g in table.groups) == pytest.approx(1.0)
    assert rows["c"].exposure_share == pytest.approx(20 / 70)


def test_congestion_gini_and_coverage_on_hand_made_exposure() -> None:
    even = np.full(20, 5)
    assert congestion(even) == pytest.approx(0.1) and gini(even) == pytest.approx(0.0)
    skewed = np.array([91] + [1] * 9)
    assert congestion(skewed) == pytest.approx(0.91)  # the top 10% is one vacancy of ten
    assert gini(skewed) == pytest.approx(0.81, abs=1e-9)
    assert congestion(np.zeros(4)) == 0.0
    shown = np.array([True, False, True, False])
    assert coverage(shown, np.array([True, True, True, False])) == pytest.approx(2 / 3)
    assert coverage(shown, np.zeros(4, dtype=bool)) == 0.0
    assert math.isclose(congestion(np.arange(1, 101)), sum(range(91, 101)) / sum(range(1, 101)))


@pytest.fixture(scope="module")
def reports() -> dict[str, object]:
    out = {}
    for variant in ("default", "biased"):
        world = generate("small", 7, variant=variant)
        out[variant] = fairness_report(KeywordMatcher().fit(), world.data, as_of=pd.Timestamp("2026-11-15"))
    return out


def test_the_report_flags_the_group_screened_down_on_purpose(reports: dict) -> None:
    def shortlisted(variant: str) -> dict:
        return {g.group: g for g in reports[variant].attributes["school_kind"]["shortlisted"].groups}

    biased, default = shortlisted("biased"), shortlisted("default")
    assert biased["vocational_college"].flagged and biased["vocational_college"].significant
    assert biased["vocational_college"].impact_ratio < FOUR_FIFTHS
    assert not default["vocational_college"].flagged
    flags = reports["biased"].flags
    assert any(f["attribute"] == "school_kind" and f["group"] == "vocational_college" for f in flags)


def test_the_report_has_every_attribute_stage_and_the_reranked_figures(reports: dict) -> None:
    report = reports["default"]
    payload = report.to_dict()
    assert set(payload["attributes"]) == {
        "school",
        "school_kind",
        "program_kind",
        "order_class",
        "education",
        "district",
    }
    for stages in payload["attributes"].values():
        assert set(stages) == {"top_k", "shortlisted", "hired"}
        for table in stages.values():
            assert all("impact_ratio" in g and "ci_low" in g and "n" in g for g in table["groups"])
    assert 0 < payload["coverage"] <= 1 and 0 < payload["vacancies"]["congestion"] <= 1
    assert 0 <= payload["vacancies"]["gini"] < 1
    assert payload["reranked"]["attribute"] == "school_kind"
    assert set(payload["reranked"]["attributes"]["school_kind"]) == {"top_k"}
    # The same top-k slots, shared out differently.
    plain = payload["attributes"]["school_kind"]["top_k"]["groups"]
    fair = payload["reranked"]["attributes"]["school_kind"]["top_k"]["groups"]
    assert sum(g["exposure_share"] for g in fair) == pytest.approx(sum(g["exposure_share"] for g in plain))
