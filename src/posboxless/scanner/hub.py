"""The long-poll mailbox between scanner threads and ``/hw_proxy/scanner`` requests.

Reader threads ``publish`` barcodes; requests ``await next_barcode``. Everything else runs on the
event loop thread, so the state below needs no lock: a waiting request is an asyncio future, which
is why hundreds of idle polls cost no thread.

Guarantees:
* each barcode is delivered to exactly one request; the oldest waiting request gets it;
* a barcode nobody waits for is kept ``keep_for`` seconds for the next poll, then dropped;
* a request cancelled (client gone) at the very moment a barcode was handed to it puts that barcode
  back at the front of the queue, so it is not lost;
* a new poll from a client releases that client's older poll, which answers ``''``;
* a poll never holds longer than ``max_hold`` (Odoo 8-16 clients give up after 7.5 s; a request
  still parked on the server after its client gave up could swallow a barcode).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

DEFAULT_MAX_HOLD = 5.0
DEFAULT_KEEP_FOR = 5.0
DEFAULT_POLL_LINGER = 10.0
"""How long after its last long-poll a POS still counts as scanning through the proxy: Odoo
re-polls at once after an answer and 5 s after a failure, so 10 s covers both without keeping a
scanner taken for long once the POS is closed."""


@dataclass(frozen=True)
class Barcode:
    code: str
    source: str
    time: float = field(default_factory=time.time)
    """Wall-clock time of the scan, for display."""


@dataclass
class _Queued:
    barcode: Barcode
    received: float
    """Hub clock time it arrived (for expiry)."""


_RELEASED = object()
"""Result given to a poll released by a newer poll from the same client."""


class BarcodeHub:
    def __init__(
        self,
        *,
        max_hold: float = DEFAULT_MAX_HOLD,
        keep_for: float = DEFAULT_KEEP_FOR,
        max_queued: int = 100,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_hold = max_hold
        self.keep_for = keep_for
        self.max_queued = max_queued
        self._clock = clock
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_lock = threading.Lock()
        self._queue: deque[_Queued] = deque()
        self._waiters: dict[str, asyncio.Future[object]] = {}
        self.delivered = 0
        self.expired = 0
        self._last_poll: float | None = None
        """Hub clock time a long-poll last started or ended (read from reader threads: a float
        assignment is atomic)."""

    # --- any thread --------------------------------------------------------------------------

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._loop_lock:
            self._loop = loop

    def detach(self) -> None:
        with self._loop_lock:
            self._loop = None

    def publish(self, barcode: Barcode) -> bool:
        """Hands a barcode over from any thread; False when the hub is not running."""
        with self._loop_lock:
            loop = self._loop
            if loop is None or loop.is_closed():
                log.warning(
                    "barcode %r from %s dropped: server not running", barcode.code, barcode.source
                )
                return False
            try:
                loop.call_soon_threadsafe(self._arrive, barcode)
            except RuntimeError:  # loop closed between the check and the call
                return False
        return True

    def polled_within(self, seconds: float) -> bool:
        """Whether a POS is scanning through the proxy: a long-poll is waiting now, or one
        started or ended less than ``seconds`` ago (any thread)."""
        if self._waiters:
            return True
        last = self._last_poll
        return last is not None and self._clock() - last < seconds

    # --- event loop thread -------------------------------------------------------------------

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    @property
    def queued(self) -> int:
        return len(self._queue)

    def publish_now(self, barcode: Barcode) -> None:
        """``publish`` for code already running on the event loop."""
        self._arrive(barcode)

    def give_back(self, code: str, source: str = "returned") -> None:
        """Puts back, at the front of the queue, a code ``next_barcode`` returned but that could
        not be sent (the HTTP client went away in the same instant)."""
        self.delivered = max(0, self.delivered - 1)
        self._requeue_front(_Queued(Barcode(code, source), self._clock()))

    async def next_barcode(self, client: str, timeout: float) -> str:
        self._last_poll = self._clock()
        try:
            return await self._next_barcode(client, timeout)
        finally:
            self._last_poll = self._clock()

    async def _next_barcode(self, client: str, timeout: float) -> str:
        self._release(client)
        self._drop_expired()
        if self._queue:
            return self._take(self._queue.popleft())
        hold = max(0.0, min(timeout, self.max_hold))
        if hold == 0:
            return ""
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._waiters[client] = future
        try:
            await asyncio.wait((future,), timeout=hold)
        except asyncio.CancelledError:
            self._forget(client, future)
            if future.done() and not future.cancelled():
                result = future.result()
                if isinstance(result, _Queued):
                    # Handed over in the same loop turn the request was cancelled: not delivered.
                    self._requeue_front(result)
            else:
                future.cancel()
            raise
        self._forget(client, future)
        if not future.done():
            future.cancel()
            return ""
        result = future.result()
        return self._take(result) if isinstance(result, _Queued) else ""

    def _arrive(self, barcode: Barcode) -> None:
        self._queue.append(_Queued(barcode, self._clock()))
        while len(self._queue) > self.max_queued:
            lost = self._queue.popleft()
            self.expired += 1
            log.warning("barcode %r dropped: too many unread barcodes", lost.barcode.code)
        self._dispatch()

    def _dispatch(self) -> None:
        """Gives queued barcodes to waiting requests, oldest request first."""
        self._drop_expired()
        while self._queue and self._waiters:
            client = next(iter(self._waiters))
            future = self._waiters.pop(client)
            if not future.done():
                future.set_result(self._queue.popleft())

    def _requeue_front(self, item: _Queued) -> None:
        self._queue.appendleft(item)
        self._dispatch()

    def _take(self, item: _Queued) -> str:
        self.delivered += 1
        return item.barcode.code

    def _release(self, client: str) -> None:
        older = self._waiters.pop(client, None)
        if older is not None and not older.done():
            older.set_result(_RELEASED)

    def _forget(self, client: str, future: asyncio.Future[object]) -> None:
        if self._waiters.get(client) is future:
            del self._waiters[client]

    def _drop_expired(self) -> None:
        limit = self._clock() - self.keep_for
        while self._queue and self._queue[0].received < limit:
            lost = self._queue.popleft()
            self.expired += 1
            log.info(
                "barcode %r from %s expired: nobody asked for it within %g s",
                lost.barcode.code,
                lost.barcode.source,
                self.keep_for,
            )
