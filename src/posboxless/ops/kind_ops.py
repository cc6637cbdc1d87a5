"""What a device kind's operations part declares (``<kind package>/checks.py`` defines
``OPS = KindOps(...)``): doctor checks and metric families of its own, beside what every device
gets without code (``/metrics``: up, status, problem reason, every counter of its snapshot's
``activity``, ``last_ok``). ``ops/kinds.py`` finds them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from prometheus_client.registry import Collector

from posboxless.config import Config
from posboxless.device import DeviceService, DeviceSnapshot
from posboxless.ops.probe import Probe
from posboxless.ops.results import CheckResult

Devices = Callable[[], list[DeviceService]]
"""The kind's services, read at each scrape."""

S = TypeVar("S", bound=DeviceSnapshot)


def snapshots(devices: Devices, of_type: type[S]) -> Iterator[tuple[str, S]]:
    """``(name, snapshot)`` of the kind's services whose snapshot is an ``of_type``; a device
    whose snapshot cannot be read is left out (``ops/metrics.py`` logs and counts it)."""
    for device in devices():
        try:
            snapshot = device.snapshot()
        except Exception:
            continue
        if isinstance(snapshot, of_type):
            yield device.name, snapshot


@dataclass(frozen=True)
class KindOps:
    checks: Callable[[tuple[Any, ...], Config, Probe], list[CheckResult]] | None = None
    """``doctor``'s checks of its configurations, run with the device checks (not when the
    devices are simulated); a check never opens the device (``ops/device_nodes.py`` has the
    usual ones: device node access, USB presence)."""
    collector: Callable[[Devices], Collector] | None = None
    """Its own metric families, read from its services' cached state at scrape time."""
