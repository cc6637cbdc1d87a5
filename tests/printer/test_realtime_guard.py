"""A drawer never opens from image data: real-time ``DLE DC4`` patterns inside a receipt image are
switched off with ``GS ( D`` on printers that take it, and logged and counted elsewhere. Through the
real service, worker and TCP transport against the simulated printer, which acts on ``DLE DC4``
fn 1 wherever it reads it, as an Epson does."""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from PIL import Image

from posboxless.printer.config import PrinterConfig
from posboxless.printer.escpos.decoder import decode
from posboxless.printer.escpos.errors import ProfileError
from posboxless.printer.escpos.realtime import (
    SWITCH_BACK,
    SWITCH_OFF,
    count_realtime_hazards,
    guard_realtime,
)
from posboxless.printer.escpos.status import count_status_queries
from posboxless.printer.profiles import BUILTIN_PROFILES, get_profile
from posboxless.printer.service import EscPosPrinterService
from posboxless.printer.simulator import SimulatedPrinter, TcpPrinterSimulator
from posboxless.printer.worker import WorkerSettings
from posboxless.transports.tcp import TcpTransport
from tests.helpers import until

from .test_faults import job_bytes

FAST = WorkerSettings(
    status_interval=0.05, status_timeout=0.3, confirm_timeout=3, retry_min=0.02, retry_max=0.1
)
WIDTH_BYTES = 72  # 576 dots: every profile used here prints it dot for dot
PULSE = bytes((0x10, 0x14, 0x01, 0x00, 0x05))


def raster_with(patterns: list[bytes], rows: int = 600) -> bytes:
    raster = bytearray(WIDTH_BYTES * rows)
    for row in range(0, rows, 5):  # some ink, so that the image is not blank
        raster[row * WIDTH_BYTES + row % WIDTH_BYTES] = 0x81
    for k, pattern in enumerate(patterns):
        at = ((k + 1) * rows // (len(patterns) + 1)) * WIDTH_BYTES + 30
        raster[at : at + len(pattern)] = pattern
    return bytes(raster)


def png_of(raster: bytes) -> str:
    rows = len(raster) // WIDTH_BYTES
    image = Image.frombytes("1", (WIDTH_BYTES * 8, rows), raster, "raw", "1;I")
    out = io.BytesIO()
    image.save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


def finished(service: EscPosPrinterService, job_id: str) -> bool:
    return any(e["id"] == int(job_id) and e["state"] == "done" for e in service.journal())


@pytest.fixture
def sim() -> Iterator[TcpPrinterSimulator]:
    simulator = TcpPrinterSimulator().start()
    yield simulator
    simulator.stop()


async def started(tmp_path: Path, sim: TcpPrinterSimulator, profile: str) -> EscPosPrinterService:
    config = PrinterConfig(name="counter", host=(sim.host, sim.port), profile=profile)
    service = EscPosPrinterService(
        config, TcpTransport(sim.host, sim.port), tmp_path, settings=FAST
    )
    await service.start()
    await until(lambda: service.status().status == "connected", timeout=15)
    return service


@pytest.fixture
async def epson(tmp_path: Path, sim: TcpPrinterSimulator) -> AsyncIterator[EscPosPrinterService]:
    service = await started(tmp_path, sim, "TM-T20III")
    yield service
    await service.stop()


@pytest.fixture
async def generic(tmp_path: Path, sim: TcpPrinterSimulator) -> AsyncIterator[EscPosPrinterService]:
    service = await started(tmp_path, sim, "generic-80")
    yield service
    await service.stop()


async def test_pulse_pattern_in_an_image_opens_no_drawer_and_the_image_prints_exact(
    epson: EscPosPrinterService, sim: TcpPrinterSimulator
) -> None:
    raster = raster_with([PULSE])
    job = await epson.submit_image_receipt(png_of(raster))
    await until(lambda: finished(epson, job), timeout=15)
    printer = sim.printer
    assert printer.realtime_pulses == []  # the pattern reached the printer, switched off
    assert printer.realtime_ignored == 1
    assert printer.realtime_switches == [(1, False), (2, False), (1, True)]
    received = bytes(printer.received)
    data = job_bytes(epson, job)
    # The job as rendered, byte for byte, between the switch-off and the switch-back.
    assert data.startswith(b"\x1b@")
    assert b"\x1b@" + SWITCH_OFF + data[2:] + SWITCH_BACK in received
    document = decode(received)
    assert document.pulses == []
    assert [band_bytes(image) for image in document.images] == [raster]  # the bands, stitched
    entry = epson.journal()[0]
    assert entry["attempts"] == 1 and not entry["interrupted"]
    assert epson.details()["counters"].get("realtime_guarded") == 1


def band_bytes(image: Image.Image) -> bytes:
    return image.convert("1").tobytes("raw", "1;I")


async def test_our_drawer_kick_still_opens_after_a_guarded_image(
    epson: EscPosPrinterService, sim: TcpPrinterSimulator
) -> None:
    job = await epson.submit_image_receipt(png_of(raster_with([PULSE, PULSE])))
    kick = await epson.submit_drawer_kick()
    await until(lambda: finished(epson, job) and finished(epson, kick), timeout=15)
    assert sim.printer.realtime_pulses == []
    assert sim.printer.realtime_ignored == 2
    # ESC p on both pins: a queued command, which GS ( D does not touch.
    assert len(decode(bytes(sim.printer.received)).pulses) == 2


async def test_status_patterns_are_still_counted_in_a_guarded_image(
    epson: EscPosPrinterService, sim: TcpPrinterSimulator
) -> None:
    # GS ( D does not switch DLE EOT off: the printer still answers the 10 04 n patterns in
    # the image, and the worker still waits for exactly that many answers plus its own four.
    patterns = [b"\x10\x04\x01", PULSE, b"\x10\x04\x03", b"\x10\x04\x04", PULSE]
    job = await epson.submit_image_receipt(png_of(raster_with(patterns)))
    await until(lambda: finished(epson, job), timeout=15)
    data = job_bytes(epson, job)
    assert count_status_queries(data) == 3
    assert count_status_queries(guard_realtime(data)) == 3
    assert sim.printer.realtime_pulses == []
    entry = epson.journal()[0]
    assert entry["attempts"] == 1 and not entry["interrupted"]
    counters = epson.details()["counters"]
    assert "unexpected_answers" not in counters and "short_answers" not in counters


async def test_without_gs_paren_d_the_job_is_logged_and_counted_once(
    generic: EscPosPrinterService, sim: TcpPrinterSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    raster = raster_with([PULSE])
    with caplog.at_level(logging.WARNING, logger="posboxless.printer.worker"):
        job = await generic.submit_image_receipt(png_of(raster))
        await until(lambda: finished(generic, job), timeout=15)
    data = job_bytes(generic, job)
    # Nothing was changed: the printer got the job as rendered and (being a real-time
    # printer) pulsed the drawer, which the log and the counter say.
    assert data in bytes(sim.printer.received)
    assert b"\x1d(D" not in bytes(sim.printer.received)
    assert sim.printer.realtime_pulses == [(2, 500)]
    warnings = [r.getMessage() for r in caplog.records if r.name == "posboxless.printer.worker"]
    assert len(warnings) == 1 and "printer counter" in warnings[0]
    assert generic.details()["counters"].get("realtime_unguarded") == 1


async def test_an_image_without_patterns_is_sent_unchanged(
    epson: EscPosPrinterService, sim: TcpPrinterSimulator
) -> None:
    job = await epson.submit_image_receipt(png_of(raster_with([])))
    await until(lambda: finished(epson, job), timeout=15)
    assert b"\x1d(D" not in bytes(sim.printer.received)
    assert job_bytes(epson, job) in bytes(sim.printer.received)


# -- the pieces ------------------------------------------------------------------------------------


def test_hazards_are_drawer_pulse_and_power_off_patterns_only() -> None:
    assert count_realtime_hazards(b"") == 0
    assert count_realtime_hazards(b"\x10\x14") == 0
    assert count_realtime_hazards(PULSE) == 1
    assert count_realtime_hazards(b"\x10\x14\x02\x01\x08") == 1
    assert count_realtime_hazards(b"\x10\x14\x07\x01") == 0  # transmit status: answers only
    assert count_realtime_hazards(b"\x10\x14\x10\x14\x01") == 1  # the scan restarts at 10
    assert count_realtime_hazards(b"\x10\x04\x01") == 0


def test_guard_goes_after_the_leading_esc_at() -> None:
    assert guard_realtime(b"\x1b@abc") == b"\x1b@" + SWITCH_OFF + b"abc" + SWITCH_BACK
    assert guard_realtime(b"abc") == SWITCH_OFF + b"abc" + SWITCH_BACK
    assert b"\x10" not in SWITCH_OFF + SWITCH_BACK


def test_profiles_say_which_printers_take_gs_paren_d() -> None:
    assert all(BUILTIN_PROFILES[n].realtime_switch for n in ("TM-T20III", "TM-T88V", "TM-m30"))
    assert not BUILTIN_PROFILES["generic-80"].realtime_switch
    assert get_profile("generic-80", {"realtime-switch": True}).realtime_switch
    with pytest.raises(ProfileError):
        get_profile("generic-80", {"realtime_switch": "yes"})


def test_simulator_pulses_anywhere_unless_switched_off() -> None:
    printer = SimulatedPrinter()
    header = b"\x1dv0\x00\x02\x00\x04\x00"  # 2 bytes x 4 rows
    printer.feed(header + b"\x00\x10\x14\x01\x01\x02\x00\x00")  # inside raster data
    assert printer.realtime_pulses == [(5, 200)]
    printer.feed(b"\x1d(D\x03\x00\x14\x01\x00" + b"\x10\x14")  # split across reads
    printer.feed(b"\x01\x00\x03")
    assert printer.realtime_pulses == [(5, 200)] and printer.realtime_ignored == 1
    # A GS ( D pattern inside raster data is data, not a command.
    printer.feed(header + b"\x1d(D\x03\x00\x14\x01\x01")
    printer.feed(PULSE)
    assert printer.realtime_ignored == 2
    printer.feed(b"\x1b@" + PULSE)  # ESC @: power-on settings again
    assert printer.realtime_pulses == [(5, 200), (2, 500)]
    printer.feed(b"\x10\x14\x02\x01\x08")  # power off: disabled at power-on
    assert printer.realtime_power_offs == 0


def test_decoder_follows_gs_paren_d() -> None:
    off = b"\x1d(D\x03\x00\x14\x01\x00"
    on = b"\x1d(D\x03\x00\x14\x01\x01"
    assert decode(off + PULSE).pulses == []
    assert decode(off + on + PULSE).pulses == [(2, 500, 500)]
    assert decode(off + b"\x1b@" + PULSE).pulses == [(2, 500, 500)]
