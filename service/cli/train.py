"""Model commands: ``train``, ``evaluate``, ``models``."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    pass
