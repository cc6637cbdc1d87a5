"""What every device service offers the web layer.

A device service owns one device (or one kind of device, for the scanner hub): a worker that holds
the transport, a queue, and a cached state. The web layer only ever calls the methods below; the
cached ones (``status``, ``details``, ``ScaleService.reading``) must return at once and never touch
the device, so that a status poll can never wait on, or cut into, device I/O.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    from posboxless.printer.escpos.status import PrinterState

StatusName = Literal["connected", "connecting", "disconnected", "error"]


@dataclass(frozen=True)
class DeviceStatus:
    """The ``{status, messages}`` pair every Odoo version reads from ``status_json``."""

    status: StatusName
    messages: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status, "messages": list(self.messages)}


JobReason = Literal[
    "paper_out",
    "cover_open",
    "offline",
    "not_answering",
    "queue_full",
    "expired",
    "withdrawn",
    "invalid",
]
"""Why a job did not print (or was refused): a small fixed set every front-end can map to its own
wire form (Odoo's ``false`` / JSON-RPC error, Epson's ePOS ``code`` and status bits)."""


class DeviceError(Exception):
    """A call on a device failed in a way the POS should be told about.

    The web layer turns it into a JSON-RPC error whose ``data.message`` is ``str(self)``; the
    message is written for a cashier or a support person ("Paper out", "No answer from the scale
    on /dev/ttyUSB0 ..."), not for a developer. ``reason`` is set when the failure is one of
    ``JobReason`` (a refused print job), so that a front-end need not parse the message.
    """

    error_name = "posboxless.DeviceError"

    def __init__(
        self,
        message: str,
        *,
        arguments: list[Any] | None = None,
        reason: JobReason | None = None,
    ) -> None:
        super().__init__(message)
        self.arguments = arguments if arguments is not None else [message]
        self.reason = reason


class InvalidInput(DeviceError):
    """The request itself is wrong (bad XML, bad base64, bad image, unknown action...)."""

    error_name = "posboxless.InvalidInput"


class DeviceUnavailable(DeviceError):
    """No such device is configured, or it refuses work right now (offline with policy 'refuse',
    queue full). Printing endpoints of Odoo 13+ answer ``false`` for this instead of an error."""

    error_name = "posboxless.DeviceUnavailable"


class JobKind(str, Enum):
    """What a print job is; stored in the queue and shown in the journal."""

    XML = "xml"
    """An Odoo 8-12 XML receipt."""
    IMAGE = "image"
    """An image receipt (Odoo 13+ JPEG, an ePOS raster image...)."""
    DRAWER = "drawer"
    """A cash-drawer pulse: never performed late, never repeated after an interruption."""
    TEXT = "text"
    """A ticket posboxless writes itself (test page, start-up ticket) or plain text."""

    def __str__(self) -> str:
        return self.value


class JobState(str, Enum):
    """The life of a job; the values are what the queue stores and the journal shows."""

    QUEUED = "queued"
    """Waiting for its turn (or for the printer)."""
    PRINTING = "printing"
    """Its first byte may have been sent; it will be finished (or printed again, flagged)."""
    PRINTED = "done"
    """Sent and confirmed by the printer. Stored as ``done`` (the journal's historic word)."""
    WITHDRAWN = "withdrawn"
    """Taken back before its first byte, because its caller was told it failed: never prints."""
    EXPIRED = "expired"
    """Too old when its turn came (or an interrupted drawer kick): not printed."""

    def __str__(self) -> str:
        return self.value

    @property
    def final(self) -> bool:
        return self in (JobState.PRINTED, JobState.WITHDRAWN, JobState.EXPIRED)


@dataclass(frozen=True)
class JobOutcome:
    """What a front-end needs to answer truthfully about one job (``PrinterService.wait_job``).

    ``state`` is where the job stands when the wait ended: ``PRINTED`` (success), ``WITHDRAWN``
    or ``EXPIRED`` (it will never print), ``PRINTING`` (partly sent, not confirmed yet: it will
    be finished, so a retry must not send it again) or ``QUEUED`` (a "keep and print later"
    printer kept it)."""

    job_id: str
    state: JobState
    message: str
    """For the cashier: "Printed", "Paper out: the receipt was not printed"..."""
    reason: JobReason | None = None
    printer_state: PrinterState | None = None
    """The printer's latest known status bits (paper near end...), None when it never answered."""

    @property
    def printed(self) -> bool:
        return self.state is JobState.PRINTED

    @property
    def will_print(self) -> bool:
        """Printed already, or certain to be printed later without being sent again."""
        return self.state in (JobState.PRINTED, JobState.PRINTING, JobState.QUEUED)


class JobNotConfirmed(DeviceError):
    """A job was partly sent but the printer has not confirmed it within the answer time: it will
    be finished (not withdrawn), and a retry of the same job joins it instead of printing twice."""

    error_name = "posboxless.PrintNotConfirmed"


@dataclass(frozen=True)
class ServiceContext:
    """What every device factory gets besides its own configuration."""

    data_dir: Path
    simulate: bool
    claimed_serial_ports: frozenset[str] = frozenset()
    """Serial ports configured for some device: probing (scale, scanners) must never touch them."""


def _no_counters() -> Mapping[str, int]:
    return MappingProxyType({})


@dataclass(frozen=True)
class ActivitySnapshot:
    """Last activity at one instant (wall-clock timestamps), frozen: readers can keep it."""

    last_ok: float | None = None
    last_error: float | None = None
    last_error_message: str | None = None
    counters: Mapping[str, int] = field(default_factory=_no_counters)


@dataclass(frozen=True)
class PrinterSnapshot:
    """What a printer service exposes to its readers (page, diagnostics, metrics, bundle, the
    ePOS front-end): built from the worker's cached state, never from the device."""

    name: str
    connection: str
    profile: str
    status: DeviceStatus
    pending_jobs: int = 0
    """Jobs waiting or printing."""
    current_job: int | None = None
    activity: ActivitySnapshot = field(default_factory=ActivitySnapshot)
    """``last_ok``: when the printer last answered."""


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

    def snapshot(self) -> ActivitySnapshot:
        return ActivitySnapshot(
            self.last_ok,
            self.last_error,
            self.last_error_message,
            MappingProxyType(dict(self.counters)),
        )

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


@dataclass(frozen=True)
class DisplayPortState:
    """A customer display wired through a printer (``PrinterDisplayPort``), as the printer's
    worker sees it; cached, frozen."""

    printer: str
    connection: str
    """The printer's link (``192.168.1.50:9100``, ``/dev/usb/lp0``...)."""
    printer_status: DeviceStatus
    wanted: int
    """Number of the newest frame given (0: none yet)."""
    written: int
    """Number of the last frame written in full since the printer (re)connected (0: none)."""
    writable: bool
    """Frames go out now (the printer is linked, answers, and holds no job)."""
    collapsed: int = 0
    """Frames replaced by a newer one before they were written."""


@runtime_checkable
class PrinterDisplayPort(Protocol):
    """A printer with a display port: a customer display wired through it (``ESC = n``
    pass-through). The printer's worker owns the link and writes the display's frames between
    jobs; they are not print jobs (no journal, no confirmation)."""

    name: str

    def show_on_display(self, frame: bytes) -> int:
        """Make ``frame`` (display commands and text, without ``ESC = n``) the next screen,
        replacing any not written yet; returns its number. Never blocks. Raises ``ValueError``
        for a frame holding what the printer itself would act on (real-time commands,
        ``ESC =``)."""
        ...

    def display_port(self) -> DisplayPortState:
        """Cached; never blocks."""
        ...


JobSource = Literal["hw_proxy", "epos", "page", "posboxless"]
"""Which front-end queued a job (shown in the journal)."""


@runtime_checkable
class PrinterService(DeviceService, Protocol):
    """A receipt printer. Each ``submit_*`` method returns once the job is durably accepted (on
    disk), or raises ``InvalidInput`` / ``DeviceUnavailable`` (with ``reason``). Printing happens
    afterwards; ``wait_job`` tells how it went, which is what a truthful answer needs."""

    def snapshot(self) -> PrinterSnapshot:
        """Cached state, typed and frozen; must not block."""
        ...

    async def submit_job(
        self,
        kind: JobKind,
        data: bytes,
        *,
        source: JobSource = "hw_proxy",
        note: str | None = None,
    ) -> str:
        """Queue already-rendered ESC/POS bytes (from any front-end); returns the job id."""
        ...

    async def wait_job(
        self, job_id: str, timeout: float | None = None, *, withdraw: bool | None = None
    ) -> JobOutcome:
        """Wait, without polling, until the job is final or ``timeout`` seconds passed (None: the
        printer's ``answer_timeout``). On time-out a job not yet started is withdrawn (it can
        never print later) unless ``withdraw`` is False; None follows the printer's ``offline``
        policy (``queue`` keeps receipts; drawer kicks are always withdrawn). Cancelling the wait
        (the client left) counts as a time-out: a caller that cannot be told must not get a
        copy printed behind its back."""
        ...

    async def submit_xml_receipt(self, xml: str, *, source: JobSource = "hw_proxy") -> str:
        """Render an Odoo 8-12 XML receipt and queue it; returns the job id."""
        ...

    async def submit_image_receipt(
        self, image_base64: str, *, source: JobSource = "hw_proxy"
    ) -> str:
        """Queue an Odoo 13+ base64 JPEG/PNG receipt; returns the job id."""
        ...

    async def submit_drawer_kick(self, *, source: JobSource = "hw_proxy") -> str:
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
