"""Several uvicorn workers on one port, each with a listening socket of its own (``SO_REUSEPORT``).

uvicorn's own ``--workers`` binds one socket and hands it to every worker. The first worker woken accepts
every connection waiting, so kept-alive clients (a load balancer's upstream connections, an HR tool's
session) pile onto one worker while the others idle: measured on the medium world with 2 workers and 8
connections, one worker used 10.2 s of CPU in 10 s and the other 0.03 s, and two workers served no more than
one. Here each worker slot has its own socket bound to the same address with ``SO_REUSEPORT``, and the kernel
spreads new connections over the sockets; a worker that dies is replaced on its slot's socket (a socket left
without a worker would keep receiving its share of connections). Same supervision as uvicorn's
(:class:`uvicorn.supervisors.Multiprocess`: health checks, restart on death, SIGHUP restarts all, SIGINT and
SIGTERM stop), minus resizing with SIGTTIN/SIGTTOU.
"""

from __future__ import annotations

import logging
import socket

from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors.multiprocess import Multiprocess, Process

log = logging.getLogger("uvicorn.error")


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def listening_socket(host: str, port: int, backlog: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` with ``SO_REUSEPORT``, listening and inheritable."""
    sock = socket.socket(family=_family(host))
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def worker_sockets(host: str, port: int, count: int, backlog: int) -> list[socket.socket]:
    """``count`` sockets on ``host:port`` (:func:`listening_socket`); OSError (address in use) when anything
    else listens there already, even another server's ``SO_REUSEPORT`` sockets: the port is first bound
    without the option, so a second ``talentmatch serve`` on a port fails as with one socket instead of
    silently sharing the connections with the first."""
    with socket.socket(family=_family(host)) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
        bound_port = probe.getsockname()[1]
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sockets.append(listening_socket(host, bound_port, backlog))
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def reuse_port_supported() -> bool:
    return hasattr(socket, "SO_REUSEPORT")


class ReusePortWorkers(Multiprocess):
    """``config.workers`` worker processes, worker ``i`` accepting on ``slots[i]``."""

    def __init__(self, config: Config, slots: list[socket.socket]) -> None:
        super().__init__(config, sockets=[])
        self.slots = slots

    def init_processes(self) -> None:
        for sock in self.slots:
            process = Process(self.config, [sock])
            process.start()
            self.processes.append(process)

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        for idx, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()  # hung
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                log.error("Child process [%s] failed to start, stopping the parent process.", process.pid)
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            log.info("Child process [%s] died", process.pid)
            replacement = Process(self.config, [self.slots[idx]])
            replacement.start()
            self.processes[idx] = replacement

    def restart_all(self) -> None:
        """Each worker replaced by a new one on the same socket, the new one serving before the old goes."""
        for idx, old in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new = Process(self.config, [self.slots[idx]])
            new.start()
            if not new.wait_until_ready(self.config.timeout_worker_healthcheck, self.should_exit):
                new.kill()
                new.join()
                log.error("New child process [%s] was not ready in time; keeping [%s].", new.pid, old.pid)
                return
            old.terminate()
            old.join()
            self.processes[idx] = new

    def handle_ttin(self) -> None:
        log.info("Received SIGTTIN: the number of workers is fixed (talentmatch serve --workers).")

    def handle_ttou(self) -> None:
        log.info("Received SIGTTOU: the number of workers is fixed (talentmatch serve --workers).")


def run_workers(config: Config) -> None:
    """Serve ``config`` (an import string app) with ``config.workers`` processes, one socket each."""
    try:
        slots = worker_sockets(config.host, config.port, config.workers, config.backlog)
    except OSError as error:
        log.error("cannot listen on %s:%s: %s", config.host, config.port, error)
        raise SystemExit(STARTUP_FAILURE) from error
    log.info(
        "Uvicorn running on http://%s:%d, %d workers with a SO_REUSEPORT socket each (CTRL+C to quit)",
        config.host,
        config.port,
        config.workers,
    )
    try:
        ReusePortWorkers(config, slots).run()
    finally:
        for sock in slots:
            sock.close()
