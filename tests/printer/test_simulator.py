"""The printer simulators themselves: status answers, modes, capture, demo output."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from posboxless.printer.escpos import decode_status, render_text_ticket
from posboxless.printer.profiles import get_profile
from posboxless.printer.simulator import SimulatedPrinter, TcpPrinterSimulator
from posboxless.transports.base import TransportError
from posboxless.transports.tcp import TcpTransport

QUERIES = b"\x10\x04\x01\x10\x04\x02\x10\x04\x03\x10\x04\x04"


@pytest.mark.parametrize(
    ("state", "answers", "messages"),
    [
        ("ok", (0x12, 0x12, 0x12, 0x12), []),
        ("near_end", (0x12, 0x12, 0x12, 0x1E), ["Paper near end"]),
        ("paper_out", (0x1A, 0x32, 0x12, 0x72), ["Paper out"]),
        ("cover_open", (0x1A, 0x56, 0x12, 0x12), ["Cover open", "Printer error"]),
        ("drawer_high", (0x16, 0x12, 0x12, 0x12), []),
    ],
)
def test_status_answers_per_state(
    state: str, answers: tuple[int, ...], messages: list[str]
) -> None:
    printer = SimulatedPrinter(state=state)
    assert printer.feed(QUERIES) == bytes(answers)
    assert decode_status(answers).messages() == messages


def test_query_split_across_reads_is_answered_once() -> None:
    printer = SimulatedPrinter()
    assert printer.feed(b"abc\x10") == b""
    assert printer.feed(b"\x04") == b""
    assert printer.feed(b"\x04xyz") == b"\x12"
    assert printer.status_queries == 1


def test_silent_mode_and_capture_hook() -> None:
    seen: list[bytes] = []
    printer = SimulatedPrinter(on_bytes=seen.append)
    printer.silent = True
    assert printer.feed(QUERIES) == b""
    assert seen == [QUERIES] and bytes(printer.received) == QUERIES


def test_unknown_state_is_refused() -> None:
    with pytest.raises(ValueError, match="must be one of"):
        SimulatedPrinter(state="on fire")


def test_demo_output_one_png_and_text_per_receipt(tmp_path: Path) -> None:
    printer = SimulatedPrinter(output_dir=tmp_path / "simulated-printer")
    profile = get_profile("TM-T20III")
    first = render_text_ticket(["Café 2,00 €"], profile, title="One").data
    second = render_text_ticket(["Thé 1,50 €"], profile, title="Two").data
    stream = first + second
    printer.feed(stream[:7])
    printer.feed(stream[7:])
    out = tmp_path / "simulated-printer"
    assert sorted(p.name for p in out.iterdir()) == [
        "printer.log",
        "receipt-00001.bin",
        "receipt-00001.png",
        "receipt-00001.txt",
        "receipt-00002.bin",
        "receipt-00002.png",
        "receipt-00002.txt",
    ]
    assert "Café 2,00 €" in (out / "receipt-00001.txt").read_text()
    assert "Thé 1,50 €" in (out / "receipt-00002.txt").read_text()
    assert (out / "receipt-00001.png").read_bytes().startswith(b"\x89PNG")
    assert printer.decode_errors == []


def test_a_restarted_demo_printer_keeps_the_receipts_it_printed_before(tmp_path: Path) -> None:
    profile = get_profile("TM-T20III")
    out = tmp_path / "simulated-printer"
    SimulatedPrinter(output_dir=out).feed(render_text_ticket(["before"], profile).data)
    (out / "receipt-00007.txt.bak").write_text("a copy someone kept")
    SimulatedPrinter(output_dir=out).feed(render_text_ticket(["after"], profile).data)
    assert "before" in (out / "receipt-00001.txt").read_text()
    assert "after" in (out / "receipt-00008.txt").read_text()
    assert "receipt 8 saved as receipt-00008.png" in (out / "printer.log").read_text()


def test_tcp_unplug_and_replug() -> None:
    sim = TcpPrinterSimulator().start()
    try:
        transport = TcpTransport(sim.host, sim.port)
        transport.open()
        transport.write(QUERIES)
        assert transport.read(4, 2) == b"\x12" * 4
        sim.unplug()
        with pytest.raises(TransportError):
            transport.write(QUERIES)
            transport.read(4, 2)
        sim.replug()
        transport.open()
        transport.write(QUERIES)
        assert transport.read(4, 2) == b"\x12" * 4
        transport.close()
        assert sim.connections >= 2
    finally:
        sim.stop()


def test_tcp_slow_mode_delays_answers() -> None:
    sim = TcpPrinterSimulator().start()
    sim.printer.answer_delay = 0.3
    try:
        with socket.create_connection((sim.host, sim.port)) as client:
            client.sendall(QUERIES)
            client.settimeout(0.05)
            with pytest.raises(TimeoutError):
                client.recv(4)  # not yet: the printer is slow
            client.settimeout(5)
            data = b""
            while len(data) < 4:
                data += client.recv(4)
            assert data == b"\x12" * 4
    finally:
        sim.stop()


def test_drop_after_image_queries_counts_only_patterns_inside_raster() -> None:
    printer = SimulatedPrinter()
    printer.drop_after_image_queries = 2
    text = b"\x10\x04\x01"  # outside any image: answered, not counted
    band = b"\x1dv0\x00\x02\x00\x04\x00" + b"\x10\x04\x01\x00\x10\x04\x02\x00"  # 2x4 bytes
    assert printer.feed(text + band[:12]) == b"\x12\x12"
    assert not printer.drop_requested and printer.image_queries == 1
    assert printer.feed(band[12:] + b"after the drop") == b"\x12"
    assert printer.drop_requested and printer.image_queries == 2
    assert bytes(printer.received) == text + band[:15]  # bytes after the pattern were not read
