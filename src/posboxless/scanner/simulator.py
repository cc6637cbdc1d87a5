"""Simulated scanners for tests, benchmarks and ``--simulate``.

* ``FakeInputDevice``: stands in for ``evdev.InputDevice`` (no ``/dev/uinput`` is needed). It types
  text as a scanner programmed with a given layout would (Shift for AZERTY digits...), so the events
  go through the real decoder. ``FakeInputBus`` opens fakes by path like ``evdev.InputDevice`` does,
  with the same errors (missing, permission denied, grabbed elsewhere).
* ``PtySerialScanner``: a USB-COM scanner on a pty pair; the code under test opens ``path`` with
  ``SerialTransport``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
import time
import tty
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from evdev import InputEvent

from posboxless.scanner.discovery import InputDeviceInfo
from posboxless.scanner.keyboard import EV_KEY, KEY_ENTER, KEY_RIGHTALT, KEY_TAB
from posboxless.scanner.keymaps import Keymap

EV_SYN, EV_MSC = 0, 4
MSC_SCAN = 4
KEY_LEFTSHIFT = 42
_SUFFIX_KEYS = {"enter": KEY_ENTER, "tab": KEY_TAB}


def _event(t: float, type_: int, code: int, value: int) -> InputEvent:
    sec = int(t)
    return InputEvent(sec, round((t - sec) * 1_000_000), type_, code, value)


def key_events(
    code: int, t: float, *, value: int | None = None, with_noise: bool = True
) -> list[InputEvent]:
    """One key press (down + up), or one transition when ``value`` is given, framed like the
    kernel frames it (an MSC_SCAN before, a SYN_REPORT after)."""
    values = (1, 0) if value is None else (value,)
    events = []
    for v in values:
        if with_noise:
            events.append(_event(t, EV_MSC, MSC_SCAN, 0x70000 + code))
        events.append(_event(t, EV_KEY, code, v))
        if with_noise:
            events.append(_event(t, EV_SYN, 0, 0))
    return events


def events_for_text(
    text: str,
    keymap: Keymap,
    *,
    start: float = 1_000.0,
    interval: float = 0.002,
    suffix: str = "enter",
) -> list[InputEvent]:
    """The events a scanner programmed with ``keymap`` sends for ``text`` then its suffix key.
    Raises ValueError for a character the layout cannot type."""
    events: list[InputEvent] = []
    t = start
    for char in text:
        how = keymap.typing(char)
        if how is None:
            raise ValueError(f"layout {keymap.name!r} cannot type {char!r}")
        code, mods = how
        modifier = KEY_LEFTSHIFT if mods.shift else KEY_RIGHTALT if mods.altgr else None
        if modifier is not None:
            events += key_events(modifier, t, value=1)
        events += key_events(code, t)
        if modifier is not None:
            events += key_events(modifier, t, value=0)
        t += interval
    if suffix in _SUFFIX_KEYS:
        events += key_events(_SUFFIX_KEYS[suffix], t)
    return events


@dataclass(frozen=True)
class _Info:
    vendor: int
    product: int


class FakeInputDevice:
    """An ``evdev.InputDevice`` look-alike fed from Python; ``fd`` is a pipe that becomes readable
    when events are pushed, so ``select`` works as on a real node."""

    def __init__(
        self,
        path: str,
        name: str = "Simulated barcode scanner",
        *,
        vendor: int = 0x05F9,
        product: int = 0x2206,
        keymap: Keymap | None = None,
    ) -> None:
        self.path = path
        self.name = name
        self.info = _Info(vendor, product)
        self.keymap = keymap
        self.calls: list[str] = []
        self.unplugged = False
        self.permission_denied = False
        self.grabbed_elsewhere = False
        self.grabbed = False
        self._events: deque[InputEvent] = deque()
        self._lock = threading.Lock()
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._read_fd, False)

    @property
    def fd(self) -> int:
        return self._read_fd

    def grab(self) -> None:
        self.calls.append("grab")
        if self.grabbed_elsewhere:
            raise OSError(errno.EBUSY, "Device or resource busy")
        self.grabbed = True

    def ungrab(self) -> None:
        self.calls.append("ungrab")
        if self.unplugged:
            raise OSError(errno.ENODEV, "No such device")
        self.grabbed = False

    def read(self) -> list[InputEvent]:
        self.calls.append("read")
        with contextlib.suppress(BlockingIOError):
            os.read(self._read_fd, 4096)
        with self._lock:
            if self.unplugged:
                raise OSError(errno.ENODEV, "No such device")
            events = list(self._events)
            self._events.clear()
        if not events:
            raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")
        return events

    def close(self) -> None:
        self.calls.append("close")
        self.grabbed = False

    def capabilities(self) -> dict[int, list[int]]:
        return {EV_KEY: list(range(1, 128))}

    # --- driving the fake ------------------------------------------------------------------------

    def push(self, events: Iterable[InputEvent]) -> None:
        with self._lock:
            self._events.extend(events)
        os.write(self._write_fd, b"!")

    def type_text(self, text: str, *, suffix: str = "enter", interval: float = 0.0005) -> None:
        """Types ``text`` with this device's keymap, stamped with the wall clock like the kernel
        stamps real events."""
        if self.keymap is None:
            raise ValueError("this fake device has no keymap to type with")
        self.push(
            events_for_text(text, self.keymap, start=time.time(), interval=interval, suffix=suffix)
        )

    def can_type(self, text: str) -> bool:
        return self.keymap is not None and all(self.keymap.typing(c) for c in text)

    def unplug(self) -> None:
        with self._lock:
            self.unplugged = True
        os.write(self._write_fd, b"!")

    def replug(self) -> None:
        with self._lock:
            self.unplugged = False
            self._events.clear()

    def dispose(self) -> None:
        for fd in (self._read_fd, self._write_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


class FakeInputBus:
    """Opens fake devices by path with the errors ``evdev.InputDevice`` raises; also provides the
    ``list_paths`` / ``read_info`` hooks of the discovery ``Enumerator``."""

    def __init__(self, *devices: FakeInputDevice) -> None:
        self.devices: dict[str, FakeInputDevice] = {d.path: d for d in devices}

    def add(self, device: FakeInputDevice) -> None:
        self.devices[device.path] = device

    def open(self, path: str) -> FakeInputDevice:
        device = self.devices.get(path)
        if device is None or device.unplugged:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
        if device.permission_denied:
            raise PermissionError(errno.EACCES, "Permission denied", path)
        device.calls.append("open")
        return device

    def list_paths(self) -> list[str]:
        return [p for p, d in self.devices.items() if not d.unplugged]

    def read_info(self, path: str) -> InputDeviceInfo:
        device = self.open(path)
        return InputDeviceInfo(path, device.name, device.info.vendor, device.info.product)


class PtySerialScanner:
    """A serial scanner on a pty pair: ``path`` is the port to open; ``scan`` sends a code."""

    def __init__(self, suffix: bytes = b"\r") -> None:
        self.suffix = suffix
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self.connected = True

    def scan(self, code: str, suffix: bytes | None = None) -> None:
        self.send(code.encode() + (self.suffix if suffix is None else suffix))

    def send(self, data: bytes) -> None:
        os.write(self._master, data)

    def unplug(self) -> None:
        """Closes both ends: the port reports an I/O error and its path disappears."""
        if self.connected:
            self.connected = False
            os.close(self._master)
            os.close(self._slave)

    close = unplug
