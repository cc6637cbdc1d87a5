"""Keyboard-mode scanners are never taken by surprise: grab modes, and the default (no
``[[scanner]]``) that takes a scanner only while a POS scans through the proxy."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from posboxless.app import create_app
from posboxless.config import Config, ServerConfig
from posboxless.device import ServiceContext
from posboxless.scanner.config import parse_scanners
from posboxless.scanner.evdev_source import EvdevScanner
from posboxless.scanner.factory import create_scanner
from posboxless.scanner.keyboard import BarcodeDecoder
from posboxless.scanner.keymaps import builtin_keymap
from posboxless.scanner.service import BarcodeScannerService
from posboxless.scanner.simulator import FakeInputBus, FakeInputDevice
from posboxless.services import Services
from posboxless.settings import ConfigError, Table
from tests.helpers import wait_until

from ..live import live_server
from .scanner_helpers import Collected

EAN = "5400141000004"


@pytest.fixture
def scanner_device() -> Iterator[FakeInputDevice]:
    device = FakeInputDevice(
        "/dev/input/event7", "Datalogic Barcode Scanner", keymap=builtin_keymap("us")
    )
    yield device
    device.dispose()


def test_grab_defaults_follow_what_the_table_names() -> None:
    named, rule, bare, off, polled = parse_scanners(
        [
            Table({"device": "/dev/input/by-id/usb-x-event-kbd"}, "scanner[0]"),
            Table({"usb": "05f9:2206"}, "scanner[1]"),
            Table({"layout": "fr"}, "scanner[2]"),
            Table({"device": "/dev/input/event4", "grab": False}, "scanner[3]"),
            Table({"match": "Gryphon", "grab": "while-polled"}, "scanner[4]"),
        ]
    )
    assert (named.grab, rule.grab, bare.grab, off.grab, polled.grab) == (
        "always", "always", "while-polled", "never", "while-polled",
    )  # fmt: skip


def test_a_bad_grab_value_states_the_choices() -> None:
    with pytest.raises(ConfigError) as info:
        parse_scanners([Table({"grab": "sometimes"}, "scanner[0]")])
    assert str(info.value) == (
        "scanner[0].grab: expected true, false or 'while-polled'; got 'sometimes'"
    )


def test_while_polled_reads_without_grab_and_discards_until_asked(
    scanner_device: FakeInputDevice, collected: Collected
) -> None:
    wanted = threading.Event()
    reader = EvdevScanner(
        scanner_device.path,
        BarcodeDecoder(builtin_keymap("us")),
        collected,
        label="auto",
        grab="while-polled",
        demand=wanted.is_set,
        open_device=FakeInputBus(scanner_device).open,
        poll_interval=0.02,
    )
    reader.start()
    try:
        assert wait_until(lambda: reader.state.status == "connected")
        assert not scanner_device.grabbed
        assert reader.state.message.endswith(
            "left to the browser (no POS is scanning via the proxy)"
        )
        scanner_device.type_text("111", suffix="none")  # half a code when the POS starts polling
        assert wait_until(lambda: reader.discarded_events > 0)
        wanted.set()
        assert wait_until(lambda: scanner_device.grabbed)
        assert "taken by posboxless" in reader.state.message
        scanner_device.type_text("42")
        assert collected.wait_for(1) == ["42"]  # the keystrokes typed before belong to nobody
        wanted.clear()
        assert wait_until(lambda: not scanner_device.grabbed)
        discarded = reader.discarded_events
        scanner_device.type_text("999")
        assert wait_until(lambda: reader.discarded_events > discarded)
        assert collected.codes == [("42", "auto")]
    finally:
        reader.stop()
    assert scanner_device.calls.count("grab") == scanner_device.calls.count("ungrab") == 1


def _poll(url: str, out: dict[str, object]) -> None:
    body = {"jsonrpc": "2.0", "method": "call", "params": {}, "id": 1}
    with httpx.Client(base_url=url, timeout=15) as http:
        out["answer"] = http.post("/hw_proxy/scanner", json=body).json()


def test_without_scanner_table_a_scanner_is_taken_only_while_a_pos_polls(
    tmp_path: Path, scanner_device: FakeInputDevice
) -> None:
    """The production wiring for a configuration without ``[[scanner]]``, a fake /dev/input, and
    the POS long-polling the real server over loopback."""
    bus = FakeInputBus(scanner_device)
    scanner = create_scanner([], ServiceContext(tmp_path, simulate=False), input_bus=bus)
    assert isinstance(scanner, BarcodeScannerService)
    scanner.poll_linger = 0.5  # Odoo re-polls at once; the default (10 s) is for failed polls
    services = Services(scanner=scanner)
    app = create_app(Config(server=ServerConfig(data_dir=tmp_path)), services)
    with live_server(app, services=services) as url:
        assert wait_until(lambda: scanner.status().status == "connected")
        (source,) = scanner.sources()
        assert isinstance(source, EvdevScanner)
        # No POS polls: the scanner types into the browser; posboxless takes nothing.
        assert not scanner_device.grabbed and "grab" not in scanner_device.calls
        assert "left to the browser" in scanner.status().messages[0]
        scanner_device.type_text("111")
        assert wait_until(lambda: source.discarded_events > 0)
        assert scanner.recent() == [] and not scanner.details()["pos_scanning"]

        # A POS scans via the proxy: the scanner is taken and its code answers the long-poll.
        answer: dict[str, object] = {}
        poll = threading.Thread(target=_poll, args=(url, answer))
        poll.start()
        assert wait_until(lambda: scanner_device.grabbed)
        assert scanner.details()["scanners"][0]["grabbed"] is True
        assert "taken by posboxless" in scanner.status().messages[0]
        scanner_device.type_text(EAN)
        poll.join(10)
        assert answer["answer"] == {"jsonrpc": "2.0", "id": 1, "result": EAN}

        # The polls stop: the scanner is given back to the browser.
        assert wait_until(lambda: not scanner_device.grabbed)
        assert "left to the browser" in scanner.status().messages[0]
        discarded = source.discarded_events
        scanner_device.type_text("222")
        assert wait_until(lambda: source.discarded_events > discarded)
        assert [r["code"] for r in scanner.recent()] == [EAN]
    assert scanner_device.calls.count("grab") == 1


def test_a_scanner_table_naming_the_device_grabs_from_the_start(
    tmp_path: Path, scanner_device: FakeInputDevice
) -> None:
    configs = parse_scanners([Table({"device": scanner_device.path}, "scanner[0]")])
    bus = FakeInputBus(scanner_device)
    scanner = create_scanner(configs, ServiceContext(tmp_path, simulate=False), input_bus=bus)
    assert isinstance(scanner, BarcodeScannerService)
    services = Services(scanner=scanner)
    with live_server(create_app(Config(server=ServerConfig(data_dir=tmp_path)), services),
                     services=services):  # fmt: skip
        assert wait_until(lambda: scanner_device.grabbed)
        assert not scanner.details()["pos_scanning"]
        assert scanner.status().messages[0].endswith("layout us)")


def test_check_config_says_when_scanners_are_taken(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from posboxless.cli import main

    empty = tmp_path / "empty.toml"
    empty.write_text("")
    assert main(["check-config", "--config", str(empty)]) == 0
    assert "keyboard scanners (auto-detected): taken only while a POS scans via the proxy" in (
        capsys.readouterr().out
    )
    named = tmp_path / "named.toml"
    named.write_text('[[scanner]]\nname = "front"\ndevice = "/dev/input/event3"\n')
    main(["check-config", "--config", str(named)])
    assert "scanner 'front': always taken from the desktop" in capsys.readouterr().out
