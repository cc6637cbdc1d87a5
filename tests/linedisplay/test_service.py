"""The display service over pyserial on a pty: collapsing bursts, unplug/replug, a display that
never takes data or never answers, the welcome text after silence."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from posboxless.linedisplay import commands
from posboxless.linedisplay.service import DisplayTiming, PoleDisplayService
from posboxless.linedisplay.simulator import PoleDisplaySimulator
from posboxless.transports.serial_port import SerialSettings, SerialTransport

from .conftest import eventually, make_service

BLANK = " " * 20


def row(text: str) -> str:
    return text.ljust(20)


class GatedTransport(SerialTransport):
    """Holds the first write of a message until ``release`` is set (a slow 9600-baud line)."""

    entered = threading.Event()
    release = threading.Event()

    def write(self, data: bytes) -> None:
        if b"first" in data:
            type(self).entered.set()
            type(self).release.wait(10)
        super().write(data)


async def test_burst_collapses_to_the_latest() -> None:
    sim = PoleDisplaySimulator().start()
    service = PoleDisplayService(
        port=sim.port,
        settings=SerialSettings(write_timeout=1.0),
        commands=commands.PROFILES["epson"],
        timing=DisplayTiming(check_interval=0.05),
        transport_factory=GatedTransport,
    )
    await service.start()
    try:
        # the (blank) welcome screen is written first
        await asyncio.to_thread(eventually, lambda: service.details()["lines"] is not None)
        service.show(["first", ""])
        assert await asyncio.to_thread(GatedTransport.entered.wait, 5)
        for n in range(1000):  # all while the display is busy with the first
            service.show([f"quantity {n}", ""])
        writes = sim.writes
        GatedTransport.release.set()
        assert await asyncio.to_thread(sim.wait_for, [row("quantity 999"), BLANK])
        frames = bytes(sim.received).count(b"\x1f\x24\x01\x01")
        # welcome, "first", then straight to the last: nothing in between was written
        assert frames == 3, frames
        assert b"quantity 998" not in sim.received
        assert sim.writes >= writes
        assert service.details()["counters"]["messages"] == 1001
        # the worker records what it wrote once the write returned, just after the display got it
        await asyncio.to_thread(
            eventually, lambda: service.details()["lines"] == [row("quantity 999"), BLANK]
        )
    finally:
        await service.stop()
        sim.close()


async def test_unplug_and_replug_recover_by_themselves(tmp_path: Path) -> None:
    link = tmp_path / "usb-Epson_DM-D110"
    first = PoleDisplaySimulator(link=link).start()
    service = make_service(str(link))
    await service.start()
    try:
        await asyncio.to_thread(eventually, lambda: service.status().status == "connected")
        service.show(["Before", "unplug"])
        assert await asyncio.to_thread(first.wait_for, [row("Before"), row("unplug")])
        first.unplug()
        await asyncio.to_thread(eventually, lambda: service.status().status == "disconnected")
        assert "customer display" in service.status().messages[0].lower()
        # the POS keeps typing while the display is away: the latest text is kept
        service.show(["While", "away"])
        second = PoleDisplaySimulator(link=link).start()
        try:
            assert await asyncio.to_thread(second.wait_for, [row("While"), row("away")])
            await asyncio.to_thread(eventually, lambda: service.status().status == "connected")
            service.show(["After", "replug"])
            assert await asyncio.to_thread(second.wait_for, [row("After"), row("replug")])
        finally:
            second.close()
    finally:
        await service.stop()


async def test_display_that_never_takes_data_is_an_error_then_recovers() -> None:
    sim = PoleDisplaySimulator().start()
    service = make_service(sim.port, write_timeout=0.3)
    await service.start()
    try:
        await asyncio.to_thread(eventually, lambda: service.status().status == "connected")
        sim.stall()
        n = 0
        # a pty takes a few kilobytes before writes block: keep the POS typing until they do
        while service.status().status == "connected":
            n += 1
            assert n < 2000, "writes never blocked"
            service.show([f"message {n}", ""])
            await asyncio.sleep(0.002)
        await asyncio.to_thread(eventually, lambda: service.status().status == "error")
        assert "does not take data" in service.status().messages[0]
        service.show(["Back", "again"])  # answers at once while the display is stuck
        sim.resume()
        assert await asyncio.to_thread(sim.wait_for, [row("Back"), row("again")])
        await asyncio.to_thread(eventually, lambda: service.status().status == "connected")
    finally:
        await service.stop()
        sim.close()


async def test_read_after_write_without_an_answer_is_an_error() -> None:
    sim = PoleDisplaySimulator().start()
    service = make_service(sim.port, read_after_write=0.2)
    await service.start()
    try:
        for n in range(3):
            service.show([f"message {n}", ""])
            await asyncio.to_thread(sim.wait_for, [row(f"message {n}"), BLANK])
        await asyncio.to_thread(eventually, lambda: service.status().status == "error")
        assert "No answer from the customer display" in service.status().messages[0]
        sim.answer_byte = b"\x00"
        service.show(["answered", ""])
        await asyncio.to_thread(eventually, lambda: service.status().status == "connected")
        assert service.details()["counters"]["no_answer"] >= 2
    finally:
        await service.stop()
        sim.close()


async def test_welcome_comes_back_after_silence() -> None:
    sim = PoleDisplaySimulator().start()
    timing = DisplayTiming(retry_min=0.05, check_interval=0.05, welcome_after=0.3)
    service = make_service(sim.port, timing=timing)
    await service.start()
    try:
        assert await asyncio.to_thread(sim.wait_for, [row("Bienvenue"), BLANK])
        service.show(["Returned:", "4.89"])
        assert await asyncio.to_thread(sim.wait_for, [row("Returned:"), row("4.89")])
        assert await asyncio.to_thread(sim.wait_for, [row("Bienvenue"), BLANK])
    finally:
        await service.stop()
        sim.close()


async def test_missing_port_is_disconnected_with_the_reason(tmp_path: Path) -> None:
    service = make_service(str(tmp_path / "ttyUSB9"))
    await service.start()
    try:
        await asyncio.to_thread(eventually, lambda: service.status().status == "disconnected")
        assert "not connected (no such device)" in service.status().messages[0]
        service.show(["kept", ""])
        assert service.details()["wanted"] == [row("kept"), BLANK]
    finally:
        await service.stop()
