"""The algorithm notice and the model cards (issue 16, part 5), through HTTP: public (no key needed), in
Chinese and English; the non-personalised option it describes exists; a card is generated from the manifest
with the training data, metrics, calibration and (when the manifest has them) fairness figures; an unknown
version is a 404."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from service.usecases.notice import SECTIONS, card_from_manifest
from tests.service.api.conftest import Api
from training.registry import Registry, library_versions

KEYS = ["principle", "purpose", "mechanism", "data", "non_personalised", "contest"]
RELIABILITY = {
    "ece": 0.031,
    "pairs": 400,
    "predicted": [0.01, 0.2],
    "observed": [0.02, 0.18],
    "count": [200, 200],
}
FAIRNESS = {
    "as_of": "2026-11-01",
    "k": 20,
    "coverage": 0.61,
    "four_fifths": 0.8,
    "vacancies": {"congestion": 0.34, "gini": 0.52},
    "attributes": {
        "school_kind": {
            "top_k": {"reference": "university", "min_impact_ratio": 0.72, "groups": []},
            "hired": {"reference": "university", "min_impact_ratio": 0.91, "groups": []},
        }
    },
    "flags": [
        {"attribute": "school_kind", "stage": "top_k", "group": "training_center", "impact_ratio": 0.72}
    ],
}


def write_version(artifacts: Path, *, fairness: dict[str, Any] | None = None, promote: bool = False) -> str:
    manifest: dict[str, Any] = {
        "model": "models.matcher.Matcher",
        "data": {
            "counts": {"graduates": 12, "vacancies": 6, "interactions": 30},
            "latest_event_at": "2026-02-03",
        },
        "parameters": {"seed": 7, "trees": 60},
        "libraries": library_versions(),
        "evaluation": {
            "k": 10,
            "cut": "2026-01-20T00:00:00",
            "metrics": {
                "new": {"ndcg": 0.5, "ece": 0.031},
                "keyword": {"ndcg": 0.3, "ece": 0.2},
                "current": None,
            },
            "reliability": {"new": RELIABILITY},
        },
        "gate": {"passed": True, "promote": True, "reasons": ["beats the keyword matcher"]},
    }
    if fairness is not None:
        manifest["fairness"] = fairness
    registry = Registry(artifacts)
    version = registry.write_version(lambda d: (d / "model.bin").write_bytes(b"0"), manifest)
    if promote:
        registry.promote(version)
    return version


def test_the_notice_is_public_and_bilingual(api: Api) -> None:
    response = TestClient(api.client.app).get("/api/v1/algorithm")  # no key at all
    assert response.status_code == 200, response.text
    body = response.json()
    assert [s["key"] for s in body["sections"]] == KEYS
    for section in body["sections"]:
        assert section["title"]["zh"] and section["title"]["en"].isascii()
        assert not section["body"]["zh"].isascii() and section["body"]["en"].isascii()
    assert body["non_personalised_version"] == "non-personalised"
    assert body["settings"]["posting_check"] == "warn" and body["settings"]["outcome_retention_days"] >= 183
    assert body["versions"] == []
    revoked = api.client.get("/api/v1/algorithm", headers=api.headers["revoked"])
    assert revoked.status_code == 200  # a key is neither needed nor checked


def test_the_non_personalised_option_the_notice_names_exists(api_with_model: Api) -> None:
    api = api_with_model
    text = " ".join(body for _, _, (_, body) in SECTIONS)
    assert "personalised=false" in text
    candidates = api.client.get(
        "/api/v1/vacancies/V1/candidates", params={"personalised": "false"}, headers=api.headers["hr_e1"]
    )
    assert candidates.status_code == 200 and candidates.json()["model_version"] == "non-personalised"
    suggestions = api.client.get(
        "/api/v1/graduates/G01/recommendations",
        params={"personalised": "false"},
        headers=api.headers["school_s1"],
    )
    assert suggestions.status_code == 200 and suggestions.json()["model_version"] == "non-personalised"


def test_a_model_card_comes_from_the_manifest(api: Api, tmp_path: Path) -> None:
    version = write_version(tmp_path / "artifacts", fairness=FAIRNESS)
    listed = api.client.get("/api/v1/algorithm").json()
    assert listed["versions"] == [version]
    response = api.client.get(f"/api/v1/models/{version}/card")
    assert response.status_code == 200, response.text
    card = response.json()
    assert card["version"] == version and card["created_at"]
    assert card["training_data"]["counts"]["graduates"] == 12
    assert card["metrics"]["new"]["ndcg"] == 0.5 and card["evaluation"]["cut"] == "2026-01-20T00:00:00"
    assert card["calibration"]["new"]["ece"] == 0.031 and card["calibration"]["new"]["count"] == [200, 200]
    assert card["gate"]["passed"] is True
    assert card["fairness"]["coverage"] == 0.61
    assert card["fairness"]["min_impact_ratio"] == {"school_kind": {"top_k": 0.72, "hired": 0.91}}
    assert card["fairness"]["flagged"] == 1
    assert "files" not in card and "libraries" not in card  # no hashes or library versions published


def test_a_card_without_fairness_figures_says_so(api: Api, tmp_path: Path) -> None:
    version = write_version(tmp_path / "artifacts")
    assert api.client.get(f"/api/v1/models/{version}/card").json()["fairness"] is None
    assert card_from_manifest(version, {}).metrics == {}  # an empty manifest gives empty sections


def test_an_unknown_version_is_a_404(api: Api) -> None:
    for name in ("20990101T000000Z-deadbeef", "not-a-version", "..%2F..%2Fetc"):
        response = api.client.get(f"/api/v1/models/{name}/card")
        assert response.status_code == 404, (name, response.text)
        assert response.json()["error"]["code"] in ("model_version_not_found", "not_found")
