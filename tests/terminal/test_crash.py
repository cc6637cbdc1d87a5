"""The proxy killed (SIGKILL) in the middle of a payment and started again: a real
``posboxless serve`` process, the pty terminal simulator, and the OCA 16 / 18 clients polling.

The terminal finishes the payment while no proxy listens and keeps announcing its answer; the
restarted proxy finds the open transaction in its journal, collects the answer and reports the
terminal's real outcome. Without an answer it reports "unknown", never "refused"."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from posboxless.terminal.journal import PaymentJournal
from posboxless.terminal.simulator import TeliumSimulator

from .oca_clients import Oca13to18, rpc


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Proxy:
    def __init__(self, tmp_path: Path, port: str, answer_timeout: float = 30) -> None:
        self.http_port = free_port()
        self.data_dir = tmp_path / "data"
        self.config = tmp_path / "config.toml"
        self.config.write_text(
            "[[payment_terminal]]\n"
            f'port = "{port}"\nbyte_timeout = 0.5\nanswer_timeout = {answer_timeout}\n'
        )
        self.process: subprocess.Popen[str] | None = None
        self.url = f"http://127.0.0.1:{self.http_port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "posboxless", "serve", "--config", str(self.config),
             "--http-port", str(self.http_port), "--https-port", "0",
             "--data-dir", str(self.data_dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.http_port), timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("posboxless serve did not start") from None
                time.sleep(0.05)

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(20)


async def wait(predicate: object, timeout: float = 30) -> None:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def terminal_connected(http: httpx.AsyncClient, timeout: float = 30) -> None:
    """Until ``status_json`` says the terminal is connected, as a cashier sees it."""
    deadline = time.monotonic() + timeout
    while True:
        status = await rpc(http, "status_json", {})
        if status.get("payment_terminal", {}).get("status") == "connected":
            return
        assert time.monotonic() < deadline, f"terminal never connected: {status}"
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("version", [16, 18])
@pytest.mark.parametrize("script", ["accept", "refuse"])
async def test_killed_mid_payment_then_restarted_reports_the_terminals_outcome(
    tmp_path: Path, version: int, script: str
) -> None:
    sim = TeliumSimulator(card_delay=1.5).start()
    sim.enq_interval = 0.2
    sim.enq_repeats = 500
    sim.script(script)
    proxy = Proxy(tmp_path, sim.port)
    proxy.start()
    try:
        async with httpx.AsyncClient(base_url=proxy.url) as http:
            pos = Oca13to18(http, version, interval=0.05)
            # The proxy answers HTTP before its worker has opened the terminal's port; a
            # payment sent in between is (rightly) refused as "not connected".
            await terminal_connected(http)
            line, _ = await pos.start(25.0)
            assert line.state == "waitingCard"
            assert not await pos.poll_once(line)
            await wait(lambda: sim.state == "card")  # the customer is at the terminal
            proxy.kill()
            stopped = await pos.poll_once(line)
            if version < 18:
                # 13-16: a failed poll leaves the line to the cashier ("force done")
                assert stopped and line.recorded == "cashier decides"
            else:
                assert not stopped  # 18 waits for the proxy to come back
            await wait(lambda: sim.state == "announced")  # answer ready, nobody listening
            proxy.start()
            if version >= 18:
                await pos.poll(line)
            else:  # what the cashier reads on the page / the next status_json
                line.state = "waitingCard"
                await pos.poll(line)
        real = sim.history[0][1]
        assert real == ("accepted" if script == "accept" else "refused")
        assert line.status == real
        assert line.success is (real == "accepted")
        assert len(sim.requests) == 1  # never sent twice
    finally:
        proxy.stop()
        sim.close()
    journal = PaymentJournal(proxy.data_dir / "terminals" / "terminal.sqlite3")
    try:
        (tx,) = journal.recent()
        phases = [e["phase"] for e in journal.events(tx.id)]
    finally:
        journal.close()
    assert phases[:4] == ["created", "connecting", "sending", "waiting_card"]
    assert "recovering" in phases and phases[-1] == "done"


async def test_killed_and_the_terminal_never_answers_is_unknown_never_refused(
    tmp_path: Path,
) -> None:
    sim = TeliumSimulator(card_delay=0.5).start()
    sim.script("no_answer")
    proxy = Proxy(tmp_path, sim.port, answer_timeout=10)
    proxy.start()
    try:
        async with httpx.AsyncClient(base_url=proxy.url) as http:
            pos = Oca13to18(http, 18, interval=0.05)
            await terminal_connected(http)
            line, _ = await pos.start(80.0)
            await wait(lambda: sim.state in ("card", "idle") and len(sim.requests) == 1)
            proxy.kill()
            proxy.start()
            for _ in range(2000):
                assert not await pos.poll_once(line)
                if line.status == "unknown":
                    break
                await asyncio.sleep(0.05)
            assert line.status == "unknown" and line.success is None
            assert "check the terminal" in (line.status_details or "")
    finally:
        proxy.stop()
        sim.close()
