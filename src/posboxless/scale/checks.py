"""The scale's doctor check (ops layer; found through ``posboxless/kinds.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from posboxless.config import Config
from posboxless.device import ScaleSnapshot
from posboxless.ops.device_nodes import is_url, node_check, service_identity, usb_present
from posboxless.ops.kind_ops import Devices, KindOps, snapshots
from posboxless.ops.probe import Probe
from posboxless.ops.results import CheckResult, fail, ok
from posboxless.scale.config import ScaleConfig


def checks(configs: tuple[Any, ...], config: Config, probe: Probe) -> list[CheckResult]:
    return [r for scale in configs if (r := _scale_check(scale, probe)) is not None]


def _scale_check(scale: ScaleConfig, probe: Probe) -> CheckResult | None:
    # A scale the browser owns is not opened by the service (check_scale_owner looks at it).
    if scale.browser_owned:
        return None
    if scale.port and not is_url(scale.port):
        return node_check("scale", scale.port, probe, service_identity(probe))
    if scale.usb:
        vid, pid = scale.usb
        if usb_present(probe, vid, pid):
            return ok("scale", f"USB device {vid:04x}:{pid:04x} is plugged in.")
        return fail(
            "scale",
            f"No USB device {vid:04x}:{pid:04x} is plugged in.",
            "Plug the scale in and switch it on; lsusb lists what is seen.",
        )
    return None


READING_COUNTERS = ("readings",)


class ScaleCollector(Collector):
    """The latest weight and the readings counted, from the scale's snapshot."""

    def __init__(self, devices: Devices) -> None:
        self.devices = devices

    def describe(self) -> Iterator[Metric]:
        return iter(())

    def collect(self) -> Iterator[Metric]:
        weight = GaugeMetricFamily(
            "posboxless_scale_weight", "Latest weight read from the scale", labels=["name", "unit"]
        )
        readings = CounterMetricFamily(
            "posboxless_scale_readings", "Weights read from the scale", labels=["name"]
        )
        for name, snapshot in snapshots(self.devices, ScaleSnapshot):
            counters = snapshot.activity.counters
            readings.add_metric([name], sum(counters.get(k, 0) for k in READING_COUNTERS))
            weight.add_metric([name, snapshot.reading.unit or "kg"], snapshot.reading.weight)
        yield from (weight, readings)


OPS = KindOps(checks=checks, collector=ScaleCollector)
