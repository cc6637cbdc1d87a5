"""``[[printer]]`` tables and the printer factory (including simulate mode)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from posboxless.device import ServiceContext
from posboxless.printer.config import default_printer_name, parse_printers
from posboxless.printer.factory import create_printers, create_transport
from posboxless.printer.service import EscPosPrinterService
from posboxless.settings import ConfigError, Table
from posboxless.transports.file import FileTransport
from posboxless.transports.serial_port import SerialTransport
from posboxless.transports.tcp import TcpTransport
from posboxless.transports.usb import UsbTransport
from posboxless.transports.usblp import UsblpTransport
from tests.helpers import until

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def parse(text: str) -> Any:
    root = Table(tomllib.loads(text), "")
    return parse_printers(root.tables("printer"))


def test_several_named_printers_and_the_default() -> None:
    printers = parse(
        """
        [[printer]]
        name = "kitchen"
        host = "192.168.1.50"
        offline = "queue"
        [[printer]]
        name = "receipt"
        default = true
        device = "/dev/usb/lp0"
        profile = "TM-T20III"
        profile_overrides = { width_dots = 512 }
        offline = "refuse"
        max_queued = 20
        receipt_max_age = 600
        drawer_max_age = 5
        status_interval = 2
        startup_ticket = true
        [[printer]]
        name = "bar"
        usb = "04b8:0202"
        out_endpoint = 0x02
        in_endpoint = 0x81
        [[printer]]
        name = "serial"
        serial = "/dev/ttyUSB0"
        serial_settings = "115200 8N1"
        answer_timeout = 3
        [[printer]]
        name = "spool"
        file = "/tmp/spool.bin"
        """
    )
    kitchen, receipt, bar, serial, spool = printers
    assert default_printer_name(printers) == "receipt"
    assert kitchen.host == ("192.168.1.50", 9100) and kitchen.offline == "queue"
    assert receipt.device == "/dev/usb/lp0" and receipt.offline == "refuse"
    assert receipt.profile_overrides == {"width_dots": 512} and receipt.max_queued == 20
    assert (receipt.receipt_max_age, receipt.drawer_max_age, receipt.status_interval) == (600, 5, 2)
    assert receipt.startup_ticket and not kitchen.startup_ticket
    assert bar.usb == (0x04B8, 0x0202) and (bar.in_endpoint, bar.out_endpoint) == (0x81, 0x02)
    assert serial.serial_settings.baudrate == 115200
    # The truthful wait is the default; keeping jobs for later is a per-printer choice.
    assert (serial.offline, serial.answer_timeout) == ("wait", 3)
    assert (spool.offline, spool.answer_timeout) == ("wait", 8)
    assert isinstance(create_transport(kitchen), TcpTransport)
    assert isinstance(create_transport(receipt), UsblpTransport)
    assert isinstance(create_transport(bar), UsbTransport)
    assert isinstance(create_transport(serial), SerialTransport)
    assert isinstance(create_transport(spool), FileTransport)


def test_first_printer_is_the_default_when_none_is_marked() -> None:
    printers = parse('[[printer]]\nname = "a"\nfile = "x"\n[[printer]]\nname = "b"\nfile = "y"')
    assert default_printer_name(printers) == "a"
    assert default_printer_name([]) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[printer]]\nname = "a"', "exactly one of device, usb, host, serial, file"),
        ('[[printer]]\nhost = "h"\nfile = "f"', "exactly one of"),
        ('[[printer]]\nusb = "04b8"', "USB id"),
        ('[[printer]]\nhost = "h"\noffline = "drop"', "printer\\[0\\].offline"),
        ('[[printer]]\nhost = "h"\nmax_queued = 0', "max_queued"),
        ('[[printer]]\nhost = "h"\nprofile = "TM-T2O"', "printer\\[0\\].profile"),
        ('[[printer]]\nhost = "h"\nprofile_overrides = { width_dots = 500 }', "multiple of 8"),
        ('[[printer]]\nhost = "h"\nout_endpoint = 2', "only with usb"),
        ('[[printer]]\nserial = "/dev/ttyS0"\nserial_settings = "fast"', "38400 8N1"),
        ('[[printer]]\nhost = "h"\ncolour = "red"', "unknown key"),
        ('[[printer]]\nhost = "h"\ndefault = true\n[[printer]]\nfile = "f"\ndefault = true',
         "at most one printer"),
        ('[[printer]]\nname = "a"\nhost = "h"\n[[printer]]\nname = "a"\nfile = "f"', "unique"),
    ],
)  # fmt: skip
def test_bad_tables_are_explained(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse(text)


async def test_simulate_mode_builds_one_real_printer_writing_receipts(tmp_path: Path) -> None:
    ctx = ServiceContext(data_dir=tmp_path, simulate=True)
    printers, default = create_printers([], ctx)
    assert default == "receipt" and list(printers) == ["receipt"]
    service = printers["receipt"]
    assert isinstance(service, EscPosPrinterService)
    await service.start()
    try:
        await service.submit_xml_receipt("<receipt><div>Demo café 1,00 €</div></receipt>")
        out = tmp_path / "simulated-printer"
        simulator = service.simulator
        assert simulator is not None
        # The count goes up once the receipt's files are complete (never a half-written file).
        await until(lambda: simulator.printer.receipts_saved >= 1, "receipt saved", timeout=30)
        assert "Demo café 1,00 €" in (out / "receipt-00001.txt").read_text()
        assert (out / "receipt-00001.png").exists()
    finally:
        await service.stop()


def test_factory_builds_services_from_configs(tmp_path: Path) -> None:
    printers_cfg = parse('[[printer]]\nname = "k"\nhost = "10.0.0.9:9101"')
    printers, default = create_printers(printers_cfg, ServiceContext(tmp_path, False))
    assert default == "k" and printers["k"].name == "k"
    assert printers["k"].details()["connection"] == "10.0.0.9:9101"
