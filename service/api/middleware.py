"""ASGI middleware: request ids with an access log, and the request body size limit.

The access log carries request id, method, route template, status, key id and latency — never a
key, a raw path, a query string or a body, so no personal data (a graduate id in a path) reaches the logs.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.errors import error_body
from service.api.route_match import UNMATCHED, route_template

access_log = logging.getLogger("talentmatch.access")
REQUEST_ID_HEADER = b"x-request-id"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContextMiddleware:
    """Give every request an id (``X-Request-ID``, taken from the client when it is safe) and log it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = ""
        for name, value in scope.get("headers", []):
            if name == REQUEST_ID_HEADER:
                candidate = value.decode("latin-1")
                if _SAFE_REQUEST_ID.match(candidate):
                    request_id = candidate
                break
        request_id = request_id or uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER, request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            access_log.info(
                "request_id=%s method=%s route=%s status=%d key=%s ms=%.1f",
                request_id,
                scope.get("method", "-"),
                _route(scope),
                status,
                scope.get("state", {}).get("key_id", "-"),
                (time.perf_counter() - started) * 1000.0,
            )


def _route(scope: Scope) -> str:
    """The route template that served the request; for one refused before routing (a 413), the template
    its path matches. Never the raw path."""
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str) and path:
        return path
    if "app" not in scope:
        return UNMATCHED
    return route_template(scope["app"], scope.get("path", ""))


class BodySizeLimitMiddleware:
    """Answer 413 in the API's error shape when a request body is larger than ``max_bytes``.

    A declared ``Content-Length`` over the limit is refused before reading; otherwise the body is
    read (at most ``max_bytes`` + one chunk) and replayed to the app.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await self._refuse(send, "Content-Length is not a number", status=400, code="bad_request")
                    return
                if declared > self.max_bytes:
                    await self._refuse(send)
                    return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(
        self, send: Send, message: str | None = None, *, status: int = 413, code: str = "payload_too_large"
    ) -> None:
        text = message or f"the request body is larger than {self.max_bytes} bytes"
        payload: Any = error_body(code, text, [{"limit_bytes": self.max_bytes}] if status == 413 else [])
        body = json.dumps(payload).encode("utf-8")
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
