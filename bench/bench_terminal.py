"""Payment-terminal benchmark: ``hello`` and ``status_json`` latency while a card payment waits
for the customer, against the same server with no payment in progress (same run).

A simulated Telium terminal on a pty takes the request, then keeps the customer at the terminal
for ``--wait`` seconds (60 by default, the issue's figure; a shorter scripted wait is allowed
and printed) before it accepts. Two keep-alive clients poll ``/hw_proxy/hello`` and
``/hw_proxy/status_json`` every 20 ms (the POS polls status_json once a second): first for
``--baseline`` seconds with the terminal idle, then for the whole card wait. The real app and the
real terminal service run in this process (uvicorn in a thread); only loopback and a pty are used.

    .venv/bin/python bench/bench_terminal.py [--wait 60] [--baseline 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from benchlib import ThreadedServer, summarise
from posboxless.terminal import telium
from posboxless.terminal.config import TerminalConfig
from posboxless.terminal.service import TeliumTerminalService
from posboxless.terminal.simulator import TeliumSimulator

RESULTS = Path(__file__).parent / "results"
RPC = {"jsonrpc": "2.0", "method": "call", "params": {}}


def measure(port: int, seconds: float) -> dict[str, Any]:
    base = f"http://127.0.0.1:{port}"
    stop = threading.Event()
    times: dict[str, list[float]] = {"hello": [], "status_json": []}
    errors: list[str] = []

    def poll(endpoint: str) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            while not stop.is_set():
                start = time.perf_counter()
                try:
                    if endpoint == "hello":
                        client.get("/hw_proxy/hello").raise_for_status()
                    else:
                        answer = client.post("/hw_proxy/status_json", json=RPC).json()
                        assert answer["result"]["payment_terminal"]["is_terminal"]
                    times[endpoint].append(time.perf_counter() - start)
                except Exception as exc:
                    errors.append(f"{endpoint}: {exc}")
                stop.wait(0.02)

    threads = [threading.Thread(target=poll, args=(e,)) for e in times]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(60)
    return {**{e: summarise(t) for e, t in times.items()}, "errors": errors[:5]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--wait", type=float, default=60.0, help="seconds the customer takes")
    parser.add_argument("--baseline", type=float, default=20.0, help="seconds with no payment")
    args = parser.parse_args()

    from posboxless.app import create_app
    from posboxless.config import Config, ServerConfig
    from posboxless.services import Services
    from posboxless.terminal.registry import Terminals

    simulator = TeliumSimulator(card_delay=args.wait).start()
    data_dir = Path(tempfile.mkdtemp(prefix="posboxless-bench-terminal-"))
    timing = telium.Timing(answer_timeout=args.wait + 60)
    service = TeliumTerminalService(
        replace(TerminalConfig(), port=simulator.port, timing=timing), data_dir
    )
    services = Services(terminals=Terminals({"terminal": service}, "terminal"))
    app = create_app(Config(server=ServerConfig(data_dir=data_dir)), services)
    server = ThreadedServer(app)
    port = server.port
    asyncio.run(service.start())
    server.start()
    results: dict[str, Any] = {"wait_s": args.wait, "baseline_s": args.baseline}
    try:
        results["idle"] = measure(port, args.baseline)
        info = json.dumps({"amount": 12.5, "currency_iso": "EUR", "order_id": "bench"})
        started = httpx.post(
            f"http://127.0.0.1:{port}/hw_proxy/payment_terminal_transaction_start",
            json={"params": {"payment_info": info}},
        ).json()["result"]
        began = time.monotonic()
        while simulator.state != "card":
            time.sleep(0.01)
        # the whole time the customer holds the card, less a margin for the answer itself
        results["pending"] = measure(port, max(1.0, args.wait - (time.monotonic() - began) - 1))
        still_pending = service.transactions()[0].success is None
        while service.transactions()[0].phase != "done":
            time.sleep(0.05)
        results["transaction"] = {
            "id": started["transaction_id"],
            "pending_during_measure": still_pending,
            "outcome": service.transactions()[0].outcome,
            "seconds": round(time.monotonic() - began, 2),
        }
    finally:
        server.stop()
        asyncio.run(service.stop())
        simulator.close()

    print(f"customer holds the card {args.wait:g} s; {args.baseline:g} s of load with no payment\n")
    header = f"{'state':<9} {'endpoint':<12} {'n':>6} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}"
    print(header)
    print("-" * len(header))
    for state in ("idle", "pending"):
        for endpoint in ("hello", "status_json"):
            s = results[state][endpoint]
            print(
                f"{state:<9} {endpoint:<12} {s['n']:>6} {s['p50_ms']:>9.2f} {s['p99_ms']:>9.2f} "
                f"{s['max_ms']:>9.2f}"
            )
    print("\nratio p99 pending / idle:")
    for endpoint in ("hello", "status_json"):
        ratio = results["pending"][endpoint]["p99_ms"] / results["idle"][endpoint]["p99_ms"]
        results[f"ratio_p99_{endpoint}"] = ratio
        print(f"  {endpoint:<12} {ratio:6.2f}x")
    print(f"\ntransaction: {results['transaction']}")
    for state in ("idle", "pending"):
        if results[state]["errors"]:
            print(f"{state} errors: {results[state]['errors']}", file=sys.stderr)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_terminal.json").write_text(json.dumps(results, indent=2))
    print(f"\nwritten to {os.path.relpath(RESULTS / 'bench_terminal.json')}")


if __name__ == "__main__":
    main()
