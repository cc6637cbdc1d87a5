"""The blocking byte-pipe interface every transport implements.

Transports are used only from a device service's worker thread, never from the event loop. Every
operation is bounded in time: ``write`` raises ``TransportError`` instead of blocking forever, and
``read`` returns what arrived before its timeout (possibly ``b""``).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


class TransportError(OSError):
    """The device is unreachable, went away, or did not accept data in time."""


@runtime_checkable
class Transport(Protocol):
    @property
    def description(self) -> str:
        """Where the device is, for messages: ``/dev/ttyUSB0``, ``192.168.1.50:9100``..."""
        ...

    @property
    def is_open(self) -> bool: ...

    def open(self) -> None:
        """Open the device; raises ``TransportError`` with a plain message when it cannot."""
        ...

    def close(self) -> None:
        """Release the device; never raises."""
        ...

    def write(self, data: bytes) -> None:
        """Write every byte or raise ``TransportError``."""
        ...

    def read(self, size: int, timeout: float) -> bytes:
        """Return up to ``size`` bytes, waiting at most ``timeout`` seconds; ``b""`` if none."""
        ...

    def discard_input(self) -> None:
        """Drop bytes already received (stale answers, unsolicited status frames)."""
        ...
