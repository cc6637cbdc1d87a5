"""Keyboard-mode scanners: the evdev reader with a fake InputDevice, and discovery."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from posboxless.scanner.config import ScannerConfig
from posboxless.scanner.discovery import (
    Enumerator,
    InputDeviceInfo,
    classify,
    hid_interface_protocols,
)
from posboxless.scanner.evdev_source import EvdevScanner
from posboxless.scanner.keyboard import BarcodeDecoder
from posboxless.scanner.keymaps import builtin_keymap
from posboxless.scanner.simulator import FakeInputBus, FakeInputDevice
from tests.helpers import wait_until

from .scanner_helpers import Collected

EAN = "3017620422003"


def reader_for(
    device: FakeInputDevice, bus: FakeInputBus, collected: Collected, layout: str = "fr", **kw
) -> EvdevScanner:
    return EvdevScanner(
        device.path,
        BarcodeDecoder(builtin_keymap(layout)),
        collected,
        label="counter",
        open_device=bus.open,
        retry_interval=0.05,
        poll_interval=0.02,
        **kw,
    )


@pytest.fixture
def azerty_scanner() -> Iterator[FakeInputDevice]:
    device = FakeInputDevice(
        "/dev/input/event5", "Datalogic Gryphon GD4500", keymap=builtin_keymap("fr")
    )
    yield device
    device.dispose()


def test_grabs_before_reading_and_releases_on_stop(
    azerty_scanner: FakeInputDevice, collected: Collected
) -> None:
    bus = FakeInputBus(azerty_scanner)
    reader = reader_for(azerty_scanner, bus, collected)
    reader.start()
    try:
        assert wait_until(lambda: reader.state.status == "connected")
        assert reader.state.message == (
            "Connected: Datalogic Gryphon GD4500 (/dev/input/event5, layout fr)"
        )
        azerty_scanner.type_text(EAN)
        assert collected.wait_for(1) == [EAN]
        assert azerty_scanner.grabbed
    finally:
        reader.stop()
    calls = azerty_scanner.calls
    assert calls.index("grab") < calls.index("read")
    assert calls[-2:] == ["ungrab", "close"]
    assert not azerty_scanner.grabbed
    assert reader.state.status == "disconnected"


def test_grab_can_be_turned_off(azerty_scanner: FakeInputDevice, collected: Collected) -> None:
    reader = reader_for(azerty_scanner, FakeInputBus(azerty_scanner), collected, grab="never")
    reader.start()
    try:
        azerty_scanner.type_text("42")
        assert collected.wait_for(1) == ["42"]
    finally:
        reader.stop()
    assert "grab" not in azerty_scanner.calls and "ungrab" not in azerty_scanner.calls


def test_unplug_then_replug_reconnects(
    azerty_scanner: FakeInputDevice, collected: Collected
) -> None:
    reader = reader_for(azerty_scanner, FakeInputBus(azerty_scanner), collected)
    reader.start()
    try:
        azerty_scanner.type_text("111")
        assert collected.wait_for(1) == ["111"]
        azerty_scanner.unplug()
        assert wait_until(lambda: reader.state.status == "disconnected")
        assert "counter" in reader.state.message and "unplugged" in reader.state.message
        assert azerty_scanner.calls[-1] == "close"
        azerty_scanner.replug()
        assert wait_until(lambda: reader.state.status == "connected")
        azerty_scanner.type_text("222")
        assert collected.wait_for(2) == ["111", "222"]
        assert reader.connects == 2 and reader.disconnects == 1
    finally:
        reader.stop()


def test_a_read_error_mid_code_drops_the_partial(
    azerty_scanner: FakeInputDevice, collected: Collected
) -> None:
    reader = reader_for(azerty_scanner, FakeInputBus(azerty_scanner), collected)
    reader.start()
    try:
        assert wait_until(lambda: reader.state.status == "connected")
        azerty_scanner.type_text("999", suffix="none")
        assert wait_until(lambda: reader.decoder.pending == "999")
        azerty_scanner.unplug()
        assert wait_until(lambda: reader.state.status == "disconnected")
        azerty_scanner.replug()
        assert wait_until(lambda: reader.state.status == "connected")
        azerty_scanner.type_text("5")
        assert collected.wait_for(1) == ["5"]
    finally:
        reader.stop()


def test_permission_denied_message(azerty_scanner: FakeInputDevice, collected: Collected) -> None:
    azerty_scanner.permission_denied = True
    reader = reader_for(azerty_scanner, FakeInputBus(azerty_scanner), collected)
    reader.start()
    try:
        assert wait_until(lambda: reader.state.status == "error")
        assert reader.state.message == (
            "Permission denied on /dev/input/event5: add the service user to the 'input' group"
        )
    finally:
        reader.stop()


def test_grabbed_by_another_program(azerty_scanner: FakeInputDevice, collected: Collected) -> None:
    azerty_scanner.grabbed_elsewhere = True
    reader = reader_for(azerty_scanner, FakeInputBus(azerty_scanner), collected)
    reader.start()
    try:
        assert wait_until(lambda: reader.state.status == "error")
        assert "grabbed by another program" in reader.state.message
        assert azerty_scanner.calls[-1] == "close"
    finally:
        reader.stop()


def test_missing_device_is_disconnected(collected: Collected) -> None:
    reader = EvdevScanner(
        "/dev/input/event9",
        BarcodeDecoder(builtin_keymap("us")),
        collected,
        label="back",
        open_device=FakeInputBus().open,
        retry_interval=0.05,
    )
    reader.start()
    try:
        assert wait_until(lambda: reader.state.status == "disconnected")
        assert reader.state.message == "Scanner 'back' not connected (/dev/input/event9)"
    finally:
        reader.stop()


def test_hot_plugged_reader_ends_when_unplugged(
    azerty_scanner: FakeInputDevice, collected: Collected
) -> None:
    reader = reader_for(azerty_scanner, FakeInputBus(azerty_scanner), collected, persistent=False)
    reader.start()
    assert wait_until(lambda: reader.state.status == "connected")
    azerty_scanner.unplug()
    assert wait_until(lambda: reader.finished)


def test_suffix_none_ends_a_code_on_silence(
    azerty_scanner: FakeInputDevice, collected: Collected
) -> None:
    reader = EvdevScanner(
        azerty_scanner.path,
        BarcodeDecoder(builtin_keymap("fr"), suffix="none", gap_timeout=0.05),
        collected,
        open_device=FakeInputBus(azerty_scanner).open,
        poll_interval=0.02,
    )
    reader.start()
    try:
        azerty_scanner.type_text("4006381333931", suffix="none")
        assert collected.wait_for(1) == ["4006381333931"]
    finally:
        reader.stop()


# --- discovery -------------------------------------------------------------------------------

AUTO = ScannerConfig(name="auto", autodetect=True)


def test_hid_interface_protocols() -> None:
    assert hid_interface_protocols(":030101:030000:") == {"01", "00"}
    assert hid_interface_protocols(":020201:0a0000:") == set()


@pytest.mark.parametrize(
    ("info", "is_scanner"),
    [
        (InputDeviceInfo("/e1", "Honeywell Imaging Barcode Scanner"), True),
        (InputDeviceInfo("/e2", "Symbol Bar Code READER"), True),
        (InputDeviceInfo("/e3", "Logitech USB Keyboard"), False),
        (InputDeviceInfo("/e4", "Logitech USB Keyboard", usb_interfaces=":030101:"), False),
        (InputDeviceInfo("/e5", "HID 05f9:2206", usb_interfaces=":030101:030000:"), True),
        (InputDeviceInfo("/e6", "Barcode scanner mouse part", types_digits=False), False),
    ],
)
def test_autodetect_heuristics(info: InputDeviceInfo, is_scanner: bool) -> None:
    assert (classify(info, [AUTO]) is AUTO) is is_scanner


def test_rules_by_usb_id_and_name_win_and_work_without_autodetect() -> None:
    by_usb = ScannerConfig(name="a", usb=(0x05F9, 0x2206), layout="be")
    by_name = ScannerConfig(name="b", match="gryphon", layout="fr")
    rules = [by_usb, by_name]
    assert classify(InputDeviceInfo("/e", "HID 05f9:2206", 0x05F9, 0x2206), rules) is by_usb
    assert classify(InputDeviceInfo("/e", "Datalogic Gryphon"), rules) is by_name
    assert classify(InputDeviceInfo("/e", "Barcode Scanner"), rules) is None  # no autodetect


def test_enumerator_finds_scanners_and_reports_permission_problems() -> None:
    scanner = FakeInputDevice("/dev/input/event3", "Barcode Scanner")
    keyboard = FakeInputDevice("/dev/input/event2", "AT Translated Set 2 keyboard")
    locked = FakeInputDevice("/dev/input/event7", "Barcode Scanner 2")
    locked.permission_denied = True
    bus = FakeInputBus(scanner, keyboard, locked)
    enumerator = Enumerator(
        [AUTO], list_paths=bus.list_paths, read_info=bus.read_info, udev_interfaces=lambda _p: None
    )
    result = enumerator.scan()
    assert [info.path for info, _ in result.found] == ["/dev/input/event3"]
    assert result.permission_denied == ["/dev/input/event7"]
    assert enumerator.scan(skip=["/dev/input/event3"]).found == []
    for d in (scanner, keyboard, locked):
        d.dispose()


def test_enumerator_uses_udev_interfaces() -> None:
    anonymous = FakeInputDevice("/dev/input/event4", "HID 0c2e:0b61")
    bus = FakeInputBus(anonymous)
    enumerator = Enumerator(
        [AUTO],
        list_paths=bus.list_paths,
        read_info=bus.read_info,
        udev_interfaces=lambda _p: ":030000:",
    )
    assert [i.usb_interfaces for i, _ in enumerator.scan().found] == [":030000:"]
    anonymous.dispose()
