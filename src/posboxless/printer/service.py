"""The ESC/POS printer service: what the web layer calls for one configured printer.

``submit_*`` renders in a thread (bad input -> ``InvalidInput``), commits the job to the durable
queue in a thread, wakes the worker and returns the job id: the answer to the POS is sent only
once the job is on disk. Printing, status polls and reconnection happen in the worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from posboxless.device import DeviceStatus, DeviceUnavailable, InvalidInput
from posboxless.printer.config import PrinterConfig
from posboxless.printer.profiles import PrinterProfile, get_profile
from posboxless.printer.queue import JobKind, JobQueue, QueueFull
from posboxless.printer.worker import PrinterWorker, WorkerSettings, reprint_header
from posboxless.transports.base import Transport

log = logging.getLogger(__name__)

DEFAULT_MAX_PIXELS = 4096 * 20000


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
        self.simulator: Any = None
        """The simulated printer behind this service in ``--simulate`` mode, else None."""
        self._queue: JobQueue | None = None
        self._worker: PrinterWorker | None = None
        self._started_at: float | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        if self._worker is not None:
            return
        self._queue = await asyncio.to_thread(
            JobQueue, self.queue_path, max_queued=self.config.max_queued
        )
        if self._queue.recovered:
            log.warning(
                "printer %s: jobs %s were cut off by a crash; they will be printed again",
                self.name,
                self._queue.recovered,
            )
        on_first = self._queue_startup_ticket if self.config.startup_ticket else None
        self._worker = PrinterWorker(
            self.name, self.transport, self._queue, self.settings, on_first_connection=on_first
        )
        self._worker.start()
        self._started_at = time.time()

    async def stop(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            await asyncio.to_thread(worker.stop)
        queue, self._queue = self._queue, None
        if queue is not None:
            await asyncio.to_thread(queue.close)
        if self._on_stop is not None:
            await asyncio.to_thread(self._on_stop)

    # -- printing ------------------------------------------------------------------------------

    async def submit_xml_receipt(self, xml: str) -> str:
        from posboxless.printer.escpos import render_xml_receipt

        self._check_accepting()
        if not isinstance(xml, str) or not xml.strip():
            raise self._invalid("The receipt is empty")
        job = await self._render(render_xml_receipt, xml, self.profile)
        return await self._enqueue("xml", job.data)

    async def submit_image_receipt(self, image_base64: str) -> str:
        from posboxless.printer.escpos import render_image_receipt

        self._check_accepting()
        if not isinstance(image_base64, str) or not image_base64.strip():
            raise self._invalid("The receipt image is empty")
        job = await self._render(
            lambda b64, p: render_image_receipt(b64, p, max_pixels=DEFAULT_MAX_PIXELS),
            image_base64,
            self.profile,
        )
        return await self._enqueue("image", job.data)

    async def submit_drawer_kick(self) -> str:
        from posboxless.printer.escpos import render_drawer_kick

        self._check_accepting()
        job = await asyncio.to_thread(render_drawer_kick, self.profile)
        return await self._enqueue("drawer", job.data)

    async def test_print(self) -> str:
        from posboxless.printer.escpos import render_text_ticket

        self._check_accepting()
        lines = [
            f"Printer: {self.name}",
            f"Connection: {self.transport.description}",
            f"Profile: {self.profile.name} ({self.profile.width_dots} dots)",
            f"Time: {time.strftime('%Y-%m-%d %H:%M:%S')}",
            "Accents: àâçéèêëîïôœùûüÿ ÀÇÉÈŒ  Euro: €",
        ]
        job = await self._render(
            lambda ls, p: render_text_ticket(ls, p, title="Test page"), lines, self.profile
        )
        return await self._enqueue("text", job.data)

    async def reprint(self, job_id: str | int) -> str:
        """Queue the bytes of an earlier job again, under a "REPRINT of job N" header."""
        queue = self._require_queue()
        try:
            number = int(job_id)
        except (TypeError, ValueError):
            raise self._invalid(f"No print job {job_id!r}") from None
        original = await asyncio.to_thread(queue.get, number)
        if original is None:
            raise self._invalid(f"No print job {number} in the journal of printer '{self.name}'")
        if original.kind == "drawer":
            raise self._invalid("A cash-drawer kick cannot be reprinted")
        self._check_accepting()
        data = reprint_header(number) + original.data
        return await self._enqueue(original.kind, data, reprint_of=number)

    def journal(self, limit: int = 50) -> list[dict[str, Any]]:
        """Recent jobs, newest first: ``id, kind, size, created, state, attempts, interrupted,
        started, finished, error, reprint_of, note`` (times are Unix timestamps)."""
        return self._require_queue().journal(limit)

    # -- state ---------------------------------------------------------------------------------

    def status(self) -> DeviceStatus:
        worker = self._worker
        if worker is None:
            return DeviceStatus("disconnected", (f"Printer '{self.name}' is not started",))
        return worker.snapshot.status

    def details(self) -> dict[str, Any]:
        worker = self._worker
        snapshot = worker.snapshot if worker is not None else None
        state = snapshot.printer_state if snapshot is not None else None
        return {
            "name": self.name,
            "connection": self.transport.description,
            "profile": self.profile.name,
            "width_dots": self.profile.width_dots,
            "offline_policy": self.config.offline,
            "max_queued": self.config.max_queued,
            "queue_file": str(self.queue_path),
            "status": self.status().as_json(),
            "printer_state": None if state is None else state.__dict__,
            "current_job": snapshot.current_job if snapshot else None,
            "pending_jobs": snapshot.pending if snapshot else 0,
            "connected_since": snapshot.connected_since if snapshot else None,
            "last_status_poll": snapshot.last_poll if snapshot else None,
            "counters": dict(snapshot.counters) if snapshot else {},
            "started_at": self._started_at,
        }

    # -- helpers -------------------------------------------------------------------------------

    def _require_queue(self) -> JobQueue:
        if self._queue is None:
            raise DeviceUnavailable(f"Printer '{self.name}' is not started")
        return self._queue

    def _check_accepting(self) -> None:
        self._require_queue()
        if self.config.offline != "refuse":
            return
        status = self.status()
        if status.status in ("disconnected", "error"):
            reason = "; ".join(status.messages) or status.status
            log.warning("printer %s refused a job (offline policy 'refuse'): %s", self.name, reason)
            raise DeviceUnavailable(f"Printer '{self.name}' is not ready: {reason}")

    def _invalid(self, message: str) -> InvalidInput:
        log.warning("printer %s: rejected a job: %s", self.name, message)
        return InvalidInput(message)

    async def _render(self, render: Callable[[Any, PrinterProfile], Any], *args: Any) -> Any:
        try:
            return await asyncio.to_thread(render, *args)
        except InvalidInput as exc:
            log.warning("printer %s: rejected a job: %s", self.name, exc)
            raise
        except (ValueError, TypeError, LookupError, OSError) as exc:
            raise self._invalid(f"The receipt cannot be printed: {exc}") from exc

    async def _enqueue(self, kind: JobKind, data: bytes, *, reprint_of: int | None = None) -> str:
        queue = self._require_queue()
        try:
            job_id = await asyncio.to_thread(queue.enqueue, kind, data, reprint_of=reprint_of)
        except QueueFull as exc:
            log.warning("printer %s refused a job: queue full (%s)", self.name, exc)
            raise DeviceUnavailable(
                f"The queue of printer '{self.name}' is full ({self.config.max_queued} jobs "
                "waiting); check the printer"
            ) from exc
        if self._worker is not None:
            self._worker.wake()
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
            self._queue.enqueue("text", job.data, note="start-up ticket")
        except (QueueFull, ValueError) as exc:
            log.warning("printer %s: no start-up ticket: %s", self.name, exc)
