"""The benchmark worlds and models: demo bundles and trained matchers cached under ``var/bench/``.

A :class:`Bench` names one run: its scale, how hard each benchmark pushes (:class:`ScaleBounds`), where the
cache lives and where results go. The demo world of a scale (seed 7) is generated once and kept as a bundle
(``<cache>/<demo scale>/bundle``, what the import benchmark and the HTTP store read) plus a pickle of the
frames (so later runs load in seconds). The trained matcher is kept as a registry version under
``<cache>/<scale>/artifacts`` (what ``talentmatch serve`` loads in the HTTP benchmark).

``tiny`` is the small world with a fast training config and tiny bounds: it exists so the smoke test
runs every benchmark in seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import models
from models.data import MarketData

CACHE_ROOT = Path("var/bench")
SEED = 7


@dataclass(frozen=True)
class ScaleBounds:
    """How hard each benchmark pushes at one scale (``small`` must keep ``make bench`` to a few minutes)."""

    demo_scale: str
    queries: int  # in-process queries per case
    cohort: int  # graduates in the in-process cohort placement
    cohort_repeat: int
    http_seconds: float
    http_max_requests: int
    http_sequential: int  # requests at concurrency 1
    scaling_graduates: tuple[int, ...]
    scaling_vacancies: tuple[int, ...]
    scaling_queries: int
    ann_graduates: int
    ann_queries: int
    fast_training: bool = False


BOUNDS: dict[str, ScaleBounds] = {
    "tiny": ScaleBounds(
        demo_scale="small",
        queries=5,
        cohort=20,
        cohort_repeat=1,
        http_seconds=1.0,
        http_max_requests=40,
        http_sequential=5,
        scaling_graduates=(500, 1000),
        scaling_vacancies=(100, 200),
        scaling_queries=3,
        ann_graduates=2000,
        ann_queries=5,
        fast_training=True,
    ),
    "small": ScaleBounds(
        demo_scale="small",
        queries=200,
        cohort=500,
        cohort_repeat=2,
        http_seconds=10.0,
        http_max_requests=20_000,
        http_sequential=200,
        scaling_graduates=(1_000, 10_000, 50_000),
        scaling_vacancies=(300, 3_000, 20_000),
        scaling_queries=30,
        ann_graduates=100_000,
        ann_queries=100,
    ),
    "medium": ScaleBounds(
        demo_scale="medium",
        queries=300,
        cohort=500,
        cohort_repeat=3,
        http_seconds=30.0,
        http_max_requests=50_000,
        http_sequential=300,
        scaling_graduates=(1_000, 10_000, 100_000, 300_000),
        scaling_vacancies=(300, 3_000, 20_000, 60_000),
        scaling_queries=50,
        ann_graduates=1_000_000,
        ann_queries=200,
    ),
    "large": ScaleBounds(
        demo_scale="large",
        queries=300,
        cohort=500,
        cohort_repeat=3,
        http_seconds=30.0,
        http_max_requests=50_000,
        http_sequential=300,
        scaling_graduates=(1_000, 10_000, 100_000, 300_000, 1_000_000),
        scaling_vacancies=(300, 3_000, 20_000, 60_000),
        scaling_queries=50,
        ann_graduates=1_000_000,
        ann_queries=300,
    ),
}
SCALES = tuple(BOUNDS)


@dataclass
class Bench:
    """One benchmark run: scale, bounds, cache and results folders."""

    scale: str
    cache_root: Path = CACHE_ROOT
    results_dir: Path | None = None  # None: benchmarks/results
    verbose: bool = True
    _data: MarketData | None = field(default=None, repr=False)

    @property
    def bounds(self) -> ScaleBounds:
        return BOUNDS[self.scale]

    @property
    def world_dir(self) -> Path:
        return self.cache_root / self.bounds.demo_scale

    @property
    def bundle_dir(self) -> Path:
        return self.world_dir / "bundle"

    @property
    def artifacts_dir(self) -> Path:
        return self.cache_root / self.scale / "artifacts"

    @property
    def store_path(self) -> Path:
        return self.cache_root / self.scale / "store.db"

    def say(self, message: str) -> None:
        if self.verbose:
            print(message, flush=True)

    def data(self) -> MarketData:
        """The demo world of this scale (generated and cached on first use)."""
        if self._data is None:
            self._data = cached_world(self.world_dir, self.bounds.demo_scale, say=self.say)
        return self._data

    def matcher_config(self) -> Any:
        from models.matcher import MatcherConfig

        if self.bounds.fast_training:
            return MatcherConfig(no_components=8, epochs=2, candidates=("compact",), retrieval_pool=100)
        return MatcherConfig()

    def model(self) -> Any:
        """The registry's current model for this scale (``LoadedModel``); trained and saved when missing,
        when it was trained with other hyper-parameters than ``matcher_config()``, or when the code in
        ``models/`` changed since and can no longer serve it."""
        from training.registry import ArtifactError, Registry

        registry = Registry(self.artifacts_dir)
        try:
            version = registry.current_version()
            if version is not None:
                loaded = registry.load()
                manifest = registry.manifest(version)
                if manifest.get("parameters") != self.matcher_config().to_dict():
                    # MatcherConfig's defaults changed since: measure the model the code trains now.
                    raise ArtifactError(f"model {version} was trained with other hyper-parameters")
                if manifest.get("models_source") == models_source_hash():
                    return loaded
                # models/ changed since: reuse the model only if the current code can still serve it.
                try:
                    self._probe(loaded.matcher)
                    self.say(
                        f"models/ changed since model {version} was trained; it still serves, reusing it"
                    )
                    return loaded
                except Exception as error:  # noqa: BLE001 - any failure means: train again
                    self.say(f"cached model {version} does not serve with the current code ({error!r})")
        except ArtifactError as error:
            self.say(f"cached model unusable ({error}); training again")
        from benchmarks.train_bench import fit_timed

        matcher, _ = fit_timed(self.data(), self.matcher_config())
        self.save_model(matcher)
        return registry.load()

    def _probe(self, matcher: Any) -> None:
        """One query of each kind on a small slice of the world (raises when the model cannot serve)."""
        data = self.data()
        frames = data.frames()
        frames["graduates"] = data.graduates.head(50)
        frames["vacancies"] = data.vacancies.head(20)
        index = matcher.index(MarketData(**frames))
        matcher.candidates_for(str(index.vacancies.ids.ids[0]), index=index, limit=5)
        matcher.vacancies_for(str(index.graduates.ids.ids[0]), index=index, limit=5)

    def save_model(self, matcher: Any) -> str:
        """Write ``matcher`` as a new registry version and make it current; returns the version."""
        from training.registry import Registry, library_versions

        registry = Registry(self.artifacts_dir)
        manifest = {
            "model": "models.matcher.Matcher",
            "parameters": matcher.config.to_dict(),
            "libraries": library_versions(),
            "note": f"benchmark model, {self.scale} scale",
            "models_source": models_source_hash(),
        }
        version = registry.write_version(matcher.save, manifest, created_at=datetime.now(UTC))
        registry.promote(version)
        registry.prune(2)
        return version

    def write(self, name: str, payload: dict[str, Any]) -> Path:
        from benchmarks.common import write_result

        path = write_result(f"{name}-{self.scale}", {"scale": self.scale, **payload}, self.results_dir)
        self.say(f"wrote {path}")
        return path


def models_source_hash() -> str:
    """sha256 of the matcher's code (``models/*.py``): a cached model is reused only with the same code."""
    digest = hashlib.sha256()
    for path in sorted(Path(models.__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def cached_world(folder: Path, demo_scale: str, *, say: Any = print) -> MarketData:
    """The demo world of ``demo_scale`` cached in ``folder`` (bundle + pickle of the frames)."""
    from training.demo import write_demo_bundle

    frames = folder / "data.pickle"
    if frames.exists():
        with frames.open("rb") as handle:
            data: MarketData = pickle.load(handle)  # our own cache file, written below
        return data
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    say(f"generating the {demo_scale} demo world (seed {SEED}) into {folder / 'bundle'} ...")
    world = write_demo_bundle(folder / "bundle", demo_scale, SEED)
    temp = frames.with_suffix(".tmp")
    with temp.open("wb") as handle:
        pickle.dump(world.data, handle, protocol=pickle.HIGHEST_PROTOCOL)
    temp.rename(frames)
    say(f"  generated in {time.perf_counter() - started:.0f} s")
    return world.data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="generate and cache a benchmark world")
    parser.add_argument("--scale", choices=SCALES, default="small")
    args = parser.parse_args(argv)
    print(Bench(args.scale).data().counts())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
