"""Fixtures of the security tests: the API test apps (seeded ``tiny_market`` store, one key per role and
tenant) are shared with ``tests/service/api``; the tiny trained model is ``tests/conftest.py``'s
``tiny_model``.

Tenants: enterprises E1 (V1, V2, V6) and E2 (V3, V4, V5); schools S1 (programmes P1, P2; graduates G01..G08)
and S2 (P3; G09..G12). Keys: ``admin``, ``hr_e1``, ``hr_e2``, ``school_s1``, ``school_s2`` and ``revoked``.
"""

from __future__ import annotations

from tests.service.api.conftest import (  # noqa: F401 - fixtures re-exported for this package
    api,
    api_any_db,
    api_with_model,
    seeded_sqlite,
    seeded_template,
)
