"""The printer worker: the one thread that owns a printer's transport.

It takes jobs from the durable queue in order and, only *between* jobs, asks the printer for its
status (DLE EOT 1..4). Nothing else touches the transport, so a status poll can never cut into a
job's byte stream. Everything the web layer reads (``snapshot``) is a cached copy.

Delivery rule (what "printed" means)
------------------------------------
A printer answers ``DLE EOT n`` the moment it *reads* those three bytes, wherever they are, even
inside image data (devices.md §1.9): a raster can hold "queries" nobody meant to send, and their
answers are indistinguishable from real ones. So answers are matched to queries by counting, never
by taking "the last four":

1. The job goes out followed by our ``DLE EOT 1..4``. Before writing, the worker counts every
   ``DLE EOT n`` the printer will find in those bytes (``count_status_queries``: job + ours).
2. The job is confirmed only when *that many* answers have come back; ours are the last four.
   Answers come back in stream order and ours follow the last job byte, so the final answer proves
   the printer has read the whole job. Fewer answers within ``confirm_timeout`` of the last one,
   or a link lost before the final answer, means "not confirmed": the job goes back in line
   flagged ``interrupted`` and is printed again, whole, under "REPRINT (interrupted)", exactly as
   after a crash. A late answer can therefore never confirm the *next* job: each job waits for
   its own count, and answers that arrive after the count (a printer answering a pattern we did
   not count) are drained, logged and counted (``unexpected_answers``).
3. If our four answers say the printer cannot print (paper end, cover open, offline, error), it
   holds the job in its buffer and has not printed it. The job stays unconfirmed (``printing``),
   the worker polls until the printer is ready again, then decides on evidence:

   * TCP, ``usblp`` (``/dev/usb/lpN``) and libusb: a power cycle of the printer breaks the link
     (the TCP connection is reset, the USB device disappears). A link that stayed up from the
     confirming answers until "ready" proves the buffer survived and is printed: ``done``.
   * serial (and any transport without that property): a power cycle cannot be seen, so there is
     no evidence the buffer survived: the job is printed again (a visible, flagged duplicate is
     harmless, a lost receipt is not).
   * A link lost, or a printer that stops answering, while the job is held: reprinted.

Per profile: with ``status_queries = false`` (printers that do not implement DLE EOT) or on a
write-only transport (a file), nothing can be proven: a job is ``done`` once the operating system
took its bytes, and the journal says so only in that sense.

Real-time drawer pulses and power-off (``DLE DC4`` fn 1/2) in a job's bytes would be executed
too: with the profile's ``realtime_switch`` the job is sent with them switched off by ``GS ( D``
(after its leading ``ESC @``) and switched back on after it (``escpos.realtime``); without it
the job is sent as it is, logged once and counted (``realtime_unguarded``). ``GS ( D`` leaves
``DLE EOT`` alone and holds no ``10`` byte, so the counting above is unchanged.

A customer display on the printer's display port (``display_port.DisplayChannel``) gets its
newest frame at the start of a step, before the next job is taken: between jobs, never between a
job's bytes and its answers. Frames are paced to the display's line speed: an idle worker's wait
ends when the next one is due, so a receipt queued during a burst waits for one frame at most.
Frames hold no real-time command, so the counting is unchanged too; once a display is attached
every job starts with ``ESC = 1``.

Assumption (Epson's documented behaviour, shared by the simulator): every ``10 04 n`` with
n = 1..4 is answered with one byte; a ``10 04`` followed by another byte is not a query and that
byte is scanned again. A printer that ignores patterns inside image data answers fewer than
counted and then goes quiet: after ``confirm_timeout`` of silence the worker sends a fresh
``DLE EOT 1..4`` and takes the job as read only if exactly four answers come back followed by
``status_timeout`` of silence (a printer still reading the job would still be answering); no
answer, or more answers, means "not confirmed" (reprint). That path is logged and counted
(``short_answers``). A printer answering *more* patterns than counted (none is known) would
reach the count early; the answers still arriving after the count are drained, logged and
counted (``unexpected_answers``) so that such a printer is noticed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from posboxless.device import DeviceStatus
from posboxless.printer.display_port import SELECT_PRINTER, DisplayChannel
from posboxless.printer.escpos.realtime import count_realtime_hazards, guard_realtime
from posboxless.printer.escpos.status import (
    STATUS_QUERIES,
    PrinterState,
    count_status_queries,
    decode_status,
    is_status_answer,
)
from posboxless.printer.queue import Job, JobQueue
from posboxless.transports.base import Transport, TransportError
from posboxless.worker import DeviceWorker

log = logging.getLogger(__name__)

_QUERY_ALL = b"".join(STATUS_QUERIES)
# ESC @, centred bold line, back to normal: plain ASCII so it is right under any code table.
REPRINT_INTERRUPTED = b"\x1b@\x1ba\x01\x1bE\x01REPRINT (interrupted)\n\x1bE\x00\x1ba\x00"


def reprint_header(job_id: int) -> bytes:
    return b"\x1b@\x1ba\x01\x1bE\x01REPRINT of job %d\n\x1bE\x00\x1ba\x00" % job_id


class _Unconfirmed(Exception):
    """The printer is reachable but there is no evidence that the job was printed."""


class _Stopping(Exception):
    """The worker is asked to stop while a job waits for its confirmation."""


@dataclass(frozen=True)
class WorkerSettings:
    status_interval: float = 5.0
    """Seconds between status polls while idle."""
    status_timeout: float = 0.5
    """How long to wait for the four status answers; a silent printer is reported after this."""
    confirm_timeout: float = 10.0
    """How long to wait, after a job or after its last answer, for the printer's next answer
    (it may still be reading a large job)."""
    receipt_max_age: float = 3600.0
    drawer_max_age: float = 10.0
    retry_min: float = 0.5
    retry_max: float = 10.0
    status_queries: bool = True
    """False for printers that do not implement DLE EOT: jobs are then sent without checks."""


@dataclass(frozen=True)
class Snapshot:
    """What the web layer sees; replaced as a whole, so reading it never needs a lock."""

    status: DeviceStatus
    printer_state: PrinterState | None = None
    current_job: int | None = None
    pending: int = 0
    connected_since: float | None = None
    last_poll: float | None = None
    counters: dict[str, int] = field(default_factory=dict)
    last_printed: float | None = None
    """Wall-clock time of the last job the printer confirmed (monitoring: "printed lately?")."""


class PrinterWorker(DeviceWorker[None]):
    """The printer's worker on the device worker base: its thread, stop/wake, reconnection
    backoff and status-change logging come from ``DeviceWorker``; its published state is the
    richer ``Snapshot`` (whose ``status`` is the one the base logs)."""

    def __init__(
        self,
        name: str,
        transport: Transport,
        queue: JobQueue,
        settings: WorkerSettings,
        *,
        on_first_connection: Callable[[], None] | None = None,
        realtime_switch: bool = False,
        display: DisplayChannel | None = None,
    ) -> None:
        self.name = name
        self._display = display
        self._realtime_switch = realtime_switch
        """The profile's ``realtime_switch``: the printer takes ``GS ( D``."""
        self._realtime_job: int | None = None
        self.transport = transport
        self.queue = queue
        self.settings = settings
        self._on_first_connection = on_first_connection
        self._bidirectional = bool(getattr(transport, "bidirectional", True))
        self._check_status = settings.status_queries and self._bidirectional
        # TCP and USB links break when the printer is power-cycled; a serial line does not.
        self._reset_breaks_link = bool(getattr(transport, "reset_breaks_link", False))
        self._counters: dict[str, int] = {}
        self._publish_lock = threading.Lock()
        initial = DeviceStatus("connecting", (f"Connecting to {transport.description}",))
        self.snapshot = Snapshot(initial, pending=queue.pending_count())
        super().__init__(
            f"printer {name}",
            self._session,
            logger=log,
            retry_min=settings.retry_min,
            retry_max=settings.retry_max,
            status=initial,
            thread_name=f"printer-{name}",
            # a job queued while the printer is away: try the printer now, not after the backoff
            wake_cuts_backoff=True,
            # "Printing job 12 (3 queued)" is activity, not a change of the printer's health
            quiet_when_connected=True,
        )
        self._connected_before = False
        self._last_status_at = 0.0
        self._status_ok = False
        self._blocked_message: str | None = None

    # -- control (any thread) ------------------------------------------------------------------

    def wake(self) -> None:
        """A job was queued: do not wait for the next poll to print it."""
        self._publish(pending=self.queue.pending_count())
        current = self.snapshot.current_job
        if current is not None and self.snapshot.status.status == "connected":
            self._publish(status=self._connected_status(current))  # "(n queued)" changed
        super().wake()

    def wake_for_display(self) -> None:
        """A display frame is due: write it now if the worker is idle. Not while
        disconnected (the frame goes out after reconnecting; waking would cut the back-off
        short at every keystroke) nor during a job (it goes out right after)."""
        snapshot = self.snapshot
        if snapshot.current_job is None and snapshot.status.status in ("connected", "error"):
            super().wake()

    def stop(self, timeout: float = 5.0) -> bool:
        ended = super().stop(timeout)
        self.transport.close()
        return ended

    def set_status(self, status: DeviceStatus, level: int | None = None) -> bool:
        """The base's own status changes (an unexpected failure) go into the snapshot too."""
        self._publish(status=status)
        return True

    # -- the thread ----------------------------------------------------------------------------

    def _session(self) -> bool:
        """Connect (unless still connected after an unexpected failure), then print and poll
        until the link fails; True when the printer was reached."""
        reached = self.transport.is_open
        try:
            if not reached:
                self._connect()
                reached = True
            while not self.stopping:
                if not self._step():
                    self.wait(self._idle_wait())
        except TransportError as exc:
            self.transport.close()
            self._count("transport_errors")
            # logged by the base once per change, not once per reconnection attempt
            self._publish(status=DeviceStatus("disconnected", (str(exc),)), printer_state=None)
        return reached

    def _idle_wait(self) -> float:
        if not self._check_status:
            wait = self.settings.status_interval
        else:
            due = self._last_status_at + self.settings.status_interval
            wait = max(0.0, due - time.monotonic())
        # a display frame waiting for its time (paced to the display's line speed) is written
        # then, without a wake at every keystroke of a burst
        display = self._display.wait_time() if self._display is not None else None
        return wait if display is None else min(wait, display)

    def _connect(self) -> None:
        self.transport.open()
        if self._display is not None:
            self._display.reconnected()
        self._publish(connected_since=time.time())
        if self._check_status:
            self.transport.discard_input()
            self._poll(self.settings.status_timeout)
        else:
            self._publish(status=DeviceStatus("connected", self._activity_messages()))
        if not self._connected_before and self.transport.is_open:
            self._connected_before = True
            if self._on_first_connection is not None:
                self._on_first_connection()

    def _step(self) -> bool:
        """Do one unit of work; False when there was nothing to do."""
        self._write_display()
        job = self.queue.next_job()
        self._publish(pending=self.queue.pending_count())
        if job is None:
            if self._check_status and time.monotonic() >= self._last_status_at + (
                self.settings.status_interval
            ):
                self._poll(self.settings.status_timeout)
            return False
        if self._expired(job):
            return True
        if self._check_status:
            fresh = time.monotonic() - self._last_status_at < min(
                1.0, self.settings.status_interval
            )
            if not (fresh and self._status_ok):
                self._poll(self.settings.status_timeout)
            if not self._status_ok:
                self._hold(job)
                return False
        self._print(job)
        return True

    def _write_display(self) -> None:
        """The display's newest frame, if not written yet (between jobs only)."""
        due = self._display.due() if self._display is not None else None
        if due is None:
            return
        number, data = due
        assert self._display is not None
        self.transport.write(data)
        self._display.done(number)
        self._count("display_frames")

    def _expired(self, job: Job) -> bool:
        limit = (
            self.settings.drawer_max_age if job.kind == "drawer" else self.settings.receipt_max_age
        )
        age = time.time() - job.created
        if age <= limit:
            return False
        reason = f"not printed: {age:.0f} s old, older than the {limit:g} s limit"
        self.queue.mark_expired(job.id, reason)
        self._count("expired")
        log.warning("printer %s: job %d expired (%s)", self.name, job.id, reason)
        return True

    def _hold(self, job: Job) -> None:
        """The printer cannot print now (paper out, cover open, silent): keep the job waiting."""
        message = self._blocked_message or "Printer not ready"
        self.queue.note_error(job.id, f"waiting: {message}")

    def _print(self, job: Job) -> None:
        data = self._guarded(job)
        if job.interrupted:
            data = REPRINT_INTERRUPTED + data
        if self._display is not None and self._display.attached:
            data = SELECT_PRINTER + data
        if not self.queue.mark_attempt(job.id):
            return  # withdrawn (its caller was told it failed) or expired meanwhile: never sent
        self._publish(current_job=job.id, status=self._connected_status(job.id))
        log.info("printer %s: printing job %d (%d bytes)", self.name, job.id, len(data))
        try:
            if self._check_status:
                self._send_confirmed(job.id, data)
            else:
                self.transport.write(data)
        except _Stopping:
            # Left "printing": the queue reprints it on the next start, as after a crash.
            self._publish(current_job=None)
            return
        except (TransportError, _Unconfirmed) as exc:
            self.queue.mark_interrupted(job.id, str(exc))
            self._count("interrupted")
            self._publish(current_job=None)
            if isinstance(exc, TransportError):
                raise
            log.warning("printer %s: job %d will be printed again: %s", self.name, job.id, exc)
            return
        # Published before the journal says done (the printer has proven it): whoever learns
        # from the journal that the job is done (wait_job) finds it in the snapshot and metrics.
        self._count("printed")
        self._count(f"printed_{job.kind}")
        self._publish(
            current_job=None, pending=self.queue.pending_count() - 1, last_printed=time.time()
        )
        self.queue.mark_done(job.id)
        self._publish(pending=self.queue.pending_count(), status=self._connected_status(None))

    def _guarded(self, job: Job) -> bytes:
        """The job's bytes, with the real-time commands its data would trigger (a drawer pulse
        or a power-off pattern inside an image) switched off around it where the printer can."""
        hazards = count_realtime_hazards(job.data)
        if not hazards:
            return job.data
        first_attempt = job.id != self._realtime_job  # a reprint is not logged again
        self._realtime_job = job.id
        if self._realtime_switch:
            if not first_attempt:
                return guard_realtime(job.data)
            self._count("realtime_guarded")
            log.info(
                "printer %s: job %d holds %d real-time drawer/power patterns; sent with them "
                "switched off (GS ( D)",
                self.name,
                job.id,
                hazards,
            )
            return guard_realtime(job.data)
        # Nothing sound is left: changing image bytes would change the receipt, and where a
        # band starts does not move a pattern out of the band's data.
        if not first_attempt:
            return job.data
        self._count("realtime_unguarded")
        log.warning(
            "printer %s: job %d holds %d real-time drawer-pulse/power-off patterns that this "
            "printer may execute (its profile has no realtime_switch): the drawer may open",
            self.name,
            job.id,
            hazards,
        )
        return job.data

    def _send_confirmed(self, job_id: int, data: bytes) -> None:
        """Write the job and our status queries; return once the printer has provably read all
        of it and is ready (see the module docstring), raise otherwise."""
        stream = data + _QUERY_ALL
        expected = count_status_queries(stream)
        self.transport.discard_input()
        self.transport.write(stream)
        answers = self._read_answers(expected, self.settings.confirm_timeout)
        if len(answers) < expected:
            fresh = self._confirm_short(job_id, len(answers), expected)
            if fresh is None:
                raise TransportError(
                    f"Printer at {self.transport.description} did not confirm job {job_id} "
                    f"({len(answers)} of {expected} status answers)"
                )
            answers = fresh
        surplus = self._drain()
        if surplus:
            self._count("unexpected_answers")
            log.warning(
                "printer %s: %d status answers more than the %d queries job %d contains",
                self.name,
                len(surplus),
                expected,
                job_id,
            )
        state = self._publish_state(answers[-4:])
        if self._status_ok:
            return
        # The printer has the job but cannot print it now: it stays unconfirmed until the printer
        # is ready again, then the link's history is the evidence.
        held = self._blocked_message
        self._count("held_at_confirmation")
        log.warning(
            "printer %s: job %d received but not printed yet (%s); waiting",
            self.name,
            job_id,
            "; ".join(state.messages()),
        )
        self.queue.note_error(job_id, f"waiting: {held}; the printer holds the job")
        while not self._status_ok:
            self.wait(self.settings.status_interval)
            if self.stopping:
                raise _Stopping
            if self._poll(self.settings.status_timeout) is None:
                raise TransportError(
                    f"Printer at {self.transport.description} stopped answering while it "
                    f"held job {job_id} ({held})"
                )
        if not self._reset_breaks_link:
            raise _Unconfirmed(
                f"the printer was '{held}' when job {job_id} ended; on "
                f"{self.transport.description} a power cycle cannot be seen, so there is no "
                "evidence it kept the job"
            )
        log.info(
            "printer %s: job %d printed from the printer's buffer after '%s' (link never lost)",
            self.name,
            job_id,
            held,
        )

    def _confirm_short(self, job_id: int, got: int, expected: int) -> list[int] | None:
        """The printer went quiet short of the count: it may be stuck (buffer full, power lost)
        or be one that ignores query patterns inside image data. Ask again: a printer that
        reads our new queries has read everything before them. Proof is exactly four answers
        followed by silence; anything else still coming means it is still reading."""
        self.transport.write(_QUERY_ALL)
        fresh = self._read_answers(4, self.settings.status_timeout)
        if len(fresh) < 4:
            return None
        try:
            while chunk := self.transport.read(64, self.settings.status_timeout):
                if any(is_status_answer(b) for b in chunk):
                    return None
        except TransportError:
            return None
        self._count("short_answers")
        log.warning(
            "printer %s: job %d got %d of %d status answers, then answered a fresh query: this "
            "printer does not answer status-query patterns inside image data (each such job "
            "waits %g s for the missing answers)",
            self.name,
            job_id,
            got,
            expected,
            self.settings.confirm_timeout,
        )
        return fresh

    def _read_answers(self, count: int, timeout: float) -> list[int]:
        """Read until ``count`` DLE EOT answers came back or none came for ``timeout`` s."""
        answers: list[int] = []
        deadline = time.monotonic() + timeout
        while len(answers) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            # Ask for exactly what is missing: serial reads wait until `size` bytes arrive.
            chunk = self.transport.read(count - len(answers), remaining)
            got = [b for b in chunk if is_status_answer(b)]  # drops unsolicited ASB bytes
            if got:
                answers += got
                deadline = time.monotonic() + timeout  # a slow printer is still reading
        return answers

    def _drain(self) -> list[int]:
        """Answers still arriving after the expected ones (there should be none). A link lost
        now does not undo the answers already read: the next operation will reconnect."""
        extra: list[int] = []
        try:
            while chunk := self.transport.read(64, 0.01):
                extra += [b for b in chunk if is_status_answer(b)]
        except TransportError as exc:
            log.info("printer %s: %s (after its status answers)", self.name, exc)
        return extra

    def _poll(self, timeout: float) -> PrinterState | None:
        """Send DLE EOT 1..4 between jobs and publish the state; None when the printer is
        silent. Nothing is outstanding between jobs (each job waits for all its answers), so
        answers still arriving after ours are late ones: then the last four are ours."""
        self.transport.discard_input()
        self.transport.write(_QUERY_ALL)
        answers = self._read_answers(4, timeout)
        if len(answers) == 4:
            answers += self._drain()
        self._last_status_at = time.monotonic()
        self._count("status_polls")
        if len(answers) < 4:
            self._status_ok = False
            self._blocked_message = f"Printer at {self.transport.description} is not answering"
            self._count("status_silent")
            self._publish(
                status=DeviceStatus("error", (self._blocked_message,)),
                printer_state=None,
                last_poll=time.time(),
            )
            return None
        return self._publish_state(answers[-4:])

    def _publish_state(self, answers: list[int]) -> PrinterState:
        state = decode_status(answers)
        self._last_status_at = time.monotonic()
        problems = [m for m in state.messages() if m != "Paper near end"]
        self._status_ok = not problems
        self._blocked_message = problems[0] if problems else None
        if problems:
            status = DeviceStatus("error", tuple(state.messages()))
        else:
            status = self._connected_status(self.snapshot.current_job, state)
        self._publish(status=status, printer_state=state, last_poll=time.time())
        return state

    def _connected_status(
        self, current_job: int | None, state: PrinterState | None = None
    ) -> DeviceStatus:
        if state is None:
            state = self.snapshot.printer_state
        messages = list(state.messages()) if state is not None else []
        messages += self._activity_messages(current_job)
        return DeviceStatus("connected", tuple(messages))

    def _activity_messages(self, current_job: int | None = None) -> tuple[str, ...]:
        pending = self.queue.pending_count()
        if current_job is not None:
            return (f"Printing job {current_job} ({pending - 1} queued)",)
        if pending:
            return (f"{pending} jobs queued",)
        # Say where it is: "connected" alone does not tell a support person which printer.
        return (f"Ready at {self.transport.description}",)

    def _count(self, counter: str) -> None:
        self._counters[counter] = self._counters.get(counter, 0) + 1

    def _publish(self, **changes: object) -> None:
        # Writers are the worker and wake() (event-loop thread); readers never lock.
        with self._publish_lock:
            changes.setdefault("counters", dict(self._counters))
            self.snapshot = replace(self.snapshot, **changes)  # type: ignore[arg-type]
            if "status" in changes:  # logged in the order it was published
                super().set_status(self.snapshot.status)
