"""Finding keyboard-mode scanners among the input devices, and noticing hot-plug.

Which devices count as scanners (the same hints as Odoo's box): a name containing barcode, scanner
or reader; a non-boot HID keyboard interface (interface protocol 0 in udev's ``ID_USB_INTERFACES``);
or a configured rule (USB id, part of the name). Devices that cannot type digits (mice, power
buttons, lid switches) are never taken.

Hot-plug: the watcher rescans every ``interval`` seconds (works everywhere, containers included) and
rescans at once when pyudev reports an input event, where a udev daemon runs.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from posboxless.scanner.config import ScannerConfig

log = logging.getLogger(__name__)

_NAME_HINT = re.compile(r"barcode|scanner|reader", re.IGNORECASE)
_KEY_1, _KEY_0 = 2, 11
_EV_KEY = 1


@dataclass(frozen=True)
class InputDeviceInfo:
    path: str
    name: str
    vendor: int = 0
    product: int = 0
    usb_interfaces: str | None = None
    """udev ``ID_USB_INTERFACES`` (``:030101:030000:``), when udev runs."""
    types_digits: bool = True


def hid_interface_protocols(usb_interfaces: str) -> set[str]:
    """``':030101:030000:'`` -> ``{'01', '00'}``: the protocols of the HID (class 03) interfaces."""
    parts = [p for p in usb_interfaces.split(":") if len(p) == 6]
    return {p[4:6] for p in parts if p[0:2] == "03"}


def classify(info: InputDeviceInfo, configs: Sequence[ScannerConfig]) -> ScannerConfig | None:
    """The configuration that takes this device, or None when it is not a scanner to read."""
    if not info.types_digits:
        return None
    rules = [c for c in configs if c.is_rule and c.type == "evdev"]
    for config in rules:
        if config.usb is not None and config.usb == (info.vendor, info.product):
            return config
        if config.match is not None and config.match.lower() in info.name.lower():
            return config
    autodetect = [c for c in rules if c.autodetect]
    if not autodetect:
        return None
    if looks_like_scanner(info):
        return autodetect[0]
    return None


def looks_like_scanner(info: InputDeviceInfo) -> bool:
    if _NAME_HINT.search(info.name):
        return True
    if info.usb_interfaces is not None:
        return "00" in hid_interface_protocols(info.usb_interfaces)
    return False


# --- enumeration (I/O) ---------------------------------------------------------------------------


def _list_event_paths() -> list[str]:
    try:
        import evdev
    except ImportError:
        return []
    return [str(p) for p in evdev.list_devices()]


def _read_info(path: str) -> InputDeviceInfo:
    import evdev

    device = evdev.InputDevice(path)
    try:
        keys = device.capabilities().get(_EV_KEY, [])
        return InputDeviceInfo(
            path=path,
            name=device.name,
            vendor=device.info.vendor,
            product=device.info.product,
            types_digits=_KEY_1 in keys and _KEY_0 in keys,
        )
    finally:
        device.close()


def udev_running() -> bool:
    return Path("/run/udev/control").exists()


def _udev_interfaces(path: str) -> str | None:
    if not udev_running():
        return None  # without udevd pyudev has no ID_* properties (devices.md §6.2)
    try:
        import pyudev

        device = pyudev.Devices.from_device_file(pyudev.Context(), path)
        value = device.properties.get("ID_USB_INTERFACES")
        return str(value) if value is not None else None
    except Exception as exc:
        log.debug("udev properties of %s unavailable: %s", path, exc)
        return None


@dataclass
class ScanResult:
    found: list[tuple[InputDeviceInfo, ScannerConfig]]
    permission_denied: list[str]


class Enumerator:
    """Lists input devices and classifies them; remembers devices already examined (by path and
    change time) so a rescan opens only new nodes."""

    def __init__(
        self,
        configs: Sequence[ScannerConfig],
        *,
        list_paths: Callable[[], Iterable[str]] = _list_event_paths,
        read_info: Callable[[str], InputDeviceInfo] = _read_info,
        udev_interfaces: Callable[[str], str | None] = _udev_interfaces,
    ) -> None:
        self.configs = list(configs)
        self._list_paths = list_paths
        self._read_info = read_info
        self._udev_interfaces = udev_interfaces
        self._seen: dict[str, tuple[object, InputDeviceInfo | None]] = {}

    def scan(self, skip: Iterable[str] = ()) -> ScanResult:
        skipped = set(skip)
        result = ScanResult([], [])
        present = set()
        for path in self._list_paths():
            present.add(path)
            if path in skipped:
                continue
            info = self._info(path, result)
            if info is None:
                continue
            config = classify(info, self.configs)
            if config is not None:
                result.found.append((info, config))
        for gone in set(self._seen) - present:
            del self._seen[gone]
        return result

    def _info(self, path: str, result: ScanResult) -> InputDeviceInfo | None:
        stamp = _change_stamp(path)
        cached = self._seen.get(path)
        if cached is not None and cached[0] == stamp and stamp is not None:
            return cached[1]
        try:
            info = self._read_info(path)
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EPERM):
                result.permission_denied.append(path)
            return None
        interfaces = self._udev_interfaces(path)
        if interfaces is not None:
            info = InputDeviceInfo(
                info.path, info.name, info.vendor, info.product, interfaces, info.types_digits
            )
        self._seen[path] = (stamp, info)
        return info


def _change_stamp(path: str) -> object:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_rdev, st.st_ctime_ns)


class HotplugWatcher:
    """Calls ``rescan`` every ``interval`` seconds, and at once on a udev input event."""

    def __init__(self, rescan: Callable[[], None], *, interval: float = 1.5) -> None:
        self._rescan = rescan
        self.interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._observer: Any = None

    def start(self) -> None:
        self._stop.clear()
        self._start_udev_observer()
        self._thread = threading.Thread(target=self._run, name="scanner-discovery", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        """Rescan now (a device went away, udev saw something)."""
        self._wake.set()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._observer is not None:
            with contextlib.suppress(Exception):
                self._observer.stop()
            self._observer = None
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._rescan()
            except Exception:  # discovery must survive odd devices
                log.exception("scanner discovery failed")
            self._wake.wait(self.interval)
            self._wake.clear()

    def _start_udev_observer(self) -> None:
        if not udev_running():
            return
        try:
            import pyudev

            monitor = pyudev.Monitor.from_netlink(pyudev.Context())
            monitor.filter_by("input")
            self._observer = pyudev.MonitorObserver(monitor, callback=lambda _d: self.poke())
            self._observer.start()
        except Exception as exc:
            log.info("udev monitor unavailable (%s); polling for scanners instead", exc)
            self._observer = None
