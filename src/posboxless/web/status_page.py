"""The diagnostics page at ``/`` (and ``/hw_proxy/status``) and its JSON API under ``/api/``.

The page is self-contained (inline CSS and JavaScript from ``web/static``, no external resource)
and readable without JavaScript: devices and warnings are rendered on the server, then the
script refreshes everything from ``/api/diagnostics`` every two seconds. Actions are POSTs of
JSON to ``/api/<action>``, guarded by ``posboxless.web.diagnostics.may_act``.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Awaitable, Callable
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from posboxless import __version__
from posboxless.device import (
    DeviceError,
    DeviceUnavailable,
    InjectsBarcodes,
    InvalidInput,
    PrinterService,
    PrintsTestPage,
    Reprints,
)
from posboxless.web.body import read_body
from posboxless.web.diagnostics import last_receipt_image, may_act, snapshot
from posboxless.web.kinds import web_parts
from posboxless.web.proxy_state import proxy_state_lines
from posboxless.web.terminal_actions import ACTIONS as TERMINAL_ACTIONS

if TYPE_CHECKING:
    from posboxless.web.state import AppState

log = logging.getLogger(__name__)

MAX_ACTION_BODY = 4096


@cache
def _static(name: str) -> str:
    return resources.files("posboxless.web").joinpath("static").joinpath(name).read_text("utf-8")


def _json_for_script(value: Any) -> str:
    # Inside <script>, "</" could end the element early: a barcode must not become markup.
    return json.dumps(value, default=str).replace("</", "<\\/").replace("<!--", "<\\!--")


def render(state: AppState, request: Request | None = None) -> str:
    e = html.escape
    data = snapshot(state, request) if request is not None else None
    rows = []
    for device in state.services.all():
        status = device.status()
        rows.append(
            f"<tr><td>{e(device.kind)} <b>{e(device.name)}</b></td>"
            f"<td class='{e(status.status)}'>{e(status.status)}</td>"
            f"<td>{'<br>'.join(e(m) for m in status.messages)}</td><td></td></tr>"
        )
    banners = (
        data["alerts"]
        if data is not None
        else [{"level": "warn", "title": w, "fix": ""} for w in state.warnings()]
    )
    warnings = "".join(
        f"<div class='alert {e(a['level'])}' role='alert'><b>{e(a['title'])}</b>"
        + (f" <span class='fix'>{e(a['fix'])}</span>" if a["fix"] else "")
        + "</div>"
        for a in banners
    )
    listen = ", ".join(e(u) for u in state.listen_urls) or "–"
    script = ""
    if data is not None:
        script = (
            f"<script id='initial' type='application/json'>{_json_for_script(data)}</script>"
            f"<script>{_static('diagnostics.js')}</script>"
        )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width'>"
        f"<title>posboxless diagnostics</title><style>{_static('diagnostics.css')}</style>"
        "</head><body>"
        "<div id='notice' role='status'></div>"
        f"<h1>posboxless {e(__version__)}</h1>"
        f"<div class='sub'>Listening on {listen} · <span id='uptime'></span></div>"
        f"<div id='warnings'>{warnings}</div>"
        "<h2>Devices</h2><div id='devices'><table><tr><th>device</th><th>status</th>"
        f"<th>messages</th><th>last activity</th></tr>{''.join(rows)}</table></div>"
        # Asked for when an action is refused for want of the admin token (every kind's).
        "<div id='token-box' style='display:none' class='warning'><span id='token-reason'>"
        "</span><form id='token-form'><input id='token' type='password' "
        "placeholder='admin token' autocomplete='off'> <button>Use</button></form></div>"
        # Each kind's section (``<kind>/hw_proxy.py``), in the registry's order.
        f"{''.join(part.page(state) for part in web_parts() if part.page is not None)}"
        "<h2>POS clients seen</h2><div id='clients'></div>"
        "<h2>Recent log lines</h2><pre id='logs'></pre>"
        "<p class='sub'>Metrics for monitoring: <a href='/metrics'>/metrics</a> · "
        "command line: <code>sudo posboxless doctor</code>, "
        "<code>sudo posboxless support-bundle</code></p>"
        f"{script}</body></html>"
    )


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.posboxless
    return state


async def page(request: Request) -> HTMLResponse:
    return HTMLResponse(
        render(_state(request), request),
        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"},
    )


async def last_receipt(request: Request) -> Response:
    """The last receipt the simulated printer saved (demo mode only): the page shows it."""
    image = last_receipt_image(_state(request)) if _state(request).config.simulate else None
    if image is None:
        return _error(404, "No simulated receipt has been printed yet")
    try:
        content = image.read_bytes()
    except OSError as exc:
        return _error(404, f"Cannot read the last receipt: {exc.strerror}")
    return Response(content, media_type="image/png", headers={"Cache-Control": "no-store"})


async def diagnostics(request: Request) -> JSONResponse:
    return JSONResponse(snapshot(_state(request), request), headers={"Cache-Control": "no-store"})


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _params(request: Request) -> dict[str, Any]:
    # Over the limit, BodyTooLarge reaches the last-resort middleware: the /hw_proxy error.
    body = await read_body(request, MAX_ACTION_BODY)
    try:
        params = json.loads(body or b"{}")
    except ValueError:
        raise InvalidInput("The request is not valid JSON") from None
    if not isinstance(params, dict):
        raise InvalidInput("The request must be a JSON object")
    return params


def _printer(state: AppState, params: dict[str, Any]) -> PrinterService:
    name = params.get("printer") or state.services.default_printer_name
    printer = state.services.printer_selection().named(name) if isinstance(name, str) else None
    if printer is None:
        raise DeviceUnavailable(f"No printer named {name!r} is configured")
    return printer


async def _test_print(state: AppState, params: dict[str, Any]) -> str:
    printer = _printer(state, params)
    if not isinstance(printer, PrintsTestPage):
        raise DeviceUnavailable(f"Printer '{printer.name}' cannot print a test page")
    job = await printer.test_print(notes=proxy_state_lines(state))
    return f"Test page queued on '{printer.name}' (job {job})"


async def _reprint(state: AppState, params: dict[str, Any]) -> str:
    printer = _printer(state, params)
    if not isinstance(printer, Reprints):
        raise DeviceUnavailable(f"Printer '{printer.name}' cannot reprint")
    job_id = params.get("job_id")
    if isinstance(job_id, bool) or not isinstance(job_id, (int, str)):
        raise InvalidInput("Say which job to reprint (job_id)")
    job = await printer.reprint(job_id)
    if str(job) == str(job_id):  # one line per physical copy: a waiting job is not queued twice
        return f"Job {job_id} has not printed yet on '{printer.name}'; it will print once"
    return f"Job {job_id} queued again on '{printer.name}' (job {job})"


async def _drawer_test(state: AppState, params: dict[str, Any]) -> str:
    printer = _printer(state, params)
    job = await printer.submit_drawer_kick(source="page")
    outcome = await printer.wait_job(job)  # a kick is never kept for later: say how it went
    if not outcome.printed:
        raise DeviceUnavailable(f"Cash drawer pulse through '{printer.name}': {outcome.message}")
    return f"Cash drawer pulse sent through '{printer.name}' (job {job})"


async def _inject_barcode(state: AppState, params: dict[str, Any]) -> str:
    scanner = state.services.scanner
    if not isinstance(scanner, InjectsBarcodes):
        raise DeviceUnavailable("No scanner accepts typed barcodes")
    code = params.get("code")
    if not isinstance(code, str):
        raise InvalidInput("Type a barcode (code)")
    scanner.inject(code)
    return f"Barcode {code} sent as if scanned"


async def _simulate_weight(state: AppState, params: dict[str, Any]) -> str:
    scale = state.services.scale
    simulator = scale.simulator if scale is not None else None
    if simulator is None:
        raise DeviceUnavailable("The scale is a real one: its weight cannot be set from here")
    weight = params.get("weight")
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 <= weight < 100:
        raise InvalidInput("Give a weight in kg, from 0 to 99.999 (weight)")
    moving = params.get("moving") is True
    simulator.set_weight(float(weight), moving=moving)
    return f"Simulated scale set to {weight:.3f} kg" + (" (moving)" if moving else "")


SIMULATED_PRINTER_STATES = ("ready", "unplugged", "paper_out", "cover_open")


async def _simulate_printer(state: AppState, params: dict[str, Any]) -> str:
    """Demo and end-to-end tests: pull the simulated printer's cable, empty its paper..."""
    printer = _printer(state, params)
    simulator = printer.simulator
    if simulator is None:
        raise DeviceUnavailable(f"The printer '{printer.name}' is a real one")
    wanted = params.get("state")
    if wanted not in SIMULATED_PRINTER_STATES:
        raise InvalidInput(f"state must be one of {', '.join(SIMULATED_PRINTER_STATES)}")
    if wanted == "unplugged":
        simulator.unplug()
    else:
        simulator.replug()
        simulator.printer.state = "ok" if wanted == "ready" else wanted
    return f"Simulated printer '{printer.name}': {wanted.replace('_', ' ')}"


Action = Callable[["AppState", dict[str, Any]], Awaitable[str]]
ACTIONS: dict[str, Action] = {
    "test_print": _test_print,
    "reprint": _reprint,
    "drawer_test": _drawer_test,
    "inject_barcode": _inject_barcode,
    "simulate_weight": _simulate_weight,
    "simulate_printer": _simulate_printer,
    **TERMINAL_ACTIONS,
}


def _action_endpoint(name: str, action: Action) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        state = _state(request)
        allowed, reason = may_act(request, state)
        client = request.client.host if request.client else "?"
        if not allowed:
            log.warning("diagnostics action %s refused for %s: %s", name, client, reason)
            return _error(403, reason)
        try:
            message = await action(state, await _params(request))
        except InvalidInput as exc:
            log.warning("diagnostics action %s from %s: %s", name, client, exc)
            return _error(400, str(exc))
        except DeviceUnavailable as exc:
            log.warning("diagnostics action %s from %s: %s", name, client, exc)
            return _error(409, str(exc))
        except DeviceError as exc:
            log.error("diagnostics action %s from %s failed: %s", name, client, exc)
            return _error(502, str(exc))
        log.info("diagnostics action %s from %s: %s", name, client, message)
        return JSONResponse({"message": message})

    return endpoint


async def favicon(request: Request) -> Response:
    # Browsers ask for it with every page: "nothing" rather than a 404 in the console.
    return Response(status_code=204)


def routes() -> list[Route]:
    """The page's API; the page itself is mounted at ``/`` by ``posboxless.app``."""
    return [
        Route("/favicon.ico", favicon, methods=["GET"]),
        Route("/api/diagnostics", diagnostics, methods=["GET"]),
        Route("/api/last_receipt.png", last_receipt, methods=["GET"]),
        *(
            Route(f"/api/{name}", _action_endpoint(name, action), methods=["POST"])
            for name, action in ACTIONS.items()
        ),
    ]
