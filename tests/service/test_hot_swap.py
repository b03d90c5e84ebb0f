"""A real uvicorn server keeps answering while a retrain promotes a new model and the holder swaps it in.

Client threads send candidate requests (a model-dependent route) the whole time; not one may fail, every
answer names one of the two versions, and no client sees the old version after it has seen the new one.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx
import pytest
from threadpoolctl import threadpool_limits

from models.columns import Columns as C
from service.retrain import train
from service.settings import Settings
from service.store.market import import_market
from service.store.migrate import upgrade
from service.store.session import make_engine, make_sessionmaker
from tests.factories import make_api_key
from tests.live_server import running_server
from tests.training.small_world import SMALL, small_market
from training.registry import Registry

CLIENTS = 2
# A small market keeps the two trainings (one before the server starts, one during the load) quick.
MARKET_FRACTION = 0.25


@dataclass
class Server:
    url: str
    headers: dict[str, str]
    settings: Settings
    vacancies: list[str]
    process: subprocess.Popen[bytes]
    log: Path


@dataclass
class ClientLog:
    answers: list[tuple[int, str | None]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    settings = Settings(database_url=url, artifacts_dir=tmp_path / "artifacts", model_poll_seconds=0.2)
    market = small_market(MARKET_FRACTION)
    engine = make_engine(url)
    upgrade(engine)
    with make_sessionmaker(engine)() as session, session.begin():
        import_market(session=session, data=market)
        _, plaintext = make_api_key(session, role="admin", name="hot-swap")
    engine.dispose()
    with threadpool_limits(1):
        # Forced: this test is about the swap, not the gate (tested in tests/training/test_pipeline.py).
        first = train(settings, quiet=True, config=SMALL, force=True)
    assert first.promoted, first.summary()

    env = {
        "TALENTMATCH_DATABASE_URL": url,
        "TALENTMATCH_ARTIFACTS_DIR": str(settings.artifacts_dir),
        "TALENTMATCH_MODEL_POLL_SECONDS": "0.2",
        "TALENTMATCH_RATE_LIMIT_PER_MINUTE": "1000000",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }
    log = tmp_path / "server.log"
    with running_server(env, log, ready=lambda health: health.get("model_version") == first.version) as (
        base,
        process,
    ):
        open_ids = list(market.vacancies.loc[market.vacancies[C.status] == "open", C.vacancy])
        yield Server(base, {"Authorization": f"Bearer {plaintext}"}, settings, open_ids, process, log)


def pick_vacancies(server: Server, client: httpx.Client, n: int = 4) -> list[str]:
    """Vacancies whose candidates answer 200 (a closed one would rightly answer 409)."""
    chosen = []
    for vacancy in server.vacancies:
        if client.get(f"/api/v1/vacancies/{vacancy}/candidates", params={"limit": 5}).status_code == 200:
            chosen.append(vacancy)
        if len(chosen) == n:
            break
    assert chosen, "no vacancy answered 200"
    return chosen


@pytest.mark.slow
def test_model_swaps_under_load_without_failures(server: Server) -> None:
    old = Registry(server.settings.artifacts_dir).current_version()
    with httpx.Client(base_url=server.url, headers=server.headers, timeout=30) as client:
        vacancies = pick_vacancies(server, client)
    stop = threading.Event()
    logs = [ClientLog() for _ in range(CLIENTS)]

    def loop(n: int) -> None:
        log = logs[n]
        with httpx.Client(base_url=server.url, headers=server.headers, timeout=30) as client:
            i = n
            while not stop.is_set():
                vacancy = vacancies[i % len(vacancies)]
                i += 1
                try:
                    response = client.get(f"/api/v1/vacancies/{vacancy}/candidates", params={"limit": 10})
                except httpx.HTTPError as error:
                    log.failures.append(repr(error))
                    continue
                if response.status_code != 200:
                    log.failures.append(f"{response.status_code} {response.text[:200]}")
                    continue
                log.answers.append((response.status_code, response.json().get("model_version")))
                time.sleep(0.01)  # steady traffic, but leave the CPU to the retrain too

    threads = [threading.Thread(target=loop, args=(n,), daemon=True) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)
        started = time.monotonic()
        with threadpool_limits(1):
            second = train(server.settings, quiet=True, config=replace(SMALL, seed=8), force=True)
        assert second.promoted
        print(f"retrain took {time.monotonic() - started:.1f}s")
        deadline = time.monotonic() + 30
        while not any(v == second.version for log in logs for _, v in log.answers[-3:]):
            assert time.monotonic() < deadline, "the server never served the new model"
            time.sleep(0.1)
        time.sleep(1.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

    failures = [f for log in logs for f in log.failures]
    answers = [a for log in logs for a in log.answers]
    assert failures == [], failures[:5]
    print(f"{len(answers)} answers, 0 failures")
    assert len(answers) >= 20
    assert {v for _, v in answers} == {old, second.version}
    for log in logs:
        versions = [v for _, v in log.answers]
        if second.version in versions:
            # Sequential requests of one client: once it got the new model it never gets the old one back.
            assert old not in versions[versions.index(second.version) :]
    # The server's own log has no errors.
    text = server.log.read_text(errors="replace")
    assert "Traceback" not in text, text[-2000:]
