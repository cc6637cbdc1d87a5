"""The printer worker: the one thread that owns a printer's transport.

It takes jobs from the durable queue in order and, only *between* jobs, asks the printer for its
status (DLE EOT 1..4). Nothing else touches the transport, so a status poll can never cut into a
job's byte stream. Everything the web layer reads (``snapshot``) is a cached copy.

Delivery rule: a job is ``done`` once its bytes are written *and* the printer answered the status
queries sent right after them (answers come back in stream order, so the printer has taken the
job). If the link breaks or the printer goes silent before that, the job goes back in line flagged
``interrupted`` and is printed again with a "REPRINT (interrupted)" header.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from posboxless.device import DeviceStatus
from posboxless.printer.escpos.status import (
    STATUS_QUERIES,
    PrinterState,
    decode_status,
    is_status_answer,
)
from posboxless.printer.queue import Job, JobQueue
from posboxless.transports.base import Transport, TransportError

log = logging.getLogger(__name__)

_QUERY_ALL = b"".join(STATUS_QUERIES)
# ESC @, centred bold line, back to normal: plain ASCII so it is right under any code table.
REPRINT_INTERRUPTED = b"\x1b@\x1ba\x01\x1bE\x01REPRINT (interrupted)\n\x1bE\x00\x1ba\x00"


def reprint_header(job_id: int) -> bytes:
    return b"\x1b@\x1ba\x01\x1bE\x01REPRINT of job %d\n\x1bE\x00\x1ba\x00" % job_id


@dataclass(frozen=True)
class WorkerSettings:
    status_interval: float = 5.0
    """Seconds between status polls while idle."""
    status_timeout: float = 0.5
    """How long to wait for the four status answers; a silent printer is reported after this."""
    confirm_timeout: float = 10.0
    """How long to wait, after a job, for the printer to answer (it may still be taking data)."""
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


class PrinterWorker:
    def __init__(
        self,
        name: str,
        transport: Transport,
        queue: JobQueue,
        settings: WorkerSettings,
        *,
        on_first_connection: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        self.transport = transport
        self.queue = queue
        self.settings = settings
        self._on_first_connection = on_first_connection
        self._bidirectional = bool(getattr(transport, "bidirectional", True))
        self._check_status = settings.status_queries and self._bidirectional
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._counters: dict[str, int] = {}
        self._publish_lock = threading.Lock()
        self.snapshot = Snapshot(
            DeviceStatus("connecting", (f"Connecting to {transport.description}",)),
            pending=queue.pending_count(),
        )
        self._thread = threading.Thread(target=self._run, name=f"printer-{name}", daemon=True)
        self._connected_before = False
        self._last_status_at = 0.0
        self._status_ok = False
        self._blocked_message: str | None = None

    # -- control (any thread) ------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        """A job was queued: do not wait for the next poll to print it."""
        self._publish(pending=self.queue.pending_count())
        current = self.snapshot.current_job
        if current is not None and self.snapshot.status.status == "connected":
            self._publish(status=self._connected_status(current))  # "(n queued)" changed
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._wake.set()
        self._thread.join(timeout)
        self.transport.close()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    # -- the thread ----------------------------------------------------------------------------

    def _run(self) -> None:
        backoff = self.settings.retry_min
        while not self._stopping.is_set():
            try:
                if not self.transport.is_open:
                    self._connect()
                    backoff = self.settings.retry_min
                    continue
                if not self._step():
                    self._sleep(self._idle_wait())
                backoff = self.settings.retry_min
            except TransportError as exc:
                self.transport.close()
                self._count("transport_errors")
                self._publish(status=DeviceStatus("disconnected", (str(exc),)), printer_state=None)
                log.warning("printer %s: %s", self.name, exc)
                self._sleep(backoff)
                backoff = min(backoff * 2, self.settings.retry_max)
            except Exception:  # the worker must survive anything; the status shows the failure
                log.exception("printer %s: unexpected error in the worker", self.name)
                self._publish(status=DeviceStatus("error", ("Internal error; see the log",)))
                self._sleep(self.settings.retry_max)

    def _sleep(self, seconds: float) -> None:
        self._wake.wait(max(0.0, seconds))
        self._wake.clear()

    def _idle_wait(self) -> float:
        if not self._check_status:
            return self.settings.status_interval
        due = self._last_status_at + self.settings.status_interval
        return max(0.0, due - time.monotonic())

    def _connect(self) -> None:
        self.transport.open()
        log.info("printer %s: connected to %s", self.name, self.transport.description)
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
        data = REPRINT_INTERRUPTED + job.data if job.interrupted else job.data
        self.queue.mark_attempt(job.id)
        self._publish(current_job=job.id, status=self._connected_status(job.id))
        log.info("printer %s: printing job %d (%d bytes)", self.name, job.id, len(data))
        try:
            self.transport.write(data)
            if self._check_status:
                self._poll(self.settings.confirm_timeout)
                if self.snapshot.printer_state is None:
                    raise TransportError(
                        f"Printer at {self.transport.description} did not confirm job {job.id}"
                    )
        except TransportError as exc:
            self.queue.mark_interrupted(job.id, str(exc))
            self._count("interrupted")
            self._publish(current_job=None)
            raise
        self.queue.mark_done(job.id)
        self._count("printed")
        self._count(f"printed_{job.kind}")
        self._publish(current_job=None, pending=self.queue.pending_count())
        self._publish(status=self._connected_status(None))

    def _poll(self, timeout: float) -> None:
        """Send DLE EOT 1..4 and wait for four answers; the last four answers win, because stray
        answers (to DLE EOT patterns inside image data) may arrive first."""
        self.transport.discard_input()
        self.transport.write(_QUERY_ALL)
        answers: list[int] = []
        deadline = time.monotonic() + timeout
        while len(answers) < 4:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            # Ask for exactly what is missing: serial reads wait until `size` bytes arrive.
            chunk = self.transport.read(4 - len(answers), remaining)
            answers += [b for b in chunk if is_status_answer(b)]  # drops unsolicited ASB bytes
        # Let late stray answers arrive so that ours are the last four. A link lost now does
        # not undo the answers already read: the next operation will reconnect.
        try:
            while len(answers) >= 4 and (extra := self.transport.read(64, 0.01)):
                answers += [b for b in extra if is_status_answer(b)]
        except TransportError as exc:
            log.info("printer %s: %s (after its status answers)", self.name, exc)
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
            return
        state = decode_status(answers[-4:])
        problems = [m for m in state.messages() if m != "Paper near end"]
        self._status_ok = not problems
        self._blocked_message = problems[0] if problems else None
        if problems:
            status = DeviceStatus("error", tuple(state.messages()))
        else:
            status = self._connected_status(self.snapshot.current_job, state)
        self._publish(status=status, printer_state=state, last_poll=time.time())

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
