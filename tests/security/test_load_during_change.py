"""Load during change: 8 concurrent clients for 30 s against a real uvicorn server (loopback only) while a
retrain runs in another process and the server swaps to the new model, and while vacancies are posted and
closed. Not one request may fail, and no answer mixes two model versions: each answer names one version,
and its scores are exactly what that version gives (recomputed afterwards from the artifact), not the other's.

This extends ``tests/service/test_hot_swap.py`` (2 readers, one route) with 8 clients on several routes and
concurrent writes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from threadpoolctl import threadpool_limits

from models.columns import Columns as C
from service.retrain import train
from service.settings import Settings
from service.store.market import import_market, load_market
from service.store.migrate import upgrade
from service.store.session import make_engine, make_sessionmaker
from tests.factories import make_api_key
from tests.live_server import running_server
from tests.training.small_world import SMALL, small_market
from training.registry import Registry

CLIENTS = 8
WRITERS = 2  # of the clients: post a vacancy, read its candidates, close it, again
DURATION = 30.0
TIMEOUT = 30.0
LIMIT = 10


@dataclass
class Server:
    url: str
    admin: dict[str, str]
    settings: Settings
    database_url: str
    vacancies: list[str]
    graduates: list[str]
    enterprise: str
    skills: list[str]
    log: Path


@dataclass
class Record:
    requests: int = 0
    failures: list[str] = field(default_factory=list)
    # (vacancy, model_version, ((graduate, score), ...)) of candidate answers for the fixed vacancies
    answers: list[tuple[str, str, tuple[tuple[str, float], ...]]] = field(default_factory=list)
    versions: Counter[str] = field(default_factory=Counter)
    posted: int = 0
    closed: int = 0


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    settings = Settings(database_url=url, artifacts_dir=tmp_path / "artifacts", model_poll_seconds=0.2)
    market = small_market(0.25)
    engine = make_engine(url)
    upgrade(engine)
    with make_sessionmaker(engine)() as session, session.begin():
        import_market(session=session, data=market)
        _, plaintext = make_api_key(session, role="admin", name="load")
    engine.dispose()
    with threadpool_limits(1):
        first = train(settings, quiet=True, config=SMALL, force=True)
    assert first.promoted
    env = {
        "TALENTMATCH_DATABASE_URL": url,
        "TALENTMATCH_ARTIFACTS_DIR": str(settings.artifacts_dir),
        "TALENTMATCH_MODEL_POLL_SECONDS": "0.2",
        "TALENTMATCH_RATE_LIMIT_PER_MINUTE": "0",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }
    log = tmp_path / "server.log"
    with running_server(env, log, ready=lambda health: health.get("model_version") == first.version) as (
        base,
        process,
    ):
        vacancies = market.vacancies
        open_ids = list(vacancies.loc[vacancies[C.status] == "open", C.vacancy])[:6]
        seeking = list(market.graduates.loc[market.graduates[C.status] == "seeking", C.graduate])[:6]
        yield Server(
            url=base,
            admin={"Authorization": f"Bearer {plaintext}"},
            settings=settings,
            database_url=url,
            vacancies=open_ids,
            graduates=seeking,
            enterprise=str(vacancies[C.enterprise].iloc[0]),
            skills=list(market.skills[C.skill][:3]),
            log=log,
        )


def _check(record: Record, response: httpx.Response, what: str) -> dict[str, Any] | None:
    record.requests += 1
    if response.status_code >= 300:
        record.failures.append(f"{what}: {response.status_code} {response.text[:200]}")
        return None
    return response.json() if response.content else {}


def _reader(server: Server, n: int, stop: threading.Event, record: Record) -> None:
    with httpx.Client(base_url=server.url, headers=server.admin, timeout=TIMEOUT) as client:
        i = n
        while not stop.is_set():
            i += 1
            try:
                if i % 4 == 0:  # recommendations for a graduate (model-dependent too)
                    graduate = server.graduates[i % len(server.graduates)]
                    body = _check(record, client.get(f"/api/v1/graduates/{graduate}/recommendations"), "recs")
                else:
                    vacancy = server.vacancies[i % len(server.vacancies)]
                    response = client.get(f"/api/v1/vacancies/{vacancy}/candidates", params={"limit": LIMIT})
                    body = _check(record, response, "candidates")
                    if body is not None:
                        pairs = tuple((item["graduate_id"], item["score"]) for item in body["items"])
                        record.answers.append((vacancy, body["model_version"], pairs))
                if body is not None and "model_version" in body:
                    record.versions[body["model_version"]] += 1
            except httpx.HTTPError as error:
                record.requests += 1
                record.failures.append(f"reader {n}: {error!r}")


def _writer(server: Server, n: int, stop: threading.Event, record: Record) -> None:
    with httpx.Client(base_url=server.url, headers=server.admin, timeout=TIMEOUT) as client:
        k = 0
        while not stop.is_set():
            k += 1
            try:
                vacancy = {
                    "enterprise_id": server.enterprise,
                    "title": f"负载测试岗位 {n}-{k}",
                    "district": "越城区",
                    "required_skills": server.skills[: 1 + k % 3],
                }
                created = _check(record, client.post("/api/v1/vacancies", json=vacancy), "post")
                if created is None:
                    continue
                record.posted += 1
                vacancy_id = created["vacancy_id"]
                candidates = _check(
                    record,
                    client.get(f"/api/v1/vacancies/{vacancy_id}/candidates", params={"limit": 5}),
                    "new",
                )
                if candidates is not None:
                    record.versions[candidates["model_version"]] += 1
                if _check(record, client.post(f"/api/v1/vacancies/{vacancy_id}/close"), "close") is not None:
                    record.closed += 1
            except httpx.HTTPError as error:
                record.requests += 1
                record.failures.append(f"writer {n}: {error!r}")


def _expected_candidates(server: Server, versions: set[str]) -> dict[tuple[str, str], tuple[str, ...]]:
    """Each version's top candidates of the fixed vacancies, recomputed from its artifact and the store:
    the recommendations the route answers as ``items`` (those at or above the floor; the rest come apart)."""
    floor = server.settings.min_recommend_score
    registry = Registry(server.settings.artifacts_dir)
    engine = make_engine(server.database_url)
    with make_sessionmaker(engine)() as session:
        data = load_market(session=session, seeking_only=True, with_interactions=False)
    engine.dispose()
    expected = {}
    for version in versions:
        model = registry.load(version)
        index = model.matcher.index(data)
        for vacancy in server.vacancies:
            result = model.matcher.candidates_for(vacancy, index=index, limit=LIMIT)
            # m.score is what the route answers: the matcher clamps it into [0, 1] itself.
            expected[(vacancy, version)] = tuple(
                f"{m.graduate_id}:{m.score:.6f}" for m in result.items if m.score >= floor
            )
    return expected


@pytest.mark.slow
def test_eight_clients_during_a_retrain_a_swap_and_writes(server: Server) -> None:
    old = Registry(server.settings.artifacts_dir).current_version()
    assert old is not None
    records = [Record() for _ in range(CLIENTS)]
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=_writer if n < WRITERS else _reader, args=(server, n, stop, records[n]), daemon=True
        )
        for n in range(CLIENTS)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    env = {
        **os.environ,
        "TALENTMATCH_DATABASE_URL": server.database_url,
        "TALENTMATCH_ARTIFACTS_DIR": str(server.settings.artifacts_dir),
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }
    config = server.log.parent / "retrain.json"
    config.write_text(json.dumps({**SMALL.to_dict(), "seed": 8}))
    try:
        time.sleep(3.0)
        retrain = subprocess.run(
            [sys.executable, "-c", "import sys; from service.cli import main; sys.exit(main())"]
            + ["train", "--config", str(config), "--force", "--quiet"],
            env=env,
            capture_output=True,
            text=True,
            timeout=DURATION * 4,
        )
        assert retrain.returncode == 0, retrain.stderr[-2000:]
        new = Registry(server.settings.artifacts_dir).current_version()
        assert new is not None and new != old
        with httpx.Client(base_url=server.url, headers=server.admin, timeout=TIMEOUT) as client:
            reload = client.post("/api/v1/admin/models/reload").json()  # forced, besides the poll
        assert reload["serving_version"] == new
        time.sleep(max(3.0, DURATION - (time.monotonic() - started)))
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=TIMEOUT + 5)
    elapsed = time.monotonic() - started

    failures = [f for r in records for f in r.failures]
    requests = sum(r.requests for r in records)
    versions = sum((r.versions for r in records), Counter())
    answers = [a for r in records for a in r.answers]
    posted, closed = sum(r.posted for r in records), sum(r.closed for r in records)
    print(
        f"\nload: {CLIENTS} clients, {elapsed:.0f}s, {requests} requests ({requests / elapsed:.1f}/s), "
        f"{len(failures)} failed; answers by version {dict(versions)}; "
        f"{posted} vacancies posted, {closed} closed"
    )
    assert failures == [], failures[:5]
    assert elapsed >= DURATION
    assert set(versions) == {old, new}, versions
    assert posted >= 5 and closed == posted

    expected = _expected_candidates(server, {old, new})
    differs = sum(expected[(v, old)] != expected[(v, new)] for v in server.vacancies)
    assert differs >= 1, "the two versions answer alike: the check could not tell them apart"
    for vacancy, version, pairs in answers:
        got = tuple(f"{g}:{s:.6f}" for g, s in pairs)
        assert got == expected[(vacancy, version)], (vacancy, version)
    text = server.log.read_text(errors="replace")
    assert "Traceback" not in text, text[-2000:]
