"""``talentmatch apikey create|list|revoke``."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from service.cli import main
from service.settings import get_settings
from service.store.api_keys import authenticate
from service.store.session import make_sessionmaker
from service.store.tables import ApiKey
from tests.factories import make_enterprise, make_school


@pytest.fixture
def store(sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Engine:
    monkeypatch.setenv("TALENTMATCH_DATABASE_URL", sqlite_engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    with make_sessionmaker(sqlite_engine)() as session, session.begin():
        make_enterprise(session, enterprise_id="E1")
        make_school(session, school_id="S1")
    yield sqlite_engine
    get_settings.cache_clear()


def test_create_prints_the_key_last_and_stores_only_a_hash(
    store: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["apikey", "create", "--role", "hr", "--enterprise", "E1", "--name", "HR of E1"]) == 0
    plaintext = capsys.readouterr().out.strip().splitlines()[-1]
    assert plaintext.startswith("tm_")
    with make_sessionmaker(store)() as session:
        row = session.scalars(select(ApiKey)).one()
        assert plaintext not in (row.key_hash, row.salt) and plaintext.split("_", 2)[2] not in row.key_hash
        identity = authenticate(session=session, token=plaintext)
        assert identity is not None and identity.role == "hr" and identity.enterprise_id == "E1"
    assert main(["apikey", "list"]) == 0
    listing = capsys.readouterr().out
    assert row.key_id in listing and "HR of E1" in listing and "E1" in listing
    assert plaintext not in listing and row.key_hash not in listing
    assert main(["apikey", "revoke", row.key_id]) == 0
    with make_sessionmaker(store)() as session:
        assert authenticate(session=session, token=plaintext) is None
    assert main(["apikey", "revoke", "nope"]) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "hr"], "--enterprise"),
        (["--role", "hr", "--enterprise", "E404"], "E404"),
        (["--role", "school"], "--school"),
        (["--role", "school", "--school", "S404"], "S404"),
        (["--role", "admin", "--school", "S1"], "admin"),
    ],
)
def test_create_refuses_a_missing_or_unknown_scope(
    store: Engine, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["apikey", "create", *args]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and "tm_" not in captured.out
    with make_sessionmaker(store)() as session:
        assert session.scalars(select(ApiKey)).first() is None


def test_school_and_admin_keys(store: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apikey", "create", "--role", "school", "--school", "S1"]) == 0
    assert main(["apikey", "create", "--role", "admin"]) == 0
    keys = [line for line in capsys.readouterr().out.splitlines() if line.startswith("tm_")]
    with make_sessionmaker(store)() as session:
        roles = [authenticate(session=session, token=k).role for k in keys]  # type: ignore[union-attr]
    assert roles == ["school", "admin"]
