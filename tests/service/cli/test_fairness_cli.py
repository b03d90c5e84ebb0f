"""``talentmatch fairness``: the report of the registry's current model over the store, as tables, JSON and
HTML."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from service.cli import main
from service.settings import get_settings
from service.store.market import import_market
from service.store.session import make_sessionmaker
from service.store.tables import AuditEntry
from tests.bundles import tiny_market
from tests.serving import write_trained_version


@pytest.fixture
def store(sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("TALENTMATCH_DATABASE_URL", sqlite_engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("TALENTMATCH_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    get_settings.cache_clear()
    with make_sessionmaker(sqlite_engine)() as session, session.begin():
        import_market(session=session, data=tiny_market())
    yield sqlite_engine
    get_settings.cache_clear()


def test_fairness_json_has_impact_ratios_of_the_current_model(
    store: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    version = write_trained_version(store, tmp_path / "artifacts", promote=True)
    assert main(["fairness", "--json", "--k", "5"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["model_version"] == version and payload["k"] == 5
    groups = payload["attributes"]["school_kind"]["top_k"]["groups"]
    assert groups and all("impact_ratio" in g and "ci_low" in g and "ci_high" in g for g in groups)
    assert {"top_k", "shortlisted", "hired"} == set(payload["attributes"]["education"])
    assert {"congestion", "gini"} <= set(payload["vacancies"]) and "coverage" in payload
    assert "flags" in payload and payload["reranked"]["attribute"] == "school_kind"
    with make_sessionmaker(store)() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "fairness_report")).one()
    assert json.loads(entry.detail)["via"] == "cli"


@pytest.mark.slow
def test_fairness_tables_and_html_without_a_model(
    store: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    assert main(["fairness", "--html", str(out)]) == 0
    text = capsys.readouterr().out
    assert "[school_kind]" in text and "impact" in text and "keyword-baseline" in text
    assert (out / "fairness.html").exists() and (out / "impact_ratios.png").exists()
    assert "impact_ratio" in (out / "fairness.json").read_text(encoding="utf-8")
    assert "<img" in (out / "fairness.html").read_text(encoding="utf-8")


def test_fairness_bad_k_exits_2(store: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fairness", "--k", "0"]) == 2
    assert "--k" in capsys.readouterr().err
