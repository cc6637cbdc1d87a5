"""The operations parts of the registered device kinds (``<kind package>.checks``, each ``OPS``,
a ``posboxless.ops.kind_ops.KindOps``)."""

from __future__ import annotations

from prometheus_client.registry import Collector

from posboxless import kinds
from posboxless.config import Config
from posboxless.kind import OPS_PART, DeviceKind, find_part
from posboxless.ops.kind_ops import Devices, KindOps
from posboxless.ops.probe import Probe
from posboxless.ops.results import CheckResult


def ops_part(kind: DeviceKind) -> KindOps | None:
    """The kind's ``OPS`` from ``<package>.checks``, or None when it has no such module."""
    return find_part(kind, OPS_PART, "OPS", KindOps)


def kind_checks(config: Config, probe: Probe) -> list[CheckResult]:
    """Every kind's own doctor checks."""
    results: list[CheckResult] = []
    for kind in kinds.installed():
        part = ops_part(kind)
        if part is not None and part.checks is not None:
            results += part.checks(config.configs_of(kind), config, probe)
    return results


def kind_collectors(all_devices: Devices) -> list[Collector]:
    """Every kind's own metric collector, each reading its kind's devices of ``all_devices``."""
    collectors = []
    for kind in kinds.installed():
        part = ops_part(kind)
        if part is not None and part.collector is not None:
            collectors.append(part.collector(_of_kind(all_devices, kind.key)))
    return collectors


def _of_kind(all_devices: Devices, key: str) -> Devices:
    return lambda: [device for device in all_devices() if device.kind == key]
