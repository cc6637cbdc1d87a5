"""The scanner service end to end: config, factory, simulated mode, hot-plug, status, recent."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from posboxless.device import DeviceService, InvalidInput, ScannerService, ServiceContext
from posboxless.scanner.config import ScannerConfig, parse_scanners
from posboxless.scanner.discovery import Enumerator, InputDeviceInfo
from posboxless.scanner.evdev_source import EvdevScanner
from posboxless.scanner.factory import create_scanner
from posboxless.scanner.keyboard import BarcodeDecoder
from posboxless.scanner.keymaps import builtin_keymap
from posboxless.scanner.service import NO_SCANNER, BarcodeScannerService
from posboxless.scanner.simulator import FakeInputBus, FakeInputDevice, PtySerialScanner
from posboxless.settings import ConfigError, Table


def parse(*tables: dict) -> list[ScannerConfig]:
    return parse_scanners([Table(t, f"scanner[{i}]") for i, t in enumerate(tables)])


def ctx(tmp_path: Path, simulate: bool = False) -> ServiceContext:
    return ServiceContext(data_dir=tmp_path, simulate=simulate)


async def wait_async(predicate, timeout: float = 5.0) -> bool:
    for _ in range(int(timeout / 0.01)):
        if predicate():
            return True
        await asyncio.sleep(0.01)
    return bool(predicate())


# --- configuration -------------------------------------------------------------------------


def test_config_defaults_and_types() -> None:
    evdev, serial, rule, bare = parse(
        {"name": "front", "device": "/dev/input/by-id/usb-x-event-kbd", "layout": "fr"},
        {"device": "/dev/ttyACM0", "serial_settings": "19200 7E1", "suffix": "crlf"},
        {"usb": "05f9:2206", "layout": "be"},
        {"layout": "de", "suffix": "none"},
    )
    assert (evdev.type, evdev.layout, evdev.suffix, evdev.grab, evdev.autodetect) == (
        "evdev", "fr", "enter", "always", False,
    )  # fmt: skip
    assert (serial.type, serial.name, str(serial.serial_settings), serial.suffix) == (
        "serial", "scanner2", "19200 7E1", "crlf",
    )  # fmt: skip
    assert rule.is_rule and rule.usb == (0x05F9, 0x2206) and not rule.autodetect
    assert bare.autodetect and bare.gap_timeout == 0.1


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"layout": "dvorak-ish"}, "scanner[0].layout"),
        ({"device": "/dev/input/event3", "suffix": "crlf"}, "scanner[0].suffix"),
        ({"type": "serial"}, "scanner[0].device"),
        ({"device": "/dev/ttyUSB0", "serial_settings": "fast"}, "scanner[0].serial_settings"),
        ({"usb": "05f9"}, "scanner[0].usb"),
        ({"device": "/dev/input/event3", "match": "x"}, "scanner[0].device"),
        ({"layuot": "fr"}, "scanner[0].layuot"),
        ({"gap_timeout": 0}, "scanner[0].gap_timeout"),
    ],
)
def test_config_errors_name_the_key(table: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse(table)


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(ConfigError, match="different name"):
        parse({"name": "a", "device": "/dev/ttyACM0"}, {"name": "a", "device": "/dev/ttyACM1"})


# --- factory and service -------------------------------------------------------------------


async def test_no_scanner_configured_autodetects_and_says_none_found(tmp_path: Path) -> None:
    service = create_scanner([], ctx(tmp_path))
    assert isinstance(service, ScannerService) and isinstance(service, DeviceService)
    assert service.kind == "scanner"
    await service.start()
    try:
        assert service.status().as_json() == {
            "status": "disconnected",
            "messages": [NO_SCANNER],
        }
        assert service.details()["autodetect"] is True
        assert await service.next_barcode("c", 0.05) == ""
    finally:
        await service.stop()


async def test_configured_serial_scanner_to_long_poll(tmp_path: Path) -> None:
    pty = PtySerialScanner(suffix=b"\r\n")
    configs = parse({"name": "counter", "device": pty.path})
    service = create_scanner(configs, ctx(tmp_path))
    assert isinstance(service, BarcodeScannerService)
    assert service.details()["autodetect"] is False
    await service.start()
    try:
        assert await wait_async(lambda: service.status().status == "connected")
        assert service.status().messages[0].startswith("Connected: counter (")
        poll = asyncio.create_task(service.next_barcode("10.0.0.5 https://shop", 5.0))
        await asyncio.sleep(0.02)
        pty.scan("5410013108009")
        assert await asyncio.wait_for(poll, 5.0) == "5410013108009"
        recent = service.recent()
        assert recent[0]["code"] == "5410013108009" and recent[0]["source"] == "counter"
        pty.unplug()
        assert await wait_async(lambda: service.status().status == "disconnected")
        assert "counter" in service.status().messages[0]
    finally:
        await service.stop()
        pty.close()


async def test_simulated_scanner_types_through_the_real_decoder(tmp_path: Path) -> None:
    configs = parse({"layout": "fr"})
    service = create_scanner(configs, ctx(tmp_path, simulate=True))
    assert isinstance(service, BarcodeScannerService)
    await service.start()
    try:
        assert await wait_async(lambda: service.status().status == "connected")
        assert "layout fr" in service.status().messages[0]
        service.inject("3017620422003")
        assert await service.next_barcode("c", 2.0) == "3017620422003"
        assert service.recent()[0]["source"] == "simulator"
        details = service.details()["scanners"][0]
        assert details["barcodes"] == 1 and details["layout"] == "fr"
        service.inject("€ not typeable")  # falls back to direct delivery
        assert await service.next_barcode("c", 2.0) == "€ not typeable"
    finally:
        await service.stop()


@pytest.mark.parametrize("bad", ["", "   ", "a\nb", "x" * 513])
async def test_inject_refuses_bad_codes(tmp_path: Path, bad: str) -> None:
    service = create_scanner([], ctx(tmp_path, simulate=True))
    assert isinstance(service, BarcodeScannerService)
    with pytest.raises(InvalidInput):
        service.inject(bad)


async def test_recent_keeps_the_last_twenty_newest_first() -> None:
    service = BarcodeScannerService()
    await service.start()
    try:
        for i in range(25):
            service.inject(str(i), source="test")
        recent = service.recent()
        assert [r["code"] for r in recent] == [str(i) for i in range(24, 4, -1)]
        assert {"code", "time", "source"} <= set(recent[0])
    finally:
        await service.stop()


async def test_hot_plug_through_discovery() -> None:
    bus = FakeInputBus()
    service = BarcodeScannerService()

    def build(info: InputDeviceInfo, config: ScannerConfig) -> EvdevScanner:
        return EvdevScanner(
            info.path,
            BarcodeDecoder(builtin_keymap(config.layout)),
            service.on_barcode,
            label=info.name,
            open_device=bus.open,
            persistent=False,
            poll_interval=0.02,
        )

    rules = [ScannerConfig(name="auto", layout="be", autodetect=True)]
    enumerator = Enumerator(
        rules, list_paths=bus.list_paths, read_info=bus.read_info, udev_interfaces=lambda _p: None
    )
    service.enable_discovery(enumerator, build, interval=0.03)
    await service.start()
    device = FakeInputDevice(
        "/dev/input/event6", "Zebra Barcode Scanner", keymap=builtin_keymap("be")
    )
    keyboard = FakeInputDevice("/dev/input/event1", "Dell KB216 Keyboard")
    try:
        assert service.status().messages == (NO_SCANNER,)
        bus.add(keyboard)
        bus.add(device)
        assert await wait_async(lambda: service.status().status == "connected")
        assert service.status().messages == (
            "Connected: Zebra Barcode Scanner (/dev/input/event6, layout be)",
        )
        assert "grab" not in keyboard.calls  # a human keyboard is left alone
        device.type_text("5400141000004")
        assert await service.next_barcode("c", 2.0) == "5400141000004"
        device.unplug()
        assert await wait_async(lambda: service.status().messages == (NO_SCANNER,))
        device.replug()  # same node comes back
        assert await wait_async(lambda: service.status().status == "connected")
        device.type_text("42")
        assert await service.next_barcode("c", 2.0) == "42"
    finally:
        await service.stop()
        device.dispose()
        keyboard.dispose()
    assert device.calls[-2:] == ["ungrab", "close"]


async def test_permission_problem_is_reported_once() -> None:
    bus = FakeInputBus()
    for n in range(3):
        locked = FakeInputDevice(f"/dev/input/event{n}", "whatever")
        locked.permission_denied = True
        bus.add(locked)
    service = BarcodeScannerService()
    enumerator = Enumerator(
        [ScannerConfig(name="auto", autodetect=True)],
        list_paths=bus.list_paths,
        read_info=bus.read_info,
        udev_interfaces=lambda _p: None,
    )
    service.enable_discovery(enumerator, lambda i, c: None, interval=0.03)  # type: ignore[arg-type,return-value]
    await service.start()
    try:
        assert await wait_async(lambda: service.status().status == "error")
        assert service.status().messages == (
            "Permission denied on /dev/input/event0 and 2 other input devices: add the service"
            " user to the 'input' group",
        )
    finally:
        await service.stop()
        for d in bus.devices.values():
            d.dispose()


def test_status_never_blocks_before_start(tmp_path: Path) -> None:
    service = create_scanner(parse({"device": "/dev/ttyACM7"}), ctx(tmp_path))
    assert service is not None
    status = service.status()
    assert status.status == "connecting"
