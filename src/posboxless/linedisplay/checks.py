"""The pole display's doctor checks (ops layer; found through ``posboxless/kinds.py``)."""

from __future__ import annotations

from typing import Any

from posboxless.config import Config
from posboxless.linedisplay.config import CustomerDisplayConfig
from posboxless.ops.device_nodes import is_url, node_check, service_identity
from posboxless.ops.kind_ops import KindOps
from posboxless.ops.probe import Probe
from posboxless.ops.results import CheckResult, ok, warn
from posboxless.printer.checks import printer_check, printer_label

NAME = "customer display"


def checks(configs: tuple[Any, ...], config: Config, probe: Probe) -> list[CheckResult]:
    results: list[CheckResult] = []
    for display in configs:
        results += _display_checks(display, config, probe)
    return results


def _display_checks(
    display: CustomerDisplayConfig, config: Config, probe: Probe
) -> list[CheckResult]:
    results = []
    if display.port and not is_url(display.port):
        results.append(node_check(NAME, display.port, probe, service_identity(probe)))
    if display.printer:
        results.append(_through_printer(display.printer, config, probe))
    return results


def _through_printer(printer: str, config: Config, probe: Probe) -> CheckResult:
    """A display on a printer's display port has no port of its own: it is as reachable as
    that printer (the printer's own check, asked again)."""
    where = printer_label(printer)
    found = [p for p in config.printers if p.name == printer]
    checked = printer_check(found[0], probe, service_identity(probe)) if found else None
    if checked is None:
        return warn(NAME, f"Wired through {where}, which is not checked here.")
    if checked.level == "ok":
        return ok(NAME, f"Wired through the display port of {where}: {checked.message}")
    return CheckResult(
        NAME,
        checked.level,
        f"Wired through the display port of {where}, so it shows nothing while that printer "
        f"cannot be reached: {checked.message}",
        f"Fix {where} first: {checked.fix}" if checked.fix else "",
    )


OPS = KindOps(checks=checks)
