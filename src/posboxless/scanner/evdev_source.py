"""Reads one keyboard-mode scanner (``/dev/input/eventN``) in its own thread.

Grab modes (EVIOCGRAB makes the codes stop reaching the desktop and the browser):

* ``always``: grabbed before the first read, released on stop (a ``[[scanner]]`` naming the device);
* ``never``: read alongside the desktop (the browser also receives the keystrokes);
* ``while-polled``: grabbed only while ``demand()`` says a POS is scanning through the proxy
  (a ``/hw_proxy/scanner`` long-poll seen recently), released when it stops. While released the
  device stays open and its events are read and **discarded**: the kernel still gives them to the
  desktop, so the scanner types into the browser as if posboxless were not there, and no stale
  keystrokes are decoded when the grab comes back.

 A read error means the scanner was unplugged: the device is closed, the state
says so, and the thread re-opens the path every ``retry_interval`` until it is back (configured
scanners) or ends so that discovery can find the device again under its new node (hot-plugged ones).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import select
import time
from collections.abc import Callable, Iterable
from types import MappingProxyType
from typing import Any, Literal, Protocol

from posboxless.device import ScannerSourceSnapshot
from posboxless.scanner.keyboard import BarcodeDecoder, KeyInput
from posboxless.scanner.source import OnBarcode, ReaderThread

log = logging.getLogger(__name__)

GrabMode = Literal["always", "never", "while-polled"]
GRAB_MODES: tuple[GrabMode, ...] = ("always", "never", "while-polled")


class InputDeviceLike(Protocol):
    """The part of ``evdev.InputDevice`` used here (tests and the simulator provide fakes)."""

    @property
    def name(self) -> str: ...

    @property
    def fd(self) -> int: ...

    def grab(self) -> None: ...

    def ungrab(self) -> None: ...

    def read(self) -> Iterable[KeyInput]: ...

    def close(self) -> None: ...


def open_input_device(path: str) -> InputDeviceLike:
    import evdev

    device: Any = evdev.InputDevice(path)
    return device


def permission_message(path: str) -> str:
    return f"Permission denied on {path}: add the service user to the 'input' group"


class EvdevScanner(ReaderThread):
    def __init__(
        self,
        path: str,
        decoder: BarcodeDecoder,
        on_barcode: OnBarcode,
        *,
        label: str | None = None,
        grab: GrabMode = "always",
        demand: Callable[[], bool] | None = None,
        persistent: bool = True,
        open_device: Callable[[str], InputDeviceLike] = open_input_device,
        retry_interval: float = 1.0,
        poll_interval: float = 0.1,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(
            label or path,
            path,
            thread_name=f"scanner-evdev {path}",
            retry_interval=retry_interval,
        )
        self.path = path
        self.decoder = decoder
        if grab == "while-polled" and demand is None:
            raise ValueError("grab 'while-polled' needs a demand() callable")
        self.grab: GrabMode = grab
        self._demand = demand
        self.grabbed = False
        """Whether this reader holds the grab now (read by ``details`` on other threads)."""
        self.discarded_events = 0
        self.persistent = persistent
        self._on_barcode = on_barcode
        self._open_device = open_device
        self._poll_interval = poll_interval
        self._clock = clock  # the kernel stamps events with the wall clock: expiry must match
        self.device_name: str | None = None
        self.connects = 0
        self.disconnects = 0

    @property
    def finished(self) -> bool:
        return self._worker.exited

    def snapshot(self) -> ScannerSourceSnapshot:
        facts = self.details()
        return ScannerSourceSnapshot(
            type="evdev",
            path=self.path,
            status=facts["status"],
            message=facts["message"],
            barcodes=self.decoder.stats.barcodes,
            grab=self.grab,
            grabbed=self.grabbed,
            facts=MappingProxyType(facts),
        )

    def details(self) -> dict[str, Any]:
        stats = self.decoder.stats
        return {
            "type": "evdev",
            "path": self.path,
            "device_name": self.device_name,
            "layout": self.decoder.keymap.name,
            "suffix": self.decoder.suffix,
            "grab": self.grab,
            "grabbed": self.grabbed,
            "discarded_events": self.discarded_events,
            "status": self.state.status,
            "message": self.state.message,
            "barcodes": stats.barcodes,
            "dropped_partials": stats.dropped_partials,
            "unmapped_keys": stats.unmapped_keys,
            "last_problem": stats.last_problem,
            "connects": self.connects,
            "disconnects": self.disconnects,
        }

    def _session(self) -> bool:
        if not self.persistent:  # a hot-plugged device: discovery finds it again if it is back
            self._worker.last_session()
        device = self._open()
        if device is None:
            return False
        self._read_until_gone(device)
        return True

    def _open(self) -> InputDeviceLike | None:
        device: InputDeviceLike | None = None
        try:
            device = self._open_device(self.path)
            if self.grab == "always":
                device.grab()
                self.grabbed = True
        except OSError as exc:
            if device is not None:
                _close_quietly(device)
            self._report_open_error(exc)
            return None
        self.device_name = device.name
        self.decoder.reset()
        self.connects += 1
        self._set("connected", self._connected_message())
        return device

    def _connected_message(self) -> str:
        text = f"Connected: {self.device_name} ({self.path}, layout {self.decoder.keymap.name})"
        if self.grab != "while-polled":
            return text
        if self.grabbed:
            return text + "; taken by posboxless while the POS scans via the proxy"
        return text + "; left to the browser (no POS is scanning via the proxy)"

    def _follow_demand(self, device: InputDeviceLike) -> None:
        """Takes or releases the device as a POS starts or stops polling (while-polled mode)."""
        if self._demand is None or self.grab != "while-polled":
            return
        wanted = self._demand()
        if wanted == self.grabbed:
            return
        try:
            if wanted:
                device.grab()
            else:
                device.ungrab()
        except OSError as exc:
            if exc.errno == errno.EBUSY:
                self._set(
                    "error",
                    f"{self.path} is grabbed by another program (another proxy, or the Odoo box "
                    "software?)",
                    logging.ERROR,
                )
                return
            raise
        self.grabbed = wanted
        self.decoder.reset()  # keystrokes from either side of the switch belong to nobody
        self._set("connected", self._connected_message())

    def _report_open_error(self, exc: OSError) -> None:
        if exc.errno in (errno.EACCES, errno.EPERM):
            self._set("error", permission_message(self.path), logging.ERROR)
        elif exc.errno == errno.EBUSY:
            self._set(
                "error",
                f"{self.path} is grabbed by another program (another proxy, or the Odoo box "
                "software?)",
                logging.ERROR,
            )
        elif exc.errno in (errno.ENOENT, errno.ENODEV, errno.ENXIO):
            self._set("disconnected", f"Scanner '{self.label}' not connected ({self.path})")
        else:
            self._set("error", f"Cannot open {self.path}: {exc.strerror or exc}", logging.ERROR)

    def _read_until_gone(self, device: InputDeviceLike) -> None:
        problems = self.decoder.stats.last_problem
        lost: OSError | ValueError | None = None
        try:
            while not self.stopping:
                self._follow_demand(device)
                ready, _, _ = select.select([device.fd], [], [], self._poll_interval)
                if ready:
                    try:
                        events = list(device.read())
                    except BlockingIOError:
                        continue
                    if self.grab == "while-polled" and not self.grabbed:
                        self.discarded_events += len(events)  # the browser had them
                        continue
                    for event in events:
                        self._emit(self.decoder.feed(event))
                else:
                    self._emit(self.decoder.expire(self._clock()))
                if self.decoder.stats.last_problem != problems:
                    problems = self.decoder.stats.last_problem
                    log.warning("scanner %s: %s", self.label, problems)
        except (OSError, ValueError) as exc:
            # ENODEV on read, or a closed fd (ValueError from select): the scanner was unplugged.
            lost = exc
        finally:
            if self.grabbed:
                # an unplugged device cannot be released, and needs not be
                with contextlib.suppress(OSError):
                    device.ungrab()
                self.grabbed = False
            _close_quietly(device)
        if lost is not None:
            # Said only once the device is released: whoever sees "disconnected" (a test, the
            # status page, a re-plug) never races the close.
            self.disconnects += 1
            self._set(
                "disconnected",
                f"Scanner '{self.label}' disconnected ({self.path}): {_reason(lost)}",
                logging.WARNING,
            )
        if self.stopping:
            self._set("disconnected", f"Scanner '{self.label}' stopped")

    def _emit(self, code: str | None) -> None:
        if code:
            try:
                self._on_barcode(code, self.label)
            except Exception:  # a delivery bug must not kill the reader
                log.exception("scanner %s: delivering %r failed", self.label, code)


def _close_quietly(device: InputDeviceLike) -> None:
    with contextlib.suppress(Exception):
        device.close()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.errno == errno.ENODEV:
        return "device unplugged"
    return str(exc) or exc.__class__.__name__
