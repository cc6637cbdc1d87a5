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
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from posboxless import __version__, logs
from posboxless.device import PrinterService
from posboxless.web.origin import host_name

if TYPE_CHECKING:
    from posboxless.app import AppState

log = logging.getLogger(__name__)

JOURNAL_ROWS = 15
LOG_LINES = 80
MAX_LOG_LINES = 500


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
    journal = getattr(printer, "journal", None)
    if journal is None:
        return "This printer keeps no journal."
    try:
        rows: list[dict[str, Any]] = journal(JOURNAL_ROWS)
    except Exception as exc:  # a stopped printer: say so on the page
        return str(exc)
    return rows


def _log_lines(request: Request) -> int:
    """``?log_lines=N`` (support bundles ask for the whole ring), else what the page shows."""
    try:
        return max(1, min(int(request.query_params.get("log_lines", LOG_LINES)), MAX_LOG_LINES))
    except ValueError:
        return LOG_LINES


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
        "devices": devices,
        "scale": services.scale.reading() if services.scale else None,
        "barcodes": services.scanner.recent()[:20] if services.scanner else [],
        "printers": [
            {
                "name": name,
                "default": name == services.default_printer_name,
                "status": printer.status().status,
                "journal": _journal(printer),
            }
            for name, printer in services.printers.items()
        ],
        "clients": state.clients.recent(),
        "logs": logs.recent.lines(_log_lines(request)),
        "actions": {"allowed": allowed, "reason": reason},
    }
