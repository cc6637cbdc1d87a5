"""A pole display on an Epson printer's display port (``ESC = 2`` ... ``ESC = 1`` pass-through),
through the real server, the real printer service and worker, and the loopback TCP printer
simulator, whose display port drives a display emulator.

Checked: Odoo 8-14's calls reach the display through the printer; display frames never land
inside a job nor between a job and its confirmation, and never in the print journal; receipts
hold no display text; unplug/replug shows the current screen again; an offline printer makes the
call fail with the reason.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from posboxless.app import create_app
from posboxless.config import Config, ServerConfig, parse_config
from posboxless.device import ServiceContext
from posboxless.linedisplay.emulator import DisplayEmulator
from posboxless.linedisplay.factory import create_customer_display
from posboxless.linedisplay.printer_port import PrinterPortDisplay
from posboxless.printer.display_port import SELECT_DISPLAY, SELECT_PRINTER
from posboxless.printer.escpos.status import STATUS_QUERIES
from posboxless.printer.queue import JobQueue
from posboxless.printer.service import EscPosPrinterService
from posboxless.printer.simulator import TcpPrinterSimulator
from posboxless.printer.worker import WorkerSettings
from posboxless.services import Services, build_services
from posboxless.transports.tcp import TcpTransport
from tests.helpers import wait_until

from ..live import live_server
from .odoo_calls import CATALOGUE, query, rpc
from .test_replay import expected

FAST = WorkerSettings(
    status_interval=0.05, status_timeout=0.3, confirm_timeout=3, retry_min=0.02, retry_max=0.1
)
# ESC/POS display set-up of the epson profile (cursor off, ESC t 19 = PC858, clear)
PREFIX = b"\x1f\x43\x00\x1b\x74\x13\x0c"
ORIGIN = {"Origin": "https://shop.example.com"}
QUERY_ALL = b"".join(STATUS_QUERIES)


def frame(lines: list[str]) -> bytes:
    l1, l2 = (line.encode("cp858") for line in lines)
    return (
        SELECT_DISPLAY
        + PREFIX
        + b"\x1f\x24\x01\x01"
        + l1
        + b"\x1f\x24\x01\x02"
        + l2
        + SELECT_PRINTER
    )


class Till:
    """A printer simulator, the printer service on it, the display through it, the server."""

    def __init__(
        self,
        tmp_path: Path,
        sim: TcpPrinterSimulator,
        settings: WorkerSettings = FAST,
        **display: Any,
    ) -> None:
        self.sim = sim
        self.printer = sim.printer
        config = parse_config(
            {
                "server": {"data_dir": str(tmp_path)},
                "printer": [{"name": "receipt", "host": f"127.0.0.1:{sim.port}"}],
                "customer_display": {"printer": "receipt", "welcome": ["Bienvenue", ""]} | display,
            }
        )
        assert config.printers and config.customer_display is not None
        self.service = EscPosPrinterService(
            config.printers[0], TcpTransport(sim.host, sim.port), tmp_path, settings=settings
        )
        ctx = ServiceContext(data_dir=tmp_path, simulate=False)
        display_service = create_customer_display(
            config.customer_display, ctx, {"receipt": self.service}
        )
        assert isinstance(display_service, PrinterPortDisplay)
        self.display = display_service
        self.services = Services(
            printers={"receipt": self.service},
            default_printer_name="receipt",
            customer_display=display_service,
        )
        self.app = create_app(
            Config(server=ServerConfig(data_dir=tmp_path, allowed_origins=())), self.services
        )
        self.ids = itertools.count(1)

    def send(self, http: httpx.Client, lines: list[str], suffix: str = "") -> dict[str, Any]:
        answer: dict[str, Any] = http.post(
            f"/hw_proxy/send_text_customer_display{suffix}",
            json=rpc({"text_to_display": json.dumps(lines)}, next(self.ids)),
            headers=ORIGIN,
        ).json()
        return answer

    def status(self, http: httpx.Client) -> dict[str, Any]:
        result: dict[str, Any] = http.post("/hw_proxy/status_json", json=rpc({}, 0)).json()[
            "result"
        ]
        return result


@pytest.fixture
def sim() -> Iterator[TcpPrinterSimulator]:
    simulator = TcpPrinterSimulator().start()
    yield simulator
    simulator.stop()


def received(till: Till) -> bytes:
    return bytes(till.printer.received)


@pytest.mark.parametrize("version", ["8", "10", "12", "14"])
async def test_odoo_versions_reach_the_display_through_the_printer(
    version: str, tmp_path: Path, sim: TcpPrinterSimulator
) -> None:
    till = Till(tmp_path, sim)
    with live_server(till.app, services=till.services) as url, httpx.Client(base_url=url) as http:
        welcome = ["Bienvenue".center(20), " " * 20]
        assert till.printer.wait_display(welcome, 10)
        assert frame(welcome) in received(till)
        for call in CATALOGUE[version]:
            answer = till.send(http, list(call.lines), query(version))
            assert answer.get("result") is True, (call.event, answer)
            shown = [expected(line, "epson") for line in call.lines]
            assert till.printer.wait_display(shown, 10), (call.event, till.printer.display_lines)
            assert frame(shown) in received(till), call.event
        assert till.printer.display.unknown == []
        status = till.status(http)
        assert status["customer_display"]["status"] == "connected"
        assert "printer 'receipt'" in status["customer_display"]["messages"][0]
        # the printer printed nothing: no display text on paper, no job in the journal
        assert till.printer.document().text() == ""
        assert till.service.journal(1000) == []
        assert till.service.snapshot().activity.counters.get("display_frames", 0) >= 2


def tall_png(height: int) -> str:
    image = Image.new("1", (512, height), 1)
    for y in range(0, height, 8):
        image.paste(0, (y % 256, y, y % 256 + 128, y + 4))
    out = io.BytesIO()
    image.save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


async def test_a_flood_of_screens_during_a_long_receipt_never_lands_inside_it(
    tmp_path: Path,
) -> None:
    sim = TcpPrinterSimulator()
    sim.bytes_per_second = 100_000  # a printer slower than the link: the job takes a while
    sim.start()
    till = Till(tmp_path, sim)
    try:
        with (
            live_server(till.app, services=till.services) as url,
            httpx.Client(base_url=url, timeout=60) as http,
        ):
            assert till.printer.wait_display(["Bienvenue".center(20), " " * 20], 10)
            outcome: dict[str, Any] = {}
            png = tall_png(1600)

            def print_receipt() -> None:
                with httpx.Client(base_url=url, timeout=60) as client:
                    outcome["answer"] = client.post(
                        "/hw_proxy/default_printer_action",
                        json=rpc({"data": {"action": "print_receipt", "receipt": png}}, 1),
                        headers=ORIGIN,
                    ).json()

            printing = threading.Thread(target=print_receipt)
            printing.start()
            # screens while the receipt is being sent and confirmed
            assert wait_until(lambda: till.service.snapshot().current_job is not None, 60)
            sent = 0
            while till.service.snapshot().current_job is not None or sent < 50:
                sent += 1
                assert till.send(http, [f"Article {sent}", f"{sent} x 1.00"])["result"] is True
            last = [f"Article {sent}".ljust(20), f"{sent} x 1.00".ljust(20)]
            printing.join(60)
            assert outcome["answer"].get("result") is True, outcome
            assert till.printer.wait_display(last, 10), till.printer.display_lines
            # the job went out whole, in one piece, once, directly followed by its confirmation
            queue = JobQueue(till.service.queue_path)
            try:
                jobs = queue.journal(10)
                job = queue.get(jobs[0]["id"])
            finally:
                queue.close()
            assert len(jobs) == 1 and jobs[0]["state"] == "done" and job is not None
            stream = received(till)
            assert stream.count(SELECT_PRINTER + job.data + QUERY_ALL) == 1
            assert stream.count(job.data) == 1
            # frames went out before and after it, collapsed: fewer writes than messages
            counters = till.service.snapshot().activity.counters
            assert 2 <= counters["display_frames"] <= sent + 1
            document = till.printer.document()
            assert len(document.images) == 1 and document.text() == ""
            assert document.images[0].height == 1600
            assert b"Article" in bytes(document.display_data)
    finally:
        sim.stop()


async def test_a_receipt_after_display_writes_has_no_display_text(tmp_path: Path) -> None:
    from posboxless.printer.simulator import SimulatedPrinter

    sim = TcpPrinterSimulator(SimulatedPrinter(output_dir=tmp_path / "paper")).start()
    till = Till(tmp_path, sim)
    try:
        with (
            live_server(till.app, services=till.services) as url,
            httpx.Client(base_url=url, timeout=30) as http,
        ):
            # a text sent before the printer is connected is answered "not connected"
            assert wait_until(
                lambda: till.status(http)["customer_display"]["status"] == "connected"
            )
            for n in range(5):
                assert till.send(http, [f"Croissant {n}", "TOTAL  9.99"])["result"] is True
            assert till.printer.wait_display(["Croissant 4".ljust(20), "TOTAL  9.99".ljust(20)], 10)
            xml = "<receipt><div>Merci de votre visite</div></receipt>"
            answer = http.post(
                "/hw_proxy/print_xml_receipt", json=rpc({"receipt": xml}, 9), headers=ORIGIN
            ).json()
            assert "error" not in answer, answer
            assert wait_until(lambda: till.printer.receipts_saved == 1)
            text = (tmp_path / "paper" / "receipt-00001.txt").read_text(encoding="utf-8")
            assert "Merci de votre visite" in text
            assert "Croissant" not in text and "Bienvenue" not in text and "TOTAL" not in text
            assert till.printer.decode_errors == []
            assert [e["kind"] for e in till.service.journal(100)] == ["xml"]
    finally:
        sim.stop()


async def test_replug_shows_the_current_screen_again(
    tmp_path: Path, sim: TcpPrinterSimulator
) -> None:
    till = Till(tmp_path, sim)
    with live_server(till.app, services=till.services) as url, httpx.Client(base_url=url) as http:
        current = ["Baguette".ljust(20), "1 x 1.20".ljust(20)]
        assert wait_until(lambda: till.status(http)["customer_display"]["status"] == "connected")
        assert till.send(http, current)["result"] is True
        assert till.printer.wait_display(current, 10)
        sim.unplug()
        assert wait_until(lambda: till.status(http)["customer_display"]["status"] != "connected")
        status = till.status(http)["customer_display"]
        assert status["status"] == "disconnected", status
        assert "printer 'receipt'" in status["messages"][0]
        # the printer (and the display behind it) lost power: the display is blank
        till.printer.display = DisplayEmulator("epson")
        sim.replug()
        assert till.printer.wait_display(current, 10), till.printer.display_lines
        assert wait_until(lambda: till.status(http)["customer_display"]["status"] == "connected")


async def test_offline_printer_makes_the_call_fail_with_the_reason(tmp_path: Path) -> None:
    sim = TcpPrinterSimulator().start()
    sim.unplug()  # the printer is off from the start
    till = Till(tmp_path, sim)
    try:
        with (
            live_server(till.app, services=till.services) as url,
            httpx.Client(base_url=url) as http,
        ):
            assert wait_until(
                lambda: till.status(http)["customer_display"]["status"] == "disconnected"
            )
            answer = till.send(http, ["Pain", "0.90"])
            message = answer["error"]["data"]["message"]
            assert "printer 'receipt'" in message and "disconnected" in message, message
            # kept for when the printer is back
            sim.replug()
            assert till.printer.wait_display(["Pain".ljust(20), "0.90".ljust(20)], 10)
            assert till.send(http, ["Pain", "1.90"])["result"] is True
    finally:
        sim.stop()


async def test_a_printer_left_deselected_still_prints_the_next_receipt(
    tmp_path: Path, sim: TcpPrinterSimulator
) -> None:
    """Something (a frame cut off, another program) left the printer on the display: jobs
    start with ESC = 1, or the printer would ignore the receipt yet answer its status queries."""
    till = Till(tmp_path, sim)
    with (
        live_server(till.app, services=till.services) as url,
        httpx.Client(base_url=url, timeout=30) as http,
    ):
        assert till.printer.wait_display(["Bienvenue".center(20), " " * 20], 10)
        till.printer.feed(SELECT_DISPLAY)
        assert not till.printer.printer_selected
        xml = "<receipt><div>Ticket 42</div></receipt>"
        answer = http.post(
            "/hw_proxy/print_xml_receipt", json=rpc({"receipt": xml}, 9), headers=ORIGIN
        ).json()
        assert "error" not in answer, answer
        assert wait_until(lambda: "Ticket 42" in till.printer.document().text())


def test_simulate_mode_shows_a_display_wired_through_the_printer(tmp_path: Path) -> None:
    """``--simulate`` with such a configuration: the simulated printer's display port, on the
    page's live card."""
    config = parse_config(
        {
            "server": {"data_dir": str(tmp_path), "simulate": True},
            "printer": [{"name": "receipt", "host": "192.168.1.50:9100"}],
            "customer_display": {"printer": "receipt"},
        }
    )
    services = build_services(config)
    display = services.customer_display
    assert isinstance(display, PrinterPortDisplay)
    with (
        live_server(create_app(config, services), services=services) as url,
        httpx.Client(base_url=url) as http,
    ):
        lines = ["Crème brûlée".ljust(20), "1 x 3.50        3.50"]
        assert (
            http.post(
                "/hw_proxy/send_text_customer_display",
                json=rpc({"text_to_display": json.dumps(lines)}, 1),
            ).json()["result"]
            is True
        )
        assert display.simulator.wait_display(lines, 10)
        page = http.get("/").text
        assert "id='pole-display'" in page and "Crème brûlée" in page
        assert "printer &#x27;receipt&#x27;" in page or "printer 'receipt'" in page
        state = http.get("/api/diagnostics").json()
        (device,) = [d for d in state["devices"] if d["kind"] == "customer_display"]
        assert device["details"]["display_shows"] == lines
        assert device["details"]["printer"] == "receipt"


async def test_metrics_have_the_display_through_the_printer(
    tmp_path: Path, sim: TcpPrinterSimulator
) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    till = Till(tmp_path, sim)
    with live_server(till.app, services=till.services) as url, httpx.Client(base_url=url) as http:
        assert wait_until(lambda: till.status(http)["customer_display"]["status"] == "connected")
        assert till.send(http, ["Total", "12.50"])["result"] is True
        assert till.printer.wait_display(["Total".ljust(20), "12.50".ljust(20)], 10)
        assert wait_until(lambda: till.display.details()["counters"]["shown"] >= 2)
        text = http.get("/metrics").text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    up = {
        (s.labels["kind"], s.labels["name"]): s.value
        for s in families["posboxless_device_up"].samples
    }
    assert up[("customer_display", "pole-display")] == 1
    assert up[("printer", "receipt")] == 1
    events = {
        s.labels["event"]: s.value
        for s in families["posboxless_device_events"].samples
        if s.labels["kind"] == "customer_display" and s.name.endswith("_total")
    }
    assert events["messages"] == 1 and events["shown"] >= 2


async def test_the_welcome_text_comes_back_when_the_pos_goes_quiet(
    tmp_path: Path, sim: TcpPrinterSimulator
) -> None:
    till = Till(tmp_path, sim, welcome_after=0.2)
    with live_server(till.app, services=till.services) as url, httpx.Client(base_url=url) as http:
        welcome = ["Bienvenue".center(20), " " * 20]
        assert till.printer.wait_display(welcome, 10)
        assert till.send(http, ["Point of Sale Closed", "See you soon!"])["result"] is True
        assert till.printer.wait_display(["Point of Sale Closed", "See you soon!".ljust(20)], 10)
        assert till.printer.wait_display(welcome, 10)
        assert till.service.journal(100) == []


async def test_a_screen_does_not_wait_for_the_next_status_poll(
    tmp_path: Path, sim: TcpPrinterSimulator
) -> None:
    """Polls every 10 minutes: each screen still goes out at once (the worker is woken)."""
    rare_polls = WorkerSettings(status_interval=600, status_timeout=0.3, retry_min=0.02)
    till = Till(tmp_path, sim, settings=rare_polls)
    with live_server(till.app, services=till.services) as url, httpx.Client(base_url=url) as http:
        assert till.printer.wait_display(["Bienvenue".center(20), " " * 20], 10)
        for n in range(3):
            lines = [f"Article {n}".ljust(20), "1 x 2.00".ljust(20)]
            assert till.send(http, lines)["result"] is True
            assert till.printer.wait_display(lines, 10), n


async def test_paper_out_still_passes_screens_to_the_display(
    tmp_path: Path, sim: TcpPrinterSimulator
) -> None:
    """The printer cannot print but passes data on: the display keeps working."""
    sim.printer.state = "paper_out"
    till = Till(tmp_path, sim)
    with live_server(till.app, services=till.services) as url, httpx.Client(base_url=url) as http:
        assert wait_until(lambda: till.status(http)["printer"]["status"] == "error")
        lines = ["Total".ljust(20), "4.20".ljust(20)]
        assert till.send(http, lines)["result"] is True
        assert till.printer.wait_display(lines, 10)
        assert till.status(http)["customer_display"]["status"] == "connected"


def screen_bytes(lines: list[str]) -> int:
    """Bytes of one screen on the display's line (``ESC = 2`` / ``ESC = 1`` are the printer's)."""
    return len(frame(lines)) - len(SELECT_DISPLAY + SELECT_PRINTER)


async def test_a_burst_collapses_to_the_screens_the_display_line_has_time_for(
    tmp_path: Path, sim: TcpPrinterSimulator
) -> None:
    """60 messages as fast as the POS sends them, to a display at 2400 baud behind the
    printer (a screen takes 0.23 s of its line): the printer is sent about one screen per
    screen time, not one per message (it would pass them on at the display's speed, its buffer
    full, a receipt behind them), and the display ends on the last message."""
    till = Till(tmp_path, sim, baudrate=2400)
    with live_server(till.app, services=till.services) as url, httpx.Client(base_url=url) as http:
        assert till.printer.wait_display(["Bienvenue".center(20), " " * 20], 10)
        before = received(till).count(SELECT_DISPLAY)
        started = time.monotonic()
        for n in range(60):
            assert till.send(http, [f"Article {n}", f"{n} x 1.00"])["result"] is True
        last = ["Article 59".ljust(20), "59 x 1.00".ljust(20)]
        assert till.printer.wait_display(last, 30), till.printer.display_lines
        elapsed = time.monotonic() - started
        written = received(till).count(SELECT_DISPLAY) - before
        screen_time = screen_bytes(last) * 10 / 2400
        assert 1 <= written <= elapsed / screen_time + 2, (written, elapsed)
        counters = till.display.details()["counters"]
        assert counters["messages"] == 60
        assert counters["collapsed"] >= 60 - written


async def test_a_receipt_during_a_burst_prints_once_after_one_screen_at_most(
    tmp_path: Path, sim: TcpPrinterSimulator
) -> None:
    """A display at 300 baud (1.8 s a screen): a receipt sent in the middle of a burst does not
    wait for the screens of the burst, prints whole and once, and the display still ends on the
    last message."""
    till = Till(tmp_path, sim, baudrate=300)
    with (
        live_server(till.app, services=till.services) as url,
        httpx.Client(base_url=url, timeout=30) as http,
    ):
        assert till.printer.wait_display(["Bienvenue".center(20), " " * 20], 10)
        for n in range(40):
            if n == 20:
                mark = len(received(till))
                xml = "<receipt><div>Merci de votre visite</div></receipt>"
                answer = http.post(
                    "/hw_proxy/print_xml_receipt", json=rpc({"receipt": xml}, 9), headers=ORIGIN
                ).json()
                assert "error" not in answer, answer
            assert till.send(http, [f"Article {n}", f"{n} x 1.00"])["result"] is True
        last = ["Article 39".ljust(20), "39 x 1.00".ljust(20)]
        assert till.printer.wait_display(last, 30), till.printer.display_lines
        assert wait_until(lambda: [j["state"] for j in till.service.journal(10)] == ["done"])
        queue = JobQueue(till.service.queue_path)
        try:
            job = queue.get(till.service.journal(10)[0]["id"])
        finally:
            queue.close()
        assert job is not None
        stream = received(till)
        assert stream.count(job.data) == 1
        assert stream.count(SELECT_PRINTER + job.data + QUERY_ALL) == 1
        # at most the one screen that was due when the receipt came went out before it
        assert stream[mark : stream.index(job.data)].count(SELECT_DISPLAY) <= 1
        assert "Merci de votre visite" in till.printer.document().text()
        assert "Article" not in till.printer.document().text()
