"""The ``/hw_proxy/*`` API of Odoo's IoT Box (odoo-protocol.md §13, odoo-19-20.md), Odoo 8-20.

Only translation lives here: JSON-RPC in, a service call, JSON-RPC out. Which answer each Odoo
version needs for each job outcome is decided here too, because it is a protocol matter. A print
or drawer call waits (``PrinterService.wait_job``, bounded by the printer's ``answer_timeout``)
for the printer to confirm the job; a job the printer could not take in that time is withdrawn by
the service (it never prints later) and the POS is told:

* ``default_printer_action`` (13-20) answers ``true`` once printed, and ``false`` when the job was
  refused or withdrawn (the POS shows "Connection to the printer failed" and offers a retry). A
  job partly sent but not confirmed yet also answers ``true``: it will be finished, and ``false``
  would invite a retry that prints it twice. A "queue" printer's kept job answers ``true``.
* ``print_xml_receipt`` / ``open_cashbox`` (8-12) ignore their result, so a refused or withdrawn
  job is answered as a JSON-RPC error: the POS shows it in its "Printing Error" popup and keeps
  the receipt to send again. A job not confirmed yet is an error too (``PrintNotConfirmed``, which
  says it will be finished): the POS's automatic resend joins the same job and never prints a
  second copy. A "queue" printer's kept job answers ``"queued"`` (printed: ``null``).
* ``scanner`` never fails fast (17-18 re-poll at once on error, which would spin): without a
  scanner it holds the call like a quiet one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from posboxless.device import (
    DeviceError,
    DeviceStatus,
    DeviceUnavailable,
    InvalidInput,
    JobNotConfirmed,
    JobOutcome,
    JobState,
    PrinterService,
    ScaleService,
)
from posboxless.services import Services
from posboxless.web import jsonrpc, line_display, payment_terminal
from posboxless.web.body import BodyTooLarge, read_body
from posboxless.web.jsonrpc import RpcError
from posboxless.web.origin import Refusal, host_name

log = logging.getLogger(__name__)

SCANNER_HOLD_SECONDS = 5.0
"""Odoo 8-16 abort the scanner long-poll after 7.5 s; holding 5 s is safe for every version."""

_LOG_STUBS = (
    "scan_item_success",
    "scan_item_error_unrecognized",
    "help_needed",
    "help_canceled",
    "transaction_start",
    "transaction_end",
    "cashier_mode_activated",
    "cashier_mode_deactivated",
)
_UNSUPPORTED = {
    "payment_request": "payment terminals are not driven by posboxless",
    "payment_status": "payment terminals are not driven by posboxless",
    "payment_cancel": "payment terminals are not driven by posboxless",
    "print_pdf_invoice": "PDF invoices are not printed by posboxless",
    "print_receipt": (
        "the legacy JSON receipt format is not supported; Odoo 8-12 print with "
        "print_xml_receipt and Odoo 13-18 with default_printer_action"
    ),
    "request_blackbox": "the Belgian fiscal data module is not supported",
    "request_serial": "the Belgian fiscal data module is not supported",
}


NO_ORDER_MESSAGE = (
    "This customer display gets no order from the POS: Odoo 19 sends it only to an IoT Box. "
    'See "Customer display" in the posboxless README.'
)
NO_ORDER_DISPLAY: dict[str, Any] = {
    # The shape of Odoo 19's display data (odoo-19-20.md §2.6): one line holding the message,
    # since its page shows only "Welcome." for an order without lines.
    "finalized": False,
    "general_customer_note": "",
    "amount": "",
    "lines": [
        {
            "productId": 0,
            "productName": NO_ORDER_MESSAGE,
            "price": "",
            "qty": "",
            "unit": "",
            "unitPrice": "",
            "discount": "",
            "customerNote": "",
            "internalNote": "[]",
            "packLotLines": [],
            "taxGroupLabels": "",
            "comboParent": "",
            "price_without_discount": "",
            "isSelected": False,
        }
    ],
    "paymentLines": [],
}
"""The answer to a display poll while no POS has pushed anything since start."""


@dataclass(frozen=True)
class Call:
    params: dict[str, Any]
    client_ip: str
    origin: str | None
    request: Request


Handler = Callable[[Call], Awaitable[Any]]


def _missing(what: str) -> DeviceStatus:
    return DeviceStatus("disconnected", (f"No {what} configured",))


class HwProxyApi:
    def __init__(
        self,
        services: Services,
        max_body_bytes: int,
        is_local_host: Callable[[str], bool] = lambda host: host == "localhost",
    ) -> None:
        self.services = services
        self.max_body_bytes = max_body_bytes
        self.is_local_host = is_local_host
        self.handlers: dict[str, Handler] = {
            "handshake": self.handshake,
            "status_json": self.status_json,
            "log": self.log_call,
            "print_xml_receipt": self.print_xml_receipt,
            "open_cashbox": self.open_cashbox,
            "default_printer_action": self.default_printer_action,
            "scale_read": self.scale_read,
            "scale_zero": self.scale_zero,
            "scale_tare": self.scale_tare,
            "scale_clear_tare": self.scale_clear_tare,
            "scanner": self.scanner,
            "is_scanner_connected": self.is_scanner_connected,
            "customer_facing_display": self.customer_facing_display,
            "take_control": self.take_control,
            "test_ownership": self.test_ownership,
            "display_refresh": self.display_refresh,
            "payment_terminal_transaction_start": self.payment_terminal_transaction_start,
        }
        self.handlers.update(line_display.handlers(services))
        for name in _LOG_STUBS:
            self.handlers[name] = self._log_stub(name)
        for name, reason in _UNSUPPORTED.items():
            self.handlers[name] = self._unsupported(name, reason)

    # HTTP entry point ------------------------------------------------------------------------
    async def endpoint(self, request: Request) -> Response:
        name = request.path_params["name"].strip("/")
        if name == "hello":
            return PlainTextResponse("ping")
        handler = self.handlers.get(name)
        if request.method != "POST":
            if handler is None:
                return _error(_unknown(name))
            return _error(
                RpcError(
                    f"/hw_proxy/{name} is a JSON-RPC call: send it with POST and "
                    "'Content-Type: application/json'",
                    code=jsonrpc.INVALID_REQUEST,
                    name="posboxless.MethodNotAllowed",
                    arguments=[request.method, name],
                )
            )
        try:
            body = await self._read_body(request)
            call = jsonrpc.parse_call(body, request.headers.get("content-type"))
        except RpcError as exc:
            log.warning("bad request to /hw_proxy/%s: %s", name, exc.message)
            response = _error(exc)
            if exc.name == TOO_LARGE:  # the rest of the body is not worth reading
                response.headers["Connection"] = "close"
            return response
        if handler is None:
            log.warning("unknown call /hw_proxy/%s", name)
            return _error(_unknown(name), call.id)
        client = request.client
        ctx = Call(
            call.params, client.host if client else "?", request.headers.get("origin"), request
        )
        try:
            result = await handler(ctx)
        except RpcError as exc:
            return _error(exc, call.id)
        except InvalidInput as exc:
            log.warning("/hw_proxy/%s: %s", name, exc)
            return _error(_device_error(exc), call.id)
        except DeviceError as exc:
            log.error("/hw_proxy/%s failed: %s", name, exc)
            return _error(_device_error(exc), call.id)
        except Exception as exc:  # the POS gets an Odoo-shaped error, never an HTML 500
            log.exception("/hw_proxy/%s crashed", name)
            return _error(
                RpcError(
                    f"Internal error in posboxless while handling {name}: {exc}",
                    name="posboxless.InternalError",
                    exception_type="internal_error",
                ),
                call.id,
            )
        return Response(jsonrpc.result_body(call.id, result), media_type="application/json")

    async def _read_body(self, request: Request) -> bytes:
        try:
            return await read_body(request, self.max_body_bytes)
        except BodyTooLarge as exc:
            raise too_large(exc) from None

    # Core ------------------------------------------------------------------------------------
    async def handshake(self, call: Call) -> bool:
        return True

    async def status_json(self, call: Call) -> dict[str, Any]:
        printer = self.services.printer_selection(self.is_local_host).for_host(_host(call.request))
        return status_snapshot(self.services, printer)

    async def log_call(self, call: Call) -> None:
        arguments = call.params.get("arguments", [])
        if not isinstance(arguments, list):
            arguments = [arguments]
        text = " ".join(a if isinstance(a, str) else json.dumps(a) for a in arguments)
        log.info(
            "POS log from %s: %s", call.client_ip, text[:500] + ("…" if len(text) > 500 else "")
        )
        return None

    def _log_stub(self, name: str) -> Handler:
        async def handler(call: Call) -> None:
            log.info("POS called %s %s (nothing to do)", name, json.dumps(call.params)[:200])
            return None

        return handler

    def _unsupported(self, name: str, reason: str) -> Handler:
        async def handler(call: Call) -> None:
            raise RpcError(
                f"/hw_proxy/{name}: {reason}",
                name="posboxless.NotSupported",
                arguments=[f"/hw_proxy/{name}: {reason}", name],
            )

        return handler

    # Printing --------------------------------------------------------------------------------
    def _printer(self, call: Call) -> PrinterService:
        printer = self.services.printer_selection(self.is_local_host).for_host(_host(call.request))
        if printer is None:
            raise DeviceUnavailable("No receipt printer is configured in posboxless")
        return printer

    async def print_xml_receipt(self, call: Call) -> str | None:
        receipt = call.params.get("receipt")
        if not isinstance(receipt, str) or not receipt.strip():
            raise InvalidInput("print_xml_receipt needs 'receipt': the XML text of the receipt")
        printer = self._printer(call)
        job = await printer.submit_xml_receipt(receipt)
        outcome = await _wait_unless_gone(call.request, printer, job)
        return None if outcome is None else _answer_8_12("XML receipt", outcome)

    async def open_cashbox(self, call: Call) -> str | None:
        printer = self._printer(call)
        job = await printer.submit_drawer_kick()
        outcome = await _wait_unless_gone(call.request, printer, job)
        return None if outcome is None else _answer_8_12("cash drawer kick", outcome)

    async def default_printer_action(self, call: Call) -> bool:
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
                printer = self._printer(call)
                job = await printer.submit_image_receipt(receipt)
            elif action == "cashbox":
                printer = self._printer(call)
                job = await printer.submit_drawer_kick()
            else:
                raise InvalidInput(
                    f"Unknown printer action {action!r}; expected 'print_receipt' or 'cashbox'",
                    arguments=[f"Unknown printer action {action!r}", action],
                )
            outcome = await _wait_unless_gone(call.request, printer, job)
        except DeviceUnavailable as exc:
            log.warning("printer action %s refused: %s", action, exc)
            return False
        if outcome is None:
            return False
        _log_outcome(f"printer action {action}", outcome)
        # true also for "partly sent, not confirmed" and "kept for later": see the module doc.
        return outcome.will_print

    # Scale -----------------------------------------------------------------------------------
    def _scale(self) -> ScaleService:
        if self.services.scale is None:
            raise DeviceUnavailable("No scale is configured in posboxless")
        return self.services.scale

    async def scale_read(self, call: Call) -> dict[str, Any]:
        # Always an object: Odoo 8-16 read `.weight` without checking for null.
        if self.services.scale is None:
            return {"weight": 0.0, "unit": "kg", "info": ["no_scale"]}
        return self.services.scale.reading()

    async def scale_zero(self, call: Call) -> bool:
        await self._scale().zero()
        return True

    async def scale_tare(self, call: Call) -> bool:
        await self._scale().tare()
        return True

    async def scale_clear_tare(self, call: Call) -> bool:
        await self._scale().clear_tare()
        return True

    # Scanner ---------------------------------------------------------------------------------
    async def scanner(self, call: Call) -> str:
        scanner = self.services.scanner
        client = f"{call.client_ip}|{call.origin or ''}"
        if scanner is None:
            waiting: Awaitable[str] = _quiet(SCANNER_HOLD_SECONDS)
        else:
            waiting = scanner.next_barcode(client, SCANNER_HOLD_SECONDS)
        barcode, gone = await _unless_disconnected(call.request, waiting)
        if gone and barcode and scanner is not None:
            scanner.give_back(barcode)
            return ""
        return barcode

    async def is_scanner_connected(self, call: Call) -> bool:
        scanner = self.services.scanner
        return scanner is not None and scanner.status().status == "connected"

    # Customer display ------------------------------------------------------------------------
    async def customer_facing_display(self, call: Call) -> dict[str, Any]:
        display = self.services.display
        if "action" in call.params:  # Odoo 18 and 19
            if call.params.get("action") == "get" and display.updated is None:
                # Nothing was ever pushed: Odoo 19's cashier never pushes to a proxy
                # (odoo-19-20.md §2.6), and its display page would show "Welcome." forever.
                return {"status": "retrieved", "data": NO_ORDER_DISPLAY}
            return display.action(call.params)
        return display.update_html(call.client_ip, call.params)

    async def take_control(self, call: Call) -> dict[str, Any]:
        return self.services.display.take_control(call.client_ip, call.params)

    async def test_ownership(self, call: Call) -> dict[str, Any]:
        return self.services.display.test_ownership(call.client_ip)

    async def display_refresh(self, call: Call) -> str:
        return "OK"

    # Payment terminals (OCA pos_payment_terminal) ---------------------------------------------
    async def payment_terminal_transaction_start(self, call: Call) -> dict[str, Any]:
        return await payment_terminal.transaction_start(self.services.terminals, call.params)


def status_snapshot(services: Services, printer: PrinterService | None = None) -> dict[str, Any]:
    """The ``status_json`` result: cached states only, so it answers in microseconds.
    ``printer`` is the one the caller addresses (the default printer unless named)."""
    printer = printer or services.default_printer
    printer_status = printer.status() if printer else _missing("receipt printer")
    result: dict[str, Any] = {
        # 8-12 read `escpos`, 13-18 read `printer`: same printer, same state.
        "printer": printer_status.as_json(),
        "escpos": printer_status.as_json(),
        "scale": (services.scale.status() if services.scale else _missing("scale")).as_json(),
        "scanner": (
            services.scanner.status() if services.scanner else _missing("barcode scanner")
        ).as_json(),
    }
    if services.customer_display is not None:  # the OCA 8.0 box module's key
        result["customer_display"] = services.customer_display.status().as_json()
    for name, other in services.printers.items():
        if other is not printer:
            result[f"printer_{name}"] = other.status().as_json()
    result.update(payment_terminal.status_entries(services.terminals))
    return result


async def _quiet(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return ""


async def _unless_disconnected(request: Request, waiting: Awaitable[str]) -> tuple[str, bool]:
    """Await ``waiting`` unless the HTTP client goes away first; returns ``(result, gone)``.

    A client that left has its wait cancelled, so that no barcode is handed to a request nobody
    will read; a barcode that arrived in the very instant the client left is returned with
    ``gone=True`` for the caller to give back."""
    task = asyncio.ensure_future(waiting)
    watcher = asyncio.ensure_future(_disconnected(request))
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


async def _disconnected(request: Request) -> None:
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


async def _wait_unless_gone(
    request: Request, printer: PrinterService, job: str
) -> JobOutcome | None:
    """The job's outcome, or None when the POS went away first (Odoo 10/12 kitchen printers give
    up after 5 s and send the job again): the cancelled wait then withdraws the job if it has not
    started, so the resend prints the only copy."""
    waiting = asyncio.ensure_future(printer.wait_job(job))
    watcher = asyncio.ensure_future(_disconnected(request))
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


def _host(request: Request) -> str:
    return host_name(request.headers.get("host", ""))


ALLOWED_HEADERS = ("Content-Type", "X-Debug-Mode", "X-Requested-With")
"""What Odoo's POS (8-18) sends cross-origin to /hw_proxy (declared to the origin policy)."""


def refusal_response(refusal: Refusal) -> Response:
    """Origin or Host refused: Odoo's error envelope, so that a POS shows the reason."""
    error = RpcError(
        refusal.message,
        code=refusal.status,
        name=refusal.name,
        arguments=list(refusal.arguments),
        exception_type="access_denied",
    )
    return Response(
        jsonrpc.error_body(error), status_code=refusal.status, media_type="application/json"
    )


TOO_LARGE = "posboxless.RequestTooLarge"


def too_large(exc: BodyTooLarge) -> RpcError:
    return RpcError(str(exc), code=jsonrpc.INVALID_REQUEST, name=TOO_LARGE, arguments=[exc.limit])


def _unknown(name: str) -> RpcError:
    return RpcError(
        f"Unknown call /hw_proxy/{name}",
        code=jsonrpc.METHOD_NOT_FOUND,
        name="posboxless.UnknownMethod",
        arguments=[f"Unknown call /hw_proxy/{name}", name],
    )


def _device_error(exc: DeviceError) -> RpcError:
    return RpcError(str(exc), name=exc.error_name, arguments=exc.arguments)


def _error(error: RpcError, request_id: Any = None) -> Response:
    # Always HTTP 200, as Odoo does: jQuery (8-16) drops the body of a non-2xx answer, and the
    # POS could then not show the message.
    return Response(jsonrpc.error_body(error, request_id), media_type="application/json")
