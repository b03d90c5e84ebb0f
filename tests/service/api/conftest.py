"""An app on a migrated store holding ``tiny_market()``, with one API key per role and tenant.

Keys: ``admin``; ``hr_e1`` and ``hr_e2`` (enterprises E1, E2); ``school_s1`` and ``school_s2``;
``revoked`` (a revoked admin key). ``api.headers[name]`` is the ``Authorization`` header.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from service.app import create_app
from service.settings import Settings
from service.store.api_keys import revoke_api_key
from service.store.market import import_market
from service.store.migrate import upgrade
from service.store.session import make_engine, make_sessionmaker
from tests.bundles import tiny_market
from tests.factories import make_api_key
from tests.serving import StaticHolder
from training.registry import LoadedModel

KEY_SPECS: dict[str, dict[str, Any]] = {
    "admin": {"role": "admin"},
    "hr_e1": {"role": "hr", "enterprise_id": "E1"},
    "hr_e2": {"role": "hr", "enterprise_id": "E2"},
    "school_s1": {"role": "school", "school_id": "S1"},
    "school_s2": {"role": "school", "school_id": "S2"},
    "revoked": {"role": "admin"},
}


@dataclass
class Api:
    client: TestClient
    engine: Engine
    sessions: sessionmaker[Session]
    holder: StaticHolder
    key_ids: dict[str, str] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def session(self) -> Session:
        """A session on the store, once the app's batched audit entries are written (as the audit route
        does before it reads)."""
        self.client.app.state.services.audit_buffer.flush()  # type: ignore[attr-defined]
        return self.sessions()


def seed(engine: Engine) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Import tiny_market and create the keys; returns key ids and headers by key name."""
    key_ids, headers = {}, {}
    with make_sessionmaker(engine)() as session, session.begin():
        import_market(session=session, data=tiny_market())
        for name, spec in KEY_SPECS.items():
            key_id, plaintext = make_api_key(session, name=name, **spec)
            key_ids[name] = key_id
            headers[name] = {"Authorization": f"Bearer {plaintext}"}
        revoke_api_key(session=session, key_id=key_ids["revoked"])
    return key_ids, headers


def settings_for(engine: Engine, tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        artifacts_dir=tmp_path / "artifacts",
        **overrides,
    )


def make_api(
    engine: Engine, tmp_path: Path, model: LoadedModel | None = None, **settings: Any
) -> Iterator[Api]:
    key_ids, headers = seed(engine)
    holder = StaticHolder(model)
    app = create_app(settings_for(engine, tmp_path, **settings), model_holder=holder)
    with TestClient(app) as client:
        yield Api(client, engine, make_sessionmaker(engine), holder, key_ids, headers)


@dataclass(frozen=True)
class Template:
    """A migrated, seeded SQLite file copied for each test (migrating per test is the slow part)."""

    path: Path
    key_ids: dict[str, str]
    headers: dict[str, dict[str, str]]


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    path = tmp_path_factory.mktemp("api-template") / "talentmatch.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    key_ids, headers = seed(engine)
    engine.dispose()
    return Template(path, key_ids, headers)


@pytest.fixture
def seeded_sqlite(seeded_template: Template, tmp_path: Path) -> Iterator[Engine]:
    """A private copy of the seeded template store."""
    target = tmp_path / "talentmatch.db"
    shutil.copyfile(seeded_template.path, target)
    engine = make_engine(f"sqlite:///{target}")
    yield engine
    engine.dispose()


def make_seeded_api(
    engine: Engine, template: Template, tmp_path: Path, model: LoadedModel | None = None, **settings: Any
) -> Iterator[Api]:
    holder = StaticHolder(model)
    app = create_app(settings_for(engine, tmp_path, **settings), model_holder=holder)
    with TestClient(app) as client:
        yield Api(client, engine, make_sessionmaker(engine), holder, template.key_ids, template.headers)


@pytest.fixture
def api(seeded_sqlite: Engine, seeded_template: Template, tmp_path: Path) -> Iterator[Api]:
    """The app on SQLite, no model served."""
    yield from make_seeded_api(seeded_sqlite, seeded_template, tmp_path)


@pytest.fixture
def api_any_db(engine: Engine, tmp_path: Path) -> Iterator[Api]:
    """The app on SQLite and on PostgreSQL, no model served."""
    yield from make_api(engine, tmp_path)


@pytest.fixture
def api_with_model(
    seeded_sqlite: Engine, seeded_template: Template, tmp_path: Path, tiny_model: LoadedModel
) -> Iterator[Api]:
    """The app on SQLite serving the tiny trained model (``tests.serving``)."""
    yield from make_seeded_api(seeded_sqlite, seeded_template, tmp_path, model=tiny_model)
