"""Record the SQL statements any engine runs while a block runs (tests that check what a request asks)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


@contextmanager
def recorded_statements(keep: Callable[[str], bool]) -> Iterator[list[str]]:
    """The statements ``keep`` accepts (called in the thread that runs each), in order, on any engine."""
    seen: list[str] = []

    def listen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if keep(statement):
            seen.append(statement)

    event.listen(Engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", listen)
