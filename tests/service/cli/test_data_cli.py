"""``talentmatch import`` / ``export`` against SQLite and PostgreSQL."""

from __future__ import annotations

import filecmp
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from models.bundle import BUNDLE_FILES
from service.cli import main
from service.settings import get_settings
from service.store.session import make_engine
from tests.bundles import write_tiny_bundle
from tests.models.test_bundle import BAD, edit
from tests.service.store.test_market import row_counts
from training.demo import VARIANTS


def use_store(monkeypatch: pytest.MonkeyPatch, engine: Engine) -> None:
    monkeypatch.setenv("TALENTMATCH_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()


@pytest.fixture
def store(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The ``engine`` store, as the CLI's configured database."""
    use_store(monkeypatch, engine)
    yield engine
    get_settings.cache_clear()


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    return write_tiny_bundle(tmp_path / "bundle")


def test_import_then_reimport_changes_nothing(
    store: Engine, bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(bundle)]) == 0
    out = capsys.readouterr().out
    assert "graduates: 12 added, 0 updated, 0 unchanged" in out
    assert "interactions: 30 added" in out
    counts = row_counts(store)
    assert counts["graduates"] == 12 and counts["vacancy_skills"] == 10

    assert main(["import", str(bundle)]) == 0
    out = capsys.readouterr().out
    assert "graduates: 0 added, 0 updated, 12 unchanged" in out
    assert "nothing changed" in out
    assert row_counts(store) == counts


def test_import_reports_updates(store: Engine, bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(bundle)]) == 0
    edit(bundle / "vacancies.csv", "6000,8000", "6500,8000")
    assert main(["import", str(bundle)]) == 0
    assert "vacancies: 0 added, 1 updated, 5 unchanged" in capsys.readouterr().out


def test_round_trip_gives_the_same_store_and_identical_exports(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, bundle: Path, tmp_path: Path
) -> None:
    """import → export → import into a fresh SQLite store → export: the same rows, the same bytes."""
    use_store(monkeypatch, engine)
    assert main(["import", str(bundle)]) == 0
    assert main(["export", str(tmp_path / "first")]) == 0
    assert main(["export", str(tmp_path / "again")]) == 0
    counts = row_counts(engine)

    fresh = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    use_store(monkeypatch, fresh)
    try:
        assert main(["import", str(tmp_path / "first")]) == 0
        assert main(["export", str(tmp_path / "second")]) == 0
        assert row_counts(fresh) == counts
    finally:
        fresh.dispose()
        get_settings.cache_clear()

    for name in BUNDLE_FILES.values():
        assert filecmp.cmp(tmp_path / "first" / name, tmp_path / "again" / name, shallow=False), name
        assert filecmp.cmp(tmp_path / "first" / name, tmp_path / "second" / name, shallow=False), name
        # The source bundle was written by the same writer, so it is identical too.
        assert filecmp.cmp(bundle / name, tmp_path / "first" / name, shallow=False), name


CLI_CASES = [
    "bad enum",
    "dangling programme",
    "dangling skill",
    "duplicate id",
    "bad date",
    "negative headcount",
    "salary_min above salary_max",
    "unknown column",
    "non-UTF-8 file",
    "empty file",
    "missing file",
]


# Validation happens before the store is touched, so the whole matrix runs on SQLite and a sample
# on PostgreSQL.
BACKEND_CASES = [("sqlite", case) for case in CLI_CASES] + [
    pytest.param("postgres", case, marks=pytest.mark.postgres)
    for case in ("bad enum", "non-UTF-8 file", "missing file")
]


@pytest.mark.parametrize(("backend", "case"), BACKEND_CASES)
def test_bad_bundle_exits_2_and_leaves_the_store_as_it_was(
    backend: str,
    case: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    bundle: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = request.getfixturevalue(f"{backend}_engine")
    use_store(monkeypatch, store)
    assert main(["import", str(bundle)]) == 0
    before = row_counts(store)
    bad = write_tiny_bundle(tmp_path / "bad")
    # Also change valid rows, so a partial write would show in the counts.
    edit(bad / "graduates.csv", "G12,", "G13,")
    file, mutate, expected = BAD[case]
    mutate(bad / file)
    capsys.readouterr()
    assert main(["import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "nothing was imported" in err
    assert any(line.startswith(expected) for line in err.splitlines()), err
    assert row_counts(store) == before
    get_settings.cache_clear()


def test_problems_are_capped_at_50(store: Engine, bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = ["graduate_id,vacancy_id,event,occurred_at"] + [f"G01,V1,applied,day {i}" for i in range(70)]
    (bundle / "interactions.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["import", str(bundle)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].endswith("70 problem(s); nothing was imported")
    assert len(err) == 1 + 50 + 1
    assert err[1].startswith("interactions.csv:2: occurred_at: 'day 0' is not a valid date")
    assert err[-1] == "... and 20 more problems"
    assert row_counts(store)["interactions"] == 0


def test_check_only_validates(store: Engine, bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "--check", str(bundle)]) == 0
    assert "valid" in capsys.readouterr().out
    assert row_counts(store)["skills"] == 0


def test_demo_data_variant_is_written_to_the_ground_truth(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo-data", str(tmp_path / "demo"), "--variant", "sparse-history"]) == 0
    assert "variant sparse-history" in capsys.readouterr().out
    params = json.loads((tmp_path / "demo" / "ground_truth" / "params.json").read_text())
    assert params["variant"] == "sparse-history"
    assert params["simulation"]["views_factor"] < 1.0


def test_demo_data_unknown_variant_exits_2_naming_the_variants(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo-data", str(tmp_path / "demo"), "--variant", "nope"]) == 2
    out = capsys.readouterr().out
    assert "unknown variant 'nope'" in out
    for name in VARIANTS:
        assert name in out
    assert not (tmp_path / "demo").exists()
