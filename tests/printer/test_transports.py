"""Printer transports against the printer simulators (no hardware): TCP 9100, a raw pty standing
in for /dev/usb/lpN and for a serial printer, a file, and pyusb with a simulated USB device."""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from posboxless.printer.simulator import (
    PtyPrinterSimulator,
    SimulatedPrinter,
    TcpPrinterSimulator,
    UsbPrinterSimulator,
)
from posboxless.transports.base import Transport, TransportError
from posboxless.transports.file import FileTransport
from posboxless.transports.serial_port import SerialSettings, SerialTransport
from posboxless.transports.tcp import TcpTransport
from posboxless.transports.usb import UsbTransport
from posboxless.transports.usblp import UsblpTransport

QUERIES = b"\x10\x04\x01\x10\x04\x02\x10\x04\x03\x10\x04\x04"


@pytest.fixture
def tcp_sim() -> Iterator[TcpPrinterSimulator]:
    sim = TcpPrinterSimulator().start()
    yield sim
    sim.stop()


@pytest.fixture
def pty_sim() -> Iterator[PtyPrinterSimulator]:
    sim = PtyPrinterSimulator().start()
    yield sim
    sim.stop()


def read_exactly(transport: Transport, size: int, timeout: float = 2.0) -> bytes:
    data = b""
    while len(data) < size:
        chunk = transport.read(size - len(data), timeout)
        if not chunk:
            break
        data += chunk
    return data


def roundtrip(transport: Transport, sim_printer: SimulatedPrinter, state: str) -> bytes:
    sim_printer.state = state
    transport.write(QUERIES)
    return read_exactly(transport, 4)


# -- TCP ------------------------------------------------------------------------------------------


def test_tcp_writes_and_reads_status(tcp_sim: TcpPrinterSimulator) -> None:
    transport = TcpTransport(tcp_sim.host, tcp_sim.port)
    transport.open()
    try:
        assert transport.is_open
        assert transport._sock is not None
        assert transport._sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        payload = bytes(range(256)) * 400
        transport.write(b"\x1b@" + payload)
        assert tcp_sim.printer.wait_for(lambda got: got.endswith(payload), 5)
        assert roundtrip(transport, tcp_sim.printer, "ok") == b"\x12\x12\x12\x12"
        assert roundtrip(transport, tcp_sim.printer, "paper_out") == bytes([0x1A, 0x32, 0x12, 0x72])
    finally:
        transport.close()
    assert not transport.is_open


def test_tcp_silent_printer_read_returns_nothing_in_time(tcp_sim: TcpPrinterSimulator) -> None:
    tcp_sim.printer.silent = True
    transport = TcpTransport(tcp_sim.host, tcp_sim.port)
    transport.open()
    transport.write(QUERIES)
    assert transport.read(4, 0.05) == b""
    transport.close()


def test_tcp_refused_connection_is_a_plain_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    transport = TcpTransport("127.0.0.1", port, connect_timeout=1)
    with pytest.raises(TransportError, match=rf"Unreachable at 127\.0\.0\.1:{port}"):
        transport.open()
    assert not transport.is_open


def test_tcp_peer_closing_is_reported_on_read(tcp_sim: TcpPrinterSimulator) -> None:
    transport = TcpTransport(tcp_sim.host, tcp_sim.port)
    transport.open()
    tcp_sim.unplug()
    with pytest.raises(TransportError, match=r"closed the connection|failed"):
        transport.write(QUERIES)
        transport.read(4, 2.0)
    assert not transport.is_open


def test_tcp_write_timeout_when_printer_stops_reading(tcp_sim: TcpPrinterSimulator) -> None:
    tcp_sim.pause()
    transport = TcpTransport(tcp_sim.host, tcp_sim.port, write_timeout=0.2)
    transport.open()
    with pytest.raises(TransportError, match=r"did not accept data within 0\.2 s"):
        transport.write(b"\0" * 50_000_000)
    assert not transport.is_open
    tcp_sim.resume()


def test_tcp_operations_on_closed_transport_raise() -> None:
    transport = TcpTransport("127.0.0.1", 9)
    with pytest.raises(TransportError, match="not connected"):
        transport.write(b"x")


# -- /dev/usb/lpN (raw pty) -------------------------------------------------------------------


def test_usblp_node_is_bidirectional(pty_sim: PtyPrinterSimulator) -> None:
    transport = UsblpTransport(pty_sim.path)
    transport.open()
    try:
        payload = b"\n\r\x00\xff" * 10_000  # raw: no LF -> CRLF translation, no echo
        transport.write(payload)
        assert pty_sim.printer.wait_for(lambda got: len(got) >= len(payload), 5)
        assert bytes(pty_sim.printer.received) == payload
        assert roundtrip(transport, pty_sim.printer, "cover_open") == bytes(
            [0x1A, 0x56, 0x12, 0x12]
        )
        assert roundtrip(transport, pty_sim.printer, "near_end") == bytes([0x12, 0x12, 0x12, 0x1E])
    finally:
        transport.close()


def test_usblp_missing_node_says_not_connected(tmp_path: Path) -> None:
    transport = UsblpTransport(str(tmp_path / "lp7"))
    with pytest.raises(TransportError, match=r"No printer at .*lp7 \(not connected\)"):
        transport.open()


def test_usblp_write_is_bounded_when_printer_stalls(pty_sim: PtyPrinterSimulator) -> None:
    pty_sim.pause()
    transport = UsblpTransport(pty_sim.path, write_timeout=0.2)
    transport.open()
    with pytest.raises(TransportError, match=r"did not accept data within 0\.2 s"):
        transport.write(b"\0" * 2_000_000)
    transport.close()
    pty_sim.resume()


def test_usblp_silent_printer_read_times_out(pty_sim: PtyPrinterSimulator) -> None:
    pty_sim.printer.silent = True
    transport = UsblpTransport(pty_sim.path)
    transport.open()
    transport.write(QUERIES)
    assert transport.read(4, 0.05) == b""
    transport.close()


# -- serial printer (pty) -------------------------------------------------------------------------


def test_serial_printer_on_pty(pty_sim: PtyPrinterSimulator) -> None:
    transport = SerialTransport(pty_sim.path, SerialSettings(38400))
    transport.open()
    try:
        transport.write(b"\x1b@hello\n")
        assert pty_sim.printer.wait_for(lambda got: got == b"\x1b@hello\n", 5)
        assert roundtrip(transport, pty_sim.printer, "drawer_high") == bytes(
            [0x16, 0x12, 0x12, 0x12]
        )
    finally:
        transport.close()


# -- file ----------------------------------------------------------------------------------------


def test_file_transport_appends_and_has_no_status(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    transport = FileTransport(str(path))
    assert transport.bidirectional is False
    transport.open()
    transport.write(b"one")
    transport.write(b"two")
    assert transport.read(4, 0.01) == b""
    transport.close()
    transport.open()
    transport.write(b"three")
    transport.close()
    assert path.read_bytes() == b"onetwothree"


def test_file_transport_to_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        transport = FileTransport(str(fifo))
        transport.open()
        transport.write(b"abc")  # fsync is not possible on a FIFO: must not fail
        assert os.read(reader, 10) == b"abc"
        transport.close()
    finally:
        os.close(reader)


def test_file_transport_bad_directory(tmp_path: Path) -> None:
    transport = FileTransport(str(tmp_path / "missing" / "out.bin"))
    with pytest.raises(TransportError, match="Cannot open"):
        transport.open()


# -- libusb through pyusb (simulated device object) ----------------------------------------------


def usb_transport(device: UsbPrinterSimulator | None, **kwargs: object) -> UsbTransport:
    return UsbTransport(0x04B8, 0x0202, finder=lambda v, p: device, **kwargs)  # type: ignore[arg-type]


def test_usb_discovers_endpoints_and_detaches_kernel_driver() -> None:
    device = UsbPrinterSimulator(endpoints=(0x81, 0x03))
    transport = usb_transport(device)
    transport.open()
    assert (transport.in_endpoint, transport.out_endpoint) == (0x81, 0x03)
    assert device.detached == [0] and device.claimed == [0] and device.configured
    transport.write(b"\x1b@abc")
    assert device.writes == [(0x03, 5)]
    assert roundtrip(transport, device.printer, "ok") == b"\x12\x12\x12\x12"
    assert transport.read(4, 0.01) == b""  # nothing more: a timeout is not an error
    transport.close()
    assert device.claimed == [] and device._ctx.disposed >= 1


def test_usb_endpoint_override() -> None:
    device = UsbPrinterSimulator(endpoints=(0x82, 0x01, 0x02))
    transport = usb_transport(device, out_endpoint=0x02, in_endpoint=0x82)
    transport.open()
    transport.write(b"x")
    assert device.writes == [(0x02, 1)]


def test_usb_keeps_the_handle_and_never_resets_in_normal_use() -> None:
    device = UsbPrinterSimulator()
    transport = usb_transport(device)
    transport.open()
    for _ in range(20):
        transport.write(b"\x1b@job\n\x1dV\x00")
    assert device.resets == 0 and len(device.writes) == 20


def test_usb_write_timeout_is_bounded_and_resets_only_on_recovery() -> None:
    device = UsbPrinterSimulator()
    transport = usb_transport(device, timeout=0.05)
    transport.open()
    device.stalled = True
    with pytest.raises(TransportError, match="did not accept data within 50 ms"):
        transport.write(b"data")
    assert not transport.is_open and device.resets == 0
    device.stalled = False
    transport.open()  # recovery: one reset, then normal again
    assert device.resets == 1
    transport.write(b"data")
    transport.close()
    transport.open()
    assert device.resets == 1


def test_usb_not_connected_and_unplugged() -> None:
    with pytest.raises(TransportError, match=r"No printer at USB 04b8:0202 \(not connected\)"):
        usb_transport(None).open()
    device = UsbPrinterSimulator()
    transport = usb_transport(device)
    transport.open()
    device.unplugged = True
    with pytest.raises(TransportError, match="not connected"):
        transport.write(b"x")
    assert not transport.is_open


def test_usb_without_out_endpoint_is_explained() -> None:
    device = UsbPrinterSimulator(endpoints=(0x81,))
    with pytest.raises(TransportError, match="no bulk OUT endpoint"):
        usb_transport(device).open()


def test_usb_busy_interface_is_explained() -> None:
    import usb.core

    device = UsbPrinterSimulator()

    def busy(*args: object) -> None:
        raise usb.core.USBError("Resource busy", errno=errno.EBUSY)

    device._ctx.managed_claim_interface = busy  # type: ignore[method-assign,assignment]
    with pytest.raises(TransportError, match="in use by another program"):
        usb_transport(device).open()
