"""``talentmatch serve``.

With ``TALENTMATCH_ENV=production`` it refuses to start (exit 2) while a setting is at an insecure default
(the session secret); in development it warns and starts.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from service.settings import Settings, get_settings

log = logging.getLogger(__name__)

EXIT_BAD_INPUT = 2
APP = "service.app:create_app"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("serve", help="serve the API and web pages")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    # uvicorn's choices: "auto" takes httptools and uvloop (installed with the service) and falls back to
    # the pure-Python h11 parser and asyncio's loop.
    parser.add_argument("--http", choices=("auto", "h11", "httptools"), default="auto", help="HTTP parser")
    parser.add_argument("--loop", choices=("auto", "asyncio", "uvloop"), default="auto", help="event loop")
    parser.set_defaults(handler=run_serve)


def check_secure(settings: Settings) -> bool:
    """False (with the reason on stderr) when production would start with an insecure default."""
    insecure = settings.insecure_defaults
    if not insecure:
        return True
    names = ", ".join(insecure)
    if settings.env == "production":
        print(
            f"error: {names} is at its default value; TALENTMATCH_ENV=production needs a long random "
            'secret (e.g. python -c "import secrets; print(secrets.token_urlsafe(32))")',
            file=sys.stderr,
        )
        return False
    log.warning(
        "%s is at its default value: fine for development, refused with TALENTMATCH_ENV=production", names
    )
    return True


def run_serve(args: argparse.Namespace) -> int:
    settings = get_settings()
    if not check_secure(settings):
        return EXIT_BAD_INPUT
    import uvicorn

    from service.cli.data import upgrade_store
    from service.cli.workers import reuse_port_supported, run_workers

    upgrade_store(settings)
    options: dict[str, Any] = {
        "factory": True,
        "host": args.host,
        "port": args.port,
        "workers": args.workers,
        "http": args.http,
        "loop": args.loop,
        "log_level": "info",
        # The app's own access log (talentmatch.access) has request id, route template, key id and latency,
        # and no query strings or client addresses; uvicorn's would add both.
        "access_log": False,
    }
    if args.workers > 1 and reuse_port_supported():
        # One listening socket per worker (service.cli.workers): uvicorn's shared socket gives every
        # kept-alive connection to whichever worker wakes first.
        config = uvicorn.Config(APP, **options)
        run_workers(config)
    else:
        uvicorn.run(APP, **options)
    return 0
