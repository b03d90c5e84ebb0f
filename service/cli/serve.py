"""``talentmatch serve``."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("serve", help="serve the API and web pages")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service.cli.data import upgrade_store
    from service.settings import get_settings

    upgrade_store(get_settings())
    uvicorn.run(
        "service.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="info",
        # The app's own access log (talentmatch.access) has request id, route template, key id and latency,
        # and no query strings or client addresses; uvicorn's would add both.
        access_log=False,
    )
    return 0
