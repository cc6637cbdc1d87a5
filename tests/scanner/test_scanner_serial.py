"""Serial scanners: the line splitter, and the reader on a real pty through SerialTransport."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from posboxless.scanner.serial_lines import LineSplitter
from posboxless.scanner.serial_source import SerialScanner
from posboxless.scanner.simulator import PtySerialScanner
from tests.helpers import wait_until

from .scanner_helpers import Collected


@pytest.mark.parametrize(
    ("suffix", "data", "expected"),
    [
        ("auto", b"123\r456\n789\r\n0\n\r", ["123", "456", "789", "0"]),
        ("cr", b"123\r\n456\r", ["123", "456"]),
        ("lf", b"123\r\n456\n", ["123", "456"]),
        ("crlf", b"123\r\n456\r789\r\n", ["123", "456789"]),
        ("tab", b"AB\t12\r\n\t", ["AB", "12"]),
    ],
)
def test_splitter_suffixes(suffix: str, data: bytes, expected: list[str]) -> None:
    assert LineSplitter(suffix).feed(data) == expected  # type: ignore[arg-type]


def test_splitter_byte_by_byte() -> None:
    splitter = LineSplitter("auto")
    out = [c for b in b"30176\r\n20422003\r\n" for c in splitter.feed(bytes([b]))]
    assert out == ["30176", "20422003"]
    assert splitter.pending == b""


def test_splitter_keeps_gs_drops_other_controls_and_decodes_utf8() -> None:
    splitter = LineSplitter("auto")
    assert splitter.feed(b"\x0201\x1d17\x00ab\r") == ["01\x1d17ab"]
    assert splitter.feed("café\r".encode()) == ["café"]
    assert splitter.feed(b"caf\xe9\r") == ["café"]  # not UTF-8: Latin-1


def test_splitter_drops_overlong_garbage() -> None:
    splitter = LineSplitter("cr", max_length=10)
    assert splitter.feed(b"x" * 11) == []
    assert splitter.dropped == 1
    assert splitter.feed(b"42\r") == ["42"]


@pytest.mark.parametrize(("suffix", "wire"), [("cr", b"\r"), ("lf", b"\n"), ("crlf", b"\r\n")])
def test_pty_scanner_through_serial_transport(
    suffix: str, wire: bytes, collected: Collected
) -> None:
    pty = PtySerialScanner(suffix=wire)
    reader = SerialScanner(
        pty.path, LineSplitter("auto"), collected, label="counter", read_timeout=0.02
    )
    reader.start()
    try:
        assert wait_until(lambda: reader.state.status == "connected")
        assert reader.state.message.startswith(f"Connected: counter ({pty.path}, serial 9600 8N1")
        pty.scan("3017620422003")
        pty.scan("5449000000996")
        assert collected.wait_for(2) == ["3017620422003", "5449000000996"]
        assert collected.codes[0][1] == "counter"
    finally:
        reader.stop()
        pty.close()


def test_pty_scanner_unplug_and_replug(tmp_path: Path, collected: Collected) -> None:
    link = tmp_path / "scanner-tty"
    first = PtySerialScanner()
    os.symlink(first.path, link)
    reader = SerialScanner(
        str(link),
        LineSplitter("cr"),
        collected,
        label="front",
        retry_interval=0.05,
        read_timeout=0.02,
    )
    reader.start()
    second = None
    try:
        assert wait_until(lambda: reader.state.status == "connected")
        first.scan("111")
        assert collected.wait_for(1) == ["111"]
        first.unplug()
        assert wait_until(lambda: reader.state.status == "disconnected")
        assert "front" in reader.state.message
        # plugged back in: udev would point the by-id link at the new node
        second = PtySerialScanner()
        link.unlink()
        os.symlink(second.path, link)
        assert wait_until(lambda: reader.state.status == "connected")
        second.scan("222")
        assert collected.wait_for(2) == ["111", "222"]
        assert reader.disconnects == 1 and reader.connects == 2
    finally:
        reader.stop()
        if second is not None:
            second.close()


def test_missing_port_is_reported(tmp_path: Path, collected: Collected) -> None:
    reader = SerialScanner(
        str(tmp_path / "ttyACM9"), LineSplitter(), collected, label="back", retry_interval=0.05
    )
    reader.start()
    try:
        assert wait_until(lambda: reader.state.status != "connecting")
        assert reader.state.status == "disconnected"
        assert "not connected" in reader.state.message
    finally:
        reader.stop()
