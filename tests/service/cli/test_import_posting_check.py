"""``talentmatch import`` lists the discriminatory requirements in a bundle's vacancies (and audits them);
with TALENTMATCH_POSTING_CHECK=refuse it refuses the whole bundle, writing nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from service.cli import main
from service.settings import get_settings
from service.store.session import make_sessionmaker
from service.store.tables import AuditEntry, Vacancy
from tests.bundles import write_tiny_bundle
from tests.models.test_bundle import edit
from tests.service.cli.test_data_cli import use_store


@pytest.fixture
def flagged_bundle(tmp_path: Path) -> Path:
    bundle = write_tiny_bundle(tmp_path / "bundle")
    edit(bundle / "vacancies.csv", "负责光刻工艺，熟悉SPC", "负责光刻工艺，熟悉SPC。限男性，本地户籍")
    edit(bundle / "vacancies.csv", "引线键合和倒装焊工艺", "引线键合和倒装焊工艺，男女不限，身体健康")
    return bundle


@pytest.fixture
def sqlite_store(sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    use_store(monkeypatch, sqlite_engine)
    yield sqlite_engine
    get_settings.cache_clear()


def test_import_lists_and_audits_flagged_vacancies(
    sqlite_store: Engine, flagged_bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", "--check", str(flagged_bundle)]) == 0
    assert "2 requirement(s) that may discriminate in 1 vacancy(ies)" in capsys.readouterr().out
    assert main(["import", str(flagged_bundle)]) == 0
    out = capsys.readouterr().out
    assert 'vacancies.csv: V1: description[13:16] "限男性": gender' in out
    assert 'vacancies.csv: V1: description[17:21] "本地户籍": origin' in out
    assert "V3" not in out
    with make_sessionmaker(sqlite_store)() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "import_flagged_vacancies")
        ).one()
        assert json.loads(entry.detail)["posting_warnings"] == {"V1": ["gender", "origin"]}
        assert session.get(Vacancy, "V1") is not None


def test_refuse_mode_refuses_the_whole_bundle(
    sqlite_store: Engine,
    flagged_bundle: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TALENTMATCH_POSTING_CHECK", "refuse")
    get_settings.cache_clear()
    assert main(["import", "--check", str(flagged_bundle)]) == 2
    assert main(["import", str(flagged_bundle)]) == 2
    err = capsys.readouterr().err
    assert 'V1: description[13:16] "限男性": gender' in err and "nothing was written" in err
    with make_sessionmaker(sqlite_store)() as session:
        assert session.scalars(select(Vacancy)).first() is None
