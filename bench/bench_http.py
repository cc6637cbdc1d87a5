"""HTTP layer benchmark: posboxless against odoo-driver 3.1.1, side by side in the same run.

For ``hello``, ``status_json`` and ``scale_read`` at 1, 8 and 64 concurrent keep-alive clients it
reports p50/p99 latency and requests/s of both servers and their ratio; then ``hello`` p99 while 64
scanner long-polls are held open (odoo-driver has no scanner endpoint), and ``hello`` over HTTPS on
a kept-alive connection.

The client is a minimal HTTP/1.1 keep-alive client on asyncio streams: a heavyweight client library
would add its own overhead to every sample and compress the ratios. Both servers run as separate
processes started here; only loopback traffic.

    .venv/bin/python bench/bench_http.py [--seconds 1.5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from benchlib import free_port

RESULTS = Path(__file__).parent / "results"

RPC_BODY = b'{"jsonrpc":"2.0","method":"call","params":{},"id":1}'


def request_bytes(method: str, path: str, host: str) -> bytes:
    if method == "GET":
        return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(RPC_BODY)}\r\n\r\n"
    ).encode() + RPC_BODY


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


@dataclass
class Sample:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        data = sorted(self.latencies)
        return data[min(len(data) - 1, int(q * len(data)))] * 1000


async def _client(
    host: str, port: int, raw: bytes, stop: float, sample: Sample, tls: ssl.SSLContext | None
) -> None:
    reader, writer = await asyncio.open_connection(host, port, ssl=tls)
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            writer.write(raw)
            status = await read_response(reader)
            if status != 200:
                sample.errors += 1
            sample.latencies.append(time.perf_counter() - t0)
    finally:
        writer.close()


async def measure(
    host: str,
    port: int,
    method: str,
    path: str,
    clients: int,
    seconds: float,
    tls: ssl.SSLContext | None = None,
) -> Sample:
    raw = request_bytes(method, path, f"{host}:{port}")
    sample = Sample()
    # Warm-up: open the connections' code paths once.
    await _client(host, port, raw, time.perf_counter() + 0.1, Sample(), tls)
    t0 = time.perf_counter()
    stop = t0 + seconds
    await asyncio.gather(*(_client(host, port, raw, stop, sample, tls) for _ in range(clients)))
    sample.elapsed = time.perf_counter() - t0
    return sample


async def hold_long_polls(host: str, port: int, count: int) -> list[asyncio.StreamWriter]:
    raw = request_bytes("POST", "/hw_proxy/scanner", f"{host}:{port}")
    writers = []
    for _ in range(count):
        _, writer = await asyncio.open_connection(host, port)
        writer.write(raw)
        writers.append(writer)
    await asyncio.sleep(0.2)
    return writers


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    context = ssl._create_unverified_context()
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1, context=context) as r:
                r.read()
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server for {url} did not start") from None
            time.sleep(0.1)


def start_posboxless(data: Path) -> tuple[subprocess.Popen[bytes], int, int]:
    http, https = free_port(), free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "posboxless",
            "serve",
            "--simulate",
            "--http-port",
            str(http),
            "--https-port",
            str(https),
            "--data-dir",
            str(data),
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_ready(f"http://127.0.0.1:{http}/hw_proxy/hello", process)
    wait_ready(f"https://127.0.0.1:{https}/hw_proxy/hello", process)
    return process, http, https


def start_odoo_driver(secure: bool) -> tuple[subprocess.Popen[bytes], int] | None:
    exe = shutil.which("odoo-driver") or str(Path(sys.executable).parent / "odoo-driver")
    if not Path(exe).exists():
        return None
    port = free_port()
    process = subprocess.Popen(
        [
            exe,
            "-a",
            "127.0.0.1",
            "-p",
            str(port),
            "--secure" if secure else "--unsecure",
            "-l",
            "WARNING",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    scheme = "https" if secure else "http"
    wait_ready(f"{scheme}://127.0.0.1:{port}/hw_proxy/hello", process)
    return process, port


ENDPOINTS = [
    ("hello", "GET", "/hw_proxy/hello"),
    ("status_json", "POST", "/hw_proxy/status_json"),
    ("scale_read", "POST", "/hw_proxy/scale_read"),
]


async def run(seconds: float) -> dict[str, object]:
    results: dict[str, object] = {"seconds_per_cell": seconds, "cells": []}
    cells: list[dict[str, object]] = results["cells"]  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as tmp:
        pbl, pbl_http, pbl_https = start_posboxless(Path(tmp))
        peer = start_odoo_driver(secure=False)
        try:
            print(
                f"{'endpoint':<12}{'clients':>8} | {'posboxless p50/p99 ms':>22}{'req/s':>9} |"
                f" {'odoo-driver p50/p99 ms':>23}{'req/s':>8} | {'ratio':>6}"
            )
            for name, method, path in ENDPOINTS:
                for clients in (1, 8, 64):
                    ours = await measure("127.0.0.1", pbl_http, method, path, clients, seconds)
                    theirs = None
                    if peer is not None:
                        theirs = await measure("127.0.0.1", peer[1], method, path, clients, seconds)
                    ratio = ours.rps / theirs.rps if theirs and theirs.rps else float("nan")
                    cells.append(
                        {
                            "endpoint": name,
                            "clients": clients,
                            "posboxless": {
                                "p50_ms": ours.pct(0.5),
                                "p99_ms": ours.pct(0.99),
                                "rps": ours.rps,
                                "errors": ours.errors,
                            },
                            "odoo_driver": None
                            if theirs is None
                            else {
                                "p50_ms": theirs.pct(0.5),
                                "p99_ms": theirs.pct(0.99),
                                "rps": theirs.rps,
                                "errors": theirs.errors,
                            },
                            "throughput_ratio": ratio,
                        }
                    )
                    t = theirs or Sample()
                    print(
                        f"{name:<12}{clients:>8} | {ours.pct(0.5):>10.2f}/{ours.pct(0.99):<10.2f}"
                        f"{ours.rps:>10.0f} | {t.pct(0.5):>11.2f}/{t.pct(0.99):<10.2f}"
                        f"{t.rps:>9.0f} | {ratio:>5.1f}x"
                    )

            idle = await measure("127.0.0.1", pbl_http, "GET", "/hw_proxy/hello", 1, seconds)
            writers = await hold_long_polls("127.0.0.1", pbl_http, 64)
            busy = await measure("127.0.0.1", pbl_http, "GET", "/hw_proxy/hello", 1, seconds)
            for w in writers:
                w.close()
            results["hello_with_64_long_polls"] = {
                "idle_p99_ms": idle.pct(0.99),
                "held_p99_ms": busy.pct(0.99),
                "idle_p50_ms": idle.pct(0.5),
                "held_p50_ms": busy.pct(0.5),
            }
            print(
                f"\nhello p50/p99 with no long-poll: {idle.pct(0.5):.2f}/{idle.pct(0.99):.2f} ms;"
                f" with 64 scanner long-polls held: {busy.pct(0.5):.2f}/{busy.pct(0.99):.2f} ms"
            )
        finally:
            pbl.terminate()
            if peer:
                peer[0].terminate()

        # HTTPS, kept-alive connection, one client.
        pbl, pbl_http, pbl_https = start_posboxless(Path(tmp))
        peer_tls = start_odoo_driver(secure=True)
        try:
            insecure = ssl._create_unverified_context()  # odoo-driver's bundled cert is expired
            ours = await measure(
                "127.0.0.1", pbl_https, "GET", "/hw_proxy/hello", 1, seconds, insecure
            )
            theirs = None
            if peer_tls is not None:
                theirs = await measure(
                    "127.0.0.1", peer_tls[1], "GET", "/hw_proxy/hello", 1, seconds, insecure
                )
            results["https_hello_keepalive"] = {
                "posboxless": {"p50_ms": ours.pct(0.5), "p99_ms": ours.pct(0.99), "rps": ours.rps},
                "odoo_driver": None
                if theirs is None
                else {"p50_ms": theirs.pct(0.5), "p99_ms": theirs.pct(0.99), "rps": theirs.rps},
            }
            t = theirs or Sample()
            print(
                f"HTTPS hello keep-alive p50: posboxless {ours.pct(0.5):.2f} ms "
                f"({ours.rps:.0f} req/s), odoo-driver {t.pct(0.5):.2f} ms ({t.rps:.0f} req/s)"
            )
        finally:
            pbl.terminate()
            if peer_tls:
                peer_tls[0].terminate()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=1.5, help="duration of each cell")
    args = parser.parse_args()
    results = asyncio.run(run(args.seconds))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "http.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"\nresults written to {out} (cpu count {os.cpu_count()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
