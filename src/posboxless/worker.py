"""The one worker design every device service uses: a thread that owns one device.

A ``DeviceWorker`` runs a device's *sessions* in its own daemon thread: a session finds and opens
the device and serves it (polls, writes, reads) until the link fails; between sessions the worker
waits with a bounded exponential backoff (``retry_min`` doubling up to ``retry_max``, back to
``retry_min`` after a session that reached the device). What the worker knows is published, never
computed on demand: the device's ``DeviceStatus`` (frozen, replaced as a whole), read at once by
any thread.

Work for the device from other threads (a scale's zero or tare, a payment, ...) is ``submit``\\ ted
as a command: the session runs the queued commands between two of its own steps
(``run_commands``), so a command never interleaves with a poll's bytes, and its result or
exception comes back through a ``concurrent.futures.Future`` (``asyncio.wrap_future`` on the event
loop). Commands still queued when a session ends fail with ``CommandDropped``.

Logging is by *change* (``StatusLog``): a status change is one line with the device and the
reason; the same failure seen again on every retry is not logged again (at most a reminder every
``REMIND_EVERY`` seconds, so that a device off all day still shows its cause in a recent log); the
first ``connected`` after a failure says ``recovered after N s``.

Models: Home Assistant's ``DataUpdateCoordinator`` (one owner polls, readers take the published
state) and uvicorn's server life cycle (idempotent start/stop, a stop that acts at once).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

from posboxless.device import Activity, DeviceStatus, DeviceUnavailable, StatusName
from posboxless.transports.base import TransportError

T = TypeVar("T")
C = TypeVar("C")
"""What a command is given: the session's open connection (usually its transport)."""

FAILING = ("error", "disconnected")

REMIND_EVERY = 3600.0
"""Seconds between reminders that a device is still failing (one line an hour: a support person
reading the last lines of a log still finds the cause; the recovered line gives the duration)."""


class CommandDropped(DeviceUnavailable):
    """A command was never run: its session ended (the device went away) or the worker stopped."""


class Backoff:
    """Delays between connection attempts: ``minimum``, doubled on each failure up to
    ``maximum``; ``reset`` after a success."""

    def __init__(self, minimum: float, maximum: float) -> None:
        self.minimum = minimum
        self.maximum = max(minimum, maximum)
        self._next = minimum

    def next(self) -> float:
        """The delay before the next attempt (each call doubles the one after)."""
        delay = self._next
        self._next = min(delay * 2, self.maximum)
        return delay

    def reset(self) -> None:
        self._next = self.minimum

    def give_up(self) -> float:
        """After an unexpected failure (a bug, not the device): wait the longest."""
        self._next = self.maximum
        return self.maximum


def _duration(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _with_status(status: DeviceStatus, text: str) -> str:
    """``disconnected: <reason>``; a message that already says its status ("Connected: ...",
    as the scanner readers' do) is not prefixed a second time."""
    if text.lower().startswith(status.status):
        return text
    return f"{status.status}: {text}"


class StatusLog:
    """Holds a device's published status and logs its changes.

    One line per change (level: INFO for ``connected``/``connecting``, WARNING for ``error`` and
    ``disconnected``, or the caller's); the same status set again is not logged, except as a
    reminder every ``remind_every`` seconds while it is a failure; ``connected`` after a failure
    is logged as ``recovered after N s``. With ``quiet_when_connected`` a change of the messages
    alone while connected is not logged (a printer's "Printing job 12 (3 queued)" is activity,
    not a change of the device's health)."""

    def __init__(
        self,
        label: str,
        logger: logging.Logger,
        initial: DeviceStatus,
        *,
        activity: Activity | None = None,
        quiet_when_connected: bool = False,
        remind_every: float = REMIND_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.log = logger
        self.activity = activity
        self.quiet_when_connected = quiet_when_connected
        self.remind_every = remind_every
        self.clock = clock
        self._status = initial
        self._down_since: float | None = None
        self._logged_at = clock()
        self._lock = threading.Lock()

    @property
    def status(self) -> DeviceStatus:
        return self._status

    @property
    def down_since(self) -> float | None:
        """``clock()`` time since when the device has been failing (None while it is not)."""
        return self._down_since

    def set(self, status: DeviceStatus, level: int | None = None, *, quiet: bool = False) -> bool:
        """Publish ``status``; returns whether it was a change worth a line. ``quiet``: publish
        without logging (the service's own stop)."""
        line: tuple[int, str] | None = None
        with self._lock:
            old, self._status = self._status, status
            now = self.clock()
            changed = old.status != status.status or (
                old.messages != status.messages
                and not (self.quiet_when_connected and status.status == "connected")
            )
            text = "; ".join(status.messages)
            failing = status.status in FAILING
            if quiet:  # a stop is no failure: the next start is no recovery either
                changed = failing = False
                self._down_since = None
            elif changed:
                default = logging.WARNING if failing else logging.INFO
                line = (level if level is not None else default, _with_status(status, text))
                if status.status == "connected" and self._down_since is not None:
                    down = _duration(now - self._down_since)
                    line = (level or logging.INFO, f"recovered after {down}: {text}")
            elif failing and now - self._logged_at >= self.remind_every:
                since = self._down_since if self._down_since is not None else self._logged_at
                still = f"still {status.status} after {_duration(now - since)}: {text}"
                line = (level if level is not None else logging.WARNING, still)
            if failing and self._down_since is None:
                self._down_since = now
            elif status.status == "connected" and not quiet:
                self._down_since = None
            if line is not None:
                self._logged_at = now
        if changed and failing and self.activity is not None:
            self.activity.error(text)
        if line is not None:
            self.log.log(line[0], "%s: %s", self.label, line[1])
        return changed


class DeviceWorker(Generic[C]):
    """The thread that owns one device (see the module docstring).

    ``session()`` runs in the worker thread: it opens the device and serves it until the link
    fails or ``stopping`` is set, returning whether it reached the device (the backoff restarts
    from ``retry_min``); it may raise (``TransportError`` or anything else: the worker logs
    unexpected failures with their traceback, shows them in the status and waits ``retry_max``).
    ``after_session`` runs after each session, in the worker thread (drop cached readings...).
    """

    def __init__(
        self,
        label: str,
        session: Callable[[], bool],
        *,
        logger: logging.Logger,
        retry_min: float,
        retry_max: float,
        status: DeviceStatus,
        thread_name: str | None = None,
        device: str | None = None,
        after_session: Callable[[], None] | None = None,
        ends_session: tuple[type[BaseException], ...] = (TransportError,),
        wake_cuts_backoff: bool = False,
        activity: Activity | None = None,
        quiet_when_connected: bool = False,
        remind_every: float = REMIND_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        """How the device is named in log lines: ``scale front``."""
        self.device = device or label
        """How the cashier is told which device a dropped command was for: ``the scale``."""
        self.log = logger
        self.backoff = Backoff(retry_min, retry_max)
        self.status_log = StatusLog(
            label,
            logger,
            status,
            activity=activity,
            quiet_when_connected=quiet_when_connected,
            remind_every=remind_every,
            clock=clock,
        )
        self.thread_name = thread_name or label.replace(" ", "-")
        self._session = session
        self._after_session = after_session
        self._ends_session = ends_session
        """Exceptions of a command that also end the session (the link is gone)."""
        self._wake_cuts_backoff = wake_cuts_backoff
        self._stop = threading.Event()
        self._signal = threading.Condition()
        self._woken = False
        self._commands: collections.deque[tuple[Callable[[C], Any], Future[Any]]] = (
            collections.deque()
        )
        self._thread: threading.Thread | None = None
        self._on_stop: list[Callable[[], None]] = []
        self._last_session = False
        self._exited = False

    # ---- life cycle (any thread) ---------------------------------------------------------------

    def start(self) -> None:
        """Start the thread (again after a ``stop``); a no-op while it runs."""
        with self._signal:
            if self._thread is not None and self._thread.is_alive() and not self._stop.is_set():
                return
            self._stop.clear()
            self._last_session = self._exited = False
            self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> bool:
        """Ask the worker to stop, wake it at once and wait up to ``timeout`` for it (blocking:
        call it off the event loop). True when the thread has ended. Idempotent."""
        with self._signal:
            self._stop.set()
            self._signal.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        ended = thread is None or not thread.is_alive()
        if ended:
            self._drop_commands(f"{self.device} is stopped")
        for callback in self._on_stop:
            try:
                callback()
            except Exception:
                self.log.exception("%s: a clean-up after stopping failed", self.label)
        return ended

    def on_stop(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` after each ``stop`` (a factory closes its simulator so)."""
        self._on_stop.append(callback)

    async def shut_down(self, timeout: float, message: str) -> None:
        """A service's ``stop``: stop off the event loop, then show ``message`` as the status."""
        await asyncio.to_thread(self.stop, timeout)
        self.set_stopped(message)

    def wake(self) -> None:
        """There is work: end the worker's current ``wait`` now (and, with
        ``wake_cuts_backoff``, its wait before the next connection attempt)."""
        with self._signal:
            self._woken = True
            self._signal.notify_all()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def alive(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    @property
    def exited(self) -> bool:
        """The thread has run and returned (stopped, or ended after its ``last_session``)."""
        return self._exited

    # ---- the published status ---------------------------------------------------------------

    @property
    def status(self) -> DeviceStatus:
        return self.status_log.status

    def set_status(self, status: DeviceStatus, level: int | None = None) -> bool:
        """Publish the device's status (logged if it changed; see ``StatusLog``)."""
        return self.status_log.set(status, level)

    def report(self, status: StatusName, message: str, level: int | None = None) -> bool:
        """``set_status`` for the usual status of one message."""
        return self.set_status(DeviceStatus(status, (message,)), level)

    def set_stopped(self, message: str) -> None:
        """The service stopped the device: shown, not logged as a failure."""
        self.status_log.set(DeviceStatus("disconnected", (message,)), quiet=True)

    # ---- commands ----------------------------------------------------------------------------

    def submit(self, command: Callable[[C], T]) -> Future[T]:
        """Queue ``command`` for the worker, which runs it between two steps of its session with
        the session's connection; its result or exception comes back through the future."""
        future: Future[T] = Future()
        with self._signal:
            if self._stop.is_set():
                future.set_exception(CommandDropped(f"Cannot do it: {self.device} is stopped"))
                return future
            self._commands.append((command, future))
            self._signal.notify_all()
        return future

    @property
    def pending(self) -> int:
        """Commands waiting to run."""
        return len(self._commands)

    def run_commands(self, connection: C) -> int:
        """Worker thread, between two steps: run the queued commands in order; returns how many
        ran. An exception of ``ends_session`` (the link is gone) also ends the session."""
        ran = 0
        while not self._stop.is_set():
            with self._signal:
                if not self._commands:
                    break
                command, future = self._commands.popleft()
            if not future.set_running_or_notify_cancel():
                continue  # its caller gave up waiting
            ran += 1
            try:
                result = command(connection)
            except BaseException as exc:
                future.set_exception(exc)
                if isinstance(exc, self._ends_session) or not isinstance(exc, Exception):
                    raise
            else:
                future.set_result(result)
        return ran

    def _drop_commands(self, reason: str) -> None:
        while True:
            with self._signal:
                if not self._commands:
                    return
                _, future = self._commands.popleft()
            if future.set_running_or_notify_cancel():
                future.set_exception(CommandDropped(f"Cannot do it: {reason}"))

    # ---- waiting (worker thread) -------------------------------------------------------------

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` s; returns early (True) on ``wake``, a new command or stop."""
        with self._signal:
            if not (self._woken or self._commands or self._stop.is_set()):
                self._signal.wait(max(0.0, timeout))
            woken = self._woken or bool(self._commands) or self._stop.is_set()
            self._woken = False
        return woken

    def last_session(self) -> None:
        """Worker thread: end the thread after the current session (a device gone for good)."""
        self._last_session = True

    # ---- the thread --------------------------------------------------------------------------

    def _run(self) -> None:
        self.backoff.reset()
        try:
            while not self._stop.is_set():
                try:
                    reached = self._session()
                except Exception as exc:  # the worker must survive anything and keep retrying
                    self.log.exception("%s: unexpected failure", self.label)
                    self.set_status(
                        DeviceStatus("error", (f"Internal error: {exc}; see the log",)),
                        logging.ERROR,
                    )
                    delay = self.backoff.give_up()
                else:
                    if reached:
                        self.backoff.reset()
                    delay = self.backoff.next()
                self._end_session()
                if self._stop.is_set() or self._last_session:
                    break
                self._pause(delay)
        finally:
            self._drop_commands(f"{self.device} is stopped")
            self._exited = True

    def _end_session(self) -> None:
        # The service's clean-up first (it may close its door to new commands), then whatever
        # is still queued fails.
        if self._after_session is not None:
            try:
                self._after_session()
            except Exception:
                self.log.exception("%s: cleaning up after the session failed", self.label)
        self._drop_commands(f"{self.device} is not connected")

    def _pause(self, delay: float) -> None:
        if self._wake_cuts_backoff:
            self.wait(delay)
        else:
            self._stop.wait(delay)
