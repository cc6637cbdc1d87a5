"""The scanner calls of ``/hw_proxy`` (web layer): translation only.

``scanner`` never fails fast (17-18 re-poll at once on error, which would spin): without a
scanner it holds the call like a quiet one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Mapping
from typing import Any

from starlette.requests import Request

from posboxless.device import DeviceStatus
from posboxless.web.hw_calls import Call, Handler, HwProxyContext, KindWeb, disconnected
from posboxless.web.state import AppState

SCANNER_HOLD_SECONDS = 5.0
"""Odoo 8-16 abort the scanner long-poll after 7.5 s; holding 5 s is safe for every version."""


def handlers(context: HwProxyContext) -> dict[str, Handler]:
    async def scanner(call: Call) -> str:
        found = context.services.scanner
        client = f"{call.client_ip}|{call.origin or ''}"
        if found is None:
            waiting: Awaitable[str] = _quiet(SCANNER_HOLD_SECONDS)
        else:
            waiting = found.next_barcode(client, SCANNER_HOLD_SECONDS)
        barcode, gone = await _unless_disconnected(call.request, waiting)
        if gone and barcode and found is not None:
            found.give_back(barcode)
            return ""
        return barcode

    async def is_scanner_connected(call: Call) -> bool:
        found = context.services.scanner
        return found is not None and found.status().status == "connected"

    return {"scanner": scanner, "is_scanner_connected": is_scanner_connected}


def status(context: HwProxyContext, host: str | None) -> Mapping[str, Any]:
    scanner = context.services.scanner
    found = (
        scanner.status()
        if scanner
        else DeviceStatus("disconnected", ("No barcode scanner configured",))
    )
    return {"scanner": found.as_json()}


# Outside the refreshed card, so that a refresh does not wipe what is being typed.
_BARCODE_FORM = (
    "<form id='barcode-form' class='action-form'><input id='barcode-input' "
    "placeholder='barcode' maxlength='512' required> <button>Scan</button></form>"
)


def page(state: AppState) -> str:
    # The card is filled by the page's script from /api/diagnostics.
    return f"<h2>Recent barcodes</h2><div id='barcodes' class='card'></div>{_BARCODE_FORM}"


WEB = KindWeb(handlers=handlers, status=status, page=page)


async def _quiet(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return ""


async def _unless_disconnected(request: Request, waiting: Awaitable[str]) -> tuple[str, bool]:
    """Await ``waiting`` unless the HTTP client goes away first; returns ``(result, gone)``.

    A client that left has its wait cancelled, so that no barcode is handed to a request nobody
    will read; a barcode that arrived in the very instant the client left is returned with
    ``gone=True`` for the caller to give back."""
    task = asyncio.ensure_future(waiting)
    watcher = asyncio.ensure_future(disconnected(request))
    try:
        done, _ = await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
    gone = watcher in done
    if task in done:
        return task.result(), gone
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return "", True
