"""How fast a bundle is read, validated and imported.

Builds a synthetic bundle with N interactions (default 1M; graduates N/50, vacancies N/300),
then times ``read_bundle`` (read + validate), ``import_market`` into a fresh SQLite store (and
PostgreSQL when reachable), a second import of the same bundle (nothing to change), and
``load_market``. Prints a table and writes ``benchmarks/results/import.json``.

    .venv/bin/python -m benchmarks.import_bench                 # 1M interactions
    .venv/bin/python -m benchmarks.import_bench --interactions 100000 --no-postgres
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, text

from benchmarks.common import peak_rss_mb, print_table, write_result
from models.bundle import BUNDLE_FILES, read_bundle, write_bundle
from models.columns import (
    EDUCATION_LEVELS,
    EVENTS,
    GRADUATE_STATUSES,
    PROGRAM_KINDS,
    SCHOOL_KINDS,
    SEGMENTS,
    VACANCY_STATUSES,
)
from models.columns import Columns as C
from service.store.market import import_market, load_market
from service.store.migrate import upgrade
from service.store.session import make_engine, transaction

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DISTRICTS = ("越城区", "柯桥区", "上虞区", "滨海新区", "诸暨市", "嵊州市", "新昌县")


def _pick_lists(rng: np.random.Generator, pool: np.ndarray, n: int, low: int, high: int) -> list[str]:
    sizes = rng.integers(low, high + 1, size=n)
    return [";".join(rng.choice(pool, size=s, replace=False)) for s in sizes]


def synthetic_bundle(directory: Path, interactions: int, seed: int = 7) -> dict[str, int]:
    """Write a valid bundle of the given size (vectorised, so 1M rows take seconds)."""
    rng = np.random.default_rng(seed)
    n_grad = max(100, interactions // 50)
    n_vac = max(20, interactions // 300)
    n_ent, n_school, n_prog, n_skill = 100, 10, 40, 80
    skill_ids = np.array([f"SK{i:03d}" for i in range(n_skill)])
    ent_ids = np.array([f"E{i:04d}" for i in range(n_ent)])
    school_ids = np.array([f"S{i:03d}" for i in range(n_school)])
    prog_ids = np.array([f"P{i:03d}" for i in range(n_prog)])
    grad_ids = np.array([f"G{i:07d}" for i in range(n_grad)])
    vac_ids = np.array([f"V{i:06d}" for i in range(n_vac)])
    prog_kinds = np.array(PROGRAM_KINDS)[np.arange(n_prog) % 3]
    frames = {
        "skills": pd.DataFrame(
            {
                C.skill: skill_ids,
                C.name_zh: [f"技能{i}" for i in range(n_skill)],
                C.name_en: [f"skill {i}" for i in range(n_skill)],
                C.category: np.array(["process", "packaging", "test", "design"])[np.arange(n_skill) % 4],
                C.aliases: [f"alias{i}a;alias{i}b" for i in range(n_skill)],
            }
        ),
        "enterprises": pd.DataFrame(
            {
                C.enterprise: ent_ids,
                C.name: [f"企业{i}" for i in range(n_ent)],
                C.segment: rng.choice(SEGMENTS, n_ent),
                C.district: rng.choice(DISTRICTS, n_ent),
            }
        ),
        "schools": pd.DataFrame(
            {
                C.school: school_ids,
                C.name: [f"学校{i}" for i in range(n_school)],
                C.kind: rng.choice(SCHOOL_KINDS, n_school),
                C.district: rng.choice(DISTRICTS, n_school),
            }
        ),
        "programs": pd.DataFrame(
            {
                C.program: prog_ids,
                C.school: rng.choice(school_ids, n_prog),
                C.name: [f"项目{i}" for i in range(n_prog)],
                C.kind: prog_kinds,
                C.sponsor: np.where(prog_kinds == "order_class", rng.choice(ent_ids, n_prog), ""),
                C.cohort_year: rng.integers(2023, 2027, n_prog),
                C.skills: _pick_lists(rng, skill_ids, n_prog, 3, 8),
            }
        ),
        "graduates": pd.DataFrame(
            {
                C.graduate: grad_ids,
                C.program: rng.choice(prog_ids, n_grad),
                C.education: rng.choice(EDUCATION_LEVELS, n_grad),
                C.major: rng.choice(["微电子技术", "电子信息工程", "机电一体化"], n_grad),
                C.skills: _pick_lists(rng, skill_ids, n_grad, 2, 8),
                C.preferred_districts: _pick_lists(rng, np.array(DISTRICTS), n_grad, 0, 2),
                C.available_from: pd.Timestamp("2026-06-30").strftime("%Y-%m-%d"),
                C.status: rng.choice(GRADUATE_STATUSES, n_grad, p=[0.8, 0.15, 0.05]),
            }
        ),
    }
    salary_min = rng.integers(4, 12, n_vac) * 1000
    posted = pd.Timestamp("2025-06-01") + pd.to_timedelta(rng.integers(0, 300 * 86400, n_vac), unit="s")
    frames["vacancies"] = pd.DataFrame(
        {
            C.vacancy: vac_ids,
            C.enterprise: rng.choice(ent_ids, n_vac),
            C.title: [f"岗位{i}" for i in range(n_vac)],
            C.role: rng.choice(["technician", "process_engineer", "test_engineer"], n_vac),
            C.required_skills: [";".join(s) for s in np.split(rng.choice(skill_ids, 2 * n_vac), n_vac)],
            C.preferred_skills: "",
            C.min_education: rng.choice(EDUCATION_LEVELS[:3], n_vac),
            C.district: rng.choice(DISTRICTS, n_vac),
            C.headcount: rng.integers(1, 10, n_vac),
            C.salary_min: salary_min,
            C.salary_max: salary_min + rng.integers(0, 5, n_vac) * 1000,
            C.posted_at: posted.strftime("%Y-%m-%dT%H:%M:%S"),
            C.closes_at: "",
            C.status: rng.choice(VACANCY_STATUSES, n_vac, p=[0.7, 0.2, 0.1]),
            C.description: "负责工艺，熟悉SPC",
        }
    )
    # A required list may repeat a skill when drawn with replacement; keep it valid.
    frames["vacancies"][C.required_skills] = [
        ";".join(dict.fromkeys(v.split(";"))) for v in frames["vacancies"][C.required_skills]
    ]
    seconds = rng.integers(0, 365 * 86400, interactions)
    frames["interactions"] = pd.DataFrame(
        {
            C.graduate: rng.choice(grad_ids, interactions),
            C.vacancy: rng.choice(vac_ids, interactions),
            C.event: rng.choice(EVENTS, interactions),
            C.occurred_at: (pd.Timestamp("2025-06-01") + pd.to_timedelta(seconds, unit="s")).strftime(
                "%Y-%m-%dT%H:%M:%S"
            ),
        }
    ).drop_duplicates()
    directory.mkdir(parents=True, exist_ok=True)
    for entity, frame in frames.items():
        frame.to_csv(directory / BUNDLE_FILES[entity], index=False, lineterminator="\n")
    return {entity: len(frame) for entity, frame in frames.items()}


def _postgres_engine() -> tuple[Engine, Engine, str] | None:
    try:
        admin = make_engine(POSTGRES_URL)
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001
        return None
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(f"{POSTGRES_URL}?options=-csearch_path%3D{schema}")
    return engine, admin, schema


def _timed(call: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, wall seconds, CPU seconds of this process).

    On a shared machine the wall time includes waiting for a core; the CPU time is what the step
    costs here (for PostgreSQL, the server's own work is not in it).
    """
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def _time_store(name: str, engine: Engine, data: Any, export_dir: Path) -> dict[str, Any]:
    upgrade(engine)

    def run_import() -> Any:
        with transaction(engine) as session:
            return import_market(session=session, data=data)

    def run_load() -> Any:
        with transaction(engine) as session:
            return load_market(session=session)

    report, first, first_cpu = _timed(run_import)
    again, second, second_cpu = _timed(run_import)
    loaded, load, load_cpu = _timed(run_load)
    _, export, export_cpu = _timed(lambda: write_bundle(loaded, export_dir))
    assert not again.changed, "re-import changed the store"
    assert loaded.counts() == data.counts(), (loaded.counts(), data.counts())
    return {
        "store": name,
        "import_s": round(first, 2),
        "import_cpu_s": round(first_cpu, 2),
        "reimport_s": round(second, 2),
        "reimport_cpu_s": round(second_cpu, 2),
        "load_market_s": round(load, 2),
        "load_market_cpu_s": round(load_cpu, 2),
        "export_s": round(export, 2),
        "export_cpu_s": round(export_cpu, 2),
        "added_interactions": report.added["interactions"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL even if reachable")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        bundle = Path(tmp) / "bundle"
        counts, generate, generate_cpu = _timed(
            lambda: synthetic_bundle(bundle, args.interactions, args.seed)
        )
        data, read, read_cpu = _timed(lambda: read_bundle(bundle))
        rows: list[dict[str, Any]] = [
            {"step": "generate bundle", "seconds": round(generate, 2), "cpu_seconds": round(generate_cpu, 2)},
            {"step": "read + validate", "seconds": round(read, 2), "cpu_seconds": round(read_cpu, 2)},
        ]
        stores = []
        sqlite = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        try:
            stores.append(_time_store("sqlite", sqlite, data, Path(tmp) / "export-sqlite"))
        finally:
            sqlite.dispose()
        postgres = None if args.no_postgres else _postgres_engine()
        if postgres is not None:
            engine, admin, schema = postgres
            try:
                stores.append(_time_store("postgresql", engine, data, Path(tmp) / "export-postgresql"))
            finally:
                engine.dispose()
                with admin.begin() as connection:
                    connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
    print_table(f"Bundle with {counts['interactions']:,} interactions ({counts})", rows)
    print_table("Import into the store", stores)
    load = os.getloadavg()[0]
    print(f"\npeak memory {peak_rss_mb():.0f} MiB; load average {load:.1f} on {os.cpu_count()} cores")
    path = write_result(
        "import",
        {
            "counts": counts,
            "read_validate_s": round(read, 2),
            "read_validate_cpu_s": round(read_cpu, 2),
            "stores": stores,
            "peak_rss_mb": round(peak_rss_mb()),
            # The machine is shared: a load far above the core count means the times are inflated.
            "load_average_at_end": [round(x, 1) for x in os.getloadavg()],
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()


def _import_once(name: str, engine: Engine, data: Any) -> dict[str, Any]:
    upgrade(engine)
    start = time.perf_counter()
    with transaction(engine) as session:
        report = import_market(session=session, data=data)
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    with transaction(engine) as session:
        load_market(session=session)
    load = time.perf_counter() - start
    interactions = report.added["interactions"]
    return {
        "store": name,
        "interactions": interactions,
        "import_s": round(seconds, 2),
        "s_per_1m_interactions": round(seconds * 1e6 / max(interactions, 1), 1),
        "load_market_s": round(load, 2),
    }


def run_demo(bench: Any) -> dict[str, Any]:
    """The scale's demo bundle: read + validate, import into a fresh SQLite store (kept for the HTTP
    benchmark) and into PostgreSQL (a throw-away schema) when reachable."""
    data = bench.data()  # generates and caches the bundle on first use
    start = time.perf_counter()
    data = read_bundle(bench.bundle_dir)
    read = time.perf_counter() - start
    bench._data = data
    store = bench.store_path
    store.parent.mkdir(parents=True, exist_ok=True)
    store.unlink(missing_ok=True)
    store.with_suffix(".ready").unlink(missing_ok=True)
    stores = []
    sqlite = make_engine(f"sqlite:///{store.resolve()}")
    try:
        stores.append(_import_once("sqlite", sqlite, data))
    finally:
        sqlite.dispose()
    store.with_suffix(".ready").touch()
    postgres = _postgres_engine()
    if postgres is not None:
        engine, admin, schema = postgres
        try:
            stores.append(_import_once("postgresql", engine, data))
        finally:
            engine.dispose()
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    print_table(
        f"Import of the {bench.scale} demo bundle ({data.counts()}); read + validate {read:.1f} s", stores
    )
    payload = {
        "counts": data.counts(),
        "read_validate_s": round(read, 2),
        "stores": stores,
        "target": {"sqlite_s_per_1m_interactions": 60},
    }
    bench.write("import", payload)
    return payload
