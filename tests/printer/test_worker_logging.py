"""The printer's log while it is away: one line when it goes, none for each reconnection attempt
or poll, one "recovered after" line when it is back (the device worker base's status log)."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest

from posboxless.printer.config import PrinterConfig
from posboxless.printer.service import EscPosPrinterService
from posboxless.printer.simulator import TcpPrinterSimulator
from posboxless.transports.tcp import TcpTransport
from tests.helpers import until
from tests.printer.test_faults import FAST

LOGGER = "posboxless.printer.worker"


def printer_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER]


async def test_a_printer_off_is_logged_once_then_recovered(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = PrinterConfig(name="receipt", host=("127.0.0.1", port))
    svc = EscPosPrinterService(config, TcpTransport("127.0.0.1", port), tmp_path, settings=FAST)
    simulator: TcpPrinterSimulator | None = None
    caplog.set_level(logging.INFO, logger=LOGGER)
    await svc.start()
    try:
        await until(lambda: svc.details()["counters"].get("transport_errors", 0) >= 5)
        down = [line for line in printer_lines(caplog) if "disconnected" in line]
        assert len(down) == 1, printer_lines(caplog)
        assert down[0].startswith("printer receipt: disconnected: ")
        assert f"127.0.0.1:{port}" in down[0]
        simulator = TcpPrinterSimulator(port=port).start()
        await until(lambda: svc.status().status == "connected")
        lines = printer_lines(caplog)
        recovered = [line for line in lines if "recovered after" in line]
        assert len(recovered) == 1, lines
        assert recovered[0].startswith("printer receipt: recovered after ")
        assert len([line for line in lines if "disconnected" in line]) == 1
    finally:
        await svc.stop()
        if simulator is not None:
            simulator.stop()


async def test_paper_out_is_one_line_however_many_polls_see_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sim = TcpPrinterSimulator().start()
    config = PrinterConfig(name="receipt", host=(sim.host, sim.port))
    svc = EscPosPrinterService(config, TcpTransport(sim.host, sim.port), tmp_path, settings=FAST)
    caplog.set_level(logging.INFO, logger=LOGGER)
    await svc.start()
    try:
        await until(lambda: svc.status().status == "connected")
        sim.printer.state = "paper_out"
        await until(lambda: svc.status().status == "error")
        polled = sim.printer.status_queries
        await until(lambda: sim.printer.status_queries >= polled + 20, "five more polls")
        sim.printer.state = "ok"
        await until(lambda: svc.status().status == "connected")
        lines = printer_lines(caplog)
        assert [line for line in lines if "Paper out" in line] == [
            "printer receipt: error: Paper out"
        ], lines
        assert len([line for line in lines if "recovered after" in line]) == 1, lines
    finally:
        await svc.stop()
        sim.stop()
