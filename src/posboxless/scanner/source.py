"""What the scanner service needs from one scanner's reader thread (evdev or serial)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from posboxless.device import DeviceStatus, ScannerSourceSnapshot, StatusName
from posboxless.worker import DeviceWorker

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


class ReaderThread:
    """The life cycle and published state of one reader thread, on the device worker base:
    subclasses implement ``_session`` (open the device and read it until it is gone or
    ``stopping``; True when it was opened), called again every ``retry_interval``."""

    def __init__(self, label: str, path: str, *, thread_name: str, retry_interval: float) -> None:
        self.label = label
        self._worker: DeviceWorker[None] = DeviceWorker(
            f"scanner {label}",
            self._session,
            logger=log,
            # an absent scanner is cheap to look for: the same short interval every time
            retry_min=retry_interval,
            retry_max=retry_interval,
            status=DeviceStatus("connecting", (f"Opening {path}",)),
            thread_name=thread_name,
            after_session=self._after_session,
        )

    @property
    def state(self) -> SourceState:
        status = self._worker.status
        return SourceState(status.status, status.messages[0] if status.messages else "")

    @property
    def stopping(self) -> bool:
        return self._worker.stopping

    def _set(self, status: StatusName, message: str, level: int = logging.INFO) -> None:
        self._worker.report(status, message, level)

    def start(self) -> None:
        self._worker.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._worker.stop(timeout)

    def _session(self) -> bool:
        raise NotImplementedError

    def _after_session(self) -> None:
        """Worker thread, after each session (release what it left open)."""
