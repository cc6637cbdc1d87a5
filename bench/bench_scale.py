"""Scale benchmark: ``scale_read`` and ``hello`` latency while the scale answers slowly.

A simulated Toledo 8217 scale on a pty answers every request only after ``--delay`` seconds (1 s
by default). A client polls ``/hw_proxy/scale_read`` back to back (Odoo 8's pace: 50 ms after each
answer) while a second client calls ``/hw_proxy/hello`` every 20 ms, both over keep-alive
connections. Measured for posboxless (uvicorn + the real scale service) and, in the same run, for
odoo-driver 3.1.1 with its Toledo 8217 plugin (gevent WSGI, serial I/O inside the request), each on
its own simulator. Only loopback and ptys are used.

    .venv/bin/python bench/bench_scale.py [--seconds 8] [--delay 1.0] [--skip-peer]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from benchlib import ThreadedServer, free_port, summarise, wait_listening
from posboxless.scale.simulator import Toledo8217Simulator

RESULTS = Path(__file__).parent / "results"
RPC = {"jsonrpc": "2.0", "method": "call", "params": {}}


# ---- servers ----------------------------------------------------------------------------------


class PosboxlessServer:
    """The real app and the real scale service, uvicorn in a thread of this process."""

    def __init__(self, pty: str, delay: float) -> None:
        from posboxless.app import create_app
        from posboxless.config import Config, ServerConfig
        from posboxless.scale.discovery import PortLocator
        from posboxless.scale.service import ScaleTiming, SerialScaleService
        from posboxless.services import Services
        from posboxless.transports.serial_port import SerialSettings

        self.scale = SerialScaleService(
            locator=PortLocator(port=pty),
            # this machine's ptys refuse 7E1; line settings are virtual on a pty anyway
            settings=SerialSettings.parse("9600 8N1"),
            timing=ScaleTiming(
                poll_interval=0.2, reply_timeout=delay + 0.5, stale_after=2 * delay + 1.5
            ),
        )
        services = Services(scale=self.scale)
        config = Config(server=ServerConfig(data_dir=Path("/tmp/posboxless-bench")))
        self.server = ThreadedServer(create_app(config, services))
        self.port = self.server.port

    def __enter__(self) -> PosboxlessServer:
        asyncio.run(self.scale.start())
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
        asyncio.run(self.scale.stop())


class OdooDriverServer:
    """odoo-driver's Flask app on gevent's WSGI server, in a child process, its scale driver
    pointed at the pty (there is no USB bus to discover the Ariva-S on)."""

    def __init__(self, pty: str) -> None:
        self.port = free_port()
        self.pty = pty
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> OdooDriverServer:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve-odoo-driver", str(self.port), self.pty],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_listening(self.port)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)


def serve_odoo_driver(port: int, pty: str) -> None:
    from gevent import pywsgi
    from loguru import logger

    logger.remove()
    import odoo_driver  # noqa: F401  (loads the installed plugins)
    from odoo_driver.app import app, internationalize_app
    from odoo_driver.tools.tools_interface import interface

    driver = interface.drivers["scale"]
    driver._terminal_file = pty
    driver._usb_device = True
    internationalize_app()
    pywsgi.WSGIServer(("127.0.0.1", port), app, log=None).serve_forever()


# ---- load -------------------------------------------------------------------------------------


def measure(port: int, seconds: float) -> dict[str, Any]:
    base = f"http://127.0.0.1:{port}"
    stop = threading.Event()
    scale_times: list[float] = []
    hello_times: list[float] = []
    errors: list[str] = []
    weights: list[Any] = []

    def poll_scale() -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            while not stop.is_set():
                start = time.perf_counter()
                try:
                    answer = client.post("/hw_proxy/scale_read", json=RPC)
                    scale_times.append(time.perf_counter() - start)
                    weights.append(answer.json().get("result"))
                except Exception as exc:
                    errors.append(f"scale_read: {exc}")
                stop.wait(0.05)

    def poll_hello() -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            while not stop.is_set():
                start = time.perf_counter()
                try:
                    client.get("/hw_proxy/hello").raise_for_status()
                    hello_times.append(time.perf_counter() - start)
                except Exception as exc:
                    errors.append(f"hello: {exc}")
                stop.wait(0.02)

    threads = [threading.Thread(target=poll_scale), threading.Thread(target=poll_hello)]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(60)
    return {
        "scale_read": summarise(scale_times),
        "hello": summarise(hello_times),
        "errors": errors[:5],
        "last_result": weights[-1] if weights else None,
    }


def run_one(name: str, seconds: float, delay: float, weight: float) -> dict[str, Any]:
    simulator = Toledo8217Simulator(weight=weight)
    simulator.start()
    try:
        server: PosboxlessServer | OdooDriverServer
        if name == "posboxless":
            server = PosboxlessServer(simulator.port, delay)
        else:
            server = OdooDriverServer(simulator.port)
        with server:
            # let the first (slow) reading arrive, then make every answer slow
            time.sleep(0.5)
            simulator.reply_delay = delay
            time.sleep(delay)
            result = measure(server.port, seconds)
            if isinstance(server, PosboxlessServer):
                result["scale_status"] = server.scale.status().as_json()
    finally:
        simulator.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--delay", type=float, default=1.0)
    parser.add_argument("--skip-peer", action="store_true")
    parser.add_argument("--serve-odoo-driver", nargs=2, metavar=("PORT", "PTY"))
    args = parser.parse_args()
    if args.serve_odoo_driver:
        serve_odoo_driver(int(args.serve_odoo_driver[0]), args.serve_odoo_driver[1])
        return

    results: dict[str, Any] = {"delay_s": args.delay, "seconds": args.seconds}
    results["posboxless"] = run_one("posboxless", args.seconds, args.delay, 1.234)
    if not args.skip_peer:
        # find_spec, not import: importing a plugin before odoo_driver is a circular import
        if importlib.util.find_spec("odoo_driver_plugin_scale_toledo_8217") is not None:
            results["odoo-driver"] = run_one("odoo-driver", args.seconds, args.delay, 1.234)
        else:
            results["odoo-driver"] = {"skipped": "odoo-driver-plugin-scale-toledo-8217 missing"}

    print(f"scale answers after {args.delay:g} s; {args.seconds:g} s of load per server\n")
    header = f"{'server':<12} {'endpoint':<11} {'n':>5} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}"
    print(header)
    print("-" * len(header))
    for name in ("posboxless", "odoo-driver"):
        result = results.get(name)
        if not result or "skipped" in result:
            continue
        for endpoint in ("scale_read", "hello"):
            s = result[endpoint]
            if not s.get("n"):
                print(f"{name:<12} {endpoint:<11} {0:>5}")
                continue
            print(
                f"{name:<12} {endpoint:<11} {s['n']:>5} {s['p50_ms']:>9.2f} {s['p99_ms']:>9.2f} "
                f"{s['max_ms']:>9.2f}"
            )
    peer = results.get("odoo-driver")
    if peer and "skipped" not in peer:
        print("\nratios odoo-driver / posboxless (p99):")
        for endpoint in ("scale_read", "hello"):
            ours = results["posboxless"][endpoint].get("p99_ms")
            theirs = peer[endpoint].get("p99_ms")
            if ours and theirs:
                print(f"  {endpoint:<11} {theirs / ours:8.1f}x")
    for name in ("posboxless", "odoo-driver"):
        result = results.get(name) or {}
        if result.get("errors"):
            print(f"\n{name} errors: {result['errors']}")
        if "last_result" in result:
            print(f"{name} last scale_read result: {json.dumps(result['last_result'])}")
    if "scale_status" in results["posboxless"]:
        print(f"posboxless scale status: {results['posboxless']['scale_status']}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_scale.json").write_text(json.dumps(results, indent=2))
    print(f"\nwritten to {os.path.relpath(RESULTS / 'bench_scale.json')}")


if __name__ == "__main__":
    main()
