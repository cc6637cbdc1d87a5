"""The bell's ops part: a doctor check and its own metric family."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from posboxless.config import Config
from posboxless.ops.kind_ops import Devices, KindOps
from posboxless.ops.probe import Probe
from posboxless.ops.results import CheckResult, ok, warn

from .service import BellService


def checks(configs: tuple[Any, ...], config: Config, probe: Probe) -> list[CheckResult]:
    return [
        ok(f"bell '{bell.name}'", f"{bell.port} is configured.")
        if probe.layout.at(bell.port).exists()
        else warn(f"bell '{bell.name}'", f"{bell.port} does not exist.", "Plug the bell in.")
        for bell in configs
    ]


class BellCollector(Collector):
    def __init__(self, devices: Devices) -> None:
        self.devices = devices

    def describe(self) -> Iterator[Metric]:
        return iter(())

    def collect(self) -> Iterator[Metric]:
        rings = CounterMetricFamily("posboxless_bell_rings", "Rings", labels=["name"])
        for bell in self.devices():
            if isinstance(bell, BellService):
                rings.add_metric([bell.name], bell.rings)
        yield rings


OPS = KindOps(checks=checks, collector=BellCollector)
