"""The admin page's metric names: every key a manifest holds is named and explained in both languages, counts
print as integers (service.web.metric_names)."""

from __future__ import annotations

import pytest

from service.web.metric_names import describe, matcher_label

# Every metric the holdout evaluation writes into a manifest (training.evaluate.flatten on the tiny market).
MANIFEST_KEYS = [
    "auc_graduate", "auc_vacancy", "congestion_graduate", "congestion_vacancy", "coverage_graduate",
    "coverage_vacancy", "gini_graduate", "gini_vacancy", "ndcg", "ndcg_accepted", "ndcg_accepted_graduate",
    "ndcg_accepted_vacancy", "ndcg_graduate", "ndcg_vacancy", "precision_accepted_graduate",
    "precision_accepted_vacancy", "precision_graduate", "precision_vacancy", "queries_accepted_graduate",
    "queries_accepted_vacancy", "queries_graduate", "queries_vacancy", "recall_accepted_graduate",
    "recall_accepted_vacancy", "recall_graduate", "recall_vacancy", "ties_graduate", "ties_vacancy", "ece",
    "calibration_pairs", "oracle_share_accepted_vacancy", "knowable_share",
]  # fmt: skip


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_manifest_metric_is_named_and_explained(lang: str) -> None:
    for key in MANIFEST_KEYS:
        name = describe(key, lang)
        assert name.label and "_" not in name.label and name.help, (key, name)
    labels = [describe(key, lang).label for key in MANIFEST_KEYS]
    assert len(set(labels)) == len(labels), "two metrics share a name"


def test_names_read_as_words_and_counts_as_integers() -> None:
    assert describe("auc_graduate", "zh").label == "区分能力 AUC（为毕业生排岗位）"
    assert describe("ndcg_accepted_vacancy", "en").label == (
        "Ranking quality (NDCG@10) (employer-advanced, graduates for a vacancy)"
    )
    assert describe("queries_vacancy", "zh").format(426.0) == "426"
    assert describe("calibration_pairs", "en").format(12345.0) == "12,345"
    assert describe("ndcg", "en").format(0.43219) == "0.432"
    assert matcher_label("keyword", "zh") == "关键词基线" and matcher_label("mystery", "en") == "mystery"
    assert describe("brand_new_metric", "en").label == "brand new metric"  # unknown: readable, not raw
