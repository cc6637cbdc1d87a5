"""A real browser, on a page of another origin, talks to the proxy as the Odoo POS does:
preflighted JSON-RPC with ``Content-Type: application/json``. Chromium enforces CORS itself, so
this proves the answers are acceptable to a browser, and that a non-allowed origin gets nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from posboxless.app import create_app
from posboxless.config import Config, ServerConfig

from ..live import live_server
from .pages import ODOO_CALLS, pos_site, run_page, till_services

pytestmark = pytest.mark.browser

CALLS = """
const proxy = new URL(location).searchParams.get("proxy");
async function hello() {
  return await (await fetch(proxy + "/hw_proxy/hello")).text();
}
async function rpc(name, params) {
  const r = await fetch(proxy + "/hw_proxy/" + name, {method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({jsonrpc: "2.0", method: "call", params: params, id: 42})});
  return (await r.json()).result;
}
"""


def test_allowed_origin_is_served_and_other_origin_refused(browser: Any, tmp_path: Path) -> None:
    services, printer = till_services()
    with (
        live_server(pos_site(CALLS, ODOO_CALLS)) as good_site,
        live_server(pos_site(CALLS, ODOO_CALLS)) as other_site,
    ):
        config = Config(server=ServerConfig(data_dir=tmp_path, allowed_origins=(good_site,)))
        with live_server(create_app(config, services), host="127.0.0.1") as proxy:
            # The POS page and the proxy differ by port: cross-origin for the browser.
            result = run_page(browser, good_site, proxy=proxy)
            assert result.get("error") is None, result
            assert result["hello"] == "ping"
            assert result["handshake"] is True
            assert result["status"]["printer"]["status"] == "connected"
            assert result["status"]["escpos"]["status"] == "connected"
            assert result["cashbox"] is True
            assert len(printer.jobs) == 1

            refused = run_page(browser, other_site, proxy=proxy)
            assert "error" in refused, refused  # the browser got no usable answer
            assert "hello" not in refused
            assert len(printer.jobs) == 1  # and nothing was printed
