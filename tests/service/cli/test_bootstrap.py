"""``talentmatch bootstrap`` is what ``make run`` does on a fresh machine: it must work twice in a row."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from service.cli import main
from service.settings import get_settings
from service.store.session import make_engine, make_sessionmaker
from service.store.tables import ApiKey, Graduate, Interaction
from training.registry import Registry


@pytest.fixture
def fresh_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TALENTMATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'talentmatch.db'}")
    monkeypatch.setenv("TALENTMATCH_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def _counts(url: str) -> tuple[int, int, int]:
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        counts = tuple(
            int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in (Graduate, Interaction, ApiKey)
        )
    engine.dispose()
    return counts  # type: ignore[return-value]


@pytest.mark.slow
def test_bootstrap_imports_trains_and_makes_keys_once(fresh_settings, tmp_path: Path, capsys) -> None:
    keys_file = tmp_path / "keys.txt"

    assert main(["bootstrap", "--keys-file", str(keys_file)]) == 0
    first = capsys.readouterr().out
    graduates, interactions, keys = _counts(fresh_settings.database_url)
    assert graduates > 1000 and interactions > 10_000
    assert keys == 3
    registry = Registry(fresh_settings.artifacts_dir)
    version = registry.current_version()
    assert version is not None
    assert "trained and promoted a first model" in first
    assert keys_file.stat().st_mode & 0o777 == 0o600
    lines = [line for line in keys_file.read_text().splitlines() if not line.startswith("#")]
    assert [line.split()[0] for line in lines] == ["admin", "hr", "school"]

    # A second run changes nothing: no re-import, no retrain, no new keys.
    assert main(["bootstrap", "--keys-file", str(keys_file)]) == 0
    second = capsys.readouterr().out
    assert _counts(fresh_settings.database_url) == (graduates, interactions, keys)
    assert registry.current_version() == version
    assert "not retraining" in second and "demo data not imported" in second
