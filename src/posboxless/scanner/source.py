"""What the scanner service needs from one scanner's reader thread (evdev or serial)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from posboxless.device import ScannerSourceSnapshot, StatusName

log = logging.getLogger("posboxless.scanner")

OnBarcode = Callable[[str, str], None]
"""Called from the reader thread with ``(code, source label)``."""


@dataclass(frozen=True)
class SourceState:
    status: StatusName
    message: str


class ScannerSource(Protocol):
    label: str
    path: str

    @property
    def state(self) -> SourceState: ...

    @property
    def finished(self) -> bool:
        """The reader ended for good (a hot-plugged device went away); the owner forgets it."""
        ...

    def start(self) -> None: ...

    def stop(self, timeout: float = 2.0) -> None:
        """Stops the reader thread and releases the device (blocking; call off the loop)."""
        ...

    def snapshot(self) -> ScannerSourceSnapshot:
        """Cached, typed: status, grab mode, barcodes read, and all of ``details()``."""
        ...

    def details(self) -> dict[str, Any]: ...


class StateBox:
    """A state written by the reader thread and read by ``status()`` on any thread."""

    def __init__(self, initial: SourceState) -> None:
        self._lock = threading.Lock()
        self._state = initial

    def get(self) -> SourceState:
        with self._lock:
            return self._state

    def set(self, state: SourceState) -> bool:
        """Returns True when the state changed (worth a log line)."""
        with self._lock:
            changed = state != self._state
            self._state = state
        return changed


class ReaderThread:
    """The life cycle and published state of one reader thread; subclasses implement ``_run``,
    which must return soon after ``_stop`` is set."""

    thread_name = "scanner"

    def __init__(self, label: str, path: str) -> None:
        self.label = label
        self._state = StateBox(SourceState("connecting", f"Opening {path}"))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def state(self) -> SourceState:
        return self._state.get()

    def _set(self, status: StatusName, message: str, level: int = logging.INFO) -> None:
        if self._state.set(SourceState(status, message)):
            log.log(level, "scanner %s: %s", self.label, message)

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _run(self) -> None:
        raise NotImplementedError
