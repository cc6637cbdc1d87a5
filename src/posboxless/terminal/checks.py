"""The payment terminal's doctor check (ops layer; found through ``posboxless/kinds.py``)."""

from __future__ import annotations

from typing import Any

from posboxless.config import Config
from posboxless.ops.device_nodes import is_url, node_check, service_identity, usb_present
from posboxless.ops.identity import Identity
from posboxless.ops.kind_ops import KindOps
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


OPS = KindOps(checks=checks)
