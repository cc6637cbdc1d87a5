"""Serial ports (RS-232, USB-serial adapters, CDC-ACM) and pyserial URLs (``loop://``,
``socket://``) through pyserial."""

from __future__ import annotations

import contextlib
import fcntl
import termios
import threading
from dataclasses import dataclass

import serial

from posboxless.transports.base import TransportError

_PARITIES = {"N": serial.PARITY_NONE, "E": serial.PARITY_EVEN, "O": serial.PARITY_ODD}


@dataclass(frozen=True)
class SerialSettings:
    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"  # N, E or O
    stopbits: int = 1
    write_timeout: float = 5.0

    @classmethod
    def parse(cls, text: str) -> SerialSettings:
        """``"9600 7E1"`` -> SerialSettings(9600, 7, 'E', 1)."""
        try:
            speed, frame = text.split()
            settings = cls(int(speed), int(frame[0]), frame[1].upper(), int(frame[2:]))
        except (ValueError, IndexError):
            raise ValueError(f"serial settings look like '9600 7E1', not {text!r}") from None
        if settings.bytesize not in (5, 6, 7, 8) or settings.parity not in _PARITIES:
            raise ValueError(f"serial settings look like '9600 7E1', not {text!r}")
        if settings.stopbits not in (1, 2):
            raise ValueError(f"serial settings look like '9600 7E1', not {text!r}")
        return settings

    def __str__(self) -> str:
        return f"{self.baudrate} {self.bytesize}{self.parity}{self.stopbits}"


class SerialTransport:
    """A serial port opened with pyserial. ``port`` may be a device path or a pyserial URL."""

    def __init__(self, port: str, settings: SerialSettings | None = None) -> None:
        self.port = port
        self.settings = settings or SerialSettings()
        self._serial: serial.Serial | None = None
        self._lock = threading.Lock()

    @property
    def description(self) -> str:
        return f"{self.port} ({self.settings})"

    @property
    def is_open(self) -> bool:
        return self._serial is not None and self._serial.is_open

    def open(self) -> None:
        self.close()
        s = self.settings
        try:
            self._serial = serial.serial_for_url(
                self.port,
                baudrate=s.baudrate,
                bytesize=s.bytesize,
                parity=_PARITIES[s.parity],
                stopbits=s.stopbits,
                timeout=0,
                write_timeout=s.write_timeout,
                exclusive=True if self.port.startswith("/") else None,
            )
        except (serial.SerialException, OSError, ValueError, termios.error) as exc:
            self._serial = None
            raise TransportError(f"Cannot open {self.port}: {_reason(exc)}") from exc
        self._exclusive(termios.TIOCEXCL)

    def _exclusive(self, request: int) -> None:
        """TIOCEXCL: while this worker holds a tty, the kernel refuses every other open (but
        root's). pyserial's ``exclusive`` is an advisory flock that a browser reading the same
        scale over Web Serial ignores; two readers on one line corrupt each other's answers."""
        port = self._serial
        if port is None or not self.port.startswith("/"):
            return
        with contextlib.suppress(OSError, AttributeError, ValueError, TypeError):
            fcntl.ioctl(port.fileno(), request)

    def close(self) -> None:
        if self._serial is not None:
            # Cleared explicitly: on a pty the flag would outlive this file descriptor.
            self._exclusive(termios.TIOCNXCL)
        port, self._serial = self._serial, None
        if port is not None:
            # closing a vanished device may fail in many ways; it is gone anyway
            with contextlib.suppress(Exception):
                port.close()

    def _port(self) -> serial.Serial:
        if self._serial is None or not self._serial.is_open:
            raise TransportError(f"{self.port} is not open")
        return self._serial

    def write(self, data: bytes) -> None:
        port = self._port()
        try:
            written = port.write(data)
            port.flush()
        except (
            serial.SerialException,
            serial.SerialTimeoutException,
            OSError,
            termios.error,
        ) as exc:
            raise TransportError(f"Write to {self.port} failed: {_reason(exc)}") from exc
        if written is not None and written != len(data):
            raise TransportError(
                f"Write to {self.port} stopped after {written} of {len(data)} bytes"
            )

    def read(self, size: int, timeout: float) -> bytes:
        port = self._port()
        try:
            port.timeout = timeout
            return bytes(port.read(size))
        except (serial.SerialException, OSError, TypeError, termios.error) as exc:
            # pyserial raises TypeError from inside read() when the device vanished mid-call
            raise TransportError(f"Read from {self.port} failed: {_reason(exc)}") from exc

    def read_until(self, terminator: bytes, size: int, timeout: float) -> bytes:
        """Read until ``terminator`` (included), ``size`` bytes or ``timeout``."""
        port = self._port()
        try:
            port.timeout = timeout
            return bytes(port.read_until(terminator, size))
        except (serial.SerialException, OSError, TypeError, termios.error) as exc:
            raise TransportError(f"Read from {self.port} failed: {_reason(exc)}") from exc

    def discard_input(self) -> None:
        port = self._port()
        try:
            port.reset_input_buffer()
        except (serial.SerialException, OSError, TypeError, termios.error) as exc:
            raise TransportError(f"{self.port}: {_reason(exc)}") from exc


def _reason(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    if "No such file" in text or ("could not open port" in text and "No such" in text):
        return "not connected (no such device)"
    if "Permission denied" in text:
        return "permission denied (is the service user in the 'dialout' group?)"
    if "Device or resource busy" in text or "Resource temporarily unavailable" in text:
        return "in use by another program"
    return text
