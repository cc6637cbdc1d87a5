"""The printer calls of ``/hw_proxy`` (web layer): translation only, the printer chosen by
``Host`` (``printer/selection.py``).

A print or drawer call waits (``PrinterService.wait_job``, bounded by the printer's
``answer_timeout``) for the printer to confirm the job; a job the printer could not take in that
time is withdrawn by the service (it never prints later) and the POS is told:

* ``default_printer_action`` (13-20) answers ``true`` once printed, and ``false`` when the job was
  refused or withdrawn (the POS shows "Connection to the printer failed" and offers a retry). A
  job partly sent but not confirmed yet also answers ``true``: it will be finished, and ``false``
  would invite a retry that prints it twice. A "queue" printer's kept job answers ``true``.
* ``print_xml_receipt`` / ``open_cashbox`` (8-12) ignore their result, so a refused or withdrawn
  job is answered as a JSON-RPC error: the POS shows it in its "Printing Error" popup and keeps
  the receipt to send again. A job not confirmed yet is an error too (``PrintNotConfirmed``, which
  says it will be finished): the POS's automatic resend joins the same job and never prints a
  second copy. A "queue" printer's kept job answers ``"queued"`` (printed: ``null``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request

from posboxless.device import (
    DeviceStatus,
    DeviceUnavailable,
    InvalidInput,
    JobNotConfirmed,
    JobOutcome,
    JobState,
    PrinterService,
)
from posboxless.web.hw_calls import Call, Handler, HwProxyContext, KindWeb, disconnected
from posboxless.web.state import AppState

log = logging.getLogger(__name__)


def handlers(context: HwProxyContext) -> dict[str, Handler]:
    def printer(call: Call) -> PrinterService:
        found = context.printers().for_host(call.host)
        if found is None:
            raise DeviceUnavailable("No receipt printer is configured in posboxless")
        return found

    async def print_xml_receipt(call: Call) -> str | None:
        receipt = call.params.get("receipt")
        if not isinstance(receipt, str) or not receipt.strip():
            raise InvalidInput("print_xml_receipt needs 'receipt': the XML text of the receipt")
        target = printer(call)
        job = await target.submit_xml_receipt(receipt)
        outcome = await _wait_unless_gone(call.request, target, job)
        return None if outcome is None else _answer_8_12("XML receipt", outcome)

    async def open_cashbox(call: Call) -> str | None:
        target = printer(call)
        job = await target.submit_drawer_kick()
        outcome = await _wait_unless_gone(call.request, target, job)
        return None if outcome is None else _answer_8_12("cash drawer kick", outcome)

    async def default_printer_action(call: Call) -> bool:
        data = call.params.get("data")
        if isinstance(data, str):  # the enterprise IoT path sends 'data' JSON-encoded
            try:
                data = json.loads(data)
            except json.JSONDecodeError:
                raise InvalidInput("'data' is a string that is not JSON") from None
        if not isinstance(data, dict):
            raise InvalidInput("default_printer_action needs 'data': {action: ...}")
        action = data.get("action")
        try:
            if action == "print_receipt":
                receipt = data.get("receipt")
                if not isinstance(receipt, str) or not receipt:
                    raise InvalidInput("print_receipt needs 'receipt': a base64 JPEG or PNG image")
                target = printer(call)
                job = await target.submit_image_receipt(receipt)
            elif action == "cashbox":
                target = printer(call)
                job = await target.submit_drawer_kick()
            else:
                raise InvalidInput(
                    f"Unknown printer action {action!r}; expected 'print_receipt' or 'cashbox'",
                    arguments=[f"Unknown printer action {action!r}", action],
                )
            outcome = await _wait_unless_gone(call.request, target, job)
        except DeviceUnavailable as exc:
            log.warning("printer action %s refused: %s", action, exc)
            return False
        if outcome is None:
            return False
        _log_outcome(f"printer action {action}", outcome)
        # true also for "partly sent, not confirmed" and "kept for later": see the module doc.
        return outcome.will_print

    return {
        "print_xml_receipt": print_xml_receipt,
        "open_cashbox": open_cashbox,
        "default_printer_action": default_printer_action,
    }


def status(context: HwProxyContext, host: str | None) -> Mapping[str, Any]:
    """The addressed printer under the keys every version reads, the others by name."""
    printers = context.printers()
    printer = printers.for_host(host) if host is not None else printers.default
    printer_status = (
        printer.status()
        if printer
        else DeviceStatus("disconnected", ("No receipt printer configured",))
    )
    # 8-12 read `escpos`, 13-18 read `printer`: same printer, same state.
    result: dict[str, Any] = {
        "printer": printer_status.as_json(),
        "escpos": printer_status.as_json(),
    }
    for name, other in printers.by_name.items():
        if other is not printer:
            result[f"printer_{name}"] = other.status().as_json()
    return result


def page(state: AppState) -> str:
    # Filled by the page's script from /api/diagnostics (the printers, the last simulated receipt).
    return "<h2>Printers</h2><div id='printers' class='grid'></div><div id='receipt-box'></div>"


WEB = KindWeb(handlers=handlers, status=status, page=page)


async def _wait_unless_gone(
    request: Request, printer: PrinterService, job: str
) -> JobOutcome | None:
    """The job's outcome, or None when the POS went away first (Odoo 10/12 kitchen printers give
    up after 5 s and send the job again): the cancelled wait then withdraws the job if it has not
    started, so the resend prints the only copy."""
    waiting = asyncio.ensure_future(printer.wait_job(job))
    watcher = asyncio.ensure_future(disconnected(request))
    try:
        await asyncio.wait({waiting, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
    if waiting.done():
        return waiting.result()
    waiting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await waiting
    log.warning("job %s: the POS left before the answer; not printed behind its back", job)
    return None


def _log_outcome(what: str, outcome: JobOutcome) -> None:
    level = logging.INFO if outcome.printed else logging.WARNING
    log.log(level, "%s, job %s: %s (%s)", what, outcome.job_id, outcome.state, outcome.message)


def _answer_8_12(what: str, outcome: JobOutcome) -> str | None:
    """Odoo 8-12 ignore the result and show a JSON-RPC error's message in a popup."""
    _log_outcome(what, outcome)
    if outcome.state is JobState.PRINTED:
        return None
    if outcome.state is JobState.QUEUED:
        return "queued"
    if outcome.state is JobState.PRINTING:
        raise JobNotConfirmed(outcome.message, reason=outcome.reason)
    raise DeviceUnavailable(outcome.message, reason=outcome.reason)
