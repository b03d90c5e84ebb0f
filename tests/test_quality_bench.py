"""``benchmarks.quality_bench``: one small world (fast config) gives a full row; targets are judged."""

from __future__ import annotations

import math

import pytest

from benchmarks.quality_bench import (
    METRIC_KEYS,
    TARGETS,
    _variants,
    check_targets,
    evaluate_world,
    mean_rows,
    target_lines,
)
from models.matcher import MatcherConfig
from training.demo import VARIANTS

FAST = MatcherConfig(no_components=8, epochs=2, candidates=("compact",), retrieval_pool=100)


@pytest.mark.slow
def test_one_world_gives_a_row_of_every_figure_and_the_targets_are_judged() -> None:
    world = evaluate_world("small", 7, "default", ablations=False, config=FAST, say=lambda _: None)
    assert [row["matcher"] for row in world["rows"]] == ["full"]
    row = world["rows"][0]
    assert set(row) == {"variant", "seed", "matcher", *METRIC_KEYS}
    for key in METRIC_KEYS:
        assert math.isfinite(row[key]), key
    assert 0 < row["orcA_G"] <= 1.5 and 0 <= row["plan_ok"] <= 1 and row["fit_s"] > 0
    assert {"full", "keyword", "oracle"} <= set(world["table"])

    targets = check_targets(world["rows"])
    assert [t["key"] for t in targets] == [t.key for t in TARGETS]
    for t in targets:
        assert t["worlds"] == 1 and t["measured"] == 1 and isinstance(t["met"], bool)
        assert t["met"] == (t["worlds_met"] == 1)
    assert len(target_lines(targets)) == len(TARGETS)


def test_a_target_is_met_only_when_every_world_meets_it() -> None:
    base = {key: 1.0 for key in METRIC_KEYS} | {"ece": 0.01}
    rows = [
        {"variant": "default", "seed": 7, "matcher": "full", **base},
        {"variant": "skills-first", "seed": 7, "matcher": "full", **base, "orcA_G": 0.85},
        {"variant": "default", "seed": 7, "matcher": "applied_target", **base, "ece": 0.2},
    ]
    judged = {t["key"]: t for t in check_targets(rows)}
    assert not judged["orcA_G"]["met"] and judged["orcA_G"]["worst_world"] == "skills-first/7"
    assert judged["orcA_G"]["worlds_met"] == 1 and judged["orcA_G"]["mean"] == pytest.approx(0.925)
    assert judged["ece"]["met"]  # the ablation's row is not judged
    nan = [{**rows[0], "plan": math.nan}]
    assert not {t["key"]: t for t in check_targets(nan)}["plan"]["met"]
    assert [m["matcher"] for m in mean_rows(rows)] == ["full", "applied_target"]


def test_variants_argument() -> None:
    assert _variants("all") == list(VARIANTS)
    assert _variants("default, skills-first") == ["default", "skills-first"]
    with pytest.raises(Exception, match="unknown variant"):
        _variants("nope")
