"""Pole display benchmark: a POS floods the customer display with 1 000 messages in one second.

Issue 12's criterion: the calls all answer at once, ``hello`` p99 is unaffected, and the display
ends showing the last message. The answer of ``send_text_customer_display`` must not wait for the
display, so a display call should cost the server what its cheapest call costs: the same flood of
``handshake`` calls (which does nothing) is the floor, measured in the same run.

The bench process holds the real app (uvicorn in a thread) and the real display service. With
``--via serial`` (the default) the display is a simulated Epson DM-D110 on a pty, and each write
of the service lasts as long as it would on a serial line at ``--baud`` (10 bits a byte; 0: as
fast as the pty takes it). With ``--via printer`` it hangs off the display port of the real
printer service and worker on the loopback TCP printer simulator (the display's ``baudrate`` is
``--baud``, to which the printer's display channel paces its frames); the simulator takes the
bytes at once, so the bytes it passed on are counted, with the time a display line at ``--baud``
would need for them (a real printer passes them on at the display's speed). A second process is
the POS: a ``hello`` poller every 5 ms (a blocking socket on its own keep-alive connection), and
the floods, sent as pre-built HTTP/1.1 requests with raw asyncio streams on ``--connections``
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
        [--connections 10] [--baud 9600] [--via serial|printer]

Results go to bench/results/bench_pole_display.json (``--via printer``:
bench_pole_display_printer.json).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
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
    """The real app and the real display service: on a display of its own (``serial``: a
    simulated DM-D110 on a pty), or on the display port of a printer (``printer``: the real
    printer service and worker on the loopback TCP printer simulator, which passes the display's
    bytes to a display emulator)."""

    def __init__(self, via: str, baud: int) -> None:
        from posboxless.app import create_app
        from posboxless.config import Config, ServerConfig, parse_config
        from posboxless.device import ServiceContext
        from posboxless.linedisplay import commands
        from posboxless.linedisplay.factory import create_customer_display
        from posboxless.linedisplay.service import PoleDisplayService
        from posboxless.printer.service import EscPosPrinterService
        from posboxless.printer.simulator import TcpPrinterSimulator
        from posboxless.services import Services
        from posboxless.transports.tcp import TcpTransport

        data_dir = Path(tempfile.mkdtemp(prefix="posboxless-bench-"))
        # The services live on a loop of their own, as the server's own loop is uvicorn's.
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        self.via = via
        self.sim: Any
        self.printer: EscPosPrinterService | None = None
        if via == "serial":
            self.sim = PoleDisplaySimulator(dialect="epson").start()
            self.services = Services(
                customer_display=PoleDisplayService(
                    port=self.sim.port,
                    settings=SerialSettings(baudrate=baud or 9600, write_timeout=2.0),
                    commands=commands.PROFILES["epson"],
                    welcome=("Welcome!", ""),
                    transport_factory=type("Line", (SerialLine,), {"baud": baud}),
                )
            )
        else:
            self.sim = TcpPrinterSimulator().start()
            config = parse_config(
                {
                    "server": {"data_dir": str(data_dir)},
                    "printer": [{"name": "receipt", "host": f"127.0.0.1:{self.sim.port}"}],
                    "customer_display": {
                        "printer": "receipt",
                        "welcome": ["Welcome!", ""],
                        "baudrate": baud or 9600,  # the frames are paced to it
                    },
                }
            )
            assert config.printers and config.customer_display is not None
            self.printer = EscPosPrinterService(
                config.printers[0], TcpTransport(self.sim.host, self.sim.port), data_dir
            )
            display = create_customer_display(
                config.customer_display,
                ServiceContext(data_dir=data_dir, simulate=False),
                {"receipt": self.printer},
            )
            self.services = Services(
                printers={"receipt": self.printer},
                default_printer_name="receipt",
                customer_display=display,
            )
        app = create_app(Config(server=ServerConfig(data_dir=data_dir)), self.services)
        self.server = ThreadedServer(app)
        self.port = self.server.port

    def _run(self, work: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(work, self._loop).result(30)

    def __enter__(self) -> Proxy:
        self._run(self.services.start())
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
        self._run(self.services.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self.via == "serial":
            self.sim.close()
        else:
            self.sim.stop()

    def loop_cpu(self) -> float:
        """CPU seconds of the thread that runs the event loop (every answer waits on it)."""
        ident = self.server.thread.ident
        assert ident is not None
        return time.clock_gettime(time.pthread_getcpuclockid(ident))

    def shows(self) -> list[str]:
        return list(self.sim.lines if self.via == "serial" else self.sim.printer.display_lines)

    def wait_shows(self, lines: list[str], timeout: float) -> bool:
        if self.via == "serial":
            return bool(self.sim.wait_for(lines, timeout))
        return bool(self.sim.printer.wait_display(lines, timeout))

    def display_bytes(self) -> int:
        """Bytes the display was sent so far (those a printer passed on; 0 on its own port,
        where the screens are counted)."""
        return int(self.sim.printer.display_bytes) if self.printer is not None else 0

    def screens_written(self) -> int:
        """Screens written to the display so far (by the display's worker or the printer's)."""
        display = self.services.customer_display
        assert display is not None
        return int(display.snapshot().activity.counters.get("shown", 0))


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
        "via": args.via,
        "hello_every_ms": HELLO_EVERY * 1000,
    }
    with Proxy(args.via, args.baud) as proxy:
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
                written, sent = proxy.screens_written(), proxy.display_bytes()
                loop, process = proxy.loop_cpu(), time.process_time()
                flooded = ask(f"flood {method}")
                flooded["loop_cpu_per_call_us"] = (proxy.loop_cpu() - loop) / args.messages * 1e6
                flooded["process_cpu_per_call_us"] = (
                    (time.process_time() - process) / args.messages * 1e6
                )
                flooded["screens_written"] = proxy.screens_written() - written
                flooded["display_bytes"] = proxy.display_bytes() - sent
                results[method] = flooded
                time.sleep(0.5)
            last = ask("last")
        finally:
            client.stdin.close()
            client.wait(30)
        expected = [line.ljust(20) for line in last["lines"]]
        results["last_not_true"] = last["not_true"]
        results["display_ends_on_last"] = proxy.wait_shows(expected, 10.0)
        results["display_shows"] = proxy.shows()
    return results


def report(results: dict[str, Any]) -> None:
    alone = results["hello_alone"]
    floor, display = results["handshake"], results[DISPLAY_CALL]
    serial = results["via"] == "serial"
    where = "on its own port" if serial else "on the display port of a TCP printer"
    speed = f"at {results['baud'] or 'pty'} baud " if serial else ""
    print(
        f"{results['messages']} calls due within 1 s on {results['connections']} keep-alive "
        f"connections; hello every {results['hello_every_ms']:g} ms; display {speed}{where}\n"
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
    sent = (
        f"the display was sent {display['screens_written']} screens for {display['calls']} messages"
    )
    if not serial:  # what the printer must pass on to the display at the display's speed
        baud = results["baud"] or 9600
        sent += (
            f" ({display['display_bytes']} bytes: {display['display_bytes'] * 10 / baud:.1f} s "
            f"of a {baud}-baud display line)"
        )
    print(
        f"{sent}; after one last message it shows {results['display_shows']}: the last "
        f"message: {results['display_ends_on_last']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="hello alone, before")
    parser.add_argument("--messages", type=int, default=1000, help="calls in each flood")
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--baud", type=int, default=9600, help="the display's speed; 0: the pty's")
    parser.add_argument(
        "--via",
        choices=("serial", "printer"),
        default="serial",
        help="the display on its own serial port, or on the display port of a TCP printer",
    )
    parser.add_argument("--pos", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pos:
        pos(args.pos, args.messages, args.connections)
        return
    results = run(args)
    report(results)
    RESULTS.mkdir(exist_ok=True)
    name = "bench_pole_display.json" if args.via == "serial" else "bench_pole_display_printer.json"
    (RESULTS / name).write_text(json.dumps(results, indent=2))
    print(f"\nwritten to {os.path.relpath(RESULTS / name)}")


if __name__ == "__main__":
    main()
