"""A real browser, on a page of another origin, talks to the proxy as the Odoo POS does:
preflighted JSON-RPC with ``Content-Type: application/json``. Chromium enforces CORS itself, so
this proves the answers are acceptable to a browser, and that a non-allowed origin gets nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from posboxless.app import create_app
from posboxless.config import Config, ServerConfig
from posboxless.services import Services

from ..live import live_server
from ..web.fakes import FakePrinter, FakeScale, FakeScanner

pytestmark = pytest.mark.browser

POS_PAGE = """<!doctype html><html><body><pre id="result">running</pre><script>
const proxy = new URL(location).searchParams.get("proxy");
async function rpc(name, params) {
  const r = await fetch(proxy + "/hw_proxy/" + name, {method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({jsonrpc: "2.0", method: "call", params: params, id: 42})});
  return (await r.json()).result;
}
(async () => {
  const out = {};
  try {
    out.hello = await (await fetch(proxy + "/hw_proxy/hello")).text();
    out.handshake = await rpc("handshake", {});
    out.status = await rpc("status_json", {});
    out.cashbox = await rpc("default_printer_action", {data: {action: "cashbox"}});
  } catch (e) { out.error = String(e); }
  document.getElementById("result").textContent = JSON.stringify(out);
})();
</script></body></html>"""


def pos_site() -> Starlette:
    async def page(request: Any) -> HTMLResponse:
        return HTMLResponse(POS_PAGE)

    return Starlette(routes=[Route("/pos", page)])


def run_page(browser: Any, site: str, proxy: str) -> dict[str, Any]:
    import json

    page = browser.new_page()
    try:
        page.goto(f"{site}/pos?proxy={proxy}")
        page.wait_for_function("document.getElementById('result').textContent !== 'running'")
        return json.loads(page.text_content("#result"))
    finally:
        page.close()


def test_allowed_origin_is_served_and_other_origin_refused(browser: Any, tmp_path: Path) -> None:
    printer = FakePrinter()
    services = Services(
        printers={"receipt": printer},
        default_printer_name="receipt",
        scale=FakeScale(),  # type: ignore[arg-type]
        scanner=FakeScanner(),  # type: ignore[arg-type]
    )
    with live_server(pos_site()) as good_site, live_server(pos_site()) as other_site:
        config = Config(server=ServerConfig(data_dir=tmp_path, allowed_origins=(good_site,)))
        with live_server(create_app(config, services), host="127.0.0.1") as proxy:
            # The POS page and the proxy differ by port: cross-origin for the browser.
            result = run_page(browser, good_site, proxy)
            assert result.get("error") is None, result
            assert result["hello"] == "ping"
            assert result["handshake"] is True
            assert result["status"]["printer"]["status"] == "connected"
            assert result["status"]["escpos"]["status"] == "connected"
            assert result["cashbox"] is True
            assert len(printer.jobs) == 1

            refused = run_page(browser, other_site, proxy)
            assert "error" in refused, refused  # the browser got no usable answer
            assert "hello" not in refused
            assert len(printer.jobs) == 1  # and nothing was printed
