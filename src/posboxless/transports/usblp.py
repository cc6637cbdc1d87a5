"""The kernel's USB printer-class node (``/dev/usb/lpN``, driver ``usblp``): bidirectional, no
line discipline. A raw-mode pty behaves the same way, which is how this is tested."""

from __future__ import annotations

import contextlib
import errno
import os
import select
import time

from posboxless.transports.base import TransportError


class UsblpTransport:
    """``/dev/usb/lpN`` opened O_RDWR|O_NOCTTY|O_NONBLOCK; waits are done with ``select`` so every
    call is bounded even when the printer stalls."""

    bidirectional = True
    reset_breaks_link = True
    """A power cycle of the printer breaks this link (the worker relies on it)."""

    def __init__(self, path: str, *, write_timeout: float = 10.0) -> None:
        self.path = path
        self.write_timeout = write_timeout
        self._fd: int | None = None

    @property
    def description(self) -> str:
        return self.path

    @property
    def is_open(self) -> bool:
        return self._fd is not None

    def open(self) -> None:
        self.close()
        try:
            self._fd = os.open(self.path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        except OSError as exc:
            raise TransportError(f"No printer at {self.path} ({_reason(exc)})") from exc

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    def _descriptor(self) -> int:
        if self._fd is None:
            raise TransportError(f"{self.path} is not open")
        return self._fd

    def write(self, data: bytes) -> None:
        fd = self._descriptor()
        view = memoryview(data)
        deadline = time.monotonic() + self.write_timeout
        try:
            while view:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TransportError(
                        f"{self.path} did not accept data within {self.write_timeout:g} s "
                        f"({len(data) - len(view)} of {len(data)} bytes sent)"
                    )
                _, ready, _ = select.select([], [fd], [], remaining)
                if not ready:
                    continue
                try:
                    sent = os.write(fd, view)
                except BlockingIOError:
                    continue
                view = view[sent:]
                # Extend the deadline while the printer keeps draining: only a stall is an error.
                deadline = time.monotonic() + self.write_timeout
        except OSError as exc:
            if isinstance(exc, TransportError):
                raise
            self.close()
            raise TransportError(f"Write to {self.path} failed: {_reason(exc)}") from exc

    def read(self, size: int, timeout: float) -> bytes:
        fd = self._descriptor()
        try:
            ready, _, _ = select.select([fd], [], [], max(0.0, timeout))
            if not ready:
                return b""
            return os.read(fd, size)
        except BlockingIOError:
            return b""
        except OSError as exc:
            self.close()
            raise TransportError(f"Read from {self.path} failed: {_reason(exc)}") from exc

    def discard_input(self) -> None:
        while self._fd is not None and self.read(4096, 0.0):
            pass


def _reason(exc: OSError) -> str:
    if exc.errno in (errno.ENOENT, errno.ENODEV, errno.ENXIO):
        return "not connected"
    if exc.errno == errno.EACCES:
        return "permission denied: is the service user in the 'lp' group?"
    if exc.errno == errno.EBUSY:
        return "in use by another program (CUPS?)"
    if exc.errno == errno.EIO:
        return "input/output error: unplugged or switched off"
    return exc.strerror or str(exc)
