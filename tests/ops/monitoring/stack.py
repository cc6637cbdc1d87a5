"""Real processes on loopback for the monitoring tests: ``posboxless serve --simulate`` and
Debian's Prometheus as scraper, remote-write receiver and agent. Nothing listens beyond
127.0.0.1 and nothing is sent anywhere else."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx

T = TypeVar("T")
WAIT = 120.0
"""Upper bound of every wait (a slow shared CI machine); each returns as soon as it can."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = WAIT) -> T:
    """Poll ``probe`` until it returns something truthy; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = probe()
        except (httpx.HTTPError, OSError) as exc:
            last_error = exc
            result = None
        if result:
            return result
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what} (last error: {last_error})")


class Process:
    def __init__(self, name: str, command: list[str], log: Path, **kwargs: Any) -> None:
        self.name, self.command, self.log = name, command, log
        self.kwargs = kwargs
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        handle = self.log.open("ab")
        self.popen = subprocess.Popen(
            self.command, stdout=handle, stderr=subprocess.STDOUT, **self.kwargs
        )
        handle.close()
        return self

    def stop(self) -> None:
        popen, self.popen = self.popen, None
        if popen is None or popen.poll() is not None:
            return
        popen.send_signal(signal.SIGTERM)
        try:
            popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait(timeout=10)

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def tail(self) -> str:
        with contextlib.suppress(OSError):
            return self.log.read_text("utf-8", "replace")[-3000:]
        return ""


@contextlib.contextmanager
def running(*processes: Process) -> Iterator[None]:
    try:
        for process in processes:
            process.start()
        yield
    finally:
        for process in reversed(processes):
            process.stop()


def posboxless_simulated(tmp: Path, port: int, https_port: int = 0) -> Process:
    command = [
        sys.executable, "-m", "posboxless", "serve", "--simulate", "--host", "127.0.0.1",
        "--http-port", str(port), "--https-port", str(https_port), "--data-dir",
        str(tmp / "data"),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return Process("posboxless", command, tmp / "posboxless.log", env=env)


def wait_until_serving(process: Process, base: str) -> str:
    def up() -> str | None:
        assert process.alive(), process.tail()
        response = httpx.get(f"{base}/metrics", timeout=5)
        return response.text if response.status_code == 200 else None

    return wait_for("posboxless /metrics", up)


class PromApi:
    """The HTTP query API of one Prometheus."""

    def __init__(self, base: str, **client: Any) -> None:
        self.base = base
        self.client = client

    def query(self, expr: str) -> list[dict[str, Any]]:
        with httpx.Client(timeout=10, **self.client) as http:
            response = http.get(f"{self.base}/api/v1/query", params={"query": expr})
        response.raise_for_status()
        body = response.json()
        assert body["status"] == "success", body
        return list(body["data"]["result"])

    def ready(self) -> bool:
        with httpx.Client(timeout=5, **self.client) as http:
            return http.get(f"{self.base}/-/ready").status_code == 200
