"""What the benchmarks share: loopback ports, the real app served by uvicorn in a thread, the
arrival clock of a print job's last byte at the simulated printer, and percentile summaries.

The benchmarks import it as a sibling module (``python bench/bench_x.py`` puts ``bench/`` first
on ``sys.path``)."""

from __future__ import annotations

import asyncio
import socket
import statistics
import threading
import time
from typing import Any

from posboxless.printer.simulator import TcpPrinterSimulator


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def summarise(samples: list[float]) -> dict[str, float]:
    """Latencies in seconds → count, p50, p99 and max in milliseconds."""
    if not samples:
        return {"n": 0}
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {
        "n": len(samples),
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": p99 * 1000,
        "max_ms": ordered[-1] * 1000,
    }


def summary(samples: list[float]) -> tuple[float, float]:
    """``(p50, p99)`` of samples, in their own unit."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99


class ThreadedServer:
    """An ASGI app served by uvicorn on a free loopback port, in a thread of this process."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        wait_listening(self.port)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


class LastByteClock:
    """Times the arrival of a job's last bytes at the simulator (set from its thread)."""

    def __init__(self, sim: TcpPrinterSimulator) -> None:
        self.tail = b""
        self.previous = b""
        self.arrived = threading.Event()
        self.at = 0.0
        sim.printer.on_bytes = self._on_bytes

    def arm(self, tail: bytes) -> None:
        self.tail, self.at = tail, 0.0
        self.arrived.clear()

    def _on_bytes(self, data: bytes) -> None:
        combined = self.previous + data
        self.previous = combined[-64:]
        if self.tail and not self.arrived.is_set() and self.tail in combined:
            self.at = time.perf_counter()
            self.arrived.set()

    async def wait(self) -> float:
        if not await asyncio.to_thread(self.arrived.wait, 30):
            raise RuntimeError("the job never arrived at the simulator")
        return self.at
