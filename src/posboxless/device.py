"""What every device service offers the web layer.

A device service owns one device (or one kind of device, for the scanner hub): a worker that holds
the transport, a queue, and a cached state. The web layer only ever calls the methods below; the
cached ones (``status``, ``snapshot``, ``details``, ``ScaleService.reading``) must return at once
and never touch the device, so that a status poll can never wait on, or cut into, device I/O.

What a service exposes is typed: ``snapshot()`` is a frozen dataclass per kind (``PrinterSnapshot``,
``ScaleSnapshot``...), and ``details()``, its JSON form, is built from it. Optional abilities
(test page, reprint, journal, typed barcodes, simulator controls) are declared here as Protocols
that readers check with ``isinstance``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    from posboxless.printer.escpos.status import PrinterState
    from posboxless.printer.profiles import PrinterProfile

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


@runtime_checkable
class DeviceSnapshot(Protocol):
    """What every service's ``snapshot()`` has, whatever its kind: the readers that need more
    (metrics' per-kind families, the page's cards) match on the snapshot's class."""

    @property
    def name(self) -> str: ...

    @property
    def status(self) -> DeviceStatus: ...

    @property
    def activity(self) -> ActivitySnapshot: ...


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
    printer_state: PrinterState | None = None
    """The status bits of the printer's latest answer (None before it ever answered)."""
    last_printed: float | None = None
    """When the printer last confirmed a job."""
    oldest_pending_created: float | None = None
    """When the oldest job still waiting or printing was queued (None when none waits)."""


@dataclass(frozen=True)
class ScaleReading:
    """One weight as the POS is given it: ``info`` holds the scale's flags (``motion``...) or
    why there is no weight (``disconnected``, ``stale``...); empty means ``'ok'``."""

    weight: float = 0.0
    unit: str = "kg"
    info: tuple[str, ...] = ()
    stable: bool = False
    net: bool | None = None
    """None when no weight was read (there is nothing to be net of)."""
    age: float | None = None
    """Seconds since the scale gave it (None: it never answered)."""

    def as_json(self) -> dict[str, Any]:
        """The ``/hw_proxy/scale_read`` object (Odoo 8-16 read ``.weight`` without checking)."""
        answer: dict[str, Any] = {
            "weight": self.weight,
            "unit": self.unit,
            "info": list(self.info) if self.info else "ok",
            "stable": self.stable,
        }
        if self.net is not None:
            answer["net"] = self.net
        answer["age"] = self.age
        return answer


@dataclass(frozen=True, kw_only=True)
class ScaleSnapshot:
    """A scale's cached state: the latest reading with its age, and how the scale is reached."""

    name: str
    status: DeviceStatus
    reading: ScaleReading
    owner: Literal["posboxless", "browser"] = "posboxless"
    """``browser``: Odoo reads the scale over Web Serial and posboxless keeps off its port."""
    protocol: str | None = None
    model: str | None = None
    """The protocol's display name ("Toledo 8217"...)."""
    port: str | None = None
    configured: str | None = None
    """What the configuration asked for (a port, a USB id, auto-detection)."""
    usb: str | None = None
    serial_settings: str | None = None
    poll_interval: float | None = None
    simulated: bool = False
    activity: ActivitySnapshot = field(default_factory=ActivitySnapshot)


@dataclass(frozen=True, kw_only=True)
class ScannerSourceSnapshot:
    """One scanner reader (evdev keyboard-mode or serial)."""

    type: str
    path: str
    status: StatusName
    message: str
    barcodes: int = 0
    grab: str | None = None
    """Keyboard-mode scanners: when the device is taken from the desktop (``while-polled``...)."""
    grabbed: bool | None = None
    facts: Mapping[str, Any] = field(default_factory=_no_counters)
    """Everything the reader reports (layout, suffix, dropped partials...), JSON-serialisable."""


@dataclass(frozen=True, kw_only=True)
class ScannerSnapshot:
    name: str
    status: DeviceStatus
    sources: tuple[ScannerSourceSnapshot, ...] = ()
    waiting_polls: int = 0
    queued_barcodes: int = 0
    delivered: int = 0
    expired: int = 0
    autodetect: bool = False
    pos_scanning: bool = False
    """A POS long-polls the proxy now (grab mode ``while-polled`` takes the scanners then)."""
    recent_count: int = 0
    """Barcodes kept for the page (newest first in ``recent()``)."""
    activity: ActivitySnapshot = field(default_factory=ActivitySnapshot)


@dataclass(frozen=True, kw_only=True)
class TerminalSnapshot:
    """A payment terminal's cached state; ``transactions`` are the page's public views (no card
    number beyond its last digits), newest first."""

    name: str
    status: DeviceStatus
    protocol: str
    port: str | None = None
    configured: str | None = None
    serial_settings: str | None = None
    busy_with: str | None = None
    """The id of the transaction in progress."""
    transactions: tuple[Mapping[str, Any], ...] = ()
    simulated: bool = False
    next_outcome: str | None = None
    """Simulated terminals: what the next payment will do."""
    activity: ActivitySnapshot = field(default_factory=ActivitySnapshot)

    @property
    def unknown_payments(self) -> tuple[Mapping[str, Any], ...]:
        """Transactions whose outcome nobody knows: the cashier must check the terminal."""
        return tuple(t for t in self.transactions if t.get("outcome") == "unknown")


@dataclass(frozen=True, kw_only=True)
class PoleDisplaySnapshot:
    """A 2×20 pole display: the screen the POS wants and the lines last written to it."""

    name: str
    status: DeviceStatus
    profile: str
    port: str | None = None
    serial_settings: str | None = None
    rows: int = 2
    width: int = 20
    code_table: str | None = None
    shown: tuple[str, ...] | None = None
    """The lines last written to the display (None: nothing written since it was opened)."""
    wanted: tuple[str, ...] = ()
    """The newest screen the POS asked for (written next when it differs)."""
    not_shown_characters: str | None = None
    """Characters of the last message the display's code table lacks."""
    simulated: bool = False
    display_shows: tuple[str, ...] | None = None
    """Simulated displays: what the display made of the bytes."""
    printer: str | None = None
    """A display on a printer's display port: that printer (its link and status below)."""
    printer_connection: str | None = None
    printer_status: DeviceStatus | None = None
    activity: ActivitySnapshot = field(default_factory=ActivitySnapshot)


@dataclass(frozen=True, kw_only=True)
class CustomerScreenSnapshot:
    """Odoo 12-18's HTML customer screen (in memory: nothing to reach)."""

    name: str
    status: DeviceStatus
    owner: str | None = None
    """The address of the POS that holds the screen (Odoo 12-17)."""
    updated: float | None = None
    html_chars: int = 0
    has_data: bool = False
    open: bool = False
    activity: ActivitySnapshot = field(default_factory=ActivitySnapshot)
    """``last_ok``: when a POS last changed the screen."""


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


# ---- what the page may do with a simulated device (``--simulate``, demo, end-to-end tests) ----


class ScaleSimulatorControl(Protocol):
    def set_weight(self, kilograms: float, *, moving: bool = False) -> None: ...


class SimulatedPrinterMechanism(Protocol):
    state: str
    """``ok``, ``paper_out``, ``cover_open``..."""


class PrinterSimulatorControl(Protocol):
    @property
    def printer(self) -> SimulatedPrinterMechanism: ...

    def unplug(self) -> None: ...

    def replug(self) -> None: ...


class TerminalSimulatorControl(Protocol):
    @property
    def next_outcome(self) -> str: ...

    def script(self, *outcomes: str) -> None: ...

    def wake(self) -> None: ...


class PoleDisplaySimulatorView(Protocol):
    @property
    def lines(self) -> list[str]: ...


# ---- optional capabilities: the readers check them with isinstance, never by attribute name ----


@runtime_checkable
class PrintsTestPage(Protocol):
    async def test_print(self, notes: Sequence[str] = ()) -> str:
        """Queue a test page (``notes``: lines about the proxy); returns the job id."""
        ...


@runtime_checkable
class Reprints(Protocol):
    async def reprint(self, job_id: str | int) -> str:
        """Queue a printed job again (flagged as a copy); returns the new job id, or the same id
        when the job has not printed yet (it prints once)."""
        ...


@runtime_checkable
class KeepsJournal(Protocol):
    def journal(self, limit: int = 50) -> list[dict[str, Any]]:
        """The latest jobs, newest first (page, support bundle)."""
        ...


@runtime_checkable
class PrintsAddresses(Protocol):
    addresses: tuple[str, ...]
    """Where the POS reaches this proxy, printed on the start-up ticket (set by the wiring)."""


@runtime_checkable
class HasPrinterProfile(Protocol):
    @property
    def profile(self) -> PrinterProfile:
        """The printer model's paper width, code tables and commands: front-ends that render
        themselves (ePOS) render for it."""
        ...


@runtime_checkable
class InjectsBarcodes(Protocol):
    def inject(self, code: str, source: str = "simulator") -> None:
        """Deliver ``code`` as if scanned (page, demo); raises ``InvalidInput``."""
        ...


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

    def snapshot(self) -> DeviceSnapshot:
        """Cached state, typed and frozen (status, activity and what the kind adds); must not
        block and never touches the device."""
        ...

    def details(self) -> dict[str, Any]:
        """Cached facts for the diagnostics page and support bundle: transport, device path,
        last activity, counters. JSON-serialisable, built from ``snapshot()``; must not block."""
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
    writes: int = 0
    """Frames written (re-sends after a reconnection included)."""


@runtime_checkable
class PrinterDisplayPort(Protocol):
    """A printer with a display port: a customer display wired through it (``ESC = n``
    pass-through). The printer's worker owns the link and writes the display's frames between
    jobs; they are not print jobs (no journal, no confirmation)."""

    name: str

    def show_on_display(self, frame: bytes, baudrate: int = 9600) -> int:
        """Make ``frame`` (display commands and text, without ``ESC = n``) the next screen,
        replacing any not written yet; returns its number. Frames are paced to ``baudrate``,
        the display's line speed behind the printer. Never blocks. Raises ``ValueError``
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

    simulator: PrinterSimulatorControl | None
    """The simulated printer behind the service in ``--simulate`` mode, else None."""

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
    simulator: ScaleSimulatorControl | None
    """The simulated scale in ``--simulate`` mode (its weight is set from the page), else None."""

    def snapshot(self) -> ScaleSnapshot:
        """Cached state, typed and frozen; must not block."""
        ...

    def reading(self) -> dict[str, Any]:
        """The latest reading as ``{weight, unit, info}`` (``info`` is ``'ok'`` or a list of
        flags). Cached: answers at once. A stale reading is never served as current."""
        ...

    async def zero(self) -> None: ...

    async def tare(self) -> None: ...

    async def clear_tare(self) -> None: ...


@runtime_checkable
class ScannerService(DeviceService, Protocol):
    def snapshot(self) -> ScannerSnapshot:
        """Cached state, typed and frozen; must not block."""
        ...

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
