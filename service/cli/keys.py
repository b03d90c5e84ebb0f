"""API key commands: ``apikey create|list|revoke``.

``create`` prints the new key as the last line of its output, once; only a salted hash is stored.
"""

from __future__ import annotations

import argparse
import sys

from service.settings import get_settings
from service.store.api_keys import ROLES, InvalidKeyRequest, create_api_key, list_api_keys, revoke_api_key
from service.store.session import make_engine, transaction

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("apikey", help="create, list and revoke API keys")
    sub = parser.add_subparsers(dest="apikey_command", required=True, metavar="ACTION")

    create = sub.add_parser("create", help="create a key and print it (shown once)")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--enterprise", metavar="ID", help="the enterprise an hr key is bound to")
    create.add_argument("--school", metavar="ID", help="the school a school key is bound to")
    create.add_argument("--name", default="", help="who or what the key is for")
    create.set_defaults(handler=run_create)

    listing = sub.add_parser("list", help="list keys (never the keys themselves)")
    listing.set_defaults(handler=run_list)

    revoke = sub.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id", metavar="KEY_ID")
    revoke.set_defaults(handler=run_revoke)


def run_create(args: argparse.Namespace) -> int:
    engine = make_engine(get_settings().database_url)
    try:
        with transaction(engine) as session:
            key, plaintext = create_api_key(
                session=session,
                role=args.role,
                enterprise_id=args.enterprise,
                school_id=args.school,
                name=args.name,
            )
            scope = key.enterprise_id or key.school_id or "all"
            key_id = key.key_id
    except InvalidKeyRequest as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        engine.dispose()
    print(f"created {args.role} key {key_id} (scope: {scope}); it is shown once, store it now:")
    print(plaintext)
    return EXIT_OK


def run_list(args: argparse.Namespace) -> int:
    engine = make_engine(get_settings().database_url)
    try:
        with transaction(engine) as session:
            rows = [
                (
                    k.key_id,
                    k.name or "-",
                    k.role,
                    k.enterprise_id or k.school_id or "all",
                    k.created_at.isoformat(timespec="seconds"),
                    k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else "-",
                )
                for k in list_api_keys(session=session)
            ]
    finally:
        engine.dispose()
    header = ("key_id", "name", "role", "scope", "created", "revoked")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return EXIT_OK


def run_revoke(args: argparse.Namespace) -> int:
    engine = make_engine(get_settings().database_url)
    try:
        with transaction(engine) as session:
            key = revoke_api_key(session=session, key_id=args.key_id)
            found = key is not None
    finally:
        engine.dispose()
    if not found:
        print(f"error: no key with id {args.key_id!r}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"revoked key {args.key_id}")
    return EXIT_OK
