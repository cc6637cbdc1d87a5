"""The ESC/POS printer service: what the front-ends call for one configured printer.

``submit_*`` renders in a thread (bad input -> ``InvalidInput``) and hands the bytes to
``submit_job``, which commits the job to the durable queue in a thread, wakes the worker and
returns the job id. ``wait_job`` then waits (on the queue's change notifications, never polling)
until the worker has printed the job and the printer confirmed it, or until a bounded time has
passed; a job that has not started by then is withdrawn, so that a POS told "failed" never sees it
print later. Printing, status polls and reconnection happen in the worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import socket
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from types import MappingProxyType
from typing import Any

from posboxless.device import (
    ActivitySnapshot,
    DeviceStatus,
    DeviceUnavailable,
    DisplayPortState,
    InvalidInput,
    JobKind,
    JobOutcome,
    JobReason,
    JobSource,
    JobState,
    PrinterSimulatorControl,
    PrinterSnapshot,
)
from posboxless.printer.config import PrinterConfig
from posboxless.printer.display_port import DEFAULT_BAUDRATE, DisplayChannel
from posboxless.printer.escpos.errors import UnprintableInput
from posboxless.printer.profiles import PrinterProfile, get_profile
from posboxless.printer.queue import Job, JobQueue, QueueFull
from posboxless.printer.worker import PrinterWorker, WorkerSettings, reprint_header
from posboxless.transports.base import Transport

log = logging.getLogger(__name__)

DEFAULT_MAX_PIXELS = 4096 * 20000
RETRY_WINDOW = 300.0
"""Seconds during which a resent job identical to one answered "not confirmed yet" is taken as a
retry of it (it joins that job instead of printing a second copy)."""
_IMAGE_RENDERING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="image-render")
"""Image receipts are rendered one at a time (decoding is where the memory goes; see
``image_loading``) and wait for their turn here, not in the default executor that the queue and
the other devices use."""


class EscPosPrinterService:
    """Implements ``posboxless.device.PrinterService`` for one ESC/POS printer."""

    kind = "printer"

    def __init__(
        self,
        config: PrinterConfig,
        transport: Transport,
        data_dir: Path,
        *,
        addresses: Sequence[str] = (),
        settings: WorkerSettings | None = None,
        on_stop: Callable[[], None] | None = None,
    ) -> None:
        self.name = config.name
        self.config = config
        self.transport = transport
        self.profile: PrinterProfile = get_profile(config.profile, config.profile_overrides)
        self.queue_path = data_dir / "printers" / f"{config.name}.sqlite3"
        self.addresses = tuple(addresses)
        """URLs/addresses of this proxy, printed on the start-up ticket (set by the wiring)."""
        self.settings = settings or WorkerSettings(
            status_interval=config.status_interval,
            status_timeout=config.status_timeout,
            receipt_max_age=config.receipt_max_age,
            drawer_max_age=config.drawer_max_age,
            status_queries=config.status_queries,
        )
        self._on_stop = on_stop
        self.simulator: PrinterSimulatorControl | None = None
        """The simulated printer behind this service in ``--simulate`` mode, else None."""
        self._queue: JobQueue | None = None
        self._worker: PrinterWorker | None = None
        self._started_at: float | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiters: dict[int, set[asyncio.Event]] = {}
        self._unconfirmed: dict[tuple[str, bytes], tuple[int, float]] = {}
        """(kind, digest) -> (job id, when) of jobs answered "printing, not confirmed yet"."""
        self._counts: dict[str, int] = {}
        """Outcomes decided here, not in the worker (``withdrawn``, ``unconfirmed_answers``)."""
        self._display = DisplayChannel()
        """The customer display on this printer's display port, if one is attached."""

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        if self._worker is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._queue = await asyncio.to_thread(
            JobQueue, self.queue_path, max_queued=self.config.max_queued
        )
        self._queue.add_listener(self._job_changed)
        if self._queue.recovered:
            log.warning(
                "printer %s: jobs %s were cut off by a crash; they will be printed again",
                self.name,
                self._queue.recovered,
            )
        on_first = self._queue_startup_ticket if self.config.startup_ticket else None
        self._worker = PrinterWorker(
            self.name,
            self.transport,
            self._queue,
            self.settings,
            on_first_connection=on_first,
            realtime_switch=self.profile.realtime_switch,
            display=self._display,
        )
        self._worker.start()
        self._started_at = time.time()

    async def stop(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            await asyncio.to_thread(worker.stop)
        queue, self._queue = self._queue, None
        if queue is not None:
            queue.remove_listener(self._job_changed)
            await asyncio.to_thread(queue.close)
        for events in self._waiters.values():  # waits end at once and report what they see
            for event in events:
                event.set()
        if self._on_stop is not None:
            await asyncio.to_thread(self._on_stop)

    # -- printing ------------------------------------------------------------------------------

    async def submit_job(
        self,
        kind: JobKind,
        data: bytes,
        *,
        source: JobSource = "hw_proxy",
        note: str | None = None,
    ) -> str:
        """Queue already-rendered ESC/POS bytes; returns the job id once it is on disk.

        A job identical to one recently answered "printing, not confirmed yet" is that job's
        retry: its id is returned and nothing new is queued, so a retry never prints twice."""
        self._check_accepting()
        kind = JobKind(kind)
        if not isinstance(data, bytes | bytearray) or not data:
            raise self._invalid("The print job is empty")
        retried = self._retry_of(kind, bytes(data))
        if retried is not None:
            log.info(
                "printer %s: job %d sent again while unconfirmed; not queued twice",
                self.name,
                retried,
            )
            return str(retried)
        return await self._enqueue(kind, bytes(data), source=source, note=note)

    async def submit_xml_receipt(self, xml: str, *, source: JobSource = "hw_proxy") -> str:
        from posboxless.printer.escpos import render_xml_receipt

        self._check_accepting()
        if not isinstance(xml, str) or not xml.strip():
            raise self._invalid("The receipt is empty")
        job = await self._render(render_xml_receipt, xml, self.profile)
        return await self.submit_job(
            JobKind.XML, job.data, source=source, note=self._warnings(job.warnings)
        )

    async def submit_image_receipt(
        self, image_base64: str, *, source: JobSource = "hw_proxy"
    ) -> str:
        from posboxless.printer.escpos import render_image_receipt

        self._check_accepting()
        if not isinstance(image_base64, str) or not image_base64.strip():
            raise self._invalid("The receipt image is empty")
        job = await self._render(
            lambda b64, p: render_image_receipt(b64, p, max_pixels=DEFAULT_MAX_PIXELS),
            image_base64,
            self.profile,
            executor=_IMAGE_RENDERING,
        )
        return await self.submit_job(
            JobKind.IMAGE, job.data, source=source, note=self._warnings(job.warnings)
        )

    async def submit_drawer_kick(self, *, source: JobSource = "hw_proxy") -> str:
        from posboxless.printer.escpos import render_drawer_kick

        self._check_accepting()
        job = await asyncio.to_thread(render_drawer_kick, self.profile)
        return await self.submit_job(JobKind.DRAWER, job.data, source=source)

    async def test_print(self, notes: Sequence[str] = ()) -> str:
        """``notes``: extra lines (the proxy's state, from the web layer)."""
        from posboxless.printer.escpos import render_text_ticket

        self._check_accepting()
        lines = [
            f"Printer: {self.name}",
            f"Connection: {self.transport.description}",
            f"Profile: {self.profile.name} ({self.profile.width_dots} dots)",
            f"Time: {time.strftime('%Y-%m-%d %H:%M:%S')}",
            "Accents: àâçéèêëîïôœùûüÿ ÀÇÉÈŒ  Euro: €",
            *notes,
        ]
        job = await self._render(
            lambda ls, p: render_text_ticket(ls, p, title="Test page"), lines, self.profile
        )
        extra = self._warnings(job.warnings)
        note = f"test page; {extra}" if extra else "test page"
        return await self.submit_job(JobKind.TEXT, job.data, source="page", note=note)

    async def reprint(self, job_id: str | int) -> str:
        """Queue the bytes of an earlier job again, under a "REPRINT of job N" header.

        A job that has not printed yet is going to print: asking again returns its id (or that of
        its reprint still waiting) instead of queueing a second copy, so the journal shows one
        line per physical copy."""
        queue = self._require_queue()
        try:
            number = int(job_id)
        except (TypeError, ValueError):
            raise self._invalid(f"No print job {job_id!r}") from None
        original = await asyncio.to_thread(queue.get, number)
        if original is None:
            raise self._invalid(f"No print job {number} in the journal of printer '{self.name}'")
        if original.kind is JobKind.DRAWER:
            raise self._invalid("A cash-drawer kick cannot be reprinted")
        if original.state in (JobState.QUEUED, JobState.PRINTING):
            log.info("printer %s: job %d is still waiting; not reprinted twice", self.name, number)
            return str(number)
        waiting = await asyncio.to_thread(queue.pending_reprint_of, number)
        if waiting is not None:
            return str(waiting)
        self._check_accepting()
        data = reprint_header(number) + original.data
        reprint = await self._enqueue(original.kind, data, reprint_of=number, source="page")
        self._counts["reprints"] = self._counts.get("reprints", 0) + 1
        return reprint

    async def wait_job(
        self, job_id: str, timeout: float | None = None, *, withdraw: bool | None = None
    ) -> JobOutcome:
        """See ``PrinterService.wait_job``. A cancelled wait (its caller left, so nobody can be
        told any more) ends as a time-out does: a job not started is withdrawn (unless
        ``withdraw`` is False), a job partly sent is remembered for its resend to join."""
        queue = self._require_queue()
        try:
            number = int(job_id)
        except (TypeError, ValueError):
            raise self._invalid(f"No print job {job_id!r}") from None
        asked_timeout, asked_withdraw = timeout, withdraw
        loop = asyncio.get_running_loop()
        changed = asyncio.Event()
        self._waiters.setdefault(number, set()).add(changed)
        try:
            # Inside the try: a caller that leaves during this first read must still have its
            # job withdrawn (under load the read can take longer than the POS waits).
            job = await asyncio.to_thread(queue.get, number)
            if job is None:
                raise self._invalid(
                    f"No print job {number} in the journal of printer '{self.name}'"
                )
            withdraw, drawer, timeout = self._wait_policy(job, asked_timeout, asked_withdraw)
            deadline = loop.time() + max(0.0, timeout)
            while self._queue is queue:  # (stop() ends the waits)
                changed.clear()  # before reading: a change after the read sets it again
                job = await asyncio.to_thread(queue.get, number)
                if job is None or job.state.final:
                    break
                if not withdraw and not self._ready():
                    break  # "keep and print later" with the printer off: say "queued" now
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), remaining)
        except asyncio.CancelledError:
            if self._queue is queue:
                await asyncio.shield(
                    self._conclude_abandoned(queue, number, asked_timeout, asked_withdraw)
                )
            raise
        finally:
            waiters = self._waiters.get(number)
            if waiters is not None:
                waiters.discard(changed)
                if not waiters:
                    del self._waiters[number]
        if self._queue is not queue:
            raise DeviceUnavailable(f"Printer '{self.name}' was stopped", reason="offline")
        return await self._conclude(queue, number, withdraw, drawer, timeout)

    def _wait_policy(
        self, job: Job, timeout: float | None, withdraw: bool | None
    ) -> tuple[bool, bool, float]:
        """``(withdraw, drawer, timeout)`` for waiting on ``job``."""
        drawer = job.kind is JobKind.DRAWER
        if timeout is None:
            timeout = self.config.answer_timeout
        if drawer:  # a kick is never performed late, whatever the policy
            timeout = min(timeout, self.settings.drawer_max_age)
        if withdraw is None:
            withdraw = drawer or self.config.offline != "queue"
        return withdraw, drawer, timeout

    async def _conclude_abandoned(
        self, queue: JobQueue, number: int, timeout: float | None, withdraw: bool | None
    ) -> None:
        """The waiting caller left (at any point of the wait): conclude as a time-out does."""
        job = await asyncio.to_thread(queue.get, number)
        if job is not None:
            await self._conclude(queue, number, *self._wait_policy(job, timeout, withdraw))

    async def _conclude(
        self, queue: JobQueue, number: int, withdraw: bool, drawer: bool, timeout: float
    ) -> JobOutcome:
        """The wait is over: withdraw the job if it has not started (and may be), then say where
        it stands."""
        job = await asyncio.to_thread(queue.get, number)
        if job is not None and job.state is JobState.QUEUED and withdraw and job.attempts == 0:
            reason, problem = self._blocked_reason(timeout)
            if await asyncio.to_thread(queue.withdraw, number, f"withdrawn: {problem}"):
                what = "cash drawer was not opened" if drawer else "receipt was not printed"
                log.warning("printer %s: job %d withdrawn (%s)", self.name, number, problem)
                self._counts["withdrawn"] = self._counts.get("withdrawn", 0) + 1
                return self._outcome(
                    number,
                    JobState.WITHDRAWN,
                    f"{problem}: the {what} and will not be later. Check the printer, then "
                    "try again.",
                    reason,
                )
            job = await asyncio.to_thread(queue.get, number)  # it started meanwhile
        return self._final_outcome(number, job, drawer)

    def _final_outcome(self, number: int, job: Job | None, drawer: bool) -> JobOutcome:
        if job is None:  # pruned from the journal: it was final long ago
            return self._outcome(number, JobState.EXPIRED, "Unknown job", "expired")
        what = "cash drawer" if drawer else "receipt"
        if job.state is JobState.PRINTED:
            self._unconfirmed.pop((job.kind.value, _digest(job.data)), None)
            return self._outcome(number, job.state, "Cash drawer opened" if drawer else "Printed")
        if job.state is JobState.WITHDRAWN:
            return self._outcome(number, job.state, job.error or "Withdrawn", "withdrawn")
        if job.state is JobState.EXPIRED:
            message = f"The {what} was not printed ({job.error or 'expired'})"
            return self._outcome(number, job.state, message, "expired")
        if job.attempts > 0:
            # Partly sent: it will be finished (or printed again, flagged) by the worker. A resend
            # of the same bytes joins it (see submit_job) instead of printing a second copy.
            self._remember_unconfirmed(job)
            self._counts["unconfirmed_answers"] = self._counts.get("unconfirmed_answers", 0) + 1
            reason, problem = self._blocked_reason(None)
            return self._outcome(
                number,
                JobState.PRINTING,
                f"The {what} is being printed but the printer has not confirmed it yet "
                f"({problem}); it will be finished and will not be printed twice.",
                reason if not self._ready() else None,
            )
        reason, problem = self._blocked_reason(None)
        return self._outcome(
            number,
            JobState.QUEUED,
            f"Queued: printer '{self.name}' will print the {what} when it can ({problem}).",
            reason if not self._ready() else None,
        )

    def _outcome(
        self, number: int, state: JobState, message: str, reason: JobReason | None = None
    ) -> JobOutcome:
        worker = self._worker
        printer_state = worker.snapshot.printer_state if worker is not None else None
        return JobOutcome(str(number), state, message, reason, printer_state)

    def _ready(self) -> bool:
        return self.status().status == "connected"

    def _blocked_reason(self, timeout: float | None) -> tuple[JobReason, str]:
        """Why jobs are not printing now, from the worker's cached state."""
        worker = self._worker
        snapshot = worker.snapshot if worker is not None else None
        if snapshot is None or snapshot.status.status in ("disconnected", "connecting"):
            detail = "; ".join(snapshot.status.messages) if snapshot else "not started"
            return "offline", f"Printer '{self.name}' is not connected ({detail})"
        state = snapshot.printer_state
        if state is None:
            if snapshot.status.status == "error":
                return "not_answering", f"Printer '{self.name}' is not answering"
        elif state.paper_out:
            return "paper_out", f"Printer '{self.name}': paper out"
        elif state.cover_open:
            return "cover_open", f"Printer '{self.name}': cover open"
        elif state.messages() and state.messages() != ["Paper near end"]:
            return "offline", f"Printer '{self.name}': {state.messages()[0]}"
        # The printer is fine but had not reached the job (a long queue, a slow printer).
        if timeout is None:
            return "withdrawn", f"printer '{self.name}' is busy"
        return "withdrawn", f"Printer '{self.name}' did not reach it within {timeout:g} s"

    def _job_changed(self, job_id: int, state: JobState) -> None:
        """Queue listener (any thread): wake the waits on this job, on the service's loop."""
        loop = self._loop
        if loop is None or job_id not in self._waiters:
            return
        with contextlib.suppress(RuntimeError):  # the loop is closing: nobody waits any more
            loop.call_soon_threadsafe(self._wake_waiters, job_id)

    def _wake_waiters(self, job_id: int) -> None:
        for event in self._waiters.get(job_id, ()):
            event.set()

    def _remember_unconfirmed(self, job: Job) -> None:
        now = time.monotonic()
        for key, (_, when) in list(self._unconfirmed.items()):
            if now - when > RETRY_WINDOW:
                del self._unconfirmed[key]
        self._unconfirmed[(job.kind.value, _digest(job.data))] = (job.id, now)

    def _retry_of(self, kind: JobKind, data: bytes) -> int | None:
        if not self._unconfirmed:
            return None
        entry = self._unconfirmed.get((kind.value, _digest(data)))
        if entry is None or time.monotonic() - entry[1] > RETRY_WINDOW:
            return None
        return entry[0]

    def journal(self, limit: int = 50) -> list[dict[str, Any]]:
        """Recent jobs, newest first: ``id, kind, size, created, state, attempts, interrupted,
        started, finished, error, reprint_of, note, source`` (times are Unix timestamps; states
        are ``JobState`` values, sources ``JobSource`` values or None for older jobs). Reads a
        WAL snapshot: never waits for the worker's commits."""
        return self._require_queue().journal(limit)

    # -- the display port ----------------------------------------------------------------------

    def show_on_display(self, frame: bytes, baudrate: int = DEFAULT_BAUDRATE) -> int:
        """See ``PrinterDisplayPort``: the worker writes the newest frame between jobs, paced
        to the display's line; it is woken only when its wait does not already cover it."""
        number, wake = self._display.submit(frame, baudrate)
        worker = self._worker
        if wake and worker is not None:
            worker.wake_for_display()
        return number

    def display_port(self) -> DisplayPortState:
        worker = self._worker
        cached = worker.snapshot if worker is not None else None
        status = self.status()
        # Frames go out between jobs while the link is up and the printer answers (paper out
        # included: it still passes data on), not while it holds a job or is silent.
        writable = cached is not None and (
            status.status == "connected"
            or (
                status.status == "error"
                and cached.printer_state is not None
                and cached.current_job is None
            )
        )
        return DisplayPortState(
            printer=self.name,
            connection=self.transport.description,
            printer_status=status,
            wanted=self._display.wanted,
            written=self._display.written,
            writable=writable,
            collapsed=self._display.collapsed,
            writes=self._display.writes,
        )

    # -- state ---------------------------------------------------------------------------------

    def status(self) -> DeviceStatus:
        worker = self._worker
        if worker is None:
            return DeviceStatus("disconnected", (f"Printer '{self.name}' is not started",))
        return worker.snapshot.status

    def snapshot(self) -> PrinterSnapshot:
        worker = self._worker
        cached = worker.snapshot if worker is not None else None
        return PrinterSnapshot(
            name=self.name,
            connection=self.transport.description,
            profile=self.profile.name,
            status=self.status(),
            pending_jobs=cached.pending if cached else 0,
            current_job=cached.current_job if cached else None,
            activity=ActivitySnapshot(
                # A status answer is the printer working: it is asked between jobs and after each.
                last_ok=cached.last_poll if cached else None,
                counters=MappingProxyType({**(cached.counters if cached else {}), **self._counts}),
            ),
            printer_state=cached.printer_state if cached else None,
            last_printed=self._last_printed(),
            oldest_pending_created=self._oldest_pending(),
        )

    def details(self) -> dict[str, Any]:
        worker = self._worker
        cached = worker.snapshot if worker is not None else None
        snapshot = self.snapshot()
        state = snapshot.printer_state
        return {
            "name": self.name,
            "connection": snapshot.connection,
            "profile": snapshot.profile,
            "width_dots": self.profile.width_dots,
            "offline_policy": self.config.offline,
            "answer_timeout": self.config.answer_timeout,
            "max_queued": self.config.max_queued,
            "queue_file": str(self.queue_path),
            "status": snapshot.status.as_json(),
            "printer_state": None if state is None else state.__dict__,
            "current_job": snapshot.current_job,
            "pending_jobs": snapshot.pending_jobs,
            "connected_since": cached.connected_since if cached else None,
            "last_status_poll": cached.last_poll if cached else None,
            "last_ok": snapshot.activity.last_ok,
            "counters": dict(snapshot.activity.counters),
            "started_at": self._started_at,
            "last_printed": snapshot.last_printed,
            "oldest_pending_created": snapshot.oldest_pending_created,
        }

    # -- helpers -------------------------------------------------------------------------------

    def _last_printed(self) -> float | None:
        worker = self._worker
        return worker.snapshot.last_printed if worker is not None else None

    def _oldest_pending(self) -> float | None:
        queue = self._queue
        if queue is None:
            return None
        try:  # the read connection (WAL): never waits behind the worker's commits
            return queue.oldest_pending_created()
        except sqlite3.Error:
            log.exception("printer %s: reading the queue failed", self.name)
            return None

    def _require_queue(self) -> JobQueue:
        if self._queue is None:
            raise DeviceUnavailable(f"Printer '{self.name}' is not started", reason="offline")
        return self._queue

    def _check_accepting(self) -> None:
        self._require_queue()
        if self.config.offline != "refuse":
            return
        status = self.status()
        if status.status in ("disconnected", "error"):
            reason = "; ".join(status.messages) or status.status
            log.warning("printer %s refused a job (offline policy 'refuse'): %s", self.name, reason)
            raise DeviceUnavailable(
                f"Printer '{self.name}' is not ready: {reason}",
                reason=self._blocked_reason(None)[0],
            )

    def _warnings(self, warnings: Sequence[str]) -> str | None:
        """What printed differently from what was asked: logged with the printer's name and
        kept in the journal's ``note``."""
        if not warnings:
            return None
        text = "; ".join(warnings)
        log.warning("printer %s: %s", self.name, text)
        return text if len(text) <= 500 else text[:499] + "…"

    def _invalid(self, message: str) -> InvalidInput:
        log.warning("printer %s: rejected a job: %s", self.name, message)
        return InvalidInput(message, reason="invalid")

    async def _render(
        self,
        render: Callable[[Any, PrinterProfile], Any],
        *args: Any,
        executor: Executor | None = None,
    ) -> Any:
        try:
            if executor is not None:
                loop = asyncio.get_running_loop()
                return await loop.run_in_executor(executor, partial(render, *args))
            return await asyncio.to_thread(render, *args)
        except UnprintableInput as exc:
            raise self._invalid(str(exc)) from None
        except InvalidInput as exc:
            log.warning("printer %s: rejected a job: %s", self.name, exc)
            exc.reason = exc.reason or "invalid"
            raise
        except (ValueError, TypeError, LookupError, OSError) as exc:
            raise self._invalid(f"The receipt cannot be printed: {exc}") from exc

    async def _enqueue(
        self,
        kind: JobKind,
        data: bytes,
        *,
        reprint_of: int | None = None,
        source: JobSource | None = None,
        note: str | None = None,
    ) -> str:
        queue = self._require_queue()
        try:
            job_id = await asyncio.to_thread(
                queue.enqueue, kind, data, reprint_of=reprint_of, source=source, note=note
            )
        except QueueFull as exc:
            log.warning("printer %s refused a job: queue full (%s)", self.name, exc)
            raise DeviceUnavailable(
                f"The queue of printer '{self.name}' is full ({self.config.max_queued} jobs "
                "waiting); check the printer",
                reason="queue_full",
            ) from exc
        worker = self._worker
        if worker is not None:
            # wake() counts the queue (SQLite): off the event loop. It also cuts the worker's
            # reconnect back-off short, so a printer just switched on takes the job at once.
            await asyncio.to_thread(worker.wake)
        return str(job_id)

    def _queue_startup_ticket(self) -> None:
        """Called by the worker on the first connection after start."""
        from posboxless.printer.escpos import render_text_ticket

        lines = [f"Host: {socket.gethostname()}"]
        lines += [f"Address: {a}" for a in self.addresses] or ["Address: (not known)"]
        lines += [f"Printer: {self.name} on {self.transport.description}"]
        lines += [f"Started: {time.strftime('%Y-%m-%d %H:%M:%S')}"]
        try:
            job = render_text_ticket(lines, self.profile, title="posboxless")
            assert self._queue is not None
            extra = self._warnings(job.warnings)
            note = f"start-up ticket; {extra}" if extra else "start-up ticket"
            self._queue.enqueue(JobKind.TEXT, job.data, note=note, source="posboxless")
        except (QueueFull, ValueError) as exc:
            log.warning("printer %s: no start-up ticket: %s", self.name, exc)


def _digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()
