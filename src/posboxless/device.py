"""What every device service offers the web layer.

A device service owns one device (or one kind of device, for the scanner hub): a worker that holds
the transport, a queue, and a cached state. The web layer only ever calls the methods below; the
cached ones (``status``, ``details``, ``ScaleService.reading``) must return at once and never touch
the device, so that a status poll can never wait on, or cut into, device I/O.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

StatusName = Literal["connected", "connecting", "disconnected", "error"]


@dataclass(frozen=True)
class DeviceStatus:
    """The ``{status, messages}`` pair every Odoo version reads from ``status_json``."""

    status: StatusName
    messages: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status, "messages": list(self.messages)}


class DeviceError(Exception):
    """A call on a device failed in a way the POS should be told about.

    The web layer turns it into a JSON-RPC error whose ``data.message`` is ``str(self)``; the
    message is written for a cashier or a support person ("Paper out", "No answer from the scale
    on /dev/ttyUSB0 ..."), not for a developer.
    """

    error_name = "posboxless.DeviceError"

    def __init__(self, message: str, *, arguments: list[Any] | None = None) -> None:
        super().__init__(message)
        self.arguments = arguments if arguments is not None else [message]


class InvalidInput(DeviceError):
    """The request itself is wrong (bad XML, bad base64, bad image, unknown action...)."""

    error_name = "posboxless.InvalidInput"


class DeviceUnavailable(DeviceError):
    """No such device is configured, or it refuses work right now (offline with policy 'refuse',
    queue full). Printing endpoints of Odoo 13+ answer ``false`` for this instead of an error."""

    error_name = "posboxless.DeviceUnavailable"


@dataclass
class Activity:
    """Last-activity bookkeeping shown on the diagnostics page (timestamps are wall-clock)."""

    last_ok: float | None = None
    last_error: float | None = None
    last_error_message: str | None = None
    counters: dict[str, int] = field(default_factory=dict)

    def ok(self, counter: str | None = None) -> None:
        self.last_ok = time.time()
        if counter:
            self.counters[counter] = self.counters.get(counter, 0) + 1

    def error(self, message: str, counter: str | None = None) -> None:
        self.last_error = time.time()
        self.last_error_message = message
        if counter:
            self.counters[counter] = self.counters.get(counter, 0) + 1


@runtime_checkable
class DeviceService(Protocol):
    """The small interface every device service implements."""

    kind: str
    """``printer``, ``scale``, ``scanner`` or ``display``: the ``status_json`` key."""

    name: str
    """Instance name from the configuration (``receipt``, ``kitchen``, ``ariva``...)."""

    def status(self) -> DeviceStatus:
        """Cached status; must not block."""
        ...

    def details(self) -> dict[str, Any]:
        """Cached facts for the diagnostics page and support bundle: transport, device path,
        last activity, counters. JSON-serialisable; must not block."""
        ...

    async def start(self) -> None:
        """Start the worker (called once, on the server's event loop)."""
        ...

    async def stop(self) -> None:
        """Stop the worker and release the device."""
        ...


@runtime_checkable
class PrinterService(DeviceService, Protocol):
    """A receipt printer. Each ``submit_*`` method returns once the job is durably accepted (on
    disk), or raises ``InvalidInput`` / ``DeviceUnavailable``. Printing happens afterwards."""

    async def submit_xml_receipt(self, xml: str) -> str:
        """Render an Odoo 8-12 XML receipt and queue it; returns the job id."""
        ...

    async def submit_image_receipt(self, image_base64: str) -> str:
        """Queue an Odoo 13+ base64 JPEG/PNG receipt; returns the job id."""
        ...

    async def submit_drawer_kick(self) -> str:
        """Queue a cash-drawer pulse; returns the job id."""
        ...


@runtime_checkable
class ScaleService(DeviceService, Protocol):
    def reading(self) -> dict[str, Any]:
        """The latest reading as ``{weight, unit, info}`` (``info`` is ``'ok'`` or a list of
        flags). Cached: answers at once. A stale reading is never served as current."""
        ...

    async def zero(self) -> None: ...

    async def tare(self) -> None: ...

    async def clear_tare(self) -> None: ...


@runtime_checkable
class ScannerService(DeviceService, Protocol):
    async def next_barcode(self, client: str, timeout: float) -> str:
        """Wait up to ``timeout`` seconds for the next barcode for this client; ``''`` on time-out.
        A new call from the same ``client`` releases that client's older pending call."""
        ...

    def give_back(self, barcode: str) -> None:
        """Return a barcode that could not be delivered (its HTTP client left) to the front of
        the queue, so the next poll gets it. Event-loop thread only."""
        ...

    def recent(self) -> list[dict[str, Any]]:
        """Recent barcodes (newest first) for the diagnostics page."""
        ...
