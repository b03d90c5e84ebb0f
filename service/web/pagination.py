"""Page numbers from the query string and previous/next links."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode


def page_number(raw: str | None) -> int:
    try:
        return max(1, min(int(raw or 1), 10_000))
    except ValueError:
        return 1


def pager(total: int, page: int, size: int, params: dict[str, str]) -> dict[str, Any]:
    first = (page - 1) * size + 1 if total else 0
    last = min(page * size, total)
    keep = {k: v for k, v in params.items() if v}

    def link(number: int) -> str:
        return "?" + urlencode({**keep, "page": str(number)})

    return {
        "first": first,
        "last": last,
        "total": total,
        "prev": link(page - 1) if page > 1 else None,
        "next": link(page + 1) if last < total else None,
    }
