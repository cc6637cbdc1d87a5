"""The barcode scanners' doctor checks (ops layer; found through ``posboxless/kinds.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from posboxless.config import Config
from posboxless.device import ScannerSnapshot
from posboxless.ops.device_nodes import node_check, service_identity
from posboxless.ops.kind_ops import Devices, KindOps, snapshots
from posboxless.ops.probe import Probe
from posboxless.ops.results import CheckResult


def checks(configs: tuple[Any, ...], config: Config, probe: Probe) -> list[CheckResult]:
    who = service_identity(probe)
    return [
        # Keyboard-wedge scanners are only read (and grabbed).
        node_check(
            f"scanner '{scanner.name}'",
            scanner.device,
            probe,
            who,
            write=not scanner.device.startswith("/dev/input/"),
        )
        for scanner in configs
        if scanner.device
    ]


SCAN_COUNTERS = ("barcodes", "scans")


class ScannerCollector(Collector):
    """Barcodes scanned, from the scanners' snapshots."""

    def __init__(self, devices: Devices) -> None:
        self.devices = devices

    def describe(self) -> Iterator[Metric]:
        return iter(())

    def collect(self) -> Iterator[Metric]:
        scans = CounterMetricFamily("posboxless_scans", "Barcodes scanned", labels=["name"])
        for name, snapshot in snapshots(self.devices, ScannerSnapshot):
            counters = snapshot.activity.counters
            scans.add_metric([name], sum(counters.get(k, 0) for k in SCAN_COUNTERS))
        yield scans


OPS = KindOps(checks=checks, collector=ScannerCollector)
