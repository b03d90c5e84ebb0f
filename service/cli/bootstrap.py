"""``talentmatch bootstrap``: what ``make run`` does before serving.

Migrates the store; when it holds no graduates and no vacancies, builds the demo world and imports
it; trains and promotes a first model when none is current; when there are no API keys, creates demo
keys (admin, one HR user, one school officer), prints them and keeps them in a file only the owner
can read.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.settings import Settings, get_settings
from service.store.session import make_engine, make_sessionmaker, transaction
from service.store.tables import ApiKey, Graduate, Program, Vacancy

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bootstrap", help="first-run setup: migrate, demo data if empty, first model, demo keys"
    )
    parser.add_argument("--scale", choices=("small", "medium", "large"), default="small")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keys-file", type=Path, default=Path("var/demo-keys.txt"))
    parser.set_defaults(handler=run_bootstrap)


def run_bootstrap(args: argparse.Namespace) -> int:
    from service.cli.data import upgrade_store

    settings = get_settings()
    upgrade_store(settings)
    engine = make_engine(settings.database_url)
    try:
        with make_sessionmaker(engine)() as session:
            empty = _store_is_empty(session)
        if empty:
            _import_demo(engine, scale=args.scale, seed=args.seed)
        else:
            print("store already holds data; demo data not imported")
        _ensure_model(settings)
        with make_sessionmaker(engine)() as session:
            has_keys = bool(session.scalar(select(func.count()).select_from(ApiKey)))
        if not has_keys:
            _create_demo_keys(engine, args.keys_file)
        else:
            print(f"API keys exist already (demo keys, if made here, are in {args.keys_file})")
    finally:
        engine.dispose()
    return 0


def _store_is_empty(session: Session) -> bool:
    graduates = session.scalar(select(func.count()).select_from(Graduate))
    vacancies = session.scalar(select(func.count()).select_from(Vacancy))
    return not graduates and not vacancies


def _import_demo(engine, *, scale: str, seed: int) -> None:  # type: ignore[no-untyped-def]
    from models.bundle import read_bundle
    from service.store.market import import_market
    from training.demo import write_demo_bundle

    with tempfile.TemporaryDirectory(prefix="talentmatch-demo-") as directory:
        print(f"building the {scale} demo world (seed {seed}) ...")
        write_demo_bundle(directory, scale, seed)
        data = read_bundle(directory)
        with transaction(engine) as session:
            report = import_market(session=session, data=data)
    print("imported the demo world:")
    for line in report.lines():
        print("  " + line)


def _ensure_model(settings: Settings) -> bool:
    from service.retrain import ensure_model
    from training.lock import LockBusy
    from training.pipeline import TrainingError

    print("checking for a current model ...")
    try:
        trained = ensure_model(settings)
    except LockBusy as error:
        print(f"a train is already running ({error}); serving without waiting for it", file=sys.stderr)
        return False
    except TrainingError as error:
        print(f"no model could be trained: {error}", file=sys.stderr)
        print(
            "the service starts anyway and ranks by the keyword matcher (skills held)"
            " until a model is promoted"
        )
        return False
    if trained:
        print("trained and promoted a first model")
    else:
        print("a verified current model exists; not retraining")
    return True


def _create_demo_keys(engine, keys_file: Path) -> None:  # type: ignore[no-untyped-def]
    from service.store.api_keys import create_api_key

    with transaction(engine) as session:
        order_class = session.scalars(
            select(Program).where(Program.kind == "order_class").order_by(Program.program_id)
        ).first()
        specs: list[tuple[str, str | None, str | None]]
        if order_class is None or order_class.sponsor_enterprise_id is None:
            print("no order-based class in the store; only an admin key is created", file=sys.stderr)
            specs = [("admin", None, None)]
        else:
            specs = [
                ("admin", None, None),
                ("hr", order_class.sponsor_enterprise_id, None),
                ("school", None, order_class.school_id),
            ]
        lines = []
        for role, enterprise_id, school_id in specs:
            _, plaintext = create_api_key(
                session=session,
                role=role,
                enterprise_id=enterprise_id,
                school_id=school_id,
                name=f"demo {role}",
            )
            scope = enterprise_id or school_id or "all"
            lines.append(f"{role:<7} {scope:<12} {plaintext}")
    keys_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(keys_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a file that existed keeps its mode through O_CREAT
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("# demo API keys made by `talentmatch bootstrap` (role, scope, key)\n")
        handle.write("\n".join(lines) + "\n")
    print(f"demo API keys (also in {keys_file}); sign in at http://127.0.0.1:8000 with one of them:")
    for line in lines:
        print("  " + line)
