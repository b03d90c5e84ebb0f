"""Domain errors of the application layer: access and limits. The API maps them to 403 and 429, the pages
to their error pages; neither says more than the message here."""

from __future__ import annotations


class Forbidden(Exception):
    """The principal's role may never do this (a tenant's resource it may not see is a 404 instead)."""


class RateLimited(Exception):
    """Too many actions for one key in the last minute."""

    def __init__(self, retry_after: int, per_minute: int) -> None:
        super().__init__(f"too many requests for this key; retry in {retry_after} s")
        self.retry_after = retry_after
        self.per_minute = per_minute
        self.details = [{"limit_per_minute": per_minute}]
