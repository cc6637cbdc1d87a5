"""The printer service through a real TCP transport against the loopback 9100 simulator."""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from posboxless.device import DeviceUnavailable, InvalidInput, PrinterService
from posboxless.printer.config import PrinterConfig
from posboxless.printer.service import EscPosPrinterService
from posboxless.printer.simulator import TcpPrinterSimulator
from posboxless.printer.worker import WorkerSettings
from posboxless.transports.base import Transport
from posboxless.transports.file import FileTransport
from posboxless.transports.tcp import TcpTransport
from tests.helpers import until

FAST = WorkerSettings(
    status_interval=0.05, status_timeout=0.3, confirm_timeout=3, retry_min=0.02, retry_max=0.1
)
XML = (
    "<receipt><div>Café crème brûlée</div>"
    "<line><left>Total</left><right>3,50 €</right></line></receipt>"
)


def png_base64(width: int = 512, height: int = 100) -> str:
    image = Image.new("L", (width, height), 255)
    image.paste(0, (0, 0, width // 2, height))  # left half black
    out = io.BytesIO()
    image.save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


def job_state(service: EscPosPrinterService, job_id: str) -> str:
    return next(e["state"] for e in service.journal(1000) if e["id"] == int(job_id))


@pytest.fixture
def sim() -> Iterator[TcpPrinterSimulator]:
    simulator = TcpPrinterSimulator().start()
    yield simulator
    simulator.stop()


def build(
    tmp_path: Path,
    transport: Transport,
    settings: WorkerSettings = FAST,
    **config: Any,
) -> EscPosPrinterService:
    printer = PrinterConfig(name=config.pop("name", "receipt"), host=("127.0.0.1", 9100), **config)
    return EscPosPrinterService(printer, transport, tmp_path, settings=settings, **{})


@pytest.fixture
async def service(tmp_path: Path, sim: TcpPrinterSimulator) -> AsyncIterator[EscPosPrinterService]:
    svc = build(tmp_path, TcpTransport(sim.host, sim.port), profile="TM-T20III")
    await svc.start()
    yield svc
    await svc.stop()


async def test_implements_the_printer_interface(service: EscPosPrinterService) -> None:
    assert isinstance(service, PrinterService)
    assert service.kind == "printer" and service.name == "receipt"


async def test_xml_receipt_is_printed_with_accents_and_euro(
    service: EscPosPrinterService, sim: TcpPrinterSimulator
) -> None:
    job_id = await service.submit_xml_receipt(XML)
    assert isinstance(job_id, str)
    await until(lambda: job_state(service, job_id) == "done")
    document = sim.printer.document()
    assert "Café crème brûlée" in document.text()
    assert "3,50 €" in document.text()
    assert len(document.cuts) == 1


async def test_image_receipt_pixels_arrive(
    service: EscPosPrinterService, sim: TcpPrinterSimulator
) -> None:
    job_id = await service.submit_image_receipt(png_base64())
    await until(lambda: job_state(service, job_id) == "done")
    document = sim.printer.document()
    (image,) = document.images
    assert image.width == 512  # Odoo's 512 px dot for dot, centred on the 576-dot head
    assert image.getpixel((10, 50)) == 0 and image.getpixel((500, 50)) == 255
    assert len(document.cuts) == 1


async def test_drawer_kick_pulses_both_pins(
    service: EscPosPrinterService, sim: TcpPrinterSimulator
) -> None:
    job_id = await service.submit_drawer_kick()
    await until(lambda: job_state(service, job_id) == "done")
    assert [pin for pin, _, _ in sim.printer.document().pulses] == [2, 5]


async def test_status_is_connected_when_printer_answers_ok(service: EscPosPrinterService) -> None:
    await until(lambda: service.status().status == "connected")
    assert service.status().messages == (f"Ready at {service.details()['connection']}",)
    assert service.details()["printer_state"]["online"] is True


async def test_near_end_is_connected_with_a_message(
    service: EscPosPrinterService, sim: TcpPrinterSimulator
) -> None:
    sim.printer.state = "near_end"
    await until(lambda: service.status().messages[:1] == ("Paper near end",))
    assert service.status().status == "connected"
    assert service.status().messages[1].startswith("Ready at 127.0.0.1:")


async def test_cover_open_is_an_error(
    service: EscPosPrinterService, sim: TcpPrinterSimulator
) -> None:
    sim.printer.state = "cover_open"
    await until(lambda: service.status().status == "error")
    assert "Cover open" in service.status().messages


async def test_silent_printer_is_reported_not_answering(
    service: EscPosPrinterService, sim: TcpPrinterSimulator
) -> None:
    sim.printer.silent = True
    await until(lambda: service.status().status == "error", timeout=3)
    (message,) = service.status().messages
    assert message == f"Printer at {sim.address} is not answering"


async def test_unreachable_printer_is_disconnected(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    svc = build(tmp_path, TcpTransport("127.0.0.1", port))
    await svc.start()
    try:
        await until(lambda: svc.status().status == "disconnected")
        assert svc.status().messages[0].startswith(f"Unreachable at 127.0.0.1:{port}")
    finally:
        await svc.stop()


async def test_connecting_before_the_first_check(tmp_path: Path, sim: TcpPrinterSimulator) -> None:
    gate = threading.Event()

    class SlowToOpen(TcpTransport):
        def open(self) -> None:
            gate.wait(5)
            super().open()

    svc = build(tmp_path, SlowToOpen(sim.host, sim.port))
    assert svc.status().status == "disconnected"  # not started
    await svc.start()
    try:
        assert svc.status().status == "connecting"
        gate.set()
        await until(lambda: svc.status().status == "connected")
    finally:
        gate.set()
        await svc.stop()


async def test_status_tells_which_job_is_printing(
    service: EscPosPrinterService, sim: TcpPrinterSimulator
) -> None:
    await until(lambda: service.status().status == "connected")

    # The printer stops taking data once the image starts: the job stays in flight.
    paused = threading.Event()

    def pause_once(data: bytes) -> None:
        if b"\x1dv0" in data:
            sim.printer.on_bytes = None
            sim.pause()
            paused.set()

    sim.printer.on_bytes = pause_once
    big = await service.submit_image_receipt(png_base64(512, 8000))
    await service.submit_xml_receipt(XML)
    await until(paused.is_set)
    assert service.status().messages == (f"Printing job {big} (1 queued)",)
    sim.resume()
    await until(lambda: service.details()["pending_jobs"] == 0, timeout=10)


async def test_invalid_input_is_refused_and_nothing_queued(service: EscPosPrinterService) -> None:
    with pytest.raises(InvalidInput):
        await service.submit_xml_receipt("<receipt><div>unclosed</receipt>")
    with pytest.raises(InvalidInput):
        await service.submit_xml_receipt("")
    with pytest.raises(InvalidInput):
        await service.submit_image_receipt("not base64 !!!")
    with pytest.raises(InvalidInput):
        await service.submit_image_receipt(base64.b64encode(b"not an image").decode())
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n{ } loop\n"
    with pytest.raises(InvalidInput, match="only JPEG and PNG images are accepted"):
        await service.submit_image_receipt(base64.b64encode(eps).decode())
    assert service.journal() == []


async def test_render_warnings_reach_the_journal_and_log_with_the_printer_name(
    service: EscPosPrinterService, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    job_id = await service.submit_xml_receipt("<receipt><div>Tokyo 日本</div></receipt>")
    entry = next(e for e in service.journal(10) if e["id"] == int(job_id))
    assert "U+65E5" in entry["note"]
    assert any(
        r.getMessage().startswith("printer receipt: ") and "U+65E5" in r.getMessage()
        for r in caplog.records
    )


async def test_refusals_are_logged_with_the_printer_name(
    service: EscPosPrinterService, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    with pytest.raises(InvalidInput) as info:
        await service.submit_image_receipt(base64.b64encode(b"hello, I am text").decode())
    assert "not an image" in str(info.value)
    assert any(
        "printer receipt" in r.getMessage() and str(info.value) in r.getMessage()
        for r in caplog.records
    ), "the refusal is logged with the printer's name"


async def test_offline_policy_refuse(tmp_path: Path, sim: TcpPrinterSimulator) -> None:
    sim.unplug()
    svc = build(tmp_path, TcpTransport(sim.host, sim.port), offline="refuse")
    await svc.start()
    try:
        await until(lambda: svc.status().status == "disconnected")
        with pytest.raises(DeviceUnavailable, match="not ready"):
            await svc.submit_xml_receipt(XML)
        with pytest.raises(DeviceUnavailable):
            await svc.submit_drawer_kick()
        assert svc.journal() == []
        sim.replug()
        await until(lambda: svc.status().status == "connected")
        job_id = await svc.submit_xml_receipt(XML)
        await until(lambda: job_state(svc, job_id) == "done")
    finally:
        await svc.stop()


async def test_offline_policy_queue_accepts_and_prints_later(
    tmp_path: Path, sim: TcpPrinterSimulator
) -> None:
    sim.unplug()
    svc = build(tmp_path, TcpTransport(sim.host, sim.port))
    await svc.start()
    try:
        await until(lambda: svc.status().status == "disconnected")
        job_id = await svc.submit_xml_receipt(XML)
        assert job_state(svc, job_id) == "queued"
        sim.replug()
        await until(lambda: job_state(svc, job_id) == "done")
        assert "Café" in sim.printer.document().text()
    finally:
        await svc.stop()


async def test_full_queue_is_refused_explicitly(tmp_path: Path, sim: TcpPrinterSimulator) -> None:
    sim.unplug()
    svc = build(tmp_path, TcpTransport(sim.host, sim.port), max_queued=3)
    await svc.start()
    try:
        accepted = [await svc.submit_xml_receipt(XML) for _ in range(3)]
        with pytest.raises(DeviceUnavailable, match="full"):
            await svc.submit_xml_receipt(XML)
        assert len(svc.journal()) == 3
        sim.replug()
        await until(lambda: all(job_state(svc, j) == "done" for j in accepted))
        assert sim.printer.document().text().count("Café") == 3
    finally:
        await svc.stop()


async def test_old_receipts_and_drawer_kicks_expire(
    tmp_path: Path, sim: TcpPrinterSimulator
) -> None:
    sim.unplug()
    settings = WorkerSettings(
        status_interval=0.05,
        status_timeout=0.3,
        retry_min=0.02,
        retry_max=0.05,
        receipt_max_age=0.3,
        drawer_max_age=0.2,
    )
    svc = build(tmp_path, TcpTransport(sim.host, sim.port), settings)
    await svc.start()
    try:
        receipt = await svc.submit_xml_receipt(XML)
        kick = await svc.submit_drawer_kick()
        await asyncio.sleep(0.4)
        sim.replug()
        await until(lambda: job_state(svc, receipt) == "expired")
        await until(lambda: job_state(svc, kick) == "expired")
        fresh = await svc.submit_xml_receipt(XML.replace("Café", "Thé"))
        await until(lambda: job_state(svc, fresh) == "done")
        document = sim.printer.document()
        assert "Café" not in document.text() and "Thé" in document.text()
        assert document.pulses == []
        entry = next(e for e in svc.journal() if e["id"] == int(receipt))
        assert "older than" in entry["error"]
    finally:
        await svc.stop()


async def test_reprint_from_the_journal(
    service: EscPosPrinterService, sim: TcpPrinterSimulator
) -> None:
    original = await service.submit_xml_receipt(XML)
    await until(lambda: job_state(service, original) == "done")
    again = await service.reprint(original)
    assert again != original
    await until(lambda: job_state(service, again) == "done")
    text = sim.printer.document().text()
    assert text.count("Café crème brûlée") == 2
    assert f"REPRINT of job {original}" in text
    entry = service.journal(1)[0]
    assert entry["reprint_of"] == int(original) and entry["kind"] == "xml"
    with pytest.raises(InvalidInput, match="No print job"):
        await service.reprint("12345")
    kick = await service.submit_drawer_kick()
    with pytest.raises(InvalidInput, match="drawer"):
        await service.reprint(kick)


async def test_test_print(service: EscPosPrinterService, sim: TcpPrinterSimulator) -> None:
    job_id = await service.test_print()
    await until(lambda: job_state(service, job_id) == "done")
    text = sim.printer.document().text()
    assert "Test page" in text and "Euro: €" in text and sim.address in text


async def test_startup_ticket_on_first_connection_only(
    tmp_path: Path, sim: TcpPrinterSimulator
) -> None:
    printer = PrinterConfig(name="receipt", host=(sim.host, sim.port), startup_ticket=True)
    svc = EscPosPrinterService(
        printer,
        TcpTransport(sim.host, sim.port),
        tmp_path,
        settings=FAST,
        addresses=["http://192.168.1.10:8069", "https://till.lan"],
    )
    await svc.start()
    try:
        await until(lambda: len(svc.journal()) == 1 and svc.journal()[0]["state"] == "done")
        sim.unplug()  # a reconnection is not a first connection
        await until(lambda: svc.status().status == "disconnected")
        sim.replug()
        await until(lambda: svc.status().status == "connected")
        text = sim.printer.document().text()
        assert "Address: http://192.168.1.10:8069" in text and "https://till.lan" in text
        assert len(svc.journal()) == 1
    finally:
        await svc.stop()


async def test_file_printer_needs_no_status(tmp_path: Path) -> None:
    out = tmp_path / "spool.bin"
    svc = build(tmp_path, FileTransport(str(out)))
    await svc.start()
    try:
        job_id = await svc.submit_xml_receipt(XML)
        await until(lambda: job_state(svc, job_id) == "done")
        assert svc.status().status == "connected"
        assert svc.details()["counters"].get("status_polls", 0) == 0
    finally:
        await svc.stop()


async def test_submit_before_start_is_unavailable(tmp_path: Path) -> None:
    svc = build(tmp_path, FileTransport(str(tmp_path / "x")))
    with pytest.raises(DeviceUnavailable, match="not started"):
        await svc.submit_drawer_kick()
