"""Two replicas on one PostgreSQL: two real server processes (separate ports, separate memory) on one database
and one artifacts folder see each other's writes within 2 s and serve the same model version.

Through one replica an HR key posts a vacancy and a school erases a graduate; the other replica, which has
already built its candidate index, must rank candidates for the new vacancy, suggest it to a graduate and stop
listing the erased graduate within 2 s. A version promoted in the registry (as ``talentmatch models promote``
does) is served by both within their model poll.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.store.migrate import upgrade
from service.store.session import make_engine
from tests.live_server import running_server
from tests.service.api.conftest import seed
from tests.serving import write_trained_version
from training.registry import Registry

pytestmark = pytest.mark.slow

VISIBLE_WITHIN = 2.0  # seconds: the bound for a write on one replica to show on another
POLL_SECONDS = 0.5  # TALENTMATCH_MODEL_POLL_SECONDS of both replicas


@dataclass(frozen=True)
class Replicas:
    a: str
    b: str
    headers: dict[str, dict[str, str]]
    artifacts: Path
    versions: tuple[str, str]  # (served at start, promoted by the test)


@pytest.fixture
def replicas(postgres_url: str, tmp_path: Path) -> Iterator[Replicas]:
    engine = make_engine(postgres_url)
    upgrade(engine)
    _, headers = seed(engine)
    artifacts = tmp_path / "artifacts"
    first = write_trained_version(engine, artifacts, seed=7, promote=True)
    second = write_trained_version(engine, artifacts, seed=8)
    engine.dispose()
    env = {
        "TALENTMATCH_DATABASE_URL": postgres_url,
        "TALENTMATCH_ARTIFACTS_DIR": str(artifacts),
        "TALENTMATCH_MODEL_POLL_SECONDS": str(POLL_SECONDS),
        "TALENTMATCH_RATE_LIMIT_PER_MINUTE": "0",
    }
    serving_first: Callable[[dict[str, Any]], bool] = lambda health: health.get("model_version") == first  # noqa: E731
    with ExitStack() as stack:
        a, _ = stack.enter_context(running_server(env, tmp_path / "a.log", ready=serving_first))
        b, _ = stack.enter_context(running_server(env, tmp_path / "b.log", ready=serving_first))
        yield Replicas(a, b, headers, artifacts, (first, second))


def _until(check: Callable[[], bool], within: float) -> float:
    """Seconds until ``check()`` holds; fails the test if it does not within ``within`` seconds."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > within:
            pytest.fail(f"not visible within {within} s")
        time.sleep(0.05)
    return time.monotonic() - started


def _candidates(base: str, vacancy_id: str, headers: dict[str, str]) -> list[str]:
    response = httpx.get(
        f"{base}/api/v1/vacancies/{vacancy_id}/candidates?include_below_floor=true&limit=100",
        headers=headers,
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return [c["graduate_id"] for c in response.json()["items"]]


def _suggestions(base: str, graduate_id: str, headers: dict[str, str]) -> list[str]:
    response = httpx.get(
        f"{base}/api/v1/graduates/{graduate_id}/recommendations?include_below_floor=true&limit=100",
        headers=headers,
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return [r["vacancy_id"] for r in response.json()["items"]]


def test_a_write_on_one_replica_is_seen_by_the_other_within_two_seconds(replicas: Replicas) -> None:
    hr, school = replicas.headers["hr_e1"], replicas.headers["school_s1"]
    # Replica b has built its index before the writes (the first answers build it).
    before = _candidates(replicas.b, "V1", hr)
    assert "G01" in before and "G01" in _candidates(replicas.a, "V1", hr)
    assert _suggestions(replicas.b, "G03", school)

    posted = httpx.post(
        f"{replicas.a}/api/v1/vacancies",
        json={
            "title": "刻蚀工艺技术员",
            "district": "越城区",
            "min_education": "associate",
            "headcount": 2,
            "required_skills": ["etching", "spc"],
        },
        headers=hr,
        timeout=10,
    )
    assert posted.status_code == 201, posted.text
    vacancy_id = posted.json()["vacancy_id"]
    ranked = _until(lambda: "G03" in _candidates(replicas.b, vacancy_id, hr), VISIBLE_WITHIN)
    suggested = _until(lambda: vacancy_id in _suggestions(replicas.b, "G03", school), VISIBLE_WITHIN)

    erased = httpx.delete(f"{replicas.a}/api/v1/graduates/G01", headers=school, timeout=10)
    assert erased.status_code == 204, erased.text
    gone = _until(lambda: "G01" not in _candidates(replicas.b, "V1", hr), VISIBLE_WITHIN)
    missing = httpx.get(f"{replicas.b}/api/v1/graduates/G01", headers=school, timeout=10)
    assert missing.status_code == 404
    print(f"\nreplica b saw: the new vacancy ranked after {ranked:.2f} s, suggested after {suggested:.2f} s; "
          f"the erasure after {gone:.2f} s")  # fmt: skip


def test_a_promoted_version_is_served_by_both_replicas(replicas: Replicas) -> None:
    first, second = replicas.versions
    hr = replicas.headers["hr_e1"]

    def served(base: str) -> str:
        body = httpx.get(f"{base}/api/v1/vacancies/V1/candidates", headers=hr, timeout=10).json()
        return str(body["model_version"])

    assert served(replicas.a) == served(replicas.b) == first
    Registry(replicas.artifacts).promote(second)  # what `talentmatch models promote` does
    within = POLL_SECONDS * 4 + VISIBLE_WITHIN
    _until(lambda: served(replicas.a) == second and served(replicas.b) == second, within)
