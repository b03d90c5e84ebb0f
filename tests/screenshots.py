"""``make screenshots``: the docs' screenshots, regenerated from the real pages.

Starts a real uvicorn on the browser tests' seeded store (the small demo world, seed 7, a trained model; see
:func:`tests.web.conftest.demo_live_server`), drives Debian's Chromium through Playwright
(``executable_path``, never a downloaded browser) and writes the first screen of each page as a PNG under
``docs/screenshots/`` (1,200 x 900, Chinese pages). Every page is checked for the accessibility basics the
browser tests check before it is saved.

    python -m tests.screenshots [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.web.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    REPO,
    LiveServer,
    assert_accessible_basics,
    demo_live_server,
)
from tests.web.conftest import sign_in as sign_in_with

VIEWPORT = {"width": 1200, "height": 900}


def _hr_candidates(page: Any, server: LiveServer) -> None:
    """A vacancy posted from pasted Chinese text, as HR would, and its ranked candidates."""
    page.goto(server.url("/vacancies/new"))
    page.get_by_label("岗位名称").fill("封装工艺工程师")
    page.get_by_label("岗位描述").fill("熟悉引线键合和倒装焊工艺，有SPC经验。")
    page.get_by_label("工作地区").fill("越城区")
    page.get_by_label("招聘人数").fill("2")
    page.get_by_role("button", name="提取技能").click()
    page.get_by_role("button", name="保存岗位").click()
    page.wait_for_selector("li.candidate")


def _hr_confirm_hire(page: Any, server: LiveServer) -> None:
    _hr_candidates(page, server)
    first = page.locator("li.candidate:not(.other)").first
    first.get_by_role("button", name=re.compile("^已录用")).click()
    page.wait_for_selector(".confirm")


def _school_placement(page: Any, server: LiveServer) -> None:
    page.goto(server.url(f"/programs/{server.ids['program']}/placement"))
    page.wait_for_selector("svg.chart")


def _admin_status(page: Any, server: LiveServer) -> None:
    page.goto(server.url("/admin"))


# name -> (the key that signs in, how to reach the page)
SHOTS: dict[str, tuple[str, Callable[[Any, LiveServer], None]]] = {
    "hr_candidates": ("hr", _hr_candidates),
    "hr_confirm_hire": ("hr", _hr_confirm_hire),
    "school_placement": ("school", _school_placement),
    "admin_status": ("admin", _admin_status),
}


def take(server: LiveServer, out: Path) -> list[Path]:
    """Sign in as each role in a fresh browser context and save each page's first screen."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for name, (role, reach) in SHOTS.items():
                context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
                context.set_default_timeout(30_000)
                page = context.new_page()
                sign_in_with(page, server, server.keys[role])
                page.wait_for_load_state()
                reach(page, server)
                assert_accessible_basics(page)
                path = out / f"{name}.png"
                page.screenshot(path=str(path), full_page=False)
                written.append(path)
                context.close()
        finally:
            browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.screenshots", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing: apt-get install chromium fonts-noto-cjk", file=sys.stderr)
        return 2
    with (
        tempfile.TemporaryDirectory(prefix="talentmatch-screenshots-") as root,
        demo_live_server(Path(root)) as server,
    ):
        for path in take(server, args.out):
            print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
