"""The printers' doctor checks (ops layer; found through ``posboxless/kinds.py``)."""

from __future__ import annotations

from typing import Any

from posboxless.config import Config
from posboxless.ops.device_nodes import is_url, node_check, service_identity, usb_present
from posboxless.ops.identity import Identity
from posboxless.ops.kind_ops import KindOps
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


OPS = KindOps(checks=checks)
