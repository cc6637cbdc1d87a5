"""The proxy's state in a few printable lines, for the test page.

Odoo 18 and 19 no longer show the IoT Box's state in the POS, so a cashier only learns that the
scale is disconnected when weighing fails. The test page (printed from the diagnostics page, or
by a support person over the phone) therefore says what the POS would see: each device's status,
the addresses the POS can use, and when a POS last called.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from posboxless.web.hw_proxy import status_snapshot

if TYPE_CHECKING:
    from posboxless.web.state import AppState

_DEVICES = (("printer", "Printer"), ("scale", "Scale"), ("scanner", "Scanner"))


def _ago(seconds: float) -> str:
    if seconds < 120:
        return f"{int(seconds)} s ago"
    if seconds < 7200:
        return f"{int(seconds // 60)} min ago"
    return f"{int(seconds // 3600)} h ago"


def proxy_state_lines(state: AppState, now: float | None = None) -> list[str]:
    now = time.time() if now is None else now
    snapshot = status_snapshot(state.services)
    lines = ["", "What the POS sees:"]
    devices = [(label, snapshot[key]) for key, label in _DEVICES]
    services = state.services
    if services.customer_display is not None:
        devices.append(("Pole display", services.customer_display.status().as_json()))
    devices += [
        (f"Payment terminal {t.name}", t.status().as_json()) for t in services.terminals.all()
    ]
    for label, device in devices:
        line = f"{label}: {device['status']}"
        if device["status"] != "connected" and device["messages"]:
            line += f" - {device['messages'][0]}"
        lines.append(line)
    if state.listen_urls:
        lines.append("Proxy at: " + ", ".join(state.listen_urls))
    recent = state.clients.recent()
    if recent:
        last = recent[0]
        lines.append(f"Last POS call: {last['origin']} {_ago(now - last['last_seen'])}")
    else:
        lines.append("Last POS call: none since start")
    lines += [f"Warning: {w}" for w in state.warnings()]
    return lines
