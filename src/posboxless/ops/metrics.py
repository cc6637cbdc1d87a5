"""Prometheus metrics for a till: device states, print jobs, scale readings, scans, requests.

The metric list (names, labels, meaning) is in the README's "For IT partners" section; the alert
rules and the dashboard shipped in ``posboxless/ops/monitoring/`` read only these names.

Each ``Metrics`` owns its registry (several apps live in one test process). Device figures are
read from the services' typed ``snapshot()`` (cached state) at scrape time by a custom collector
(what every device has) and by each kind's own collector (``<kind>/checks.py``: print jobs,
weight, scans, payments), so device services carry no metrics code; only request latency is
pushed, by ``posboxless.web.metrics.MetricsMiddleware``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
    exposition,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from posboxless import __version__
from posboxless.device import DeviceService, PrinterSnapshot
from posboxless.ops.kinds import kind_collectors

if TYPE_CHECKING:
    from posboxless.printer.escpos.status import PrinterState

log = logging.getLogger(__name__)

# The classic text format: what every Prometheus 2.x/3.x, VictoriaMetrics or Telegraf reads.
CONTENT_TYPE = getattr(
    exposition, "CONTENT_TYPE_PLAIN_0_0_4", "text/plain; version=0.0.4; charset=utf-8"
)

STATUSES = ("connected", "connecting", "disconnected", "error")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REASONS = ("unplugged", "paper_out", "cover_open", "permission", "not_answering", "busy", "other")
"""Why a device is not working: a small fixed set, so that alerts and dashboards can rely on it."""
CLIENT_WINDOW = 900.0
"""A POS client counts as active when it called within this many seconds."""


def problem_reason(
    status: str, messages: tuple[str, ...], details: Mapping[str, Any]
) -> str | None:
    """The ``reason`` of a device that is not working (None when it works), from its cached
    status, its messages and, for printers, the decoded status bits (``details()`` form)."""
    state = details.get("printer_state")
    flags = state if isinstance(state, Mapping) else {}
    return _reason(
        status,
        messages,
        paper_out=bool(flags.get("paper_out")),
        cover_open=bool(flags.get("cover_open")),
    )


def _reason(
    status: str, messages: tuple[str, ...], *, paper_out: bool = False, cover_open: bool = False
) -> str | None:
    if status == "connected":
        return None
    if paper_out:
        return "paper_out"
    if cover_open:
        return "cover_open"
    text = " ".join(messages).lower()
    if "permission" in text or "denied" in text:
        return "permission"
    if "busy" in text or "in use" in text or "owned by" in text:
        return "busy"
    if status in ("disconnected", "connecting"):
        return "unplugged"
    if status == "error":
        return "not_answering"
    return "other"


def _printer_reason(
    status: str, messages: tuple[str, ...], state: PrinterState | None
) -> str | None:
    return _reason(
        status,
        messages,
        paper_out=state is not None and state.paper_out,
        cover_open=state is not None and state.cover_open,
    )


class DeviceSource(Protocol):
    """What the collector needs from ``posboxless.services.Services``."""

    def all(self) -> list[DeviceService]: ...


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
        problem = GaugeMetricFamily(
            "posboxless_device_problem",
            "1 for the reason the device is not working (" + ", ".join(REASONS) + "); all 0 when "
            "it works",
            labels=["kind", "name", "reason"],
        )
        last_ok = GaugeMetricFamily(
            "posboxless_device_last_ok_timestamp_seconds",
            "When the device last worked (Unix time)",
            labels=["kind", "name"],
        )
        errors = 0
        for device in self.source.all():
            try:
                snapshot = device.snapshot()
            except Exception:
                # A broken device must not hide the others from monitoring.
                log.exception("metrics: reading %s %s failed", device.kind, device.name)
                errors += 1
                continue
            kind, name, status = device.kind, device.name, snapshot.status
            up.add_metric([kind, name], 1.0 if status.status == "connected" else 0.0)
            for s in STATUSES:
                state.add_metric([kind, name, s], 1.0 if status.status == s else 0.0)
            if isinstance(snapshot, PrinterSnapshot):
                reason = _printer_reason(status.status, status.messages, snapshot.printer_state)
            else:
                reason = _reason(status.status, status.messages)
            for r in REASONS:
                problem.add_metric([kind, name, r], 1.0 if reason == r else 0.0)
            activity = snapshot.activity
            counters = dict(activity.counters)
            for event, count in sorted(counters.items()):
                events.add_metric([kind, name, event], count)
            if activity.last_ok is not None:
                last_ok.add_metric([kind, name], activity.last_ok)
        # The kinds' own families (print jobs, weight, scans, payments...) are their collectors'
        # (``<kind>/checks.py``, registered by ``watch``).
        yield from (up, state, problem, events, last_ok)
        scrape = GaugeMetricFamily(
            "posboxless_device_scrape_errors", "Devices whose state could not be read"
        )
        scrape.add_metric([], errors)
        yield scrape


class ClientSource(Protocol):
    """What the collector needs from ``posboxless.web.clients.ClientTracker``."""

    def recent(self) -> list[dict[str, Any]]: ...


class ClientCollector(Collector):
    """POS clients as counts and times only: origins and addresses are unbounded label values."""

    def __init__(self, clients: ClientSource) -> None:
        self.clients = clients

    def describe(self) -> Iterator[Metric]:
        return iter(())

    def collect(self) -> Iterator[Metric]:
        seen = [c.get("last_seen") for c in self.clients.recent()]
        times = [float(t) for t in seen if isinstance(t, (int, float))]
        now = time.time()
        active = GaugeMetricFamily(
            "posboxless_pos_clients",
            f"POS clients (origin and address) that called in the last {CLIENT_WINDOW:g} s",
        )
        active.add_metric([], sum(1 for t in times if now - t <= CLIENT_WINDOW))
        yield active
        if times:
            last = GaugeMetricFamily(
                "posboxless_pos_last_contact_timestamp_seconds",
                "When a POS client last called (Unix time)",
            )
            last.add_metric([], max(times))
            yield last


class CertificateCollector(Collector):
    """The HTTPS certificate's end of validity, re-read when the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._cache: tuple[float, float] | None = None  # (mtime, not_after)

    def describe(self) -> Iterator[Metric]:
        return iter(())

    def collect(self) -> Iterator[Metric]:
        not_after = self._not_after()
        if not_after is None:
            return
        family = GaugeMetricFamily(
            "posboxless_certificate_expiry_timestamp_seconds",
            "When the HTTPS certificate the POS connects to stops being valid (Unix time)",
        )
        family.add_metric([], not_after)
        yield family

    def _not_after(self) -> float | None:
        from cryptography import x509

        try:
            mtime = self.path.stat().st_mtime
            if self._cache is not None and self._cache[0] == mtime:
                return self._cache[1]
            cert = x509.load_pem_x509_certificate(self.path.read_bytes())
        except (OSError, ValueError):
            log.warning("metrics: cannot read the certificate %s", self.path)
            return None
        value = cert.not_valid_after_utc.timestamp()
        self._cache = (mtime, value)
        return value


class Metrics:
    """One till's metrics: its own registry, the device collector and request figures."""

    def __init__(
        self, devices: DeviceSource | None = None, clients: ClientSource | None = None
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        # process_* (CPU, memory, open files, start time) and python_info, for this registry only.
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
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
        self._kind_collectors: list[Collector] = []
        self._certificate: CertificateCollector | None = None
        if devices is not None:
            self.watch(devices)
        if clients is not None:
            self.registry.register(ClientCollector(clients))

    def watch_certificate(self, path: Path) -> None:
        """Export the end of validity of the HTTPS certificate at ``path``."""
        if self._certificate is not None:
            self.registry.unregister(self._certificate)
        self._certificate = CertificateCollector(path)
        self.registry.register(self._certificate)

    def watch(self, devices: DeviceSource) -> None:
        """Export the devices of ``devices`` (replacing any earlier source)."""
        if self._devices is not None:
            self.registry.unregister(self._devices)
        self._devices = DeviceCollector(devices)
        self.registry.register(self._devices)
        for collector in self._kind_collectors:
            self.registry.unregister(collector)
        # A kind's own families (posboxless/kinds.py, the kind's checks.py).
        self._kind_collectors = kind_collectors(devices.all)
        for collector in self._kind_collectors:
            self.registry.register(collector)

    def observe_request(self, method: str, route: str, code: int, seconds: float) -> None:
        self.request_seconds.labels(method, route).observe(seconds)
        self.requests.labels(method, route, str(code)).inc()

    def render(self) -> tuple[bytes, str]:
        """The text exposition format and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE
