"""The box-local customer display page (Odoo 12-17 push HTML through ``customer_facing_display``).

Open ``http://localhost:8069/point_of_sale/display`` full-screen on the customer monitor. The HTML
comes from the POS; it is shown in a sandboxed frame (no scripts, no same-origin access), so
whatever a receipt header contains cannot call the proxy's API.
"""

from __future__ import annotations

import asyncio
import json

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from posboxless.services import Services

_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Customer display</title>
<style>html,body,iframe{margin:0;border:0;width:100%;height:100%;background:#fff}</style></head>
<body><iframe id="screen" sandbox></iframe><script>
let version = -1;
async function poll() {
  try {
    const r = await fetch("/point_of_sale/get_serialized_order", {method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({params: {version}})});
    const answer = (await r.json()).result;
    if (answer && answer.version !== version) {
      version = answer.version;
      document.getElementById("screen").srcdoc = answer.rendered_html || "";
    }
  } catch (e) { await new Promise(ok => setTimeout(ok, 2000)); }
  setTimeout(poll, 100);
}
poll();
</script></body></html>"""

LONG_POLL_SECONDS = 25.0


def routes() -> list[BaseRoute]:
    return [
        Route("/point_of_sale/display", display_page, methods=["GET"]),
        Route("/point_of_sale/display/{rest:path}", display_page, methods=["GET"]),
        Route("/point_of_sale/get_serialized_order", serialized_order, methods=["POST"]),
        Route(
            "/point_of_sale/get_serialized_order/{rest:path}", serialized_order, methods=["POST"]
        ),
    ]


async def display_page(request: Request) -> Response:
    return HTMLResponse(_PAGE)


async def serialized_order(request: Request) -> Response:
    """Answers when the display content changed since ``version``, or after a long-poll."""
    services: Services = request.app.state.posboxless.services
    display = services.display
    try:
        payload = json.loads(await request.body() or b"{}")
        known = int((payload.get("params") or {}).get("version", -1))
    except (ValueError, TypeError, AttributeError):
        known = -1
    waited = 0.0
    while display.version == known and waited < LONG_POLL_SECONDS:
        await asyncio.sleep(0.2)
        waited += 0.2
    return JSONResponse(
        {
            "jsonrpc": "2.0",
            "id": None,
            "result": {
                "rendered_html": display.html,
                "ip_from": display.owner,
                "version": display.version,
            },
        }
    )
