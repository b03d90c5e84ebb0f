"""Shared by the school route tests: a small real matcher trained on ``tiny_market()`` (seeded)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from models.matcher import Matcher, MatcherConfig
from tests.bundles import tiny_market
from training.registry import LoadedModel

MODEL_VERSION = "tiny-1"


@lru_cache(maxsize=1)
def tiny_model() -> Any:
    """The served model for route tests; trained once per test process."""
    config = MatcherConfig(no_components=8, epochs=5, num_threads=1, seed=7)
    matcher = Matcher(config).fit(tiny_market())
    return LoadedModel(version=MODEL_VERSION, matcher=matcher, manifest={})


def csv_bytes(rows: list[str]) -> bytes:
    header = "graduate_id,program_id,education,major,skills,preferred_districts,available_from,status"
    return ("\n".join([header, *rows]) + "\n").encode("utf-8")
