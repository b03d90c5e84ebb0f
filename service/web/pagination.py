"""Page numbers from the query string and previous/next links."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

if TYPE_CHECKING:
    from service.matching import RankedPage


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


def floored_pager(page: RankedPage | None, number: int, size: int, params: dict[str, str]) -> dict[str, Any]:
    """The pager of a ranking split at the recommendation floor: the range counts this page's
    recommendations, and there is no next page once they end (the rest is "other graduates")."""
    if page is None or not page.recommended:
        return pager(0, number, size, params)
    links = pager(page.total, number, size, params)
    if page.ends_here:
        links["next"] = None
        links["last"] = page.offset + len(page.recommended)
    return links
