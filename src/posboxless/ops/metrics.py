"""Prometheus metrics for a till: device states, print jobs, scale readings, scans, requests.

Each ``Metrics`` owns its registry (several apps live in one test process). Device figures are
read from the services' cached ``status()`` / ``details()`` / ``reading()`` at scrape time by a
custom collector, so device services carry no metrics code; only request latency is pushed, by
``posboxless.web.metrics.MetricsMiddleware``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, Info, exposition
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from posboxless import __version__
from posboxless.device import DeviceService

log = logging.getLogger(__name__)

# The classic text format: what every Prometheus 2.x/3.x, VictoriaMetrics or Telegraf reads.
CONTENT_TYPE = getattr(
    exposition, "CONTENT_TYPE_PLAIN_0_0_4", "text/plain; version=0.0.4; charset=utf-8"
)

STATUSES = ("connected", "connecting", "disconnected", "error")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# details()["counters"] names, per metric (the device packages' vocabulary).
PRINT_OUTCOMES = {
    "printed": ("printed",),
    "failed": ("failed", "interrupted"),
    "expired": ("expired",),
    "withdrawn": ("withdrawn",),
}
SCAN_COUNTERS = ("barcodes", "scans")
PAYMENT_OUTCOMES = (
    "accepted", "refused", "not_verified", "not_sent", "unknown", "settled_accepted",
    "settled_refused", "refused_busy", "refused_unavailable", "invalid_request",
)  # fmt: skip
READING_COUNTERS = ("readings",)


class DeviceSource(Protocol):
    """What the collector needs from ``posboxless.services.Services``."""

    def all(self) -> list[DeviceService]: ...


def _counters(details: Mapping[str, Any]) -> dict[str, int]:
    counters = details.get("counters")
    if not isinstance(counters, Mapping):
        return {}
    return {str(k): int(v) for k, v in counters.items() if isinstance(v, (int, float))}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


class DeviceCollector(Collector):
    """Reads the cached state of every device service when Prometheus scrapes."""

    def __init__(self, source: DeviceSource) -> None:
        self.source = source

    def describe(self) -> Iterator[Metric]:
        return iter(())  # device labels are only known at scrape time

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "posboxless_device_up",
            "1 when the device is connected, else 0",
            labels=["kind", "name"],
        )
        state = GaugeMetricFamily(
            "posboxless_device_status",
            "1 for the device's current status",
            labels=["kind", "name", "status"],
        )
        events = CounterMetricFamily(
            "posboxless_device_events",
            "Events counted by the device service (every counter it keeps)",
            labels=["kind", "name", "event"],
        )
        jobs = CounterMetricFamily(
            "posboxless_print_jobs",
            "Print jobs by outcome (failed: cut by an error and queued again; withdrawn: not "
            "taken by the printer in time, the POS told it failed)",
            labels=["printer", "outcome"],
        )
        queue = GaugeMetricFamily(
            "posboxless_print_queue_depth", "Jobs waiting or printing", labels=["printer"]
        )
        weight = GaugeMetricFamily(
            "posboxless_scale_weight", "Latest weight read from the scale", labels=["name", "unit"]
        )
        readings = CounterMetricFamily(
            "posboxless_scale_readings", "Weights read from the scale", labels=["name"]
        )
        scans = CounterMetricFamily("posboxless_scans", "Barcodes scanned", labels=["name"])
        payments = CounterMetricFamily(
            "posboxless_payment_transactions",
            "Card payments by outcome (unknown: check the terminal; settled_*: settled by hand; "
            "refused_busy/invalid_request: refused before anything reached the terminal)",
            labels=["terminal", "outcome"],
        )
        last_ok = GaugeMetricFamily(
            "posboxless_device_last_ok_timestamp_seconds",
            "When the device last worked (Unix time)",
            labels=["kind", "name"],
        )
        errors = 0
        for device in self.source.all():
            try:
                status = device.status()
                details = device.details()
            except Exception:
                # A broken device must not hide the others from monitoring.
                log.exception("metrics: reading %s %s failed", device.kind, device.name)
                errors += 1
                continue
            kind, name = device.kind, device.name
            up.add_metric([kind, name], 1.0 if status.status == "connected" else 0.0)
            for s in STATUSES:
                state.add_metric([kind, name, s], 1.0 if status.status == s else 0.0)
            counters = _counters(details)
            for event, value in sorted(counters.items()):
                events.add_metric([kind, name, event], value)
            seen = _number(details.get("last_ok"))
            if seen is not None:
                last_ok.add_metric([kind, name], seen)
            if kind == "printer":
                for outcome, keys in PRINT_OUTCOMES.items():
                    jobs.add_metric([name, outcome], sum(counters.get(k, 0) for k in keys))
                depth = _number(details.get("pending_jobs"))
                if depth is not None:
                    queue.add_metric([name], depth)
            elif kind == "scale":
                readings.add_metric([name], sum(counters.get(k, 0) for k in READING_COUNTERS))
                self._weight(device, weight)
            elif kind == "scanner":
                scans.add_metric([name], sum(counters.get(k, 0) for k in SCAN_COUNTERS))
            elif kind == "payment_terminal":
                for outcome in PAYMENT_OUTCOMES:
                    payments.add_metric([name, outcome], counters.get(outcome, 0))
        yield from (up, state, events, jobs, queue, weight, readings, scans, last_ok, payments)
        scrape = GaugeMetricFamily(
            "posboxless_device_scrape_errors", "Devices whose state could not be read"
        )
        scrape.add_metric([], errors)
        yield scrape

    @staticmethod
    def _weight(device: DeviceService, family: GaugeMetricFamily) -> None:
        reading_of = getattr(device, "reading", None)
        if reading_of is None:
            return
        reading = reading_of()
        value = _number(reading.get("weight")) if isinstance(reading, Mapping) else None
        if value is not None:
            family.add_metric([device.name, str(reading.get("unit") or "kg")], value)


class Metrics:
    """One till's metrics: its own registry, the device collector and request figures."""

    def __init__(self, devices: DeviceSource | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.request_seconds = Histogram(
            "posboxless_http_request_duration_seconds",
            "Time to answer HTTP requests (scanner long-polls wait on purpose)",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.requests = Counter(
            "posboxless_http_requests",
            "HTTP requests answered",
            ["method", "route", "code"],
            registry=self.registry,
        )
        Info("posboxless_build", "posboxless version", registry=self.registry).info(
            {"version": __version__}
        )
        self._devices: DeviceCollector | None = None
        if devices is not None:
            self.watch(devices)

    def watch(self, devices: DeviceSource) -> None:
        """Export the devices of ``devices`` (replacing any earlier source)."""
        if self._devices is not None:
            self.registry.unregister(self._devices)
        self._devices = DeviceCollector(devices)
        self.registry.register(self._devices)

    def observe_request(self, method: str, route: str, code: int, seconds: float) -> None:
        self.request_seconds.labels(method, route).observe(seconds)
        self.requests.labels(method, route, str(code)).inc()

    def render(self) -> tuple[bytes, str]:
        """The text exposition format and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE
