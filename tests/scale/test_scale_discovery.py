"""Finding the scale: configured path, USB vendor:product (list_ports mocked), echo probing."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from posboxless.scale import discovery
from posboxless.scale.discovery import PortInfo, PortLocator, ScaleNotFound, echo_probe
from posboxless.scale.service import ScaleTiming, SerialScaleService
from posboxless.scale.simulator import AdamSimulator, Toledo8217Simulator
from posboxless.transports.serial_port import SerialSettings, SerialTransport

PTY_SETTINGS = SerialSettings.parse("9600 8N1")  # this machine's ptys refuse 7E1 (EINVAL)


@pytest.fixture
def sim() -> Iterator[Toledo8217Simulator]:
    simulator = Toledo8217Simulator(weight=0.5).start()
    yield simulator  # type: ignore[misc]
    simulator.close()


def ports(*entries: tuple[str, int | None, int | None]) -> list[PortInfo]:
    return [PortInfo(device, vid, pid) for device, vid, pid in entries]


def test_configured_path_and_urls_resolve_as_given(tmp_path: Path) -> None:
    node = tmp_path / "ttyACM0"
    node.touch()
    assert PortLocator(port=str(node)).resolve() == str(node)
    assert PortLocator(port="socket://127.0.0.1:9").resolve() == "socket://127.0.0.1:9"
    with pytest.raises(ScaleNotFound, match=r"ttyACM1 does not exist"):
        PortLocator(port=str(tmp_path / "ttyACM1")).resolve()


def test_usb_id_picks_the_matching_port() -> None:
    listed = ports(("/dev/ttyUSB0", 0x0403, 0x6001), ("/dev/ttyACM3", 0x0EB8, 0x2200))
    locator = PortLocator(usb=(0x0EB8, 0x2200), list_ports=lambda: listed)
    assert locator.resolve() == "/dev/ttyACM3"
    assert locator.describe() == "USB id 0eb8:2200"


def test_usb_id_not_found_message() -> None:
    listed = ports(("/dev/ttyS0", None, None))
    locator = PortLocator(usb=(0x0EB8, 0x2200), list_ports=lambda: listed)
    with pytest.raises(ScaleNotFound) as caught:
        locator.resolve()
    assert str(caught.value) == "Scale not found: no serial port with USB id 0eb8:2200"


def test_system_ports_reads_pyserial(monkeypatch: pytest.MonkeyPatch) -> None:
    class Fake:
        device = "/dev/ttyACM0"
        vid = 0x0EB8
        pid = 0x2200
        description = "Ariva-S"

    monkeypatch.setattr(discovery.list_ports, "comports", lambda: [Fake()])
    assert discovery.system_ports() == [PortInfo("/dev/ttyACM0", 0x0EB8, 0x2200, "Ariva-S")]


def test_probing_skips_claimed_ports_even_through_links(tmp_path: Path) -> None:
    printer = tmp_path / "ttyUSB0"
    printer.touch()
    printer_link = tmp_path / "by-id-printer"
    printer_link.symlink_to(printer)
    scanner = tmp_path / "ttyACM1"
    scanner.touch()
    scale = tmp_path / "ttyACM2"
    scale.touch()
    probed: list[str] = []

    def prober(device: str) -> bool:
        probed.append(device)
        return device == str(scale)

    locator = PortLocator(
        probe=True,
        claimed=frozenset({str(printer), str(scanner)}),
        list_ports=lambda: ports(
            (str(printer_link), None, None), (str(scanner), 1, 2), (str(scale), 3, 4)
        ),
        prober=prober,
    )
    assert locator.resolve() == str(scale)
    assert probed == [str(scale)]


def test_probing_finds_nothing_says_so() -> None:
    locator = PortLocator(
        probe=True,
        claimed=frozenset({"/dev/ttyUSB0"}),
        list_ports=lambda: ports(("/dev/ttyUSB0", None, None), ("/dev/ttyS0", None, None)),
        prober=lambda device: False,
    )
    with pytest.raises(ScaleNotFound, match=r"1 free serial port\(s\) \(1 port\(s\) of other"):
        locator.resolve()


def test_no_way_to_find_the_scale() -> None:
    with pytest.raises(ScaleNotFound, match=r"set scale\.port or scale\.usb"):
        PortLocator().resolve()


def test_echo_probe_recognises_a_toledo_scale_and_ends_echo(sim: Toledo8217Simulator) -> None:
    assert echo_probe(PTY_SETTINGS, 0.5)(sim.port)
    assert bytes(sim.received).startswith(b"Ehello")
    deadline = time.monotonic() + 2.0
    while not sim.received.endswith(b"F") and time.monotonic() < deadline:
        time.sleep(0.01)  # the simulator thread reads the F the probe wrote last
    assert bytes(sim.received) == b"EhelloF"
    # echo mode ended: the scale answers weight requests again
    transport = SerialTransport(sim.port, PTY_SETTINGS)
    transport.open()
    try:
        transport.write(b"W")
        assert transport.read_until(b"\r", 64, 1.0) == b"\x0200.500\r"
    finally:
        transport.close()


def test_echo_probe_rejects_silent_and_other_devices(tmp_path: Path) -> None:
    adam = AdamSimulator(weight=1.0).start()
    silent = Toledo8217Simulator()
    silent.silent = True
    silent.start()
    try:
        probe = echo_probe(PTY_SETTINGS, 0.2)
        assert not probe(adam.port)
        assert not probe(silent.port)
        assert not probe(str(tmp_path / "nothing"))
    finally:
        adam.close()
        silent.close()


def test_echo_probe_leaves_a_port_in_use_alone(sim: Toledo8217Simulator) -> None:
    holder = SerialTransport(sim.port, PTY_SETTINGS)
    holder.open()  # exclusive, like another device service holding it
    try:
        assert not echo_probe(PTY_SETTINGS, 0.2)(sim.port)
        assert b"Ehello" not in sim.received
    finally:
        holder.close()


async def test_service_finds_the_scale_by_usb_id_each_retry() -> None:
    listed: list[PortInfo] = []
    locator = PortLocator(usb=(0x0EB8, 0x2200), list_ports=lambda: list(listed))
    service = SerialScaleService(
        locator=locator,
        settings=PTY_SETTINGS,
        timing=ScaleTiming(poll_interval=0.02, reply_timeout=0.3, retry_min=0.05, retry_max=0.1),
    )
    await service.start()
    sim = Toledo8217Simulator(weight=2.5).start()
    try:
        await _eventually(lambda: service.status().status == "disconnected")
        assert service.status().messages == (
            "Scale not found: no serial port with USB id 0eb8:2200",
        )
        listed.append(PortInfo(sim.port, 0x0EB8, 0x2200))  # plugged in
        await _eventually(lambda: service.status().status == "connected")
        assert service.reading()["weight"] == 2.5
    finally:
        await service.stop()
        sim.close()


async def test_service_finds_the_scale_by_probing() -> None:
    sim = Toledo8217Simulator(weight=0.75).start()
    other = Toledo8217Simulator(weight=9.0).start()  # a configured device's port: never probed
    locator = PortLocator(
        probe=True,
        claimed=frozenset({other.port}),
        list_ports=lambda: ports((other.port, None, None), (sim.port, None, None)),
        prober=echo_probe(PTY_SETTINGS, 0.5),
    )
    service = SerialScaleService(
        locator=locator,
        settings=PTY_SETTINGS,
        timing=ScaleTiming(poll_interval=0.02, reply_timeout=0.3, retry_min=0.05, retry_max=0.1),
    )
    await service.start()
    try:
        await _eventually(lambda: service.status().status == "connected")
        assert service.reading()["weight"] == 0.75
        assert other.received == b""
    finally:
        await service.stop()
        sim.close()
        other.close()


async def _eventually(predicate: object, within: float = 3.0) -> None:
    assert callable(predicate)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.01)


def test_realpath_helper_ignores_urls() -> None:
    assert not discovery._same_port(os.devnull, ["socket://x:1"])
    assert discovery._same_port(os.devnull, [os.devnull])
