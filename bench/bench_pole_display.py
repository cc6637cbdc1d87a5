"""Pole display benchmark: ``hello`` latency while a POS floods the customer display.

A simulated Epson DM-D110 on a pty, the real display service and the real app (uvicorn in a
thread of this process). A client calls ``/hw_proxy/hello`` every 20 ms, first alone for
``--seconds``, then for as long as a second process floods the display: ``--messages``
``send_text_customer_display`` calls spread over one second on 10 keep-alive connections, then
one last message once they are all answered. Reported: ``hello`` p50/p99 in both phases and
their ratio (same run, same machine), the flood's answer times and achieved rate, the calls not
answered ``true``, the screens the display was actually sent, and whether it ends on the last
message. Only loopback and a pty are used.

    .venv/bin/python bench/bench_pole_display.py [--seconds 5] [--messages 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from benchlib import ThreadedServer, summarise

RESULTS = Path(__file__).parent / "results"
CONNECTIONS = 10


class Proxy:
    """The real app and the real display service on a simulated display."""

    def __init__(self) -> None:
        from posboxless.app import create_app
        from posboxless.config import Config, ServerConfig
        from posboxless.linedisplay import commands
        from posboxless.linedisplay.service import PoleDisplayService
        from posboxless.linedisplay.simulator import PoleDisplaySimulator
        from posboxless.services import Services
        from posboxless.transports.serial_port import SerialSettings

        self.simulator = PoleDisplaySimulator(dialect="epson").start()
        self.display = PoleDisplayService(
            port=self.simulator.port,
            settings=SerialSettings(write_timeout=2.0),
            commands=commands.PROFILES["epson"],
            welcome=("Welcome!", ""),
        )
        config = Config(server=ServerConfig(data_dir=Path("/tmp/posboxless-bench")))
        self.server = ThreadedServer(create_app(config, Services(customer_display=self.display)))
        self.port = self.server.port

    def __enter__(self) -> Proxy:
        asyncio.run(self.display.start())
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
        asyncio.run(self.display.stop())
        self.simulator.close()


def hello_latencies(port: int, seconds: float, until: threading.Event | None = None) -> list[float]:
    """``hello`` every 20 ms for ``seconds``, or until ``until`` is set."""
    times: list[float] = []
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        while not until.is_set() if until is not None else time.monotonic() < deadline:
            start = time.perf_counter()
            client.get("/hw_proxy/hello").raise_for_status()
            times.append(time.perf_counter() - start)
            time.sleep(0.02)
    return times


# ---- the flooding POS (a separate process, so that its CPU is not this process's GIL) ----------


async def flood(port: int, total: int) -> dict[str, Any]:
    rate = float(total)  # all of them within one second
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    times: list[float] = []
    refused = 0
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30
    ) as client:
        begin = time.perf_counter()

        async def one(n: int) -> None:
            nonlocal refused
            # paced: message n leaves at n / rate seconds
            await asyncio.sleep(max(0.0, begin + min(n, total) / rate - time.perf_counter()))
            lines = [f"Qty {n:>6}", f"{n} x 1.00"]
            body = {"jsonrpc": "2.0", "method": "call", "id": n}
            body["params"] = {"text_to_display": json.dumps(lines)}
            start = time.perf_counter()
            answer = (await client.post("/hw_proxy/send_text_customer_display", json=body)).json()
            times.append(time.perf_counter() - start)
            if answer.get("result") is not True:
                refused += 1

        await asyncio.gather(*(one(n) for n in range(total)))
        elapsed = time.perf_counter() - begin
        # the message typed last, once every earlier one was answered (answers of concurrent
        # calls come in any order, so "last" needs a call that is last for sure)
        await one(total)
    return {
        "sent": total + 1,
        "elapsed_s": elapsed,
        "achieved_rate": total / elapsed,
        "not_true": refused,
        "answer": summarise(times),
        "last": [f"Qty {total:>6}", f"{total} x 1.00"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--flood", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.flood:
        print(json.dumps(asyncio.run(flood(args.flood, args.messages))))
        return

    results: dict[str, Any] = {"seconds": args.seconds, "messages": args.messages}
    with Proxy() as proxy:
        time.sleep(0.5)
        results["hello_alone"] = summarise(hello_latencies(proxy.port, args.seconds))
        before = dict(proxy.display.details()["counters"])
        flooder = subprocess.Popen(
            [
                sys.executable,
                __file__,
                *("--flood", str(proxy.port), "--messages", f"{args.messages}"),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        done = threading.Event()
        hello: list[float] = []
        poller = threading.Thread(
            target=lambda: hello.extend(hello_latencies(proxy.port, 0, done)), daemon=True
        )
        poller.start()
        out, _ = flooder.communicate(timeout=300)
        done.set()
        poller.join(30)
        results["hello_flood"] = summarise(hello)
        results["flood"] = json.loads(out)
        expected = [line.ljust(20) for line in results["flood"]["last"]]
        results["display_ends_on_last"] = proxy.simulator.wait_for(expected, 10.0)
        after = proxy.display.details()["counters"]
        results["screens_written"] = after.get("shown", 0) - before.get("shown", 0)
        results["screens_collapsed"] = after.get("collapsed", 0) - before.get("collapsed", 0)

    alone, flooded, f = results["hello_alone"], results["hello_flood"], results["flood"]
    print(f"hello every 20 ms: {args.seconds:g} s alone, then while the flood is answered\n")
    print(f"{'phase':<16} {'n':>5} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}")
    rows = (("hello alone", alone), ("hello in flood", flooded), ("flood calls", f["answer"]))
    for name, s in rows:
        print(f"{name:<16} {s['n']:>5} {s['p50_ms']:>9.2f} {s['p99_ms']:>9.2f} {s['max_ms']:>9.2f}")
    ratio = flooded["p99_ms"] / alone["p99_ms"]
    results["hello_p99_ratio"] = ratio
    print(f"\nhello p99 during the flood / alone: {ratio:.2f}x")
    print(
        f"flood: {f['sent']} calls, {f['achieved_rate']:.0f}/s answered (sent within 1 s), "
        f"{f['not_true']} not answered true; the display was sent {results['screens_written']} "
        f"screens ({results['screens_collapsed']} collapsed) and ends on the last message: "
        f"{results['display_ends_on_last']}"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_pole_display.json").write_text(json.dumps(results, indent=2))
    print(f"\nwritten to {os.path.relpath(RESULTS / 'bench_pole_display.json')}")


if __name__ == "__main__":
    main()
