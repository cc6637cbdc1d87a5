"""The printers' doctor checks (ops layer; found through ``posboxless/kinds.py``)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from posboxless.config import Config
from posboxless.device import PrinterSnapshot
from posboxless.ops.device_nodes import is_url, node_check, service_identity, usb_present
from posboxless.ops.identity import Identity
from posboxless.ops.kind_ops import Devices, KindOps, snapshots
from posboxless.ops.probe import Probe
from posboxless.ops.results import CheckResult, fail, ok
from posboxless.printer.config import PrinterConfig


def checks(configs: tuple[Any, ...], config: Config, probe: Probe) -> list[CheckResult]:
    who = service_identity(probe)
    found = (printer_check(printer, probe, who) for printer in configs)
    return [result for result in found if result is not None]


def printer_check(printer: PrinterConfig, probe: Probe, who: Identity) -> CheckResult | None:
    """The printer's connection as configured; None when it names none (found automatically)."""
    name = printer_label(printer.name)
    if printer.device:
        return node_check(name, printer.device, probe, who)
    if printer.serial:
        if is_url(printer.serial):
            return ok(name, f"{printer.serial} is a pyserial URL (not checked).")
        return node_check(name, printer.serial, probe, who)
    if printer.host:
        host, port = printer.host
        if probe.tcp_reachable(host, port):
            return ok(name, f"{host}:{port} answers.")
        return fail(
            name,
            f"The network printer {host}:{port} does not answer.",
            "Check that it is on and plugged in, and its address (print its self-test page).",
        )
    if printer.usb:
        vid, pid = printer.usb
        if usb_present(probe, vid, pid):
            return ok(name, f"USB device {vid:04x}:{pid:04x} is plugged in.")
        return fail(
            name,
            f"No USB device {vid:04x}:{pid:04x} is plugged in.",
            "Plug the printer in and switch it on; lsusb lists what is seen.",
        )
    return None


def printer_label(name: str) -> str:
    return f"printer '{name}'"


# The printers' own metric families ------------------------------------------------------------

PRINT_OUTCOMES = {
    "printed": ("printed",),
    "failed": ("failed", "interrupted"),
    "expired": ("expired",),
    "withdrawn": ("withdrawn",),
}
"""Each ``posboxless_print_jobs`` outcome and the activity counters it sums."""


class PrinterCollector(Collector):
    """Print jobs, the queue, reprints, drawer kicks, read from the printers' snapshots."""

    def __init__(self, devices: Devices) -> None:
        self.devices = devices

    def describe(self) -> Iterator[Metric]:
        return iter(())  # printer names are only known at scrape time

    def collect(self) -> Iterator[Metric]:
        jobs = CounterMetricFamily(
            "posboxless_print_jobs",
            "Print jobs by outcome (failed: cut by an error and queued again; withdrawn: not "
            "taken by the printer in time, the POS told it failed)",
            labels=["printer", "outcome"],
        )
        queue = GaugeMetricFamily(
            "posboxless_print_queue_depth", "Jobs waiting or printing", labels=["printer"]
        )
        oldest = GaugeMetricFamily(
            "posboxless_print_queue_oldest_job_age_seconds",
            "Age of the oldest job waiting or printing (0 when none waits)",
            labels=["printer"],
        )
        reprints = CounterMetricFamily(
            "posboxless_print_reprints",
            "Jobs reprinted from the diagnostics page",
            labels=["printer"],
        )
        last_printed = GaugeMetricFamily(
            "posboxless_print_last_printed_timestamp_seconds",
            "When the printer last confirmed a job (Unix time)",
            labels=["printer"],
        )
        kicks = CounterMetricFamily(
            "posboxless_drawer_kicks",
            "Cash-drawer pulses the printer confirmed",
            labels=["printer"],
        )
        now = time.time()
        for name, snapshot in snapshots(self.devices, PrinterSnapshot):
            counters = snapshot.activity.counters
            for outcome, keys in PRINT_OUTCOMES.items():
                jobs.add_metric([name, outcome], sum(counters.get(k, 0) for k in keys))
            queue.add_metric([name], snapshot.pending_jobs)
            reprints.add_metric([name], counters.get("reprints", 0))
            kicks.add_metric([name], counters.get("printed_drawer", 0))
            if snapshot.last_printed is not None:
                last_printed.add_metric([name], snapshot.last_printed)
            created = snapshot.oldest_pending_created
            oldest.add_metric([name], max(0.0, now - created) if created is not None else 0.0)
        yield from (jobs, queue, oldest, reprints, kicks, last_printed)


OPS = KindOps(checks=checks, collector=PrinterCollector)
