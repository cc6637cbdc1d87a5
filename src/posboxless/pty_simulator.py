"""A device on the master side of a pty pair, for the simulators (scale, pole display, payment
terminal) that the tests, ``--simulate`` and the demo use.

The code under test opens ``simulator.port`` (the pty slave, e.g. ``/dev/pts/7``) with pyserial,
exactly as it would open ``/dev/ttyACM0``; ``link`` keeps a symlink pointed at the current pty,
standing in for ``/dev/serial/by-id/...``; ``unplug()`` closes the pty like a cable pulled out.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
import tty
from pathlib import Path
from types import TracebackType
from typing import TypeVar

log = logging.getLogger(__name__)

S = TypeVar("S", bound="PtySimulator")

RECEIVED_KEPT = 65536
"""Bytes of ``received`` kept (the latest): enough for any test, bounded for the demo."""


def point_link(link: str | Path, target: str) -> None:
    """Atomically (re)point ``link`` at ``target``."""
    link = Path(link)
    temporary = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    temporary.symlink_to(target)
    os.replace(temporary, link)


class PtySimulator:
    """A device on the master side of a pty; subclasses answer the bytes the host writes."""

    def __init__(self, *, link: str | Path | None = None, idle_after: float = 0.05) -> None:
        self._master, self._slave = os.openpty()
        # Raw, no echo: the host must see only what the device sends. The slave stays open here
        # so the master never reads EIO while no host has the port open.
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)
        self.link = None if link is None else str(link)
        self.idle_after = idle_after
        self.reply_delay = 0.0
        """Seconds to wait before each answer (a slow device)."""
        self.silent = False
        """Read commands but never answer (device off, wrong protocol option)."""
        self.garbage = b""
        """Bytes sent before every answer (line noise, another protocol)."""
        self.received = bytearray()
        self._stopping = threading.Event()
        self._stalled = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        if self.link is not None:
            point_link(self.link, self.port)

    @property
    def path(self) -> str:
        """What the host should open: the link if there is one, else the pty."""
        return self.link or self.port

    def start(self: S) -> S:
        self._thread = threading.Thread(
            target=self._loop, name=f"sim-{type(self).__name__}", daemon=True
        )
        self._thread.start()
        return self

    def unplug(self) -> None:
        """Close the pty: the host's next read or write fails, like a USB cable pulled out."""
        if self._closed:
            return
        self._stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5.0)
        self._closed = True
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    close = unplug

    def __enter__(self: S) -> S:
        return self if self._thread is not None else self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def send(self, data: bytes) -> None:
        """Write raw bytes to the host (for tests that need a frame the model never makes)."""
        with contextlib.suppress(OSError):
            os.write(self._master, data)

    def _answer(self, data: bytes) -> None:
        if self.reply_delay and self._stopping.wait(self.reply_delay):
            return
        if self.silent:
            return
        self.send(self.garbage + data)

    def stall(self) -> None:
        """Stop reading: the host's writes fill the pty buffer, then time out (a device that
        never takes data: off, wrong cable, flow control held)."""
        self._stalled.set()

    def resume(self) -> None:
        self._stalled.clear()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            if self._stalled.is_set():
                self._stopping.wait(self.idle_after)
                continue
            try:
                ready, _, _ = select.select([self._master], [], [], self.idle_after)
                data = os.read(self._master, 4096) if ready else b""
            except OSError:
                if self._stopping.wait(self.idle_after):
                    return
                continue
            try:
                if data:
                    self.received += data
                    del self.received[:-RECEIVED_KEPT]  # the demo runs for days
                    self.on_data(data)
                else:
                    self.on_idle()
            except Exception:  # a simulator bug must show in the log, not kill the device
                log.exception("simulator failure")

    def on_data(self, data: bytes) -> None:
        raise NotImplementedError

    def on_idle(self) -> None:
        """The line has been quiet for ``idle_after`` seconds."""
