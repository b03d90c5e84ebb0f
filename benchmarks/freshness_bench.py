"""What a write costs the serving index, side by side with the full rebuild it replaced (issue 14, part 1).

**Through the store** (a private copy of the scale's SQLite store, the benchmark model, in process): the full
build of a :class:`~service.matching.MatchingService` snapshot (load the pool, index it), then writes through
the store's functions, each committed and followed by the time until the service answers from a snapshot
that has it (``MatchingService.snapshot``: the data version, the change log after the snapshot's version,
the rows named there, the index update, the swap): post, edit or close a vacancy, a hire (the graduate
leaves the pool, the vacancy may fill), an outcome that is only history, the issue's writer (a vacancy
posted and an outcome recorded), a graduate uploaded, one erased (logged by a 16-bit digest of the id:
the pool's few graduates of that digest are read again).

**At the large pool size** (170,000 seeking graduates, 20,000 vacancies; the scale's pool repeated with new
ids): the full index build, then ``Snapshot.updated`` for the same kinds of change (the index update and the
per-id dictionaries; the store's part is measured above), wall and CPU time, side by side: ``before``
updates as they were until graduates were appended (each graduate written spliced into a copy of every
array of the block, its skill lists read through pandas), ``now`` as they are (appended into spare rows;
``models.growth``). Each change is applied to both chains of snapshots in turn. The target: an index
update per write ≤ 10 ms at large.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import pandas as pd
from threadpoolctl import threadpool_limits

from benchmarks.common import percentiles, print_table
from benchmarks.http_bench import ensure_store
from benchmarks.world import Bench
from models import index as index_module
from models import index_update
from models.columns import Columns as C
from models.data import MarketData

TARGET_UPDATE_MS = 10.0
LARGE = {"tiny": (3_000, 600), "small": (20_000, 3_000)}  # else 170,000 graduates and 20,000 vacancies


def _stats(samples: list[float]) -> dict[str, Any]:
    stats = percentiles(samples)
    return {
        "n": stats["n"],
        "p50_ms": stats["p50_ms"],
        "p99_ms": stats["p99_ms"],
        "max_ms": round(max(samples), 3),
    }


def _through_the_store(bench: Bench, loaded: Any, repeat: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    from sqlalchemy import select

    from service.matching import MatchingService
    from service.store.graduates import erase_graduate, get_graduate
    from service.store.market import import_market, load_pool_rows
    from service.store.migrate import upgrade
    from service.store.session import make_engine, make_sessionmaker
    from service.store.tables import Enterprise, Graduate, Skill, Vacancy
    from service.store.vacancies import (
        NewVacancy,
        VacancyChanges,
        close_vacancy,
        create_vacancy,
        get_vacancy,
        record_feedback,
        update_vacancy,
    )

    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="talentmatch-freshness-") as folder:
        store = Path(folder) / "store.db"
        shutil.copyfile(ensure_store(bench), store)
        engine = make_engine(f"sqlite:///{store.resolve()}")
        upgrade(engine)
        sessions = make_sessionmaker(engine)
        builds = []
        for _ in range(2):
            matching = MatchingService(lambda: loaded, sessionmaker=sessions)
            started = time.perf_counter()
            with sessions() as session:
                snapshot = matching.snapshot(session=session)
            builds.append({"total_s": time.perf_counter() - started, "index_s": snapshot.built_seconds})
        full = {
            "graduates": len(snapshot.index.graduates),
            "vacancies": len(snapshot.index.vacancies),
            "load_and_index_s": round(min(b["total_s"] for b in builds), 2),
            "index_s": round(min(b["index_s"] for b in builds), 2),
        }
        with sessions() as session:
            skills = list(session.scalars(select(Skill.skill_id)))
            enterprises = list(session.scalars(select(Enterprise.enterprise_id)))
            template = load_pool_rows(
                session=session, graduate_ids=list(snapshot.graduates)[:1], vacancy_ids=[]
            ).graduates

        def open_vacancy(session: Any) -> Any:
            ids = list(session.scalars(select(Vacancy.vacancy_id).where(Vacancy.status == "open").limit(500)))
            return get_vacancy(session=session, vacancy_id=rng.choice(ids))

        def candidate(session: Any, vacancy: Any) -> str:
            _, result = matching.candidates(session=session, vacancy=vacancy.vacancy_id, limit=50)
            return rng.choice([m.graduate_id for m in result.items])

        def post(session: Any) -> None:
            create_vacancy(
                session=session,
                data=NewVacancy(
                    title="工艺技术员（基准）", district="越城区", required_skills=rng.sample(skills, 2)
                ),
                enterprise_id=rng.choice(enterprises),
            )

        def outcome(session: Any, event: str) -> None:
            vacancy = open_vacancy(session)
            record_feedback(
                session=session, vacancy=vacancy, graduate_id=candidate(session, vacancy), event=event
            )

        def writer(session: Any) -> None:
            post(session)
            outcome(session, "shortlisted")

        def upload(session: Any) -> None:
            row = template.assign(**{C.graduate: f"bench{rng.randrange(10**9):09d}"})
            import_market(session=session, data=MarketData(graduates=row))

        def erase(session: Any) -> None:
            ids = list(
                session.scalars(select(Graduate.graduate_id).where(Graduate.status == "seeking").limit(500))
            )
            erase_graduate(
                session=session, graduate=get_graduate(session=session, graduate_id=rng.choice(ids))
            )

        writes: dict[str, Callable[[Any], None]] = {
            "post a vacancy": post,
            "edit a vacancy": lambda s: update_vacancy(
                session=s,
                vacancy=open_vacancy(s),
                changes=VacancyChanges(required_skills=rng.sample(skills, 3)),
            ),
            "close a vacancy": lambda s: close_vacancy(session=s, vacancy=open_vacancy(s)),
            "hire (graduate leaves)": lambda s: outcome(s, "hired"),
            "outcome, history only": lambda s: outcome(s, "shortlisted"),
            "post + outcome (the writer)": writer,
            "upload a graduate": upload,
            "erase a graduate": erase,
        }
        rows = []
        for name, write in writes.items():
            samples = []
            for _ in range(repeat):
                with sessions() as session, session.begin():
                    write(session)
                started = time.perf_counter()
                with sessions() as session:
                    matching.snapshot(session=session)
                samples.append((time.perf_counter() - started) * 1000)
            rows.append({"write": name, **_stats(samples)})
        assert matching.builds == 1, "a write was not applied in place"
        engine.dispose()
    return rows, full


def _repeated(pool: MarketData, graduates: int, vacancies: int) -> MarketData:
    """``pool`` with its graduates and vacancies repeated (new ids, id order) to the given sizes."""

    def grown(frame: pd.DataFrame, column: str, n: int) -> pd.DataFrame:
        copies = -(-n // len(frame))
        parts = [frame.assign(**{column: [f"r{k:03d}-{i}" for i in frame[column]]}) for k in range(copies)]
        out = pd.concat(parts, ignore_index=True).iloc[:n]
        return out.sort_values(column, kind="mergesort").reset_index(drop=True)

    frames = pool.frames()
    frames["graduates"] = grown(pool.graduates, C.graduate, graduates)
    frames["vacancies"] = grown(pool.vacancies, C.vacancy, vacancies)
    return MarketData(**frames)


@contextmanager
def _as_before() -> Iterator[None]:
    """Updates as they were before graduates were appended (issue 14, part 1): every graduate written
    spliced into a copy of each array of the block (``models.index_update``: appending never allowed),
    and a written row's skill lists read through pandas (``models.index.SMALL_FRAME``)."""
    saved = index_update.REORDER_MIN, index_update.REORDER_SHARE, index_module.SMALL_FRAME
    index_update.REORDER_MIN, index_update.REORDER_SHARE, index_module.SMALL_FRAME = -1, 10**9, -1
    try:
        yield
    finally:
        index_update.REORDER_MIN, index_update.REORDER_SHARE, index_module.SMALL_FRAME = saved


MODES: dict[str, Callable[[], AbstractContextManager[None]]] = {"before": _as_before, "now": nullcontext}


def _at_the_large_size(bench: Bench, loaded: Any, repeat: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    from benchmarks.serve_bench import candidate_pool
    from service.snapshot import build_snapshot

    n_graduates, n_vacancies = LARGE.get(bench.scale, (170_000, 20_000))
    pool = _repeated(candidate_pool(bench.data()), n_graduates, n_vacancies)
    started = time.perf_counter()
    base = build_snapshot(loaded, pool, data_version=0)
    full = {
        "graduates": len(base.index.graduates),
        "vacancies": len(base.index.vacancies),
        "index_s": round(base.built_seconds, 2),
        "snapshot_s": round(time.perf_counter() - started, 2),
    }
    base.index.graduates.skills_by_skill  # noqa: B018 - as a served index has it after its first query
    rng = random.Random(7)
    graduates, vacancies = pool.graduates, pool.vacancies
    skills = sorted({s for listed in graduates[C.skills].head(2000) for s in listed})
    # One chain of snapshots per mode, both from ``base``, each change applied to both in turn.
    chains = dict.fromkeys(MODES, base)

    def vacancy(new: bool) -> pd.DataFrame:
        row = vacancies.iloc[[rng.randrange(len(vacancies))]]
        return row.assign(**{C.vacancy: f"new{rng.randrange(10**9):09d}"}) if new else row

    def graduate() -> pd.DataFrame:
        row = graduates.iloc[[rng.randrange(len(graduates))]]
        return row.assign(**{C.graduate: f"new{rng.randrange(10**9):09d}"})

    def seeking_id() -> str:
        ids = graduates[C.graduate]
        while True:
            graduate = str(ids.iat[rng.randrange(len(ids))])
            if all(graduate in chain.graduates for chain in chains.values()):
                return graduate  # not gone already in either chain

    def edited() -> pd.DataFrame:
        row = graduates[graduates[C.graduate] == seeking_id()]
        return row.assign(**{C.skills: [rng.sample(skills, 4)]})

    changes: dict[str, Callable[[], tuple[MarketData, list[str], list[str]]]] = {
        "post a vacancy": lambda: (MarketData(vacancies=(v := vacancy(True))), [], [v[C.vacancy].iat[0]]),
        "edit a vacancy": lambda: (MarketData(vacancies=(v := vacancy(False))), [], [v[C.vacancy].iat[0]]),
        "hire (graduate leaves)": lambda: (
            MarketData(vacancies=(v := vacancy(False))),
            [seeking_id()],
            [v[C.vacancy].iat[0]],
        ),
        "upload a graduate": lambda: (MarketData(graduates=(g := graduate())), [g[C.graduate].iat[0]], []),
        "edit a graduate": lambda: (MarketData(graduates=(g := edited())), [g[C.graduate].iat[0]], []),
        "erase a graduate": lambda: (MarketData(), [seeking_id()], []),
    }
    rows = []
    for name, change in changes.items():
        wall: dict[str, list[float]] = {mode: [] for mode in MODES}
        cpu: dict[str, list[float]] = {mode: [] for mode in MODES}
        for _ in range(repeat):
            rows_read, graduate_ids, vacancy_ids = change()
            for mode, context in MODES.items():
                snapshot = chains[mode]
                with context():
                    started, cpu_started = time.perf_counter(), time.process_time()
                    chains[mode] = snapshot.updated(
                        rows_read,
                        graduate_ids=graduate_ids,
                        vacancy_ids=vacancy_ids,
                        data_version=snapshot.data_version + 1,
                    )
                    cpu[mode].append((time.process_time() - cpu_started) * 1000)
                    wall[mode].append((time.perf_counter() - started) * 1000)
        for mode in MODES:
            rows.append(
                {
                    "change": name,
                    "updates": mode,
                    **_stats(wall[mode]),
                    "cpu_p50_ms": percentiles(cpu[mode])["p50_ms"],
                }
            )
    _check_alike(chains["before"], chains["now"])
    return rows, full


def _check_alike(before: Any, now: Any) -> None:
    """Both chains hold the same graduates and answer a few vacancies alike (a guard, not the test)."""
    assert before.graduate_ids() == now.graduate_ids(), "the two chains hold different graduates"
    matcher = now.matcher
    for vacancy in now.index.vacancies.ids.ids[:: max(1, len(now.index.vacancies) // 5)].tolist():
        a = matcher.candidates_for(vacancy, index=before.index, limit=20)
        b = matcher.candidates_for(vacancy, index=now.index, limit=20)
        assert [m.graduate_id for m in a.items] == [m.graduate_id for m in b.items], vacancy


def run(bench: Bench) -> dict[str, Any]:
    loaded = bench.model()
    repeat = 3 if bench.scale == "tiny" else 30
    limiter = threadpool_limits(limits=1)  # as the service runs: one BLAS/OpenMP thread
    try:
        store_rows, store_full = _through_the_store(bench, loaded, repeat)
        large_rows, large_full = _at_the_large_size(bench, loaded, repeat)
    finally:
        limiter.restore_original_limits()
    print_table(
        f"A write, then the first answer that has it, {bench.scale} store "
        f"({store_full['graduates']:,} seeking graduates, {store_full['vacancies']:,} vacancies); "
        "the full rebuild it replaces: "
        f"{store_full['load_and_index_s']:.2f} s (load and index; index alone {store_full['index_s']:.2f} s)",
        store_rows,
    )
    print_table(
        f"The snapshot update alone at {large_full['graduates']:,} graduates and {large_full['vacancies']:,} "
        f"vacancies; the full index build: {large_full['index_s']:.2f} s (target ≤ {TARGET_UPDATE_MS:.0f} ms "
        "per write); before: every graduate spliced into a copy of the block, now: appended",
        large_rows,
    )
    payload = {
        "model_version": loaded.version,
        "through_the_store": {"full_build": store_full, "writes": store_rows},
        "at_large_size": {"full_build": large_full, "changes": large_rows},
        "target_update_ms": TARGET_UPDATE_MS,
    }
    bench.write("freshness", payload)
    return payload
