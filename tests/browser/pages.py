"""What the browser tests' POS pages share: a page of another origin that runs its calls and
reports them as JSON in ``#result``, the site that serves it, reading that report through a real
Chromium, and the till the Odoo calls reach."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from posboxless.services import Services

from ..web.fakes import FakePrinter, FakeScale, FakeScanner

_REPORT = """
async function report(steps) {  // what the calls gave (or the error that stopped them)
  const out = {};
  try { await steps(out); } catch (e) { out.error = String(e); }
  document.getElementById("result").textContent = JSON.stringify(out);
}
"""

ODOO_CALLS = """
report(async (out) => {  // the POS's first calls, then a cash drawer kick
  out.hello = await hello();
  out.handshake = await rpc("handshake", {});
  out.status = await rpc("status_json", {});
  out.cashbox = await rpc("default_printer_action", {data: {action: "cashbox"}});
});
"""
"""The calls a POS page makes with its own ``hello()`` and ``rpc(name, params)``."""


def pos_site(*scripts: str, bodies: dict[str, str] | None = None) -> Starlette:
    """A site serving, at ``/pos``, a page that runs ``scripts`` (one of them calls
    ``report``), and ``bodies`` at ``/body/{name}``."""
    html = (
        '<!doctype html><html><body><pre id="result">running</pre>'
        f"<script>{_REPORT}{''.join(scripts)}</script></body></html>"
    )
    known = bodies or {}

    async def page(request: Any) -> HTMLResponse:
        return HTMLResponse(html)

    async def body(request: Any) -> Response:
        return Response(known[request.path_params["name"]], media_type="text/plain")

    return Starlette(routes=[Route("/pos", page), Route("/body/{name}", body)])


def run_page(browser: Any, site: str, **query: str) -> dict[str, Any]:
    """Open ``site``'s POS page with ``query`` and return what it reported."""
    page = browser.new_page()
    try:
        page.goto(f"{site}/pos?{urlencode(query)}")
        page.wait_for_function(
            "document.getElementById('result').textContent !== 'running'", timeout=30000
        )
        result: dict[str, Any] = json.loads(page.text_content("#result") or "{}")
        return result
    finally:
        page.close()


def till_services() -> tuple[Services, FakePrinter]:
    """A till with a receipt printer (returned, to count its jobs), a scale and a scanner."""
    printer = FakePrinter()
    services = Services(
        printers={"receipt": printer},
        default_printer_name="receipt",
        scale=FakeScale(),  # type: ignore[arg-type]
        scanner=FakeScanner(),  # type: ignore[arg-type]
    )
    return services, printer
