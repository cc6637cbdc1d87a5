"""Scanner benchmark: from a scanner event to the HTTP answer of ``/hw_proxy/scanner``.

The proxy runs as a separate process (``posboxless serve``) reading a serial scanner on a pty; this
process is the scanner (it writes ``<code>\\r`` to the pty master) and the POS clients (httpx
AsyncClient). Each client long-polls like an Odoo POS (re-polls at once after an answer); they use
distinct ``Origin`` headers so the proxy sees distinct clients. A barcode goes to exactly one of
them; its latency is the time from the write on the pty to the arrival of the HTTP answer carrying
it, whichever client gets it.

Scenarios, measured in the same run:
* ``1 poll``: one client waiting;
* ``100 idle + 1``: 101 clients waiting (the 100 idle long-polls of the issue);
* reference: ``hello`` round trip on a kept-alive connection (the HTTP floor of this machine), so
  the scanner figures can be read as a ratio to it.

    .venv/bin/python bench/bench_scanner.py [--samples 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from benchlib import free_port
from posboxless.scanner.simulator import PtySerialScanner

RESULTS = Path(__file__).parent / "results"
RPC = {"jsonrpc": "2.0", "method": "call", "params": {}, "id": 1}
TIME_LIMIT = 100.0  # seconds: the whole run stays under 2 minutes


@dataclass
class Run:
    name: str
    latencies: list[float] = field(default_factory=list)
    lost: int = 0
    duplicates: int = 0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        data = sorted(self.latencies)
        return data[min(len(data) - 1, int(q * len(data)))] * 1000


class Pollers:
    """``count`` POS-like clients long-polling the scanner endpoint."""

    def __init__(self, client: httpx.AsyncClient, url: str, count: int) -> None:
        self.client = client
        self.url = url
        self.count = count
        self.received: dict[str, float] = {}
        self.duplicates = 0
        self.arrived = asyncio.Event()
        self.errors = 0
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._poll(i)) for i in range(self.count)]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _poll(self, i: int) -> None:
        headers = {"Origin": f"http://pos{i}.bench.test"}
        while True:
            try:
                answer = await self.client.post(self.url, json=RPC, headers=headers)
                code = answer.json().get("result") or ""
            except httpx.HTTPError:
                self.errors += 1
                await asyncio.sleep(0.05)
                continue
            if code:
                if code in self.received:
                    self.duplicates += 1
                self.received[code] = time.perf_counter()
                self.arrived.set()


async def measure(
    name: str,
    client: httpx.AsyncClient,
    base: str,
    pty: PtySerialScanner,
    idle: int,
    samples: int,
    deadline: float,
) -> Run:
    run = Run(name)
    pollers = Pollers(client, f"{base}/hw_proxy/scanner", idle + 1)
    pollers.start()
    await asyncio.sleep(1.0 + idle * 0.01)  # let every poll reach the server and park
    rng = random.Random(7)
    for i in range(samples):
        if time.monotonic() > deadline:
            break
        code = f"{name[:1]}{i:012d}"
        pollers.arrived.clear()
        sent = time.perf_counter()
        pty.scan(code)
        try:
            while code not in pollers.received:
                await asyncio.wait_for(pollers.arrived.wait(), 2.0)
                pollers.arrived.clear()
        except asyncio.TimeoutError:
            run.lost += 1
            continue
        run.latencies.append(pollers.received[code] - sent)
        await asyncio.sleep(rng.uniform(0.005, 0.02))
    run.duplicates = pollers.duplicates
    await pollers.stop()
    return run


async def hello_floor(client: httpx.AsyncClient, base: str, samples: int) -> Run:
    run = Run("hello (HTTP floor)")
    for _ in range(samples):
        started = time.perf_counter()
        await client.post(f"{base}/hw_proxy/hello", json=RPC)
        run.latencies.append(time.perf_counter() - started)
    return run


async def wait_ready(client: httpx.AsyncClient, base: str, server: subprocess.Popen[bytes]) -> None:
    for _ in range(200):
        if server.poll() is not None:
            raise SystemExit(f"the proxy exited early with code {server.returncode}")
        try:
            status = (await client.post(f"{base}/hw_proxy/status_json", json=RPC)).json()
            if status["result"]["scanner"]["status"] == "connected":
                return
        except (httpx.HTTPError, KeyError, TypeError, ValueError):
            pass
        await asyncio.sleep(0.05)
    raise SystemExit("the proxy did not report the scanner as connected")


async def main_async(samples: int) -> list[Run]:
    started = time.monotonic()
    pty = PtySerialScanner(suffix=b"\r")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="bench-scanner-") as tmp:
        config = Path(tmp) / "config.toml"
        config.write_text(f'[[scanner]]\nname = "bench"\ntype = "serial"\ndevice = "{pty.path}"\n')
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "posboxless"), "serve",
                "--config", str(config), "--host", "127.0.0.1", "--http-port", str(port),
                "--https-port", "0", "--data-dir", tmp, "--log-level", "warning",
            ],
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        limits = httpx.Limits(max_connections=300, max_keepalive_connections=300)
        try:
            async with httpx.AsyncClient(limits=limits, timeout=10.0) as client:
                await wait_ready(client, base, server)
                deadline = started + TIME_LIMIT
                runs = [await hello_floor(client, base, samples)]
                runs.append(await measure("1 poll", client, base, pty, 0, samples, deadline))
                runs.append(
                    await measure("100 idle + 1", client, base, pty, 100, samples, deadline)
                )
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
            pty.close()
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    runs = asyncio.run(main_async(args.samples))
    floor = runs[0]
    print(f"{'scenario':<22}{'n':>6}{'p50 ms':>10}{'p99 ms':>10}{'lost':>6}{'dup':>5}"
          f"{'p50/floor':>11}")  # fmt: skip
    for run in runs:
        ratio = run.pct(0.5) / floor.pct(0.5)
        print(
            f"{run.name:<22}{len(run.latencies):>6}{run.pct(0.5):>10.2f}{run.pct(0.99):>10.2f}"
            f"{run.lost:>6}{run.duplicates:>5}{ratio:>11.2f}"
        )
    one, many = runs[1], runs[2]
    print(f"p50 with 100 idle polls / p50 with one poll: {many.pct(0.5) / one.pct(0.5):.2f}")
    print(f"p99 with 100 idle polls / p99 with one poll: {many.pct(0.99) / one.pct(0.99):.2f}")
    RESULTS.mkdir(exist_ok=True)
    out = {
        run.name: {
            "n": len(run.latencies),
            "p50_ms": run.pct(0.5),
            "p99_ms": run.pct(0.99),
            "mean_ms": statistics.fmean(run.latencies) * 1000 if run.latencies else None,
            "lost": run.lost,
            "duplicates": run.duplicates,
        }
        for run in runs
    }
    (RESULTS / "bench_scanner.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
