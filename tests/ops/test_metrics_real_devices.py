"""Every device kind's figures reach /metrics through its REAL service, on a real transport
against its simulator (not a fake, which once supplied keys the real printer lacked): status,
last activity and counters, read from the service's typed snapshot. The printer's own test is
``test_metrics.test_a_real_printer_shows_last_activity_and_queue_depth``."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import TypeAlias

from posboxless.config import parse_config
from posboxless.device import ServiceContext
from posboxless.display.service import DisplayService
from posboxless.linedisplay.factory import create_customer_display
from posboxless.linedisplay.printer_port import PrinterPortDisplay
from posboxless.linedisplay.screens import PoleDisplay
from posboxless.linedisplay.simulator import PoleDisplaySimulator
from posboxless.ops.metrics import Metrics
from posboxless.printer.service import EscPosPrinterService
from posboxless.printer.simulator import TcpPrinterSimulator
from posboxless.printer.worker import WorkerSettings
from posboxless.scale.discovery import PortLocator
from posboxless.scale.service import ScaleTiming, SerialScaleService
from posboxless.scale.simulator import Toledo8217Simulator
from posboxless.scanner.serial_lines import LineSplitter
from posboxless.scanner.serial_source import SerialScanner
from posboxless.scanner.service import BarcodeScannerService
from posboxless.scanner.simulator import PtySerialScanner
from posboxless.services import Services
from posboxless.terminal.config import TerminalConfig
from posboxless.terminal.registry import Terminals
from posboxless.terminal.service import PaymentOrder, TeliumTerminalService
from posboxless.terminal.simulator import TeliumSimulator
from posboxless.transports.serial_port import SerialSettings
from posboxless.transports.tcp import TcpTransport
from tests.helpers import until
from tests.linedisplay.conftest import make_service as make_pole_display
from tests.ops.test_metrics import samples
from tests.terminal.conftest import FAST, settled

Samples: TypeAlias = dict[tuple[str, tuple[tuple[str, str], ...]], float]

SINCE_2020 = 1_577_836_800.0


def device(figures: dict, metric: str, kind: str, name: str, **labels: str) -> float:
    key = tuple(sorted({"kind": kind, "name": name, **labels}.items()))
    return figures[(metric, key)]


def assert_working(figures: dict, kind: str, name: str) -> None:
    assert device(figures, "posboxless_device_up", kind, name) == 1
    assert device(figures, "posboxless_device_status", kind, name, status="connected") == 1
    assert device(figures, "posboxless_device_last_ok_timestamp_seconds", kind, name) > SINCE_2020
    for reason in ("unplugged", "not_answering", "other"):
        assert device(figures, "posboxless_device_problem", kind, name, reason=reason) == 0


async def test_a_real_scale(tmp_path: Path) -> None:
    sim = Toledo8217Simulator(weight=1.234)
    sim.start()
    timing = ScaleTiming(poll_interval=0.02, reply_timeout=0.5, stale_after=2.0, retry_min=0.05)
    scale = SerialScaleService(
        name="counter",
        locator=PortLocator(port=sim.port),
        settings=SerialSettings.parse("9600 8N1"),
        timing=timing,
    )
    metrics = Metrics(Services(scale=scale))
    await scale.start()
    try:
        await until(lambda: scale.snapshot().activity.counters.get("readings", 0) >= 3)
        figures = samples(metrics)
    finally:
        await scale.stop()
        sim.close()
    assert_working(figures, "scale", "counter")
    assert figures[("posboxless_scale_weight", (("name", "counter"), ("unit", "kg")))] == 1.234
    readings = figures[("posboxless_scale_readings_total", (("name", "counter"),))]
    assert readings >= 3
    assert (
        device(figures, "posboxless_device_events_total", "scale", "counter", event="readings")
        == readings
    )


async def test_a_real_scanner() -> None:
    pty = PtySerialScanner(suffix=b"\r")
    scanner = BarcodeScannerService(name="scanners")
    scanner.add_source(
        SerialScanner(
            pty.path, LineSplitter("auto"), scanner.on_barcode, label="counter", read_timeout=0.02
        )
    )
    metrics = Metrics(Services(scanner=scanner))
    await scanner.start()
    try:
        await until(lambda: scanner.status().status == "connected")
        pty.scan("3017620422003")
        pty.scan("5449000000996")
        await until(lambda: scanner.snapshot().activity.counters.get("barcodes", 0) == 2)
        figures = samples(metrics)
        (source,) = scanner.snapshot().sources
        assert (source.type, source.path, source.status) == ("serial", pty.path, "connected")
        assert source.barcodes == 2 and source.facts["barcodes"] == 2
    finally:
        await scanner.stop()
        pty.close()
    assert_working(figures, "scanner", "scanners")
    assert figures[("posboxless_scans_total", (("name", "scanners"),))] == 2
    assert (
        device(figures, "posboxless_device_events_total", "scanner", "scanners", event="barcodes")
        == 2
    )


async def test_a_real_payment_terminal(tmp_path: Path) -> None:
    sim = TeliumSimulator(card_delay=0.05).start()
    terminal = TeliumTerminalService(
        replace(TerminalConfig(), port=sim.port, timing=FAST), tmp_path
    )
    metrics = Metrics(Services(terminals=Terminals({"terminal": terminal}, "terminal")))
    await terminal.start()
    try:
        await until(lambda: terminal.status().status == "connected")
        sim.script("accept")
        tx = await terminal.begin(PaymentOrder(Decimal("2.5"), "EUR", order_id="o1"))
        await until(settled(terminal, tx.id))
        figures = samples(metrics)
    finally:
        await terminal.stop()
        sim.close()
    assert_working(figures, "payment_terminal", "terminal")
    accepted = (("outcome", "accepted"), ("terminal", "terminal"))
    assert figures[("posboxless_payment_transactions_total", accepted)] == 1
    assert (
        device(
            figures,
            "posboxless_device_events_total",
            "payment_terminal",
            "terminal",
            event="accepted",
        )
        == 1
    )


async def shown_then_scraped(display: PoleDisplay, metrics: Metrics) -> Samples:
    """Once connected, the display is given a screen; the metrics once it shows it."""
    await until(lambda: display.status().status == "connected")
    display.show(["Total", "12.50"])
    await until(lambda: display.snapshot().shown == ("Total".ljust(20), "12.50".ljust(20)))
    return samples(metrics)


async def test_a_real_pole_display() -> None:
    sim = PoleDisplaySimulator().start()
    display = make_pole_display(sim.port)
    metrics = Metrics(Services(customer_display=display))
    await display.start()
    try:
        figures = await shown_then_scraped(display, metrics)
    finally:
        await display.stop()
        sim.close()
    assert_working(figures, "customer_display", "pole-display")
    events = "posboxless_device_events_total"
    assert device(figures, events, "customer_display", "pole-display", event="messages") == 1
    assert device(figures, events, "customer_display", "pole-display", event="shown") >= 1


async def test_a_real_pole_display_on_a_printer_s_display_port(tmp_path: Path) -> None:
    sim = TcpPrinterSimulator().start()
    config = parse_config(
        {
            "server": {"data_dir": str(tmp_path)},
            "printer": [{"name": "receipt", "host": f"127.0.0.1:{sim.port}"}],
            "customer_display": {"printer": "receipt"},
        }
    )
    assert config.customer_display is not None
    fast = WorkerSettings(status_interval=0.05, status_timeout=0.5, retry_min=0.02, retry_max=0.1)
    printer = EscPosPrinterService(
        config.printers[0], TcpTransport(sim.host, sim.port), tmp_path, settings=fast
    )
    ctx = ServiceContext(data_dir=tmp_path, simulate=False)
    display = create_customer_display(config.customer_display, ctx, {"receipt": printer})
    assert isinstance(display, PrinterPortDisplay)
    metrics = Metrics(Services(printers={"receipt": printer}, customer_display=display))
    await printer.start()
    await display.start()
    try:
        figures = await shown_then_scraped(display, metrics)
    finally:
        await display.stop()
        await printer.stop()
        sim.stop()
    assert_working(figures, "customer_display", "pole-display")
    events = "posboxless_device_events_total"
    assert device(figures, events, "customer_display", "pole-display", event="messages") == 1
    assert device(figures, events, "customer_display", "pole-display", event="collapsed") >= 0


async def test_the_customer_screen() -> None:
    """Odoo 12-18's HTML screen is memory only: working, and when a POS last changed it."""
    screen = DisplayService()
    metrics = Metrics(Services(display=screen))
    screen.take_control("192.168.1.20", {"html": "<p>Total 12.50</p>"})
    figures = samples(metrics)
    assert_working(figures, "display", "customer-display")
    assert (
        device(
            figures, "posboxless_device_last_ok_timestamp_seconds", "display", "customer-display"
        )
        == screen.snapshot().updated
    )
