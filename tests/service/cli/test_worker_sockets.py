"""The sockets of ``talentmatch serve --workers N``: one per worker on one port, and none on a taken port."""

from __future__ import annotations

import socket

import pytest

from service.cli.workers import worker_sockets


def test_one_socket_per_worker_on_the_same_port() -> None:
    sockets = worker_sockets("127.0.0.1", 0, 3, backlog=16)
    try:
        ports = {sock.getsockname()[1] for sock in sockets}
        assert len(sockets) == 3 and len(ports) == 1
        assert all(sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) for sock in sockets)
        with socket.create_connection(("127.0.0.1", ports.pop()), timeout=5):
            pass  # the kernel hands it to one of them
    finally:
        for sock in sockets:
            sock.close()


def test_a_port_another_server_listens_on_is_refused() -> None:
    first = worker_sockets("127.0.0.1", 0, 2, backlog=16)  # e.g. a talentmatch serve still running
    port = first[0].getsockname()[1]
    try:
        with pytest.raises(OSError):
            worker_sockets("127.0.0.1", port, 2, backlog=16)
        with socket.socket() as plain:  # and a plain server on it
            plain.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            with pytest.raises(OSError):
                plain.bind(("127.0.0.1", port))
    finally:
        for sock in first:
            sock.close()
    with socket.socket() as plain:
        plain.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        plain.bind(("127.0.0.1", 0))
        plain.listen(1)
        with pytest.raises(OSError):
            worker_sockets("127.0.0.1", plain.getsockname()[1], 2, backlog=16)
