"""The lean load generator against a real HTTP/1.1 server on loopback (the standard library's)."""

from __future__ import annotations

import statistics
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from benchmarks import loadgen
from tests.asyncio_thread import run_coroutine


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # kept-alive connections
    seen: list[tuple[str, str | None]] = []

    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        _Handler.seen.append((self.path, self.headers.get("Authorization")))
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b'{"a": ', b"1}"):
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/close":
            body = b"bye"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True
        else:
            body = b'{"items": []}' if self.path == "/ok" else b"missing"
            self.send_response(200 if self.path == "/ok" else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _Handler.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _run(base: str, paths: list[str], **kwargs: object) -> dict:
    options = {"clients": 3, "seconds": 30.0, "max_requests": 60, **kwargs}
    return run_coroutine(loadgen.load(base, {"Authorization": "Bearer k"}, paths, **options))  # type: ignore[arg-type]


def test_counts_every_request_and_sends_the_headers(server: str) -> None:
    result = _run(server, ["/ok", "/chunked", "/close"])
    assert result["requests"] == 60
    assert result["errors"] == 0, result["error_kinds"]
    assert len(_Handler.seen) == 60
    assert {path for path, _ in _Handler.seen} == {"/ok", "/chunked", "/close"}
    assert {auth for _, auth in _Handler.seen} == {"Bearer k"}
    assert result["requests_per_s"] > 0 and result["p99_ms"] >= result["p50_ms"] > 0
    assert result["client_cpu_ms_per_request"] is not None


def test_non_200_answers_are_errors_by_status(server: str) -> None:
    result = _run(server, ["/ok", "/missing"], max_requests=40, seed=3)
    missing = sum(1 for path, _ in _Handler.seen if path == "/missing")
    assert 0 < missing < 40
    assert result["errors"] == missing
    assert result["error_kinds"] == {"404": missing}


def test_a_refused_connection_is_an_error_not_a_crash() -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = _run(f"http://127.0.0.1:{port}", ["/ok"], clients=2, max_requests=4)
    assert result["requests"] == 4
    assert result["errors"] == 4
    assert set(result["error_kinds"]) <= {"ConnectionRefusedError", "OSError"}


def test_the_httpx_generator_reports_the_same_figures(server: str) -> None:
    paths = ["/ok", "/missing"]
    lean = run_coroutine(loadgen.load(server, {}, paths, clients=2, seconds=30.0, max_requests=20))
    slow = run_coroutine(
        loadgen.load(server, {}, paths, clients=2, seconds=30.0, max_requests=20, client="httpx")
    )
    for result in (lean, slow):
        assert result["requests"] == 20 and result["clients"] == 2
        assert set(result["error_kinds"]) == {"404"}  # seeds 0 and 1 draw both paths
        assert result["client_cpu_ms_per_request"] is not None
    with pytest.raises(ValueError, match="client must be one of"):
        run_coroutine(loadgen.load(server, {}, paths, clients=1, seconds=1.0, max_requests=1, client="curl"))


def test_latencies_of_several_runs_pool_into_one_list(server: str) -> None:
    pooled: list[float] = []
    first = _run(server, ["/ok"], max_requests=20, samples=pooled)
    second = _run(server, ["/ok"], max_requests=30, samples=pooled)
    assert len(pooled) == 50 and first["requests"] == 20 and second["requests"] == 30
    assert second["n"] == 30 and second["mean_ms"] == round(statistics.fmean(pooled[20:]), 3)  # its own
