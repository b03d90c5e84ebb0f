"""How long the web pages take against a real server (a measurement script, not a test).

Uses the store and artifacts named by ``TALENTMATCH_DATABASE_URL`` / ``TALENTMATCH_ARTIFACTS_DIR`` (a demo
world imported and a model promoted). Starts uvicorn on a free port, creates throw-away keys (HR of the
enterprise with the most open vacancies, the school of the largest order class, admin), signs in through the
forms like a browser, then times each page: the first request (which may build the candidate index) and
``--repeat`` more.

    TALENTMATCH_DATABASE_URL=sqlite:////tmp/med/t.db TALENTMATCH_ARTIFACTS_DIR=/tmp/med/art \\
        .venv/bin/python -m tests.web.page_timings --repeat 20
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select

from service.settings import get_settings
from service.store.api_keys import create_api_key, revoke_api_key
from service.store.session import make_engine, make_sessionmaker, transaction
from service.store.tables import Graduate, Program, Vacancy
from tests.live_server import free_port, wait_ready
from tests.web.conftest import CSRF, trained_model_serving

REPO = Path(__file__).resolve().parents[2]


def sign_in(client: httpx.Client, key: str) -> None:
    token = CSRF.search(client.get("/").text)
    assert token, "no CSRF token on the sign-in page"
    response = client.post("/signin", data={"api_key": key, "csrf_token": token[1]})
    assert response.status_code in (200, 303), response.status_code


def time_page(client: httpx.Client, path: str, repeat: int) -> dict[str, float]:
    started = time.perf_counter()
    response = client.get(path)
    first = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"{path}: {response.status_code}\n{response.text[:500]}")
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(path).raise_for_status()
        times.append(time.perf_counter() - started)
    times.sort()
    return {
        "first_ms": first * 1000,
        "p50_ms": statistics.median(times) * 1000,
        "max_ms": times[-1] * 1000,
        "bytes": len(response.content),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    settings = get_settings()
    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine)() as session:
        enterprise, _ = session.execute(
            select(Vacancy.enterprise_id, func.count())
            .where(Vacancy.status == "open")
            .group_by(Vacancy.enterprise_id)
            .order_by(func.count().desc(), Vacancy.enterprise_id)
            .limit(1)
        ).one()
        vacancy = session.scalars(
            select(Vacancy.vacancy_id).where(Vacancy.enterprise_id == enterprise, Vacancy.status == "open")
        ).first()
        program, school, seeking = session.execute(
            select(Program.program_id, Program.school_id, func.count())
            .join(Graduate, Graduate.program_id == Program.program_id)
            .where(Graduate.status == "seeking", Program.kind == "order_class")
            .group_by(Program.program_id, Program.school_id)
            .order_by(func.count().desc(), Program.program_id)
            .limit(1)
        ).one()
        graduate = session.scalars(
            select(Graduate.graduate_id).where(Graduate.program_id == program, Graduate.status == "seeking")
        ).first()
        counts = {
            "graduates": session.scalar(select(func.count()).select_from(Graduate)),
            "vacancies": session.scalar(select(func.count()).select_from(Vacancy)),
        }
    keys: dict[str, str] = {}
    key_ids = []
    with transaction(engine) as session:
        for role, scope in (
            ("hr", {"enterprise_id": enterprise}),
            ("school", {"school_id": school}),
            ("admin", {}),
        ):
            key, keys[role] = create_api_key(session=session, role=role, name="page timings", **scope)
            key_ids.append(key.key_id)
    port = free_port()
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"page-timings-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "service.app:create_app", "--factory", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning"],
            cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    rows = []
    try:
        wait_ready(base, process, log, ready=trained_model_serving, timeout=600)
        pages = {
            "hr": ["/vacancies", f"/vacancies/{vacancy}", "/vacancies/new"],
            "school": [
                "/programs",
                f"/programs/{program}",
                f"/programs/{program}/placement",
                f"/graduates/{graduate}",
                f"/programs/{program}/skill-gaps",
            ],
            "admin": ["/admin"],
        }
        for role, paths in pages.items():
            with httpx.Client(base_url=base, timeout=120, follow_redirects=True) as client:
                sign_in(client, keys[role])
                for path in paths:
                    rows.append((role, path, time_page(client, path, args.repeat)))
    finally:
        process.terminate()
        process.wait(timeout=20)
        with transaction(engine) as session:
            for key_id in key_ids:
                revoke_api_key(session=session, key_id=key_id)
    print(f"store: {counts['graduates']:,} graduates, {counts['vacancies']:,} vacancies; "
          f"programme {program}: {seeking} seeking graduates; {args.repeat} repeats")  # fmt: skip
    print(f"{'role':<7} {'page':<32} {'first ms':>9} {'p50 ms':>8} {'max ms':>8} {'KB':>6}")
    for role, path, t in rows:
        print(f"{role:<7} {path:<32} {t['first_ms']:>9.0f} {t['p50_ms']:>8.0f} {t['max_ms']:>8.0f} "
              f"{t['bytes'] / 1024:>6.0f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
