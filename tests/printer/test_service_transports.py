"""The same receipts printed through every transport and decoded back at the simulator:
TCP 9100, a pty as a /dev/usb/lpN node, a pty as a serial printer, a file, and pyusb driving a
simulated USB device (there is no USB bus here; the pyusb calls are exercised on a fake device)."""

from __future__ import annotations

import asyncio
import base64
import io
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from posboxless.printer.config import PrinterConfig
from posboxless.printer.escpos import decode
from posboxless.printer.service import EscPosPrinterService
from posboxless.printer.simulator import (
    PtyPrinterSimulator,
    TcpPrinterSimulator,
    UsbPrinterSimulator,
)
from posboxless.printer.worker import WorkerSettings
from posboxless.transports.base import Transport
from posboxless.transports.file import FileTransport
from posboxless.transports.serial_port import SerialSettings, SerialTransport
from posboxless.transports.tcp import TcpTransport
from posboxless.transports.usb import UsbTransport
from posboxless.transports.usblp import UsblpTransport

FAST = WorkerSettings(
    status_interval=0.05, status_timeout=0.3, confirm_timeout=5, retry_min=0.02, retry_max=0.1
)
XML = (
    "<receipt><div>Crème brûlée à l'œuf, déjà payé</div>"
    "<line><left>TOTAL</left><right>12,50 €</right></line></receipt>"
)


@dataclass
class Rig:
    transport: Transport
    received: Callable[[], bytes]
    stop: Callable[[], None]
    usb_device: UsbPrinterSimulator | None = None


def make_rig(kind: str, tmp_path: Path) -> Rig:
    if kind == "tcp":
        tcp = TcpPrinterSimulator().start()
        return Rig(TcpTransport(tcp.host, tcp.port), lambda: bytes(tcp.printer.received), tcp.stop)
    if kind in ("usblp", "serial"):
        pty = PtyPrinterSimulator().start()
        transport: Transport = (
            UsblpTransport(pty.path)
            if kind == "usblp"
            else SerialTransport(pty.path, SerialSettings(38400))
        )
        return Rig(transport, lambda: bytes(pty.printer.received), pty.stop)
    if kind == "file":
        out = tmp_path / "printer.bin"
        return Rig(FileTransport(str(out)), out.read_bytes, lambda: None)
    if kind == "usb":
        device = UsbPrinterSimulator(endpoints=(0x81, 0x02))
        usb = UsbTransport(0x04B8, 0x0202, finder=lambda vendor, product: device)
        return Rig(usb, lambda: bytes(device.printer.received), lambda: None, device)
    raise AssertionError(kind)


@pytest.fixture(params=["tcp", "usblp", "serial", "file", "usb"])
async def rig(request: Any, tmp_path: Path) -> AsyncIterator[tuple[Rig, EscPosPrinterService]]:
    setup = make_rig(request.param, tmp_path)
    config = PrinterConfig(name="receipt", file="unused", profile="TM-T20III")
    service = EscPosPrinterService(config, setup.transport, tmp_path, settings=FAST)
    await service.start()
    yield setup, service
    await service.stop()
    setup.stop()


def image_base64() -> str:
    image = Image.new("L", (512, 300), 255)
    image.paste(0, (0, 0, 256, 300))  # left half black
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return base64.b64encode(out.getvalue()).decode()


async def all_done(service: EscPosPrinterService, count: int) -> None:
    for _ in range(1000):
        journal = service.journal()
        if len(journal) == count and all(e["state"] == "done" for e in journal):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"jobs not printed: {service.journal()}")


async def test_receipts_through_each_transport(rig: tuple[Rig, EscPosPrinterService]) -> None:
    setup, service = rig
    await service.submit_xml_receipt(XML)
    await service.submit_image_receipt(image_base64())
    await service.submit_drawer_kick()
    await all_done(service, 3)
    document = decode(setup.received())
    text = document.text()
    assert "Crème brûlée à l'œuf, déjà payé" in text
    assert "12,50 €" in text
    (image,) = document.images
    assert image.width == 512
    assert image.getpixel((20, 150)) == 0 and image.getpixel((500, 150)) == 255
    assert len(document.cuts) == 2
    assert [pin for pin, _, _ in document.pulses] == [2, 5]
    assert service.status().status == "connected"
    if setup.usb_device is not None:
        assert setup.usb_device.detached == [0]
        assert setup.usb_device.resets == 0
        assert {endpoint for endpoint, _ in setup.usb_device.writes} == {0x02}
