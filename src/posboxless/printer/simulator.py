"""Simulated ESC/POS printers for tests and the ``--simulate`` demo.

``SimulatedPrinter`` is the printer itself, free of I/O: bytes in, DLE EOT answers out, everything
received kept for inspection and decoded by the project's ``EscPosDecoder``. Two front ends put it
behind real transports:

* ``TcpPrinterSimulator``: a loopback "port 9100" printer (one connection at a time, like the real
  ones), with an ``unplug()``/``replug()`` pair;
* ``PtyPrinterSimulator``: a raw-mode pty whose slave path stands in for ``/dev/usb/lpN`` or a
  serial printer.

Like a real printer, the simulator answers ``DLE EOT n`` (n = 1..4) wherever it appears in the
stream, as it reads it, even inside image data (devices.md §1.9): the code under test must cope
with stray answers. Faults for the confirmation tests: ``bytes_per_second`` makes the TCP printer
read at a printer's pace (slower than the link, so answers to patterns inside an image come back
while the host is still writing), and ``drop_after_image_queries`` drops the line right after
answering the n-th ``DLE EOT`` pattern found inside ``GS v 0`` raster data (the printer resets:
what it held is lost).

It also executes ``DLE DC4`` fn 1 (``10 14 01 m t``, a drawer pulse) wherever it finds it, image
data included, as an Epson does, unless ``GS ( D`` switched it off (``realtime_pulses`` records
each pulse; ``realtime_ignored`` counts the patterns found while switched off); fn 2 (power off)
is recorded in ``realtime_power_offs`` when ``GS ( D`` enabled it. ``GS ( D`` takes effect where
it sits in the stream (as if the printer processed commands as fast as it reads them) and
``ESC @`` restores the power-on setting, as some manuals state: the strict reading.

A customer display can hang off its display port (pass-through wiring, devices.md §5): ``ESC = n``
outside raster data selects where the following bytes go, bit 0 the printer, bit 1 the display.
While the printer is deselected it prints nothing (the decoder leaves those bytes out of the
receipts) and still answers ``DLE EOT``; the display's bytes drive ``display`` (a
``DisplayEmulator``), whose two lines ``display_lines`` shows. As on a real printer, the
selection survives a new connection.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import select
import socket
import threading
import time
import tty
from collections.abc import Callable
from pathlib import Path
from typing import Any

from posboxless.linedisplay.emulator import DisplayEmulator
from posboxless.printer.sim_receipts import ReceiptRecorder

log = logging.getLogger(__name__)

STATES = ("ok", "near_end", "paper_out", "cover_open", "drawer_high")

# Answers to DLE EOT 1..4 per state (devices.md §7.4).
_STATUS_BYTES: dict[str, tuple[int, int, int, int]] = {
    "ok": (0x12, 0x12, 0x12, 0x12),
    "near_end": (0x12, 0x12, 0x12, 0x12 | 0x0C),
    "paper_out": (0x12 | 0x08, 0x12 | 0x20, 0x12, 0x12 | 0x60),
    "cover_open": (0x12 | 0x08, 0x12 | 0x04 | 0x40, 0x12, 0x12),
    "drawer_high": (0x12 | 0x04, 0x12, 0x12, 0x12),
}

_DLE_EOT = b"\x10\x04"
_DLE_DC4 = b"\x10\x14"
_RASTER = b"\x1d\x76\x30"  # GS v 0 m xL xH yL yH, then xL+xH*256 times yL+yH*256 data bytes
# DLE DC4 (real-time, acted on anywhere), GS ( D and ESC @ (commands: not inside raster data).
_REALTIME_EVENTS = re.compile(rb"\x10\x14|\x1d\(D|\x1b@")


class SimulatedPrinter:
    """The printer model shared by every front end. Thread-safe."""

    def __init__(
        self,
        *,
        state: str = "ok",
        on_bytes: Callable[[bytes], None] | None = None,
        output_dir: Path | None = None,
    ) -> None:
        self._state = "ok"
        self.state = state
        self.silent = False
        """Never answer status queries (a printer that is off behind a live link)."""
        self.answer_delay = 0.0
        """Seconds to wait before each answer ("slow" mode)."""
        self.on_bytes = on_bytes
        self.output_dir = output_dir
        self.received = bytearray()
        self.status_queries = 0
        self._recorder = ReceiptRecorder(output_dir) if output_dir is not None else None
        self.drop_after_image_queries: int | None = None
        """Fault: after answering this many more DLE EOT patterns inside raster data, take no
        more bytes and ask the front end to drop the line (one shot)."""
        self.answers_inside_images = True
        """False: a printer that does not look for real-time commands inside raster data."""
        self.drop_requested = False
        self.image_queries = 0
        """DLE EOT patterns answered so far that were inside raster data."""
        self.realtime_pulses: list[tuple[int, int]] = []
        """``(pin, ms)`` of every real-time drawer pulse executed (``DLE DC4`` fn 1)."""
        self.realtime_ignored = 0
        """``DLE DC4`` fn 1/2 patterns received while switched off by ``GS ( D``."""
        self.realtime_power_offs = 0
        """``DLE DC4`` fn 2 executed (only after ``GS ( D`` enabled it)."""
        self.realtime_switches: list[tuple[int, bool]] = []
        """Every ``GS ( D`` pair applied: ``(function, enabled)``."""
        self._pulse_enabled = True  # power-on values (Epson)
        self._power_off_enabled = False
        self.display = DisplayEmulator("epson")
        """The pole display on the display port (replace it for another dialect or width)."""
        self.display_bytes = 0
        """Bytes passed on to the display so far."""
        self.printer_selected = True
        self._display_selected = False
        self._select_pos = 0
        self._realtime_pos = 0
        self._query_pos = 0
        self._raster_pos = 0
        self._raster_spans: list[tuple[int, int]] = []
        self._changed = threading.Condition()

    @property
    def receipts_saved(self) -> int:
        return self._recorder.receipts_saved if self._recorder is not None else 0

    @property
    def decode_errors(self) -> list[str]:
        return self._recorder.errors if self._recorder is not None else []

    @property
    def state(self) -> str:
        return self._state

    @state.setter
    def state(self, value: str) -> None:
        if value not in STATES:
            raise ValueError(f"simulated printer state must be one of {STATES}, not {value!r}")
        self._state = value

    def status_byte(self, n: int) -> int:
        return _STATUS_BYTES[self._state][n - 1] if 1 <= n <= 4 else 0x12

    def feed(self, data: bytes) -> bytes:
        """Take bytes from the host; return the answers the printer sends back.

        With ``drop_after_image_queries`` armed, the bytes after the pattern that triggers it are
        not taken and ``drop_requested`` is set: the front end sends the answers, then drops."""
        if self.on_bytes is not None:
            self.on_bytes(data)
        with self._changed:
            before = len(self.received)
            self.received += data
            answers = self._find_queries()
            self._find_realtime()
            self._route_display()
            taken = data[: max(0, len(self.received) - before)]
            self._changed.notify_all()
        if self._recorder is not None:
            self._recorder.feed(taken)
        if self.silent:
            return b""
        return bytes(answers)

    def reset_stream(self) -> None:
        """A new connection (or a power cycle): no command is in progress any more."""
        with self._changed:
            end = len(self.received)
            self._query_pos = self._raster_pos = self._realtime_pos = self._select_pos = end
            self._raster_spans.clear()
        if self._recorder is not None:
            self._recorder.reset_stream()

    def _find_queries(self) -> bytearray:
        """Answer every DLE EOT 1..4 in the new bytes (positions are absolute in ``received``;
        a ``10 04`` followed by another byte is no query and that byte is scanned again)."""
        self._find_raster()
        received = self.received
        answers = bytearray()
        while (found := received.find(_DLE_EOT, self._query_pos)) != -1:
            if found + 2 >= len(received):
                self._query_pos = found
                return answers
            n = received[found + 2]
            if not 1 <= n <= 4:
                self._query_pos = found + 2
                continue
            self._query_pos = found + 3
            inside_image = any(start <= found < end for start, end in self._raster_spans)
            if inside_image and not self.answers_inside_images:
                continue
            self.status_queries += 1
            answers.append(self.status_byte(n))
            if inside_image:
                self.image_queries += 1
                if self.drop_after_image_queries is not None:
                    self.drop_after_image_queries -= 1
                    if self.drop_after_image_queries <= 0:
                        # The printer read up to here, answered, and then the line went down.
                        self.drop_after_image_queries = None
                        self.drop_requested = True
                        del received[found + 3 :]
                        self.reset_stream()
                        return answers
        # A trailing DLE may start a query completed by the next read.
        self._query_pos = max(self._query_pos, len(received) - 1)
        return answers

    def _find_realtime(self) -> None:
        """Act on ``DLE DC4`` fn 1/2 anywhere in the new bytes, and on ``GS ( D`` / ``ESC @``
        outside raster data, in stream order (``_find_queries`` found the raster spans)."""
        received = self.received
        while match := _REALTIME_EVENTS.search(received, self._realtime_pos):
            at = match.start()
            kind = match.group()
            if kind == _DLE_DC4:
                if at + 5 > len(received):
                    self._realtime_pos = at
                    return
                fn, m, t = received[at + 2 : at + 5]
                if fn == 1 and m in (0, 1, 48, 49) and 1 <= t <= 8:
                    if self._pulse_enabled:
                        pin = 2 if m in (0, 48) else 5
                        self.realtime_pulses.append((pin, t * 100))
                        log.warning(
                            "simulated printer: real-time drawer pulse (DLE DC4 1) on pin %d at "
                            "byte %d",
                            pin,
                            at,
                        )
                    else:
                        self.realtime_ignored += 1
                    self._realtime_pos = at + 5
                elif fn == 2 and (m, t) == (1, 8):
                    if self._power_off_enabled:
                        self.realtime_power_offs += 1
                    else:
                        self.realtime_ignored += 1
                    self._realtime_pos = at + 5
                else:
                    self._realtime_pos = at + 2
                continue
            inside_image = any(start <= at < end for start, end in self._raster_spans)
            if kind == b"\x1b@":
                if not inside_image:
                    self._pulse_enabled, self._power_off_enabled = True, False
                self._realtime_pos = at + 2
                continue
            if at + 5 > len(received):  # GS ( D pL pH
                self._realtime_pos = at
                return
            end = at + 5 + received[at + 3] + 256 * received[at + 4]
            if end > len(received):
                self._realtime_pos = at
                return
            if not inside_image and end - at >= 6 and received[at + 5] == 20:
                pairs = received[at + 6 : end]
                for function, setting in zip(pairs[::2], pairs[1::2], strict=False):
                    enabled = setting in (1, 49)
                    self.realtime_switches.append((function, enabled))
                    if function == 1:
                        self._pulse_enabled = enabled
                    elif function == 2:
                        self._power_off_enabled = enabled
                self._realtime_pos = end
            else:
                self._realtime_pos = at + 3
        # A trailing DLE or GS ( may start an event completed by the next read.
        self._realtime_pos = max(self._realtime_pos, len(received) - 2)

    @property
    def display_lines(self) -> list[str]:
        """What the display on the display port shows."""
        with self._changed:
            return self.display.lines

    def wait_display(self, lines: list[str], timeout: float) -> bool:
        """Test helper: wait until the display on the display port shows exactly ``lines``."""
        with self._changed:
            return self._changed.wait_for(lambda: self.display.lines == lines, timeout)

    def _route_display(self) -> None:
        """Follow ``ESC = n`` in the new bytes and pass the display's bytes on (after
        ``_find_queries``, which found the raster spans)."""
        received = self.received
        pos = self._select_pos
        while True:
            found = received.find(b"\x1b=", pos)
            if found == -1 or found + 2 >= len(received):
                # A trailing ESC (or ESC =) may be a selection completed by the next read.
                end = len(received) if found == -1 else found
                if found == -1 and received[-1:] == b"\x1b":
                    end -= 1
                self._pass_on(received[pos:end])
                self._select_pos = max(pos, end)
                return
            inside_image = self.printer_selected and any(
                start <= found < stop for start, stop in self._raster_spans
            )
            if inside_image:  # image data, not a command
                self._pass_on(received[pos : found + 2])
                pos = found + 2
                continue
            self._pass_on(received[pos:found])
            n = received[found + 2]
            self.display.feed(bytes(received[found : found + 3]))
            self.printer_selected = bool(n & 1)
            self._display_selected = bool(n & 2)
            pos = found + 3

    def _pass_on(self, data: bytearray) -> None:
        if self._display_selected and data:
            self.display.feed(bytes(data))
            self.display_bytes += len(data)

    def _find_raster(self) -> None:
        received = self.received
        while True:
            if self._raster_spans and self._raster_pos < self._raster_spans[-1][1]:
                self._raster_pos = self._raster_spans[-1][1]
                if self._raster_pos > len(received):
                    return
            found = received.find(_RASTER, self._raster_pos)
            if found == -1:
                self._raster_pos = max(self._raster_pos, len(received) - 2)
                return
            if found + 8 > len(received):
                self._raster_pos = found
                return
            width = received[found + 4] + 256 * received[found + 5]
            height = received[found + 6] + 256 * received[found + 7]
            start = found + 8
            # Spans wholly behind the query scan are done with.
            behind = min(self._query_pos, self._realtime_pos, self._select_pos)
            self._raster_spans = [span for span in self._raster_spans if span[1] > behind]
            self._raster_spans.append((start, start + width * height))
            self._raster_pos = start

    def wait_for(self, predicate: Callable[[bytes], bool], timeout: float) -> bool:
        """Test helper: wait until ``predicate(received bytes)`` holds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(bytes(self.received)):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True

    def document(self, data: bytes | None = None) -> Any:
        """Decode ``data`` (default: everything received) with the project's ESC/POS decoder."""
        from posboxless.printer.escpos import EscPosDecoder

        decoder = EscPosDecoder()
        decoder.feed(bytes(self.received) if data is None else data)
        return decoder.document


class TcpPrinterSimulator:
    """A "port 9100" printer on 127.0.0.1 (ephemeral port), served by one thread."""

    def __init__(self, printer: SimulatedPrinter | None = None, *, port: int = 0) -> None:
        self.printer = printer or SimulatedPrinter()
        self._server = socket.create_server(("127.0.0.1", port))
        self._server.settimeout(0.05)
        self.host, self.port = self._server.getsockname()[:2]
        self._unplugged = threading.Event()
        self._paused = threading.Event()
        self._stop = threading.Event()
        self.read_size = 65536
        """Bytes taken per read; lower it (with ``read_delay``) for a slow printer."""
        self.read_delay = 0.0
        self.bytes_per_second: float | None = None
        """Read at this pace (a TM-T20III prints ~144 kB/s of raster); None: as fast as it comes."""
        self.connections = 0
        self._client: socket.socket | None = None
        self._thread = threading.Thread(target=self._serve, name="sim-printer-tcp", daemon=True)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> TcpPrinterSimulator:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._drop_client()
        self._server.close()

    def unplug(self, *, after_answers: bool = False) -> None:
        """Drop the connection; later connections are closed at once (the printer is gone).

        ``after_answers``: called from an ``on_bytes`` hook, let the answers to the bytes being
        handled go out first (the cable is pulled just after the printer answered)."""
        self._unplugged.set()
        client = self._client
        if client is not None and not after_answers:
            # Shut down rather than close: the serving thread may be inside select() on it.
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)

    def replug(self) -> None:
        self._unplugged.clear()

    def drop_line(self) -> None:
        """The printer is power-cycled: the connection is reset, what it held is lost, and it
        accepts a new connection."""
        client = self._client
        if client is not None:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)

    def pause(self) -> None:
        """Stop reading (the printer's buffer is full): writers block on flow control."""
        self._paused.set()

    def resume(self) -> None:
        self._paused.clear()

    def _drop_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(OSError):
                client.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            if self._client is None:
                try:
                    client, _ = self._server.accept()
                except (TimeoutError, OSError):
                    continue
                if self._unplugged.is_set():
                    client.close()
                    continue
                self.connections += 1
                self.printer.reset_stream()
                self._client = client
            if self._unplugged.is_set():
                self._drop_client()
                continue
            if self._paused.is_set():
                time.sleep(0.005)
                continue
            self._serve_once(self._client)

    def _serve_once(self, client: socket.socket) -> None:
        size = self.read_size
        if self.bytes_per_second:
            size = max(1, min(size, int(self.bytes_per_second / 100)))  # ~10 ms per read
        try:
            ready, _, _ = select.select([client], [], [], 0.05)
            if not ready:
                return
            data = client.recv(size)
        except OSError:
            self._drop_client()
            return
        if not data:
            self._drop_client()
            return
        answers = self.printer.feed(data)
        if self.read_delay:
            time.sleep(self.read_delay)
        if self.bytes_per_second:
            time.sleep(len(data) / self.bytes_per_second)
        if answers:
            if self.printer.answer_delay:
                time.sleep(self.printer.answer_delay)
            try:
                client.sendall(answers)
            except OSError:
                self._drop_client()
                return
        if self.printer.drop_requested:
            self.printer.drop_requested = False
            # The answers already sent stay readable; then the line is gone and the bytes the
            # printer had not read yet are lost (closing with unread data resets the connection).
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_WR)
            time.sleep(0.05)
            self._drop_client()


class PtyPrinterSimulator:
    """A raw-mode pty: ``path`` is the slave, opened by the code under test like ``/dev/usb/lp0``
    or a serial port; this side reads the master."""

    def __init__(self, printer: SimulatedPrinter | None = None) -> None:
        self.printer = printer or SimulatedPrinter()
        self._master, self._slave = os.openpty()
        # No line discipline on the "device" side: a real usblp node has none.
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self._paused = threading.Event()
        self._stop = threading.Event()
        self.read_size = 65536
        self.read_delay = 0.0
        self._thread = threading.Thread(target=self._serve, name="sim-printer-pty", daemon=True)

    def start(self) -> PtyPrinterSimulator:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    def pause(self) -> None:
        self._paused.set()

    def resume(self) -> None:
        self._paused.clear()

    def _serve(self) -> None:
        while not self._stop.is_set():
            if self._paused.is_set():
                time.sleep(0.005)
                continue
            try:
                ready, _, _ = select.select([self._master], [], [], 0.05)
                if not ready:
                    continue
                data = os.read(self._master, self.read_size)
            except OSError:
                time.sleep(0.01)
                continue
            answers = self.printer.feed(data)
            if self.read_delay:
                time.sleep(self.read_delay)
            if answers:
                if self.printer.answer_delay:
                    time.sleep(self.printer.answer_delay)
                with contextlib.suppress(OSError):
                    os.write(self._master, answers)


class UsbPrinterSimulator:
    """Stands in for a ``usb.core.Device`` of a vendor-class printer (there is no USB bus in CI):
    a configuration with interface (0, 0) and two bulk endpoints, a kernel driver to detach, and
    bulk ``write``/``read`` wired to a ``SimulatedPrinter``."""

    def __init__(
        self,
        printer: SimulatedPrinter | None = None,
        *,
        vendor: int = 0x04B8,
        product: int = 0x0202,
        endpoints: tuple[int, ...] = (0x82, 0x01),
    ) -> None:
        self.printer = printer or SimulatedPrinter()
        self.idVendor = vendor
        self.idProduct = product
        self.interface = _FakeInterface([_FakeEndpoint(address) for address in endpoints])
        self.configured = False
        self.kernel_driver_active = True
        self.detached: list[int] = []
        self.claimed: list[int] = []
        self.resets = 0
        self.writes: list[tuple[int, int]] = []
        """``(endpoint, size)`` of every bulk write."""
        self.stalled = False
        """Writes time out (a jammed printer)."""
        self.unplugged = False
        self._answers = bytearray()
        self._ready = threading.Condition()
        self._ctx = _FakeUsbContext(self)

    def _check_present(self) -> None:
        if self.unplugged:
            import usb.core

            raise usb.core.USBError("No such device (it may have been disconnected)", errno=19)

    def get_active_configuration(self) -> _FakeConfiguration:
        self._check_present()
        if not self.configured:
            import usb.core

            raise usb.core.USBError("Configuration not set")
        return _FakeConfiguration(self.interface)

    def set_configuration(self) -> None:
        self._check_present()
        self.configured = True

    def is_kernel_driver_active(self, number: int) -> bool:
        return self.kernel_driver_active

    def detach_kernel_driver(self, number: int) -> None:
        self.detached.append(number)
        self.kernel_driver_active = False

    def reset(self) -> None:
        self._check_present()
        self.resets += 1

    def write(self, endpoint: int, data: bytes, timeout: int) -> int:
        import usb.core

        self._check_present()
        if endpoint & 0x80 or endpoint not in self.interface.addresses:
            raise usb.core.USBError("Invalid endpoint address", errno=22)
        if self.stalled:
            time.sleep(min(timeout, 50) / 1000)
            raise usb.core.USBTimeoutError("Operation timed out", errno=110)
        self.writes.append((endpoint, len(data)))
        answers = self.printer.feed(bytes(data))
        if answers:
            with self._ready:
                self._answers += answers
                self._ready.notify_all()
        return len(data)

    def read(self, endpoint: int, size: int, timeout: int) -> Any:
        import array

        import usb.core

        self._check_present()
        if not endpoint & 0x80 or endpoint not in self.interface.addresses:
            raise usb.core.USBError("Invalid endpoint address", errno=22)
        with self._ready:
            if not self._answers:
                self._ready.wait(timeout / 1000)
            if not self._answers:
                raise usb.core.USBTimeoutError("Operation timed out", errno=110)
            chunk = bytes(self._answers[:size])
            del self._answers[:size]
        return array.array("B", chunk)


class _FakeEndpoint:
    def __init__(self, address: int) -> None:
        self.bEndpointAddress = address
        self.bmAttributes = 0x02  # bulk


class _FakeInterface:
    bInterfaceNumber = 0

    def __init__(self, endpoints: list[_FakeEndpoint]) -> None:
        self.endpoints = endpoints
        self.addresses = {e.bEndpointAddress for e in endpoints}

    def __iter__(self) -> Any:
        return iter(self.endpoints)


class _FakeConfiguration:
    def __init__(self, interface: _FakeInterface) -> None:
        self.interface = interface

    def __getitem__(self, key: tuple[int, int]) -> _FakeInterface:
        if key != (0, 0):
            raise IndexError(key)
        return self.interface


class _FakeUsbContext:
    """What ``usb.util.claim_interface``/``release_interface``/``dispose_resources`` call."""

    def __init__(self, device: UsbPrinterSimulator) -> None:
        self.device = device
        self.disposed = 0

    def managed_claim_interface(self, device: Any, interface: int) -> None:
        self.device._check_present()
        self.device.claimed.append(interface)

    def managed_release_interface(self, device: Any, interface: int) -> None:
        if interface in self.device.claimed:
            self.device.claimed.remove(interface)

    def dispose(self, device: Any) -> None:
        self.disposed += 1
