"""The diagnostics data behind the page at ``/``, and the guard on its actions.

Read-only data (device states, journal, logs) is built from the services' cached state: the
page can be refreshed every second without reaching a device. Actions (test print, reprint,
drawer test) come from this computer, or from elsewhere with the configured ``admin_token``;
never from another site's page (cross-site requests are refused whatever the origin policy).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from posboxless import __version__, logs
from posboxless.device import KeepsJournal, PrinterService, TerminalSnapshot
from posboxless.epos.addresses import epos_address
from posboxless.ops.checks import Probe, check_tls
from posboxless.terminal.service import unknown_payments
from posboxless.web.origin import host_name

if TYPE_CHECKING:
    from posboxless.web.state import AppState

log = logging.getLogger(__name__)

JOURNAL_ROWS = 15
LOG_LINES = 80
MAX_LOG_LINES = 500
RECENT_JOB_PROBLEMS = 3600.0
"""Jobs that failed or expired in the last hour keep their banner."""
CERTIFICATE_RECHECK = 60.0
SIMULATED_RECEIPTS = "simulated-printer"
"""Below the data directory: where the simulated printer saves each receipt (PNG and text)."""

_FIXES = {
    "printer": "Switch the printer on, close its paper cover, and check its cable (or its network "
    "address); then press Test print below.",
    "scale": "Switch the scale on and check its cable; the POS cannot weigh until it answers.",
    "scanner": "Plug the scanner in and check the message above; keyboard-mode scanners are "
    "found by themselves.",
    "payment_terminal": "Switch the payment terminal on, check its cable, and that its "
    "cash-register (caisse) link is enabled.",
}
_GOOD_JOB_STATES = ("queued", "printing", "done")


def _is_loopback(address: str | None) -> bool:
    if not address:
        return False
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer":
        return token.strip()
    return request.headers.get("x-admin-token", "").strip()


def same_site(request: Request) -> bool:
    """No Origin (curl, a form on this page in some browsers) or exactly this page's origin."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("host", "")
    return origin.lower() == f"{request.url.scheme}://{host.lower()}"


def may_act(request: Request, state: AppState) -> tuple[bool, str]:
    """Whether this request may trigger device actions, and if not, why."""
    if not same_site(request):
        return False, "Actions are only accepted from the diagnostics page itself."
    token = state.config.server.admin_token
    if token and hmac.compare_digest(_bearer(request).encode(), token.encode()):
        return True, ""
    client = request.client.host if request.client else None
    host = host_name(request.headers.get("host", ""))
    # A loopback peer reached through a name that is not ours is a DNS-rebinding attempt.
    if _is_loopback(client) and state.policy.is_local_host(host):
        return True, ""
    if token:
        return False, "Enter the admin token to use actions from another computer."
    return False, (
        "Actions are only allowed on the till itself; set server.admin_token to allow them "
        "from other computers."
    )


def _journal(printer: PrinterService) -> list[dict[str, Any]] | str:
    if not isinstance(printer, KeepsJournal):
        return "This printer keeps no journal."
    try:
        rows = printer.journal(JOURNAL_ROWS)
    except Exception as exc:  # a stopped printer: say so on the page
        return str(exc)
    return rows


def _log_lines(request: Request) -> int:
    """``?log_lines=N`` (support bundles ask for the whole ring), else what the page shows."""
    try:
        return max(1, min(int(request.query_params.get("log_lines", LOG_LINES)), MAX_LOG_LINES))
    except ValueError:
        return LOG_LINES


def _alert(level: str, title: str, fix: str = "") -> dict[str, str]:
    """One banner: ``level`` is bad (something does not work), warn, or info."""
    return {"level": level, "title": title, "fix": fix}


def _device_alerts(state: AppState, devices: list[dict[str, Any]]) -> list[dict[str, str]]:
    alerts = []
    for device in devices:
        kind, status = device["kind"], device["status"]
        if status == "connected":
            continue
        if kind == "scanner" and not state.config.scanners and status != "error":
            continue  # none configured and none found: a till may scan through the keyboard
        words = "is being opened" if status == "connecting" else f"is {status}"
        what = kind.replace("_", " ").capitalize()
        messages = " ".join(m.rstrip(".") + "." for m in device["messages"])
        alerts.append(
            _alert(
                "warn" if status == "connecting" else "bad",
                f"{what} '{device['name']}' {words}: {messages}".strip(),
                _FIXES.get(kind, "Check that the device is plugged in and switched on."),
            )
        )
    return alerts


def _job_alerts(state: AppState, devices: list[dict[str, Any]], printers: list[dict[str, Any]]
                ) -> list[dict[str, str]]:  # fmt: skip
    alerts = []
    since = time.time() - RECENT_JOB_PROBLEMS
    for printer in printers:
        name = printer["name"]
        service = state.services.printers.get(name)
        waiting = service.snapshot().pending_jobs if service is not None else 0
        if waiting:
            alerts.append(
                _alert(
                    "bad" if printer["status"] != "connected" else "warn",
                    f"{waiting} job(s) waiting on printer '{name}'.",
                    "They print when the printer answers; if the customer has left, the "
                    "journal below shows which ones they are.",
                )
            )
        journal = printer["journal"] if isinstance(printer["journal"], list) else []
        for job in journal:
            when = job.get("finished") or job.get("created") or 0
            if job.get("state") in _GOOD_JOB_STATES or when < since:
                continue
            drawer = job.get("kind") == "drawer"
            if job.get("state") == "withdrawn":
                # Not silent: the POS was told at once; the banner says why it did not print.
                alerts.append(
                    _alert(
                        "warn",
                        f"Job {job.get('id')} ({job.get('kind')}) on printer '{name}' was not "
                        "printed: the printer could not take it in time, and the POS was told"
                        + (f" ({job['error']})." if job.get("error") else "."),
                        "Once the printer is back, print it again from the POS if needed.",
                    )
                )
                continue
            alerts.append(
                _alert(
                    "bad",
                    f"Job {job.get('id')} ({job.get('kind')}) on printer '{name}' "
                    f"{job.get('state')}" + (f": {job['error']}" if job.get("error") else "."),
                    "Open the drawer with its key or the button below."
                    if drawer
                    else "Reprint it from the journal below if the customer still needs it.",
                )
            )
    return alerts


_certificate_cache: dict[int, tuple[float, list[dict[str, str]]]] = {}


def _certificate_alerts(state: AppState) -> list[dict[str, str]]:
    """Certificate problems (expired, soon, wrong names, unreadable), re-read every minute."""
    now = time.monotonic()
    cached = _certificate_cache.get(id(state))
    if cached is not None and now - cached[0] < CERTIFICATE_RECHECK:
        return cached[1]
    server = state.config.server
    try:
        results = check_tls(server, Probe(), server.data_dir)
    except Exception as exc:  # a check must never break the page
        log.warning("certificate check failed: %s", exc)
        results = []
    alerts = [
        _alert("bad" if r.level == "fail" else "warn", r.message, r.fix)
        for r in results
        if r.level != "ok"
    ]
    _certificate_cache[id(state)] = (now, alerts)
    return alerts


def simulated_receipts(state: AppState) -> dict[str, Any] | None:
    """Where the simulated printer saves receipts, and the last one saved (demo mode)."""
    if not state.config.simulate:
        return None
    folder = state.config.server.data_dir / SIMULATED_RECEIPTS
    last = last_receipt_image(state)
    return {
        "folder": str(folder),
        "last_png": last.name if last else None,
        "last_time": last.stat().st_mtime if last else None,
    }


def last_receipt_image(state: AppState) -> Path | None:
    folder = state.config.server.data_dir / SIMULATED_RECEIPTS
    try:
        images = [p for p in folder.iterdir() if p.suffix == ".png" and p.is_file()]
    except OSError:
        return None
    return max(images, key=lambda p: (p.stat().st_mtime, p.name), default=None)


def alerts(
    state: AppState, devices: list[dict[str, Any]], printers: list[dict[str, Any]]
) -> list[dict[str, str]]:
    """The banners at the top of the page: what does not work, with the fix in plain words."""
    found = _device_alerts(state, devices) + _job_alerts(state, devices, printers)
    terminals: list[TerminalSnapshot] = []
    for terminal in state.services.terminals.all():
        try:
            terminals.append(terminal.snapshot())
        except Exception:  # a broken terminal must not take the page down
            log.exception("snapshot of payment terminal %s failed", terminal.name)
    found += [_alert("bad", title, fix) for title, fix in unknown_payments(terminals)]
    found += _certificate_alerts(state)
    for warning in state.warnings():
        found.append(_alert("warn", warning))
    receipts = simulated_receipts(state)
    if receipts is not None:
        found.append(
            _alert(
                "info",
                f"Demo: simulated receipts are saved as PNG and text in {receipts['folder']}; "
                "the last one is shown under Printers.",
            )
        )
    order = {"bad": 0, "warn": 1, "info": 2}
    return sorted(found, key=lambda a: order[a["level"]])


def snapshot(state: AppState, request: Request) -> dict[str, Any]:
    services = state.services
    devices = []
    for device in services.all():
        status = device.status()
        try:
            details = device.details()
        except Exception as exc:
            log.exception("details of %s %s failed", device.kind, device.name)
            details = {"error": str(exc)}
        devices.append(
            {
                "kind": device.kind,
                "name": device.name,
                "status": status.status,
                "messages": list(status.messages),
                "details": details,
            }
        )
    allowed, reason = may_act(request, state)
    server = state.config.server
    printers = [
        {
            "name": name,
            "default": name == services.default_printer_name,
            "status": printer.status().status,
            "journal": _journal(printer),
            # What to type in Odoo's "ePos Printer" field to print to this printer.
            "epos": epos_address(
                name,
                default=name == services.default_printer_name,
                http_port=server.http_port,
                https_port=server.https_port,
            ).as_json(),
        }
        for name, printer in services.printers.items()
    ]
    return {
        "version": __version__,
        "now": time.time(),
        "started": state.started,
        "simulate": state.config.simulate,
        "pid": os.getpid(),
        # doctor and support-bundle check the files of the proxy that runs, wherever they are.
        "config_file": str(state.config.source.absolute()) if state.config.source else None,
        "data_dir": str(state.config.server.data_dir.absolute()),
        "listen": list(state.listen_urls),
        "warnings": state.warnings(),
        "alerts": alerts(state, devices, printers),
        "simulated_receipts": simulated_receipts(state),
        "devices": devices,
        "scale": services.scale.reading() if services.scale else None,
        "barcodes": services.scanner.recent()[:20] if services.scanner else [],
        "printers": printers,
        "clients": state.clients.recent(),
        "logs": logs.recent.lines(_log_lines(request)),
        "actions": {"allowed": allowed, "reason": reason},
    }
