"""Which routes a path belongs to, without routing the request: for the access log of a request refused
before routing (its route template, never the raw path) and for the ``Allow`` header of a 405."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi.routing import iter_route_contexts
from starlette.routing import Mount, compile_path

UNMATCHED = "<unmatched>"


def _routes_for(app: Any, path: str) -> Iterator[tuple[str, set[str]]]:
    """``(template, methods)`` of every route (or mount) whose template matches ``path``."""
    for context in iter_route_contexts(getattr(app, "routes", ())):
        template = context.path
        if not template:
            continue
        pattern = (
            template.rstrip("/") + "/{path:path}" if isinstance(context.original_route, Mount) else template
        )
        regex, _, _ = compile_path(pattern)
        if regex.match(path):
            yield template, set(context.methods or ())


def route_template(app: Any, path: str) -> str:
    """The template of the first route matching ``path`` (``/api/v1/graduates/{graduate_id}``), else
    ``<unmatched>``."""
    return next((template for template, _ in _routes_for(app, path)), UNMATCHED)


def allowed_methods(app: Any, path: str) -> list[str]:
    """Every method some route of ``path`` answers (a path may have one route per method)."""
    return sorted(set().union(*(methods for _, methods in _routes_for(app, path))))
