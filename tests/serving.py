"""What the service tests serve: a model holder returning one fixed model, and the one tiny trained model.

``tiny_model()`` is a real :class:`models.matcher.Matcher` trained on ``tests.bundles.tiny_market()``
(seeded, one thread), wrapped as the registry would serve it; it is trained once per test process and
shared (also as the session fixture ``tiny_model`` of ``tests/conftest.py``). The matcher's code is
imported when the model is first asked for, so a test that serves no model does not load it.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from service.store.market import load_market
from service.store.session import make_sessionmaker
from tests.bundles import tiny_market
from training.registry import LoadedModel, Registry, library_versions

if TYPE_CHECKING:
    from models.matcher import MatcherConfig

TINY_VERSION = "tiny-1"


class StaticHolder:
    """A model holder serving one fixed model, or none (``ModelHolder.get`` without a registry).

    Tests swap models by assigning ``holder.model``.
    """

    def __init__(self, model: LoadedModel | None = None) -> None:
        self.model = model

    def get(self) -> LoadedModel | None:
        return self.model


def tiny_config() -> MatcherConfig:
    """The tiny model's hyper-parameters (also what the live server's model is trained with)."""
    from models.matcher import MatcherConfig

    return MatcherConfig(
        no_components=8, epochs=5, num_threads=1, candidates=("compact",), retrieval_pool=50, seed=7
    )


@cache
def tiny_model() -> LoadedModel:
    """The tiny trained model, as the registry would serve it (trained once per test process)."""
    from models.matcher import Matcher

    matcher = Matcher(tiny_config()).fit(tiny_market())
    return LoadedModel(version=TINY_VERSION, matcher=matcher, manifest={})


def write_trained_version(engine: Engine, artifacts: Path, *, seed: int = 7, promote: bool = False) -> str:
    """Fit the real matcher (``tiny_config``, ``seed``) on the store behind ``engine``, write it to the
    registry in ``artifacts`` as a gated version, and return its name; ``promote`` makes it current."""
    from models.matcher import Matcher

    with make_sessionmaker(engine)() as session:
        data = load_market(session=session)
    config = replace(tiny_config(), seed=seed)
    matcher = Matcher(config).fit(data)
    registry = Registry(artifacts)
    version = registry.write_version(
        matcher.save,
        {
            "model": "models.matcher.Matcher",
            "data": {"counts": data.counts()},
            "parameters": config.to_dict(),
            "libraries": library_versions(),
            "evaluation": {"metrics": {"new": {"ndcg": 0.5}}},
            "gate": {"passed": True},
        },
    )
    if promote:
        registry.promote(version)
    return version
