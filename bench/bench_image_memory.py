"""Image receipts and memory: peak and settled RSS of a real ``posboxless serve``.

Six concurrent ``default_printer_action`` / ``print_receipt`` calls (Odoo 13+'s image path) over
loopback HTTP, against a loopback "9100" printer simulated in this process (so the server's RSS is
the proxy's alone). Two rounds:

* hostile: the issue's ~322 kB PNG of 6300 x 6300 16-bit RGBA pixels, six at once (151 MB each
  once decoded: refused from its header, before any decoding);
* largest accepted: six different 576 x 20 000 16-bit RGBA PNGs (a 2.5 m receipt, 44 MB decoded,
  just inside the decode budget), six at once: decoded one at a time, printed.

The server's RSS is sampled every 10 ms from ``/proc`` during each round (peak) and read again
10 s after the round (settled). Targets (issue 16): peak <= 150 MB, settled <= 80 MB.

    .venv/bin/python bench/bench_image_memory.py
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path
from typing import Any

import httpx

from benchlib import free_port
from posboxless.printer.simulator import TcpPrinterSimulator

ORIGIN = "http://odoo.bench.test"
CONCURRENT = 6
SETTLE_SECONDS = 10.0


def png_rgba16(width: int, height: int, seed: int = 0) -> bytes:
    """A 16-bit RGBA PNG written row by row (Pillow cannot make one): mostly transparent, with a
    black stripe every 64 rows so that the receipt has ink and each image differs."""
    compressor = zlib.compressobj(9)
    parts = []
    blank = b"\x00" + bytes(width * 8)
    ink = b"\x00" + (b"\x00\x00" * 3 + b"\xff\xff") * width
    for y in range(height):
        parts.append(compressor.compress(ink if (y + seed) % 64 == 0 else blank))
    parts.append(compressor.flush())

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 16, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", b"".join(parts))
        + chunk(b"IEND", b"")
    )


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not found")


class Sampler:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            self._stop.wait(0.01)


async def print_receipt(client: httpx.AsyncClient, url: str, image: bytes) -> Any:
    body = {
        "jsonrpc": "2.0",
        "method": "call",
        "id": 1,
        "params": {
            "data": {"action": "print_receipt", "receipt": base64.b64encode(image).decode()}
        },
    }
    response = await client.post(url, json=body, headers={"Origin": ORIGIN}, timeout=300)
    answer = response.json()
    return answer.get("result", answer.get("error", {}).get("data", {}).get("name"))


async def round_of(pid: int, url: str, images: list[bytes]) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        with Sampler(pid) as sampler:
            start = time.perf_counter()
            answers = await asyncio.gather(*(print_receipt(client, url, i) for i in images))
            elapsed = time.perf_counter() - start
        peak = sampler.peak
    await asyncio.sleep(SETTLE_SECONDS)
    return {
        "answers": [str(a) for a in answers],
        "seconds": round(elapsed, 2),
        "peak_rss_mb": round(peak, 1),
        "rss_after_10s_mb": round(rss_mb(pid), 1),
    }


async def main() -> None:
    simulator = TcpPrinterSimulator().start()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.toml"
        config.write_text(
            f'[[printer]]\nname = "receipt"\nhost = "{simulator.address}"\nstartup_ticket = false\n'
        )
        command = [sys.executable, "-m", "posboxless", "serve", "--config", str(config)]
        command += ["--http-port", str(port), "--https-port", "0", "--data-dir", tmp]
        command += ["--allowed-origin", ORIGIN, "--log-level", "error"]
        server = subprocess.Popen(
            command,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        base = f"http://127.0.0.1:{port}"
        try:
            async with httpx.AsyncClient() as client:
                for _ in range(300):
                    try:
                        await client.post(f"{base}/hw_proxy/hello", timeout=1)
                        break
                    except httpx.HTTPError:
                        await asyncio.sleep(0.1)
            await asyncio.sleep(1)
            idle = rss_mb(server.pid)
            url = f"{base}/hw_proxy/default_printer_action"
            hostile = png_rgba16(6300, 6300)
            largest = [png_rgba16(576, 20_000, seed) for seed in range(CONCURRENT)]
            results = {
                "idle_rss_mb": round(idle, 1),
                "hostile_png_bytes": len(hostile),
                "largest_png_bytes": len(largest[0]),
                "hostile 6300x6300 RGBA16": await round_of(server.pid, url, [hostile] * CONCURRENT),
                "largest accepted 576x20000 RGBA16": await round_of(server.pid, url, largest),
                "printer_received_bytes": len(simulator.printer.received),
            }
        finally:
            server.terminate()
            server.wait(10)
            simulator.stop()
    print(json.dumps(results, indent=2))
    ok = all(
        r["peak_rss_mb"] <= 150 and r["rss_after_10s_mb"] <= 80
        for r in results.values()
        if isinstance(r, dict)
    )
    print("targets (peak <= 150 MB, 10 s after <= 80 MB):", "met" if ok else "NOT met")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "image_memory.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
