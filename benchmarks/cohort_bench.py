"""Cohort placement end to end: ``plan_program`` for a 500-graduate programme against ~5,000 open vacancies.

``python -m benchmarks.cohort_bench [--graduates 500 --vacancies 5000 --repeat 5 --per-graduate-repeat 2]``

The world is the medium demo world (seed 7) made bigger where the target needs it: every vacancy is open
and copies of vacancies (another enterprise each) bring the open count to ``--vacancies``; ``--graduates``
seeking graduates are put in the order-based class with the most seeking graduates (so the sponsor's
vacancies are scored too). It is imported once into a SQLite store under ``var/bench/medium/cohort/``
(hires included, so remaining headcounts are read as in the service). The matcher is the scale's cached
model (``var/bench/<scale>/artifacts``), loaded directly, or trained through :class:`Bench` when missing.
``--scale tiny`` (small world, fast model) is the smoke test's.

Measured, with the cohort-score cache emptied before every call:

* ``plan_program`` with the batched scorer (:func:`models.cohort.rank_cohort`, what the route runs now);
* ``plan_program`` with the previous scorer (one ``vacancies_for`` per graduate, reasons for every pair);
* ``plan_program`` with the cohort's scores cached (re-planning with another ``min_score``);
* the parts: the batched scoring alone and the solver alone.

The two scorers' score matrices are compared (same pairs, same scores to 1e-9). Results go to
``benchmarks/results/cohort-<graduates>x<vacancies>.json``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from benchmarks.common import code_version, percentiles, print_table, write_result
from benchmarks.world import CACHE_ROOT, SCALES, Bench
from models.columns import EDUCATION_RANK
from models.columns import Columns as C
from models.data import MarketData
from models.results import Reason, VacancyFilters

SPONSOR_REASON = Reason(code="sponsor_class", message="from the sponsor's order-based class", weight=1.0)


def bigger_world(data: MarketData, *, n_graduates: int, n_open: int) -> tuple[MarketData, str]:
    """A demo world with ``n_open`` open vacancies and ``n_graduates`` seeking graduates in one
    order-based class; returns the world and the class's programme id."""
    vacancies = data.vacancies.copy()
    vacancies[C.status] = "open"
    vacancies[C.closes_at] = pd.NaT
    if n_open <= len(vacancies):
        vacancies = vacancies.head(n_open)
    else:
        copies = vacancies.iloc[np.arange(n_open - len(vacancies)) % len(vacancies)].copy()
        copies[C.vacancy] = [f"{v}-c{i}" for i, v in enumerate(copies[C.vacancy])]
        copies[C.enterprise] = np.roll(copies[C.enterprise].to_numpy(), 1)
        vacancies = pd.concat([vacancies, copies], ignore_index=True)

    graduates = data.graduates.copy()
    seeking = graduates[C.status] == "seeking"
    classes = data.programs.loc[data.programs[C.kind] == "order_class", C.program]
    sizes = graduates[seeking & graduates[C.program].isin(classes)].groupby(C.program).size()
    program = str(sizes.sort_values(ascending=False, kind="stable").index[0])
    members = graduates.index[seeking & (graduates[C.program] == program)]
    others = graduates.index[seeking & (graduates[C.program] != program)]
    moved = others[: max(0, n_graduates - len(members))]
    graduates.loc[moved, C.program] = program
    extra = graduates.index[seeking & (graduates[C.program] == program)][n_graduates:]
    graduates.loc[extra, C.status] = "placed"  # exactly n_graduates seeking in the class

    kept = set(vacancies[C.vacancy])
    hires = data.interactions[
        (data.interactions[C.event] == "hired") & data.interactions[C.vacancy].isin(kept)
    ]
    world = MarketData(
        **{**data.frames(), "graduates": graduates, "vacancies": vacancies, "interactions": hires}
    )
    return world, program


def store_for(world: MarketData, path: Path) -> Any:
    """A migrated SQLite store holding ``world`` (imported on first use)."""
    from service.store.market import import_market
    from service.store.migrate import upgrade
    from service.store.session import make_engine, transaction

    ready = path.with_suffix(".ready")
    if path.exists() and not ready.exists():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    if not ready.exists():
        started = time.perf_counter()
        upgrade(engine)
        with transaction(engine) as session:
            import_market(session=session, data=world)
        ready.write_text("ok\n")
        print(f"imported the cohort world into {path} in {time.perf_counter() - started:.1f}s", flush=True)
    return engine


def load_model(bench: Bench) -> Any:
    """The scale's cached model, loaded directly (``LoadedModel``); trained through the bench if missing."""
    from models.matcher import Matcher
    from training.registry import LoadedModel

    versions = sorted(p for p in bench.artifacts_dir.glob("*") if (p / "matcher.joblib").exists())
    for directory in reversed(versions):
        try:
            return LoadedModel(version=directory.name, matcher=Matcher.load(directory), manifest={})
        except Exception as error:  # noqa: BLE001 - an unreadable cache: try the next, else train
            print(f"cached model {directory.name} unusable ({error!r})", flush=True)
    return bench.model()


def per_graduate_scores(
    *,
    matcher: Any,
    index: Any,
    graduates: Sequence[tuple[str, str]],
    open_vacancies: pd.DataFrame,
    as_of: pd.Timestamp,
    top_k: int = 20,
    sponsors: Sequence[str | None] | None = None,
    sponsor: str | None = None,
) -> Any:
    """The previous ``service.schools.cohort_scores``: one ``vacancies_for`` per graduate (with reasons for
    every pair), then ``score_pairs`` for the sponsor's vacancies (one programme: one sponsor)."""
    from service.schools import CohortScores

    if sponsors is not None:
        distinct = set(sponsors)
        assert len(distinct) <= 1, "the previous scorer plans one programme at a time"
        sponsor = next(iter(distinct), None)

    graduate_ids = [g for g, _ in graduates]
    columns: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    values: list[float] = []
    reasons: dict[tuple[str, str], list[Reason]] = {}
    found: dict[str, int] = {}
    filters = VacancyFilters(as_of=as_of)
    for row, graduate_id in enumerate(graduate_ids):
        result = matcher.vacancies_for(graduate_id, index=index, limit=top_k, filters=filters)
        found[graduate_id] = int(result.total)
        for match in result.items:
            rows.append(row)
            cols.append(columns.setdefault(match.vacancy_id, len(columns)))
            values.append(float(match.score))
            reasons[(graduate_id, match.vacancy_id)] = list(match.reasons)
    if sponsor is not None and graduate_ids:
        sponsor_vacancies = open_vacancies[open_vacancies[C.enterprise] == sponsor]
        pairs = [
            (row, vacancy_id)
            for row, (graduate_id, education) in enumerate(graduates)
            for vacancy_id, minimum in zip(
                sponsor_vacancies[C.vacancy], sponsor_vacancies[C.min_education], strict=True
            )
            if (graduate_id, vacancy_id) not in reasons
            and EDUCATION_RANK.get(education, -1) >= EDUCATION_RANK.get(minimum, 0)
        ]
        if pairs:
            scores = matcher.score_pairs(
                [graduate_ids[r] for r, _ in pairs], [v for _, v in pairs], index=index
            )
            for (row, vacancy_id), score in zip(pairs, np.asarray(scores, dtype=float), strict=True):
                rows.append(row)
                cols.append(columns.setdefault(vacancy_id, len(columns)))
                values.append(float(score))
                reasons[(graduate_ids[row], vacancy_id)] = [SPONSOR_REASON]
    matrix = sparse.csr_array(
        (np.maximum(np.asarray(values, dtype=float), 1e-12), (rows, cols)),
        shape=(len(graduate_ids), len(columns)),
    )
    scored = CohortScores(graduate_ids, list(columns), matrix, found)
    scored._explained.update(reasons)
    return scored


def _timed(
    call: Callable[[], Any], repeat: int, before: Callable[[], None] | None = None
) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of ``repeat`` calls (CPU time shows what a shared machine's load hides)."""
    wall, cpu = [], []
    for _ in range(repeat):
        if before is not None:
            before()
        started, started_cpu = time.perf_counter(), time.process_time()
        call()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return wall, cpu


def same_scores(a: Any, b: Any) -> bool:
    """Same (graduate, vacancy) pairs with the same scores (to 1e-9) in two cohort scores."""

    def pairs(scored: Any) -> dict[tuple[str, str], float]:
        coo = scored.matrix.tocoo()
        return {
            (scored.graduate_ids[g], scored.vacancy_ids[v]): float(s)
            for g, v, s in zip(coo.row, coo.col, coo.data, strict=True)
        }

    pa, pb = pairs(a), pairs(b)
    return pa.keys() == pb.keys() and all(abs(pa[k] - pb[k]) <= 1e-9 for k in pa)


def run(
    *,
    n_graduates: int = 500,
    n_open: int = 5000,
    repeat: int = 5,
    per_graduate_repeat: int = 2,
    min_score: float = 0.05,
    top_k: int = 20,
    scale: str = "medium",
    cache_root: Path = CACHE_ROOT,
    results_dir: Path | None = None,
) -> dict[str, Any]:
    import service.schools as schools
    from models.cohort import rank_cohort
    from models.placement import plan_placement
    from service.matching import MatchingService
    from service.store.programs import program_graduates
    from service.store.session import make_sessionmaker
    from service.store.tables import Program

    bench = Bench(scale, cache_root=cache_root, results_dir=results_dir)
    world, program_id = bigger_world(bench.data(), n_graduates=n_graduates, n_open=n_open)
    engine = store_for(world, bench.world_dir / "cohort" / f"store-{n_graduates}x{n_open}.db")
    loaded = load_model(bench)
    sessions = make_sessionmaker(engine)
    matching = MatchingService(lambda: loaded, sessionmaker=sessions)
    rows: list[dict[str, Any]] = []
    result: dict[str, Any] = {"scale": scale, "code": code_version(), "model_version": loaded.version}
    with sessions() as session:
        started = time.perf_counter()
        snapshot = matching.snapshot(session=session)
        result["snapshot_build_s"] = round(time.perf_counter() - started, 2)
        program = session.get(Program, program_id)
        assert program is not None
        graduates, _ = program_graduates(session=session, program_id=program_id, status="seeking", limit=None)
        now = schools._now()
        open_vacancies = schools._open_vacancies(snapshot.vacancy_frame, now)
        sponsor = schools.program_sponsor(program)
        cohort = [(g.graduate_id, g.education) for g in graduates]
        result["world"] = {
            "program_id": program_id,
            "sponsor": sponsor,
            "graduates": len(graduates),
            "open_vacancies": len(open_vacancies),
            "sponsor_open_vacancies": int((open_vacancies[C.enterprise] == sponsor).sum()),
            "index_graduates": len(snapshot.index.graduates),
            "index_vacancies": len(snapshot.index.vacancies),
        }
        print(result["world"], flush=True)

        def plan() -> Any:
            return schools.plan_program(
                session=session,
                matching=matching,
                program=program,
                graduates=graduates,
                min_score=min_score,
                top_k=top_k,
            )

        def forget() -> None:
            schools._SCORES = schools._ScoreCache()

        def case(name: str, samples: tuple[list[float], list[float]]) -> None:
            wall, cpu = samples
            stats = percentiles(wall)
            rows.append(
                {
                    "case": name,
                    **{k: stats[k] for k in ("p50_ms", "mean_ms", "n")},
                    "cpu_p50_ms": percentiles(cpu)["p50_ms"],
                }
            )
            print(rows[-1], flush=True)

        forget()
        plan()  # warm-up (imports, first ranker call)
        case("plan_program, batched scorer (now)", _timed(plan, repeat, forget))
        case("plan_program, scores cached", _timed(plan, repeat))

        # The same cohort for the batched scorer and the previous one.
        score_args: dict[str, Any] = {
            "matcher": snapshot.matcher,
            "index": snapshot.index,
            "graduates": cohort,
            "open_vacancies": open_vacancies,
            "sponsors": [sponsor] * len(cohort),
            "as_of": now.floor("h"),
            "top_k": top_k,
        }

        def score() -> Any:
            return schools.cohort_scores(**score_args)

        case("  of which cohort_scores (batched)", _timed(score, repeat))
        ids = [g for g, _ in cohort]
        filters = VacancyFilters(as_of=now.floor("h"))
        case(
            "  of which rank_cohort alone (no sponsor pairs)",
            _timed(
                lambda: rank_cohort(
                    snapshot.matcher, ids, index=snapshot.index, limit=top_k, filters=filters
                ),
                repeat,
            ),
        )
        batched = score()
        by_id = snapshot.vacancy_frame.set_index(C.vacancy)
        caps = [int(by_id.at[v, C.headcount]) for v in batched.vacancy_ids]
        case(
            "  of which the solver",
            _timed(
                lambda: plan_placement(
                    batched.matrix,
                    caps,
                    min_score=min_score,
                    top_k=top_k,
                    graduate_sponsors=[sponsor] * len(ids),
                    vacancy_enterprises=[str(by_id.at[v, C.enterprise]) for v in batched.vacancy_ids],
                ),
                repeat,
            ),
        )

        if per_graduate_repeat > 0:
            reference = per_graduate_scores(**score_args)
            result["per_graduate_equals_batched"] = same_scores(reference, batched)
            print("per-graduate scores equal batched:", result["per_graduate_equals_batched"], flush=True)
            batched_scorer = schools.cohort_scores
            schools.cohort_scores = per_graduate_scores  # type: ignore[assignment]
            try:
                case(
                    "plan_program, per-graduate vacancies_for (before)",
                    _timed(plan, per_graduate_repeat, forget),
                )
            finally:
                schools.cohort_scores = batched_scorer
    print_table(f"plan_program, {n_graduates} graduates x {len(open_vacancies)} open vacancies", rows)
    result["rows"] = rows
    path = write_result(f"cohort-{n_graduates}x{n_open}", result, results_dir)
    print(f"wrote {path}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graduates", type=int, default=500)
    parser.add_argument("--vacancies", type=int, default=5000, help="open vacancies in the world")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--per-graduate-repeat", type=int, default=2, help="0 skips the previous scorer")
    parser.add_argument("--min-score", type=float, default=0.05)
    parser.add_argument("--scale", choices=SCALES, default="medium", help="the demo world to start from")
    parser.add_argument("--cache-dir", type=Path, default=CACHE_ROOT)
    parser.add_argument("--results-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    run(
        n_graduates=args.graduates,
        n_open=args.vacancies,
        repeat=args.repeat,
        per_graduate_repeat=args.per_graduate_repeat,
        min_score=args.min_score,
        scale=args.scale,
        cache_root=args.cache_dir,
        results_dir=args.results_dir,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
