"""API key commands: ``apikey create|list|revoke``, as the operator through :mod:`service.usecases.admin`.

``create`` prints the new key as the last line of its output, once; only a salted hash is stored.
Revoking a key also ends its signed-in web sessions.
"""

from __future__ import annotations

import argparse
import sys

from service.cli.context import operator_context
from service.store.api_keys import ROLES, InvalidKeyRequest
from service.usecases import admin

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

    revoke = sub.add_parser("revoke", help="revoke a key by its id (its web sessions end too)")
    revoke.add_argument("key_id", metavar="KEY_ID")
    revoke.set_defaults(handler=run_revoke)


def run_create(args: argparse.Namespace) -> int:
    try:
        with operator_context() as ctx:
            created = admin.create_key(
                ctx, role=args.role, enterprise_id=args.enterprise, school_id=args.school, name=args.name
            )
    except InvalidKeyRequest as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    key = created.info
    print(f"created {key.role} key {key.key_id} (scope: {key.scope}); it is shown once, store it now:")
    print(created.plaintext)
    return EXIT_OK


def run_list(args: argparse.Namespace) -> int:
    with operator_context() as ctx:
        rows = [
            (k.key_id, k.name or "-", k.role, k.scope, k.created_at, k.revoked_at or "-")
            for k in admin.list_keys(ctx)
        ]
    header = ("key_id", "name", "role", "scope", "created", "revoked")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return EXIT_OK


def run_revoke(args: argparse.Namespace) -> int:
    try:
        with operator_context() as ctx:
            admin.revoke_key(ctx, args.key_id)
    except admin.UnknownKey:
        print(f"error: no key with id {args.key_id!r}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"revoked key {args.key_id} (its web sessions are ended)")
    return EXIT_OK
