"""Pole display benchmark: a POS floods the customer display with 1 000 messages in one second.

Issue 12's criterion: the calls all answer at once, ``hello`` p99 is unaffected, and the display
ends showing the last message. The answer of ``send_text_customer_display`` must not wait for the
display, so a display call should cost the server what its cheapest call costs: the same flood of
``handshake`` calls (which does nothing) is the floor, measured in the same run.

The bench process holds the real app (uvicorn in a thread), the real display service and a
simulated Epson DM-D110 on a pty; each write of the service lasts as long as it would on a serial
line at ``--baud`` (10 bits a byte; 0: as fast as the pty takes it). A second process is the POS:
a ``hello`` poller every 5 ms (a blocking socket on its own keep-alive connection), and the
floods, sent as pre-built HTTP/1.1 requests with raw asyncio streams on ``--connections``
keep-alive connections, each sending its next call once the previous one is answered (as a
browser does); message ``n`` is due at ``n / messages`` seconds. The POS process spends about
0.2 s of CPU on a flood. (An ``httpx.AsyncClient`` spends milliseconds of CPU a call: with it the
flood measured the client, which could send only about 250 calls a second.)

Reported per flood: the answer time of each call (sent -> answered) and its lateness (due ->
answered, which counts the calls queued behind a slow one) p50/p99/max, the rate achieved,
the calls not answered ``true``, the CPU the server's event-loop thread spent per call (and the
whole bench process, which includes the display worker and the simulator), and ``hello``
p50/p99 during it against ``hello`` alone. Then one last message, sent once all are answered,
must be what the display ends showing; and the screens the display was actually sent (a burst
collapses into those it had time for). Only loopback and a pty are used.

    .venv/bin/python bench/bench_pole_display.py [--seconds 5] [--messages 1000]
        [--connections 10] [--baud 9600]

Results go to bench/results/bench_pole_display.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from benchlib import ThreadedServer, summarise
from posboxless.linedisplay.simulator import PoleDisplaySimulator
from posboxless.transports.serial_port import SerialSettings, SerialTransport

RESULTS = Path(__file__).parent / "results"
DISPLAY_CALL = "send_text_customer_display"
HELLO_EVERY = 0.005


class SerialLine(SerialTransport):
    """A serial port whose writes last as long as on a real line: ``flush`` waits until the
    bytes are out of a UART (10 bits a byte), while on a pty it returns at once. Without it the
    worker would write hundreds of screens a second, which no display takes."""

    baud = 9600

    def write(self, data: bytes) -> None:
        super().write(data)
        if self.baud:
            time.sleep(len(data) * 10 / self.baud)


class Proxy:
    """The real app and the real display service on a simulated display."""

    def __init__(self, baud: int) -> None:
        from posboxless.app import create_app
        from posboxless.config import Config, ServerConfig
        from posboxless.linedisplay import commands
        from posboxless.linedisplay.service import PoleDisplayService
        from posboxless.services import Services

        line = type("Line", (SerialLine,), {"baud": baud})
        self.simulator = PoleDisplaySimulator(dialect="epson").start()
        self.display = PoleDisplayService(
            port=self.simulator.port,
            settings=SerialSettings(baudrate=baud or 9600, write_timeout=2.0),
            commands=commands.PROFILES["epson"],
            welcome=("Welcome!", ""),
            transport_factory=line,
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

    def loop_cpu(self) -> float:
        """CPU seconds of the thread that runs the event loop (every answer waits on it)."""
        ident = self.server.thread.ident
        assert ident is not None
        return time.clock_gettime(time.pthread_getcpuclockid(ident))


# ---- the POS (a separate process, so that its CPU is not the server's GIL) --------------------


def message(n: int) -> list[str]:
    """What a POS sends while a cashier types: accents and € in cp858, the epson default."""
    return [f"Café crème {n:>9}", f"Total: {n:>8},00€"]


def request(method: str, n: int) -> bytes:
    params: dict[str, Any] = {}
    if method == DISPLAY_CALL:  # JSON inside JSON, as Odoo 8-14 send it
        params["text_to_display"] = json.dumps(message(n))
    body = json.dumps({"jsonrpc": "2.0", "method": "call", "params": params, "id": n}).encode()
    head = (
        f"POST /hw_proxy/{method} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def body_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    raise RuntimeError(f"answer without Content-Length: {head!r}")


async def flood(
    port: int, method: str, total: int, connections: int, first: int = 0
) -> dict[str, Any]:
    requests = [request(method, first + n) for n in range(total)]
    streams = [await asyncio.open_connection("127.0.0.1", port) for _ in range(connections)]
    answer: list[float] = []
    lateness: list[float] = []
    not_true: list[Any] = []
    upcoming = iter(range(total))
    begin = time.perf_counter() + 0.05

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for n in upcoming:
            due = begin + n / total
            await asyncio.sleep(due - time.perf_counter())
            sent = time.perf_counter()
            writer.write(requests[n])
            head = await reader.readuntil(b"\r\n\r\n")
            body = await reader.readexactly(body_length(head))
            answered = time.perf_counter()
            answer.append(answered - sent)
            lateness.append(answered - due)
            result = json.loads(body)
            if result.get("result") is not True:
                not_true.append(result.get("error", result))

    await asyncio.gather(*(connection(*stream) for stream in streams))
    elapsed = time.perf_counter() - begin
    for _, writer in streams:
        writer.close()
    return {
        "method": method,
        "calls": total,
        "elapsed_s": elapsed,
        "achieved_rate": total / elapsed,
        "not_true": len(not_true),
        "first_not_true": not_true[0] if not_true else None,
        "answer": summarise(answer),
        "lateness": summarise(lateness),
    }


class Hello:
    """``GET /hw_proxy/hello`` on one keep-alive connection, timed."""

    REQUEST = b"GET /hw_proxy/hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.file = self.sock.makefile("rb")

    def once(self) -> float:
        start = time.perf_counter()
        self.sock.sendall(self.REQUEST)
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            line = self.file.readline()
            if not line:
                raise RuntimeError("the server closed the hello connection")
            head += line
        if self.file.read(body_length(head)) != b"ping":
            raise RuntimeError("hello did not answer ping")
        return time.perf_counter() - start

    def poll(self, until: threading.Event) -> list[float]:
        times = []
        while not until.is_set():
            times.append(self.once())
            time.sleep(HELLO_EVERY)
        return times

    def during(self, work: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
        """What ``work`` returns, with ``hello`` polled meanwhile from another thread."""
        stop = threading.Event()
        polled: list[float] = []
        poller = threading.Thread(target=lambda: polled.extend(self.poll(stop)))
        poller.start()
        try:
            out = asyncio.run(work)
        finally:
            stop.set()
            poller.join()
        return {**out, "hello": summarise(polled)}


def pos(port: int, total: int, connections: int) -> None:
    """Answers the bench process's commands, one JSON line each: ``warm`` (a fifth of a flood
    of ``handshake``), ``hello SECONDS``, ``flood METHOD`` (with ``hello`` polled meanwhile),
    ``last`` (one more message, after the flood)."""
    hello = Hello(port)
    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        if command == "hello":
            stop = threading.Event()
            threading.Timer(float(argument), stop.set).start()
            out: dict[str, Any] = {"hello": summarise(hello.poll(stop))}
        elif command == "flood":
            out = hello.during(flood(port, argument, total, connections))
        elif command == "warm":
            out = asyncio.run(flood(port, "handshake", max(1, total // 5), connections))
        elif command == "last":
            last = asyncio.run(flood(port, DISPLAY_CALL, 1, 1, first=total))
            out = {"not_true": last["not_true"], "lines": message(total)}
        else:
            raise SystemExit(f"unknown command {command!r}")
        print(json.dumps(out), flush=True)


# ---- the bench process --------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "messages": args.messages,
        "connections": args.connections,
        "baud": args.baud,
        "hello_every_ms": HELLO_EVERY * 1000,
    }
    with Proxy(args.baud) as proxy:
        client = subprocess.Popen(
            [
                sys.executable,
                __file__,
                *("--pos", str(proxy.port), "--messages", str(args.messages)),
                *("--connections", str(args.connections)),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert client.stdin is not None and client.stdout is not None

        def ask(command: str) -> dict[str, Any]:
            assert client.stdin is not None and client.stdout is not None
            client.stdin.write(command + "\n")
            client.stdin.flush()
            answer = client.stdout.readline()
            if not answer:
                raise RuntimeError(f"the POS process died during {command!r}")
            return dict(json.loads(answer))

        try:
            ask("warm")  # both floods then meet a server that has answered calls before
            results["hello_alone"] = ask(f"hello {args.seconds}")["hello"]
            for method in ("handshake", DISPLAY_CALL):
                before = dict(proxy.display.details()["counters"])
                loop, process = proxy.loop_cpu(), time.process_time()
                flooded = ask(f"flood {method}")
                flooded["loop_cpu_per_call_us"] = (proxy.loop_cpu() - loop) / args.messages * 1e6
                flooded["process_cpu_per_call_us"] = (
                    (time.process_time() - process) / args.messages * 1e6
                )
                after = proxy.display.details()["counters"]
                for counter in ("shown", "collapsed"):
                    flooded[f"screens_{counter}"] = after.get(counter, 0) - before.get(counter, 0)
                results[method] = flooded
                time.sleep(0.5)
            last = ask("last")
        finally:
            client.stdin.close()
            client.wait(30)
        expected = [line.ljust(20) for line in last["lines"]]
        results["last_not_true"] = last["not_true"]
        results["display_ends_on_last"] = proxy.simulator.wait_for(expected, 10.0)
        results["display_shows"] = proxy.simulator.lines
    return results


def report(results: dict[str, Any]) -> None:
    alone = results["hello_alone"]
    floor, display = results["handshake"], results[DISPLAY_CALL]
    print(
        f"{results['messages']} calls due within 1 s on {results['connections']} keep-alive "
        f"connections; hello every {results['hello_every_ms']:g} ms; display at "
        f"{results['baud'] or 'pty'} baud\n"
    )
    print(f"{'':<22} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")

    def row(name: str, s: dict[str, float]) -> None:
        print(f"{name:<22} {s['n']:>5} {s['p50_ms']:>8.2f} {s['p99_ms']:>8.2f} {s['max_ms']:>8.2f}")

    row("hello alone", alone)
    for flooded in (floor, display):
        name = flooded["method"].replace("send_text_customer_display", "display")
        row(f"{name} answer", flooded["answer"])
        row(f"{name} lateness", flooded["lateness"])
        row(f"hello in {name} flood", flooded["hello"])
    print()
    for flooded in (floor, display):
        ratio = flooded["hello"]["p99_ms"] / alone["p99_ms"]
        flooded["hello_p99_ratio"] = ratio
        print(
            f"{flooded['method']}: {flooded['achieved_rate']:.0f} calls/s answered, "
            f"{flooded['not_true']} not true; event loop {flooded['loop_cpu_per_call_us']:.0f} µs "
            f"CPU a call (process {flooded['process_cpu_per_call_us']:.0f} µs); "
            f"hello p99 {ratio:.2f}x alone"
        )
    for key in ("p50_ms", "p99_ms"):
        ratio = display["answer"][key] / floor["answer"][key]
        results[f"display_over_handshake_answer_{key}"] = ratio
    results["display_over_handshake_loop_cpu"] = (
        display["loop_cpu_per_call_us"] / floor["loop_cpu_per_call_us"]
    )
    print(
        f"display / handshake: answer p50 {results['display_over_handshake_answer_p50_ms']:.2f}x, "
        f"p99 {results['display_over_handshake_answer_p99_ms']:.2f}x, event-loop CPU "
        f"{results['display_over_handshake_loop_cpu']:.2f}x"
    )
    print(
        f"the display was sent {display['screens_shown']} screens "
        f"({display['screens_collapsed']} messages collapsed); after one last message it shows "
        f"{results['display_shows']}: the last message: {results['display_ends_on_last']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="hello alone, before")
    parser.add_argument("--messages", type=int, default=1000, help="calls in each flood")
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--baud", type=int, default=9600, help="the display's speed; 0: the pty's")
    parser.add_argument("--pos", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pos:
        pos(args.pos, args.messages, args.connections)
        return
    results = run(args)
    report(results)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_pole_display.json").write_text(json.dumps(results, indent=2))
    print(f"\nwritten to {os.path.relpath(RESULTS / 'bench_pole_display.json')}")


if __name__ == "__main__":
    main()
