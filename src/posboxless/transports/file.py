"""A file (or FIFO) that receives the printer bytes: for debugging, spooling and demos."""

from __future__ import annotations

import contextlib
import errno
import os

from posboxless.transports.base import TransportError


class FileTransport:
    """Appends every job to ``path``. It cannot answer status queries (``bidirectional`` is
    false), so the printer worker never waits for answers from it."""

    bidirectional = False

    def __init__(self, path: str) -> None:
        self.path = path
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
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        except OSError as exc:
            raise TransportError(f"Cannot open {self.path}: {exc.strerror or exc}") from exc

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    def write(self, data: bytes) -> None:
        if self._fd is None:
            raise TransportError(f"{self.path} is not open")
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError as exc:
            self.close()
            raise TransportError(f"Write to {self.path} failed: {exc.strerror or exc}") from exc
        try:
            os.fsync(self._fd)
        except OSError as exc:
            self.close()
            if exc.errno != errno.EINVAL:  # FIFOs and character devices cannot be synced
                self.close()
                raise TransportError(f"Sync of {self.path} failed: {exc.strerror or exc}") from exc

    def read(self, size: int, timeout: float) -> bytes:
        return b""

    def discard_input(self) -> None:
        pass
