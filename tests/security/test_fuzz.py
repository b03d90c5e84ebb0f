"""Schemathesis fuzzes every operation of the OpenAPI schema with a valid key of each role.

In-process (ASGI) against the app on the seeded ``tiny_market`` store with a real tiny matcher served.
Generation is derandomized (the same cases every run) and bounded per operation, role and mode (valid
data, and invalid data for operations that take a query or a body). Every answer must be no 5xx, have a
documented status code and content type, and match the documented schema of that status.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine

from service.app import create_app
from tests.service.api.conftest import Template, settings_for
from tests.serving import StaticHolder

ROLES = ("admin", "hr_e1", "school_s1")
# Ids in paths are drawn at random (mostly unknown: 404) and, for most cases, fixed to one of the role's
# own resources so that bodies and queries reach the code behind the access check.
OWN_IDS: dict[str, dict[str, str]] = {
    "admin": {"vacancy_id": "V2", "program_id": "P3", "graduate_id": "G10"},
    "hr_e1": {"vacancy_id": "V1", "program_id": "P1", "graduate_id": "G01"},
    "school_s1": {"vacancy_id": "V3", "program_id": "P1", "graduate_id": "G02"},
}
RANDOM_ID_EXAMPLES = 4
OWN_ID_EXAMPLES = 10
NEGATIVE_EXAMPLES = 5
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# The figure docs/security.md quotes is printed by the test (run with -s) and checked to be at least this.
MIN_REQUESTS = 500


@pytest.fixture
def fuzz_schema(
    seeded_sqlite: Engine, seeded_template: Template, tmp_path: Path, tiny_model: Any
) -> Iterator[Any]:
    app = create_app(
        settings_for(seeded_sqlite, tmp_path, rate_limit_per_minute=0), model_holder=StaticHolder(tiny_model)
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    yield schema
    asgi.shutdown_lifespans()


def _takes_input(operation: Any) -> bool:
    """Invalid data can only be made for a query parameter or a body (ids in paths are free text)."""
    raw = operation.definition.raw
    return "requestBody" in raw or any(p.get("in") == "query" for p in raw.get("parameters", []))


def _path_ids(operation: Any, ids: dict[str, str]) -> dict[str, str] | None:
    names = {p.get("name") for p in operation.definition.raw.get("parameters", []) if p.get("in") == "path"}
    return {name: ids[name] for name in names if name in ids} or None


def _run(
    operation: Any,
    mode: Any,
    headers: dict[str, str],
    examples: int,
    log: Counter[str],
    path_parameters: dict[str, str] | None = None,
) -> list[str]:
    failures: list[str] = []

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    def fuzz(case: Any) -> None:
        response = case.call(headers=headers)
        log["requests"] += 1
        log[f"status {response.status_code}"] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except BaseException as error:  # noqa: BLE001 - schemathesis raises a FailureGroup; collect them all
            text = str(error).strip().splitlines()
            failures.append(
                f"{operation.label} [{mode.value}] {response.status_code}: {' | '.join(text[:12])}"
            )

    with contextlib.suppress(Unsatisfiable):  # nothing invalid can be generated for this operation
        fuzz()
    return failures


@pytest.mark.slow
def test_fuzz_every_operation_with_each_role(fuzz_schema: Any, seeded_template: Template) -> None:
    log: Counter[str] = Counter()
    failures: list[str] = []
    started = time.monotonic()
    operations = [result.ok() for result in fuzz_schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:
        for role in ROLES:
            headers = seeded_template.headers[role]
            positive, negative = schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE
            own = _path_ids(operation, OWN_IDS[role])
            failures += _run(
                operation, positive, headers, RANDOM_ID_EXAMPLES if own else OWN_ID_EXAMPLES, log
            )
            if own:
                failures += _run(operation, positive, headers, OWN_ID_EXAMPLES, log, own)
            if _takes_input(operation):
                failures += _run(operation, negative, headers, NEGATIVE_EXAMPLES, log, own)
    elapsed = time.monotonic() - started
    statuses = ", ".join(f"{k.split()[1]}: {v}" for k, v in sorted(log.items()) if k.startswith("status"))
    print(
        f"\nfuzzer: {log['requests']} requests to {len(operations)} operations x {len(ROLES)} roles "
        f"in {elapsed:.0f}s; {len(failures)} failures; statuses {statuses}"
    )
    assert not failures, "\n\n".join(failures[:10])
    assert log["requests"] >= MIN_REQUESTS
    assert not any(k.startswith("status 5") for k in log)
