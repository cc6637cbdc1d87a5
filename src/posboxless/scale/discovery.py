"""Finding the scale's serial port: configured path or URL, USB vendor:product, or echo probe.

Resolution runs again on every reconnection attempt, so a scale that comes back as another
``/dev/ttyACMn`` (or whose ``/dev/serial/by-id`` link re-appears) is found again.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from serial.tools import list_ports

from posboxless.scale import toledo8217
from posboxless.transports.base import TransportError
from posboxless.transports.serial_port import SerialSettings, SerialTransport

log = logging.getLogger(__name__)


class ScaleNotFound(Exception):
    """No port to open; the message is for the status page."""


@dataclass(frozen=True)
class PortInfo:
    device: str
    vid: int | None
    pid: int | None
    description: str = ""


def system_ports() -> list[PortInfo]:
    return [PortInfo(p.device, p.vid, p.pid, p.description or "") for p in list_ports.comports()]


def usb_id_text(usb: tuple[int, int]) -> str:
    return f"{usb[0]:04x}:{usb[1]:04x}"


def _same_port(path: str, claimed: Iterable[str]) -> bool:
    real = os.path.realpath(path)
    return any(path == c or real == os.path.realpath(c) for c in claimed if "://" not in c)


Prober = Callable[[str], bool]


def echo_probe(settings: SerialSettings, timeout: float = 1.0) -> Prober:
    """A prober that asks a port for Odoo's ``Ehello`` echo and ends echo mode afterwards.

    The port is opened exclusively, so a port another program (or another of our devices) holds
    is skipped instead of being written to.
    """

    def probe(device: str) -> bool:
        transport = SerialTransport(device, settings)
        try:
            transport.open()
            transport.discard_input()
            transport.write(toledo8217.PROBE_REQUEST)
            received = b""
            wanted = len(toledo8217.PROBE_ANSWER)
            # read_until stops early on the last probe byte; a second read catches stragglers
            received = transport.read_until(toledo8217.PROBE_TEXT[-1:], 64, timeout)
            if len(received) < wanted:
                received += transport.read(64, timeout / 4)
            transport.write(toledo8217.ECHO_END)
            return toledo8217.probe_matches(received)
        except TransportError as exc:
            log.debug("probing %s: %s", device, exc)
            return False
        finally:
            transport.close()

    return probe


@dataclass
class PortLocator:
    """Resolves the scale's port from the configuration (one of ``port``, ``usb``, ``probe``)."""

    port: str | None = None
    usb: tuple[int, int] | None = None
    probe: bool = False
    claimed: frozenset[str] = frozenset()
    list_ports: Callable[[], list[PortInfo]] = system_ports
    prober: Prober | None = None

    def describe(self) -> str:
        if self.port is not None:
            return self.port
        if self.usb is not None:
            return f"USB id {usb_id_text(self.usb)}"
        return "probing serial ports"

    def resolve(self) -> str:
        if self.port is not None:
            if "://" in self.port or os.path.exists(self.port):
                return self.port
            raise ScaleNotFound(
                f"Scale not found: {self.port} does not exist (is the scale plugged in and on?)"
            )
        if self.usb is not None:
            for info in self.list_ports():
                if (info.vid, info.pid) == self.usb:
                    return info.device
            raise ScaleNotFound(
                f"Scale not found: no serial port with USB id {usb_id_text(self.usb)}"
            )
        if self.probe and self.prober is not None:
            return self._probe()
        raise ScaleNotFound("Scale not found: set scale.port or scale.usb in the configuration")

    def _probe(self) -> str:
        assert self.prober is not None
        candidates = [i.device for i in self.list_ports()]
        free = [d for d in candidates if not _same_port(d, self.claimed)]
        for device in free:
            if self.prober(device):
                log.info("scale found by probing on %s", device)
                return device
        skipped = len(candidates) - len(free)
        note = f" ({skipped} port(s) of other devices skipped)" if skipped else ""
        raise ScaleNotFound(
            f"Scale not found: no Toledo 8217 scale answered on {len(free)} free serial port(s)"
            f"{note}; check that the scale is on and set to protocol option 3 (8217)"
        )
