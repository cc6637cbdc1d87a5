"""Connection floods against the real ``posboxless serve`` (a subprocess with a low descriptor
limit): idle and slow connections cannot lock the POS out, held requests keep being served, and the
log stays short."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from posboxless.web.connections import ConnectionGuard, fd_budget
from tests.helpers import wait_until

FD_LIMIT = 256
IDLE_CONNECTIONS = 2000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _low_fd_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (FD_LIMIT, FD_LIMIT))


@contextlib.contextmanager
def serve(tmp_path: Path, config: str = "") -> Iterator[tuple[int, Path]]:
    port = _free_port()
    config_file = tmp_path / "config.toml"
    config_file.write_text(f"[server]\n{config}\n")
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "posboxless",
                "serve",
                "--config",
                str(config_file),
                "--http-port",
                str(port),
                "--https-port",
                "0",
                "--data-dir",
                str(tmp_path / "data"),
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, "HOME": str(tmp_path)},
            preexec_fn=_low_fd_limit,
        )
        try:
            deadline = time.monotonic() + 30
            while not _hello(port, timeout=2):
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError(log_path.read_text())
                time.sleep(0.1)
            yield port, log_path
        finally:
            process.terminate()
            process.wait(timeout=20)


def _hello(port: int, timeout: float = 10) -> bool:
    try:
        url = f"http://127.0.0.1:{port}/hw_proxy/hello"
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return bool(r.read() == b"ping")
    except OSError:
        return False


def _scanner_polls_waiting(port: int) -> int:
    url = f"http://127.0.0.1:{port}/api/diagnostics"
    with urllib.request.urlopen(url, timeout=10) as r:
        devices = json.loads(r.read())["devices"]
    return sum(int(d["details"]["waiting_polls"]) for d in devices if d["kind"] == "scanner")


def _scanner_long_poll(port: int, answers: list[object]) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/hw_proxy/scanner",
        data=json.dumps({"jsonrpc": "2.0", "method": "call", "params": {}, "id": 1}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            answers.append(json.loads(r.read()))
    except OSError as exc:
        answers.append(exc)


def test_idle_connections_cannot_lock_the_pos_out(tmp_path: Path) -> None:
    with serve(tmp_path) as (port, log_path):
        held: list[object] = []
        poll = threading.Thread(target=_scanner_long_poll, args=(port, held))
        poll.start()
        # In progress means the server has it: a request still unread when the flood reaches the
        # limit is indistinguishable from an idle connection and may be closed to make room.
        assert wait_until(lambda: _scanner_polls_waiting(port) > 0)
        idle: list[socket.socket] = []
        try:
            for i in range(IDLE_CONNECTIONS):
                sock = socket.socket()
                sock.setblocking(False)
                with contextlib.suppress(BlockingIOError):
                    sock.connect(("127.0.0.1", port))
                idle.append(sock)
                if i % 250 == 0:
                    assert _hello(port), f"hello failed with {i} idle connections"
            for _ in range(5):
                assert _hello(port), "hello failed after the flood"
            poll.join(timeout=60)
            # A request in progress during the flood was not cut.
            assert held and isinstance(held[0], dict), held
            assert held[0]["result"] == ""
        finally:
            for sock in idle:
                sock.close()
        assert _hello(port)
        # The summary is written at most every 5 s: wait for it.
        deadline = time.monotonic() + 30
        while "to make room" not in log_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        log = log_path.read_text()
    lines = log.splitlines()
    assert len(lines) < 60, log[-5000:]
    assert "to make room" in log
    assert "Traceback" not in log


def test_slow_headers_and_bodies_are_cut(tmp_path: Path) -> None:
    settings = "header_timeout = 1.0\nbody_timeout = 1.0\n"
    with serve(tmp_path, settings) as (port, log_path):
        slow_headers = socket.create_connection(("127.0.0.1", port))
        slow_headers.sendall(b"POST /hw_proxy/handshake HTTP/1.1\r\nHost: localhost\r\n")
        silent = socket.create_connection(("127.0.0.1", port))
        slow_body = socket.create_connection(("127.0.0.1", port))
        slow_body.sendall(
            b"POST /hw_proxy/print_xml_receipt HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
        )
        for sock in (slow_headers, silent, slow_body):
            sock.settimeout(30)
            with sock:  # the server closes it: EOF, not our timeout
                assert sock.recv(1000) == b""
        assert _hello(port)
        log = log_path.read_text()
    assert "request body stopped arriving" in log
    assert "Traceback" not in log


def test_the_connection_budget_stays_under_the_descriptor_limit() -> None:
    assert fd_budget(256) == 192
    assert fd_budget(1024) == 768
    assert fd_budget(4096) == 3072


class _Fake:
    def __init__(self, served: int, phase: str) -> None:
        self._served = served
        self._phase = phase
        self.closed = False

    def never_served(self) -> bool:
        return self._served == 0 and self._phase in ("request", "headers")

    def is_idle(self) -> bool:
        return self._phase == "request"

    def close_idle(self) -> None:
        self.closed = True


def test_room_is_made_from_unused_then_idle_connections_never_busy_ones() -> None:
    guard = ConnectionGuard(3, 10, 10)
    busy = _Fake(1, "app")
    kept_alive = _Fake(2, "request")
    unused = _Fake(0, "request")
    for fake in (busy, kept_alive, unused):
        assert guard.admit(fake)  # type: ignore[arg-type]
    newcomer = _Fake(0, "request")
    assert guard.admit(newcomer)  # type: ignore[arg-type]
    assert unused.closed and not kept_alive.closed and not busy.closed
    assert guard.admit(_Fake(0, "request"))  # type: ignore[arg-type]
    assert newcomer.closed and not kept_alive.closed  # the unused go first, oldest first
    assert guard.closed_for_room == 2


def test_when_every_connection_is_busy_the_new_one_is_refused() -> None:
    guard = ConnectionGuard(2, 10, 10)
    for _ in range(2):
        assert guard.admit(_Fake(1, "app"))  # type: ignore[arg-type]
    assert not guard.admit(_Fake(0, "request"))  # type: ignore[arg-type]
    assert guard.refused == 1


@pytest.mark.parametrize("n", [1, 50])
def test_accept_failures_are_reported_once_per_period(
    n: int, caplog: pytest.LogCaptureFixture
) -> None:
    guard = ConnectionGuard(10, 10, 10, clock=lambda: 100.0)
    for _ in range(n):
        guard.accept_failed(OSError(24, "Too many open files"))
    guard.report()
    lines = [r.getMessage() for r in caplog.records if "file descriptors" in r.getMessage()]
    assert len(lines) <= 2
    assert sum(int(line.split("could not accept ")[1].split()[0]) for line in lines) == n
