"""``POST /cgi-bin/epos/service.cgi``: every configured printer answers as an Epson ePOS-Print
printer (epos.md), so Odoo 15-20 print with their "ePos Printer" / "Use an Epson printer" settings.

Translation only: the body is parsed and rendered by ``posboxless.epos.protocol`` for the chosen
printer's profile, queued as ONE job in that printer's durable queue (``source="epos"``), and the
answer is sent once the printer has confirmed it, or once it is certain it will never print
(``PrinterService.wait_job`` withdraws a job the printer could not take in time; the printer's
``answer_timeout``, 8 s by default, keeps the answer within Odoo 19's 15 s abort).

* The body is raw XML whatever the ``Content-Type`` says (jQuery labels it form-encoded).
* Printer: ``?devid=<printer name>`` if given, else the ``Host`` as for ``/hw_proxy``
  (``kitchen.localhost`` -> printer ``kitchen``, anything else -> the default printer). Odoo
  always sends ``devid=local_printer``, which means "by Host".
* Always ``200`` with a ``<response>`` (Odoo ignores the HTTP status and treats a body without
  one as "printer not reachable").
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response

from posboxless.device import (
    DeviceError,
    HasPrinterProfile,
    InvalidInput,
    JobKind,
    JobOutcome,
    PrinterService,
)
from posboxless.epos.protocol import (
    DEVICE_ID,
    MAX_BODY_BYTES,
    EposAnswer,
    EposDeviceNotFound,
    EposError,
    EposTooLarge,
    PrinterCondition,
    answer_for,
    error_answer,
    parse_request,
    render_request,
    response_xml,
)
from posboxless.printer.escpos.status import PrinterState
from posboxless.printer.profiles import get_profile
from posboxless.services import Services
from posboxless.web.body import BodyTooLarge, read_body
from posboxless.web.origin import Refusal, host_name

log = logging.getLogger(__name__)

SERVICE_PATH = "/cgi-bin/epos/service.cgi"
MEDIA_TYPE = "text/xml; charset=utf-8"
PREFLIGHT_HEADERS = ("SOAPAction", "If-Modified-Since", "Content-Type")
"""Non-simple headers ePOS clients send (Epson's SDK in Odoo 14, third-party clients)."""

_FALLBACK_PROFILE = get_profile("generic-80")


def xml_response(answer: EposAnswer) -> Response:
    return Response(answer.to_xml(), media_type=MEDIA_TYPE)


def refusal_response(refusal: Refusal) -> Response:
    """Origin or Host refused: an ePOS failure (nothing printed) whose code says what to change.
    Like every refusal it carries no ``Access-Control-Allow-Origin``: a page that may not print
    may not read answers either, so Odoo reports the printer unreachable; the log says why."""
    code = refusal.name.rpartition(".")[2] + ": " + refusal.message
    body = response_xml(False, code, 0)
    return Response(body, status_code=refusal.status, media_type=MEDIA_TYPE)


class EposApi:
    def __init__(
        self,
        services: Services,
        max_body_bytes: int,
        is_local_host: Callable[[str], bool],
    ) -> None:
        self.services = services
        self.max_body_bytes = min(max_body_bytes, MAX_BODY_BYTES)
        self.is_local_host = is_local_host

    async def endpoint(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            # A real preflight is answered by the origin policy; a bare OPTIONS lands here.
            return Response(
                status_code=204,
                headers={
                    "Allow": "POST, OPTIONS",
                    "Access-Control-Allow-Methods": "POST, OPTIONS",
                    "Access-Control-Allow-Headers": ", ".join(PREFLIGHT_HEADERS),
                    "Access-Control-Max-Age": "86400",
                },
            )
        printer: PrinterService | None = None
        try:
            printer = self._printer(request)
            body = await self._read_body(request)
            return xml_response(await self._print(printer, body, request))
        except EposError as exc:
            where = f" for printer {printer.name}" if printer is not None else ""
            log.warning("ePOS request%s refused (%s): %s", where, exc.code, exc)
            return xml_response(error_answer(exc, condition_of(printer)))

    # -- steps ---------------------------------------------------------------------------------
    def _printer(self, request: Request) -> PrinterService:
        devid = request.query_params.get("devid")
        printers = self.services.printer_selection(self.is_local_host)
        printer = printers.for_device_id(devid, host_name(request.headers.get("host", "")))
        if printer is not None:
            return printer
        if devid and devid != DEVICE_ID:
            known = ", ".join(printers.device_ids())
            raise EposDeviceNotFound(f"no printer {devid!r} (device ids: {known})")
        raise EposDeviceNotFound("no printer is configured in posboxless")

    async def _read_body(self, request: Request) -> bytes:
        try:
            return await read_body(request, self.max_body_bytes)
        except BodyTooLarge as exc:
            raise EposTooLarge(str(exc)) from None

    async def _print(self, printer: PrinterService, body: bytes, request: Request) -> EposAnswer:
        profile = printer.profile if isinstance(printer, HasPrinterProfile) else _FALLBACK_PROFILE
        # Parsing and dithering a receipt take milliseconds of CPU: off the event loop.
        parsed = await asyncio.to_thread(parse_request, body, max_bytes=self.max_body_bytes)
        if not parsed.prints:
            return answer_for("printed", None, condition_of(printer))
        rendered = await asyncio.to_thread(render_request, parsed, profile)
        for warning in rendered.warnings:
            log.warning("ePOS job for printer %s: %s", printer.name, warning)
        what = _describe(parsed.kind)
        try:
            job_id = await printer.submit_job(JobKind(rendered.kind), rendered.data, source="epos")
        except InvalidInput as exc:
            log.warning("ePOS %s for printer %s rejected: %s", what, printer.name, exc)
            return answer_for("failed", "invalid", condition_of(printer))
        except DeviceError as exc:
            log.warning("ePOS %s for printer %s refused: %s", what, printer.name, exc)
            return answer_for("failed", exc.reason, condition_of(printer))
        outcome = await printer.wait_job(job_id)
        answer = answer_for(_state(outcome), outcome.reason, condition_from(outcome.printer_state))
        level = logging.INFO if answer.success and not answer.code else logging.WARNING
        log.log(
            level,
            "ePOS %s from %s, printer %s, job %s: %s (answered success=%s code=%r)",
            what,
            request.headers.get("origin") or (request.client.host if request.client else "?"),
            printer.name,
            job_id,
            outcome.message,
            str(answer.success).lower(),
            answer.code,
        )
        return answer


def _describe(kind: str) -> str:
    return {"drawer": "cash drawer kick", "image": "receipt", "text": "text"}.get(kind, kind)


def _state(outcome: JobOutcome) -> str:
    state = outcome.state.value
    if state == "done":
        return "printed"
    if state in ("printing", "queued"):
        return state
    return "failed"


def condition_from(state: PrinterState | None, *, answering: bool = True) -> PrinterCondition:
    """ePOS status bits from the printer's last decoded status (none yet: nothing is claimed)."""
    if state is None:
        return PrinterCondition(answering=answering)
    error = (state.error or "").lower()
    return PrinterCondition(
        answering=answering,
        online=state.online,
        cover_open=state.cover_open,
        paper_out=state.paper_out,
        paper_near_end=state.paper_near_end,
        drawer_high=state.drawer_pin3_high,
        cutter_error="cutter" in error,
        unrecoverable_error="restart" in error,
        autorecover_error="overheated" in error,
        mechanical_error="mechanism" in error,
    )


def condition_of(printer: PrinterService | None) -> PrinterCondition:
    """The condition from a printer's cached snapshot (no job to ask about)."""
    if printer is None:
        return PrinterCondition()
    snapshot = printer.snapshot()
    answering = snapshot.status.status not in ("disconnected", "connecting")
    return condition_from(snapshot.printer_state, answering=answering)
