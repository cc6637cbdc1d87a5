"""The ``/hw_proxy/*`` API of Odoo's IoT Box (odoo-protocol.md §13, odoo-19-20.md), Odoo 8-20:
the dispatcher.

Only translation lives here and in the kinds' handler modules: JSON-RPC in, a service call,
JSON-RPC out. This module owns the envelope, the calls common to every version (``hello``,
``handshake``, ``status_json``, ``log``, the calls with nothing to do or not supported) and how a
failure is answered; each device kind's calls are in its package (``printer/hw_proxy.py``,
``scale/hw_proxy.py``... found through the kind registry, ``posboxless/kinds.py``), which also
decides, per Odoo version, what a job's outcome is answered with (``printer/hw_proxy.py``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from posboxless.device import DeviceError, InvalidInput
from posboxless.services import Services
from posboxless.web import jsonrpc
from posboxless.web.body import BodyTooLarge, read_body
from posboxless.web.hw_calls import Call, Handler, HwProxyContext, KindWeb
from posboxless.web.jsonrpc import RpcError
from posboxless.web.kinds import web_parts
from posboxless.web.origin import Refusal

__all__ = ["Call", "Handler", "HwProxyApi", "status_snapshot"]

log = logging.getLogger(__name__)

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


def _localhost_only(host: str) -> bool:
    return host == "localhost"


class HwProxyApi:
    def __init__(
        self,
        services: Services,
        max_body_bytes: int,
        is_local_host: Callable[[str], bool] = _localhost_only,
    ) -> None:
        self.services = services
        self.max_body_bytes = max_body_bytes
        self.is_local_host = is_local_host
        self.context = HwProxyContext(services, is_local_host)
        self.kinds: list[KindWeb] = web_parts()
        self.handlers: dict[str, Handler] = {
            "handshake": self.handshake,
            "status_json": self.status_json,
            "log": self.log_call,
        }
        for kind in self.kinds:
            for name, handler in kind.handlers(self.context).items():
                if name in self.handlers:  # never one kind silently answering for another
                    raise ValueError(f"/hw_proxy/{name} is claimed twice (by device kinds)")
                self.handlers[name] = handler
        # Only where no kind answers: a kind may take over a call posboxless did not support.
        for name in _LOG_STUBS:
            self.handlers.setdefault(name, self._log_stub(name))
        for name, reason in _UNSUPPORTED.items():
            self.handlers.setdefault(name, self._unsupported(name, reason))

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
        return _status(self.context, self.kinds, call.host)

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


def status_snapshot(
    services: Services,
    host: str | None = None,
    is_local_host: Callable[[str], bool] = _localhost_only,
) -> dict[str, Any]:
    """The ``status_json`` result for a request to ``host`` (None: the default printer's view):
    cached states only, so it answers in microseconds. Each kind adds its entries."""
    return _status(HwProxyContext(services, is_local_host), web_parts(), host)


def _status(context: HwProxyContext, kinds: list[KindWeb], host: str | None) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for kind in kinds:
        result.update(kind.status(context, host))
    return result


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
