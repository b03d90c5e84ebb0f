"""Fixtures of the web tests.

- ``live_server`` (session): the small demo world imported with ``talentmatch import``, a real matcher trained
  on it (a small seeded config) written to the registry and promoted, API keys for each role, and a real
  uvicorn process serving ``service.app:create_app`` on a free port.
- ``browser`` (session): Debian's Chromium driven by Playwright (never ``playwright install``). Missing
  Chromium skips the browser tests locally and fails them in CI (``CI=true``).
- ``web`` / ``web_with_model``: the app in-process (TestClient) on ``tiny_market()``, for fast page tests.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from service.app import create_app
from service.settings import Settings
from service.store.api_keys import create_api_key
from service.store.market import import_market
from service.store.session import make_engine, make_sessionmaker, transaction
from service.store.tables import Program, Vacancy
from tests.bundles import tiny_market
from tests.live_server import running_server
from tests.serving import StaticHolder, write_trained_version
from training.registry import LoadedModel

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SESSION_SECRET = "web-tests-session-secret"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


# ---------------------------------------------------------------------------------------------- live server
@dataclass
class LiveServer:
    base_url: str
    database_url: str
    engine: Engine
    keys: dict[str, str]
    ids: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    def url(self, path: str) -> str:
        return self.base_url + path


def _pick_ids(engine: Engine) -> dict[str, str]:
    """An order class with its sponsor and school, and an open vacancy of another enterprise."""
    with make_sessionmaker(engine)() as session:
        program = session.scalars(
            select(Program)
            .where(Program.kind == "order_class", Program.sponsor_enterprise_id.is_not(None))
            .order_by(Program.program_id)
        ).first()
        assert program is not None and program.sponsor_enterprise_id is not None
        foreign = session.scalars(
            select(Vacancy)
            .where(Vacancy.enterprise_id != program.sponsor_enterprise_id, Vacancy.status == "open")
            .order_by(Vacancy.vacancy_id)
        ).first()
        assert foreign is not None
        return {
            "program": program.program_id,
            "school": program.school_id,
            "enterprise": program.sponsor_enterprise_id,
            "foreign_enterprise": foreign.enterprise_id,
            "foreign_vacancy": foreign.vacancy_id,
            "foreign_title": foreign.title,
        }


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with demo_live_server(tmp_path_factory.mktemp("web-live")) as server:
        yield server


@contextmanager
def demo_live_server(root: Path) -> Iterator[LiveServer]:
    """The small demo world (seed 7) imported into a SQLite store in ``root``, a trained model promoted, keys
    for each role, served by a real uvicorn (the browser tests' server; ``make screenshots`` uses it too)."""
    from training.demo import write_demo_bundle

    database_url = f"sqlite:///{root / 'talentmatch.db'}"
    artifacts = root / "artifacts"
    env = {
        **os.environ,
        "TALENTMATCH_DATABASE_URL": database_url,
        "TALENTMATCH_ARTIFACTS_DIR": str(artifacts),
        "TALENTMATCH_SESSION_SECRET": SESSION_SECRET,
        "TALENTMATCH_MODEL_POLL_SECONDS": "2",
        "PYTHONUNBUFFERED": "1",
    }
    cli = [sys.executable, "-c", "import sys; from service.cli import main; sys.exit(main())"]
    write_demo_bundle(root / "bundle", "small", 7)
    for command in (["db", "upgrade"], ["import", str(root / "bundle")]):
        subprocess.run(cli + command, env=env, cwd=REPO, check=True, capture_output=True, timeout=300)
    engine = make_engine(database_url)
    write_trained_version(engine, artifacts, promote=True)
    ids = _pick_ids(engine)
    keys = {}
    with transaction(engine) as session:
        _, keys["hr"] = create_api_key(
            session=session, role="hr", enterprise_id=ids["enterprise"], name="HR 王"
        )
        _, keys["hr_other"] = create_api_key(
            session=session, role="hr", enterprise_id=ids["foreign_enterprise"], name="HR other"
        )
        _, keys["school"] = create_api_key(
            session=session, role="school", school_id=ids["school"], name="就业办"
        )
        _, keys["admin"] = create_api_key(session=session, role="admin", name="admin")
    log = root / "uvicorn.log"
    try:
        with running_server(env, log, ready=trained_model_serving, timeout=120) as (base, process):
            yield LiveServer(base, database_url, engine, keys, ids, log, process)
    finally:
        engine.dispose()


def trained_model_serving(health: dict[str, Any]) -> bool:
    """Ready when a trained model answers (not the keyword fallback of a store without one)."""
    return bool(health.get("model_version")) and not health.get("model_fallback")


# ---------------------------------------------------------------------------------------------- browser
@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing; CI must run the browser tests (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """A fresh browser context (own cookies) with a wide viewport; fails the test on a page error."""
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="zh-CN")
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()
    assert not errors, errors


ACCESSIBILITY_PROBLEMS = """() => {
  const problems = [];
  if (!document.documentElement.lang) problems.push("html has no lang");
  if (!document.title.trim()) problems.push("page has no title");
  if (document.querySelectorAll("h1").length !== 1) problems.push("page needs exactly one h1");
  for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
    const named = (el.labels && el.labels.length) || el.getAttribute("aria-label");
    if (!named) problems.push("control without a label: " + (el.id || el.name));
  }
  for (const el of document.querySelectorAll("button, a[href]")) {
    if (!(el.getAttribute("aria-label") || el.textContent.trim())) problems.push("unnamed " + el.outerHTML);
  }
  for (const el of document.querySelectorAll("svg")) {
    if (el.closest("a, button")) continue;
    const labelled = el.getAttribute("role") === "img" && el.getAttribute("aria-label");
    if (!labelled) problems.push("svg without role/label");
  }
  const ids = [...document.querySelectorAll("[id]")].map((e) => e.id);
  const dupes = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (dupes.length) problems.push("duplicate ids: " + dupes.join(","));
  for (const el of document.querySelectorAll("[aria-describedby]")) {
    for (const id of el.getAttribute("aria-describedby").split(/\\s+/)) {
      if (!document.getElementById(id)) problems.push("aria-describedby points nowhere: " + id);
    }
  }
  return problems;
}"""


def assert_accessible_basics(page: Any) -> None:
    """Labels on every control, names on buttons and links, labelled charts, one h1, lang, unique ids."""
    problems = page.evaluate(ACCESSIBILITY_PROBLEMS)
    assert not problems, f"{page.url}: {problems}"


def screenshot(page: Any, name: str, *, top: bool = False) -> Path:
    """Check the page's accessibility basics, then save the whole page as ``<name>.png``; with ``top`` also
    the first screen as ``<name>_top.png`` (the size the README shows)."""
    assert_accessible_basics(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if top:
        page.screenshot(path=str(SCREENSHOTS / f"{name}_top.png"), full_page=False)
    return path


def sign_in(page: Any, server: LiveServer, key: str) -> None:
    page.goto(server.url("/"))
    page.get_by_label(re.compile("API 密钥|API key")).fill(key)
    page.get_by_role("button", name=re.compile("^(登录|Sign in)$")).click()


# ---------------------------------------------------------------------------------------------- in-process
@dataclass
class Web:
    """The app in-process with keys for each role of ``tiny_market()``."""

    client: TestClient
    engine: Engine
    keys: dict[str, str]

    def csrf(self, path: str = "/") -> str:
        found = CSRF.search(self.client.get(path).text)
        assert found, f"no CSRF token on {path}"
        return found[1]

    def sign_in(self, role: str) -> None:
        self.client.cookies.clear()
        response = self.client.post(
            "/signin", data={"api_key": self.keys[role], "csrf_token": self.csrf()}, follow_redirects=False
        )
        assert response.status_code == 303, response.text


def _make_web(engine: Engine, tmp_path: Path, model: LoadedModel | None, **overrides: Any) -> Iterator[Web]:
    keys = {}
    with transaction(engine) as session:
        import_market(session=session, data=tiny_market())
        _, keys["hr"] = create_api_key(session=session, role="hr", enterprise_id="E1", name="HR E1")
        _, keys["hr_other"] = create_api_key(session=session, role="hr", enterprise_id="E2", name="HR E2")
        _, keys["school"] = create_api_key(session=session, role="school", school_id="S1", name="S1")
        _, keys["school_other"] = create_api_key(session=session, role="school", school_id="S2", name="S2")
        _, keys["admin"] = create_api_key(session=session, role="admin", name="admin")
    settings = Settings(
        database_url=str(engine.url.render_as_string(hide_password=False)),
        artifacts_dir=tmp_path / "artifacts",
        session_secret=SESSION_SECRET,
        **overrides,
    )
    app = create_app(settings, model_holder=StaticHolder(model))
    with TestClient(app) as client:
        yield Web(client, engine, keys)


@pytest.fixture
def web(sqlite_engine: Engine, tmp_path: Path) -> Iterator[Web]:
    """Pages in-process on SQLite, no model served."""
    yield from _make_web(sqlite_engine, tmp_path, None)


@pytest.fixture
def web_with_model(sqlite_engine: Engine, tmp_path: Path, tiny_model: LoadedModel) -> Iterator[Web]:
    """Pages in-process on SQLite with the tiny trained model (``tests.serving``)."""
    yield from _make_web(sqlite_engine, tmp_path, tiny_model)
