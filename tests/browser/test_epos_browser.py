"""A real Chromium, on a POS page of another origin, prints to posboxless as Odoo does to an Epson
ePOS printer: a "simple" cross-origin POST of the SOAP body (fetch with a string body as 17-19 do,
XHR labelled form-encoded as jQuery in 15/16 does), the answer parsed with DOMParser. Chromium
enforces CORS itself: an allowed origin reads the answer; another origin prints nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from starlette.applications import Starlette

from posboxless.printer.escpos.decoder import DecodedImage

from ..epos.odoo_bodies import drawer_body, odoo_receipt, receipt_body
from ..epos.rig import till
from ..live import live_server
from .pages import pos_site, run_page

pytestmark = pytest.mark.browser

SOURCE = odoo_receipt(lines=2).convert("L").point(lambda v: 0 if v < 128 else 255).convert("1")

PRINT = """
const params = new URL(location).searchParams;
const url = params.get("printer") + "/cgi-bin/epos/service.cgi?devid=local_printer";
function read(text) {  // as Odoo 17-19: DOMParser, querySelector("response")
  const doc = new DOMParser().parseFromString(text, "application/xml");
  const response = doc.querySelector("response");
  return {success: response.getAttribute("success") === "true",
          code: response.getAttribute("code"),
          status: parseInt(response.getAttribute("status")) || 0};
}
function viaXhr(body) {  // as jQuery in Odoo 15/16: form-encoded label, raw XML body
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8");
    xhr.onload = () => resolve(xhr.responseText);
    xhr.onerror = () => reject(new Error("xhr failed"));
    xhr.send(body);
  });
}
report(async (out) => {
  const receipt = await (await fetch("/body/receipt")).text();
  const drawer = await (await fetch("/body/drawer")).text();
  const answer = await fetch(url, {method: "POST", body: receipt,
                                   signal: AbortSignal.timeout(15000)});
  out.receipt = read(await answer.text());
  out.drawer = read(await viaXhr(drawer));
});
"""


def epos_site() -> Starlette:
    return pos_site(PRINT, bodies={"receipt": receipt_body(SOURCE, 19), "drawer": drawer_body(15)})


def test_chromium_prints_from_an_allowed_origin_only(browser: Any, tmp_path: Path) -> None:
    with (
        live_server(epos_site()) as good_site,
        live_server(epos_site()) as other_site,
        till(tmp_path, allowed_origins=(good_site,)) as t,
    ):
        result = run_page(browser, good_site, printer=t.url)
        assert result.get("error") is None, result
        assert result["receipt"] == {"success": True, "code": "", "status": 2}
        assert result["drawer"]["success"] is True and result["drawer"]["code"] == ""
        doc = t.printed()
        (printed,) = [i for i in doc.items if isinstance(i, DecodedImage)]
        expected = Image.new("1", (576, SOURCE.height), 1)
        expected.paste(SOURCE, (32, 0))
        assert printed.on_paper(576).tobytes() == expected.tobytes()
        assert doc.pulses == [(2, 100, 400), (5, 100, 400)]
        before = t.printed()

        refused = run_page(browser, other_site, printer=t.url)
        assert "error" in refused, refused  # the browser lets the page read nothing
        after = t.printed()  # nothing printed or kicked (status polls go on)
        assert (len(after.images), after.pulses) == (len(before.images), before.pulses)
        assert len(t.journal()) == 2
