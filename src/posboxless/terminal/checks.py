"""The payment terminal's doctor check (ops layer; found through ``posboxless/kinds.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from posboxless.config import Config
from posboxless.device import TerminalSnapshot
from posboxless.ops.device_nodes import is_url, node_check, service_identity, usb_present
from posboxless.ops.identity import Identity
from posboxless.ops.kind_ops import Devices, KindOps, snapshots
from posboxless.ops.probe import Probe
from posboxless.ops.results import CheckResult, fail, ok
from posboxless.terminal.config import KNOWN_USB_IDS, TerminalConfig


def checks(configs: tuple[Any, ...], config: Config, probe: Probe) -> list[CheckResult]:
    who = service_identity(probe)
    return [_terminal_check(terminal, probe, who) for terminal in configs]


def _terminal_check(terminal: TerminalConfig, probe: Probe, who: Identity) -> CheckResult:
    name = f"payment terminal '{terminal.name}'"
    if terminal.port and not is_url(terminal.port):
        return node_check(name, terminal.port, probe, who)
    if terminal.port:
        return ok(name, f"{terminal.port} is a pyserial URL (not checked).")
    wanted = (terminal.usb,) if terminal.usb else KNOWN_USB_IDS
    for vid, pid in wanted:
        if usb_present(probe, vid, pid):
            return ok(name, f"USB device {vid:04x}:{pid:04x} (Telium) is plugged in.")
    ids = ", ".join(f"{v:04x}:{p:04x}" for v, p in wanted)
    return fail(
        name,
        f"No payment terminal on USB ({ids}).",
        "Plug the terminal in and switch it on (lsusb lists what is seen); for an RS-232 "
        'terminal set payment_terminal.port and serial_settings = "9600 7E1". On the '
        "terminal, enable the cash-register (caisse) link in Telium Manager.",
    )


PAYMENT_OUTCOMES = (
    "accepted", "refused", "not_verified", "not_sent", "unknown", "settled_accepted",
    "settled_refused", "refused_busy", "refused_unavailable", "invalid_request",
)  # fmt: skip


class TerminalCollector(Collector):
    """Card payments by outcome, from the terminals' snapshots."""

    def __init__(self, devices: Devices) -> None:
        self.devices = devices

    def describe(self) -> Iterator[Metric]:
        return iter(())

    def collect(self) -> Iterator[Metric]:
        payments = CounterMetricFamily(
            "posboxless_payment_transactions",
            "Card payments by outcome (unknown: check the terminal; settled_*: settled by hand; "
            "refused_busy/invalid_request: refused before anything reached the terminal)",
            labels=["terminal", "outcome"],
        )
        for name, snapshot in snapshots(self.devices, TerminalSnapshot):
            counters = snapshot.activity.counters
            for outcome in PAYMENT_OUTCOMES:
                payments.add_metric([name, outcome], counters.get(outcome, 0))
        yield payments


OPS = KindOps(checks=checks, collector=TerminalCollector)
