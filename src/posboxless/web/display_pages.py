"""The box-local customer display page (Odoo 12-17 push HTML through ``customer_facing_display``).

Open ``http://localhost:8069/point_of_sale/display`` full-screen on the customer monitor. The HTML
comes from the POS; it is shown in a sandboxed frame (no scripts, no same-origin access), so
whatever a receipt header contains cannot call the proxy's API.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from posboxless.services import Services
from posboxless.web import jsonrpc
from posboxless.web.body import BodyTooLarge, body_limit, read_body

log = logging.getLogger(__name__)

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
        payload = jsonrpc.loads(await read_body(request, body_limit(request)) or b"{}")
    except BodyTooLarge as exc:
        log.warning("refused %s: %s", request.url.path, exc)
        error = jsonrpc.RpcError(
            str(exc),
            code=jsonrpc.INVALID_REQUEST,
            name="posboxless.RequestTooLarge",
            arguments=[exc.limit],
        )
        return _json(jsonrpc.error_body(error), close=True)
    except jsonrpc.RpcError as exc:
        log.warning("bad request to %s: %s", request.url.path, exc.message)
        return _json(jsonrpc.error_body(exc))
    params = payload.get("params") if isinstance(payload, dict) else None
    version = params.get("version", -1) if isinstance(params, dict) else -1
    known = version if isinstance(version, int) and not isinstance(version, bool) else -1
    waited = 0.0
    while display.version == known and waited < LONG_POLL_SECONDS:
        await asyncio.sleep(0.2)
        waited += 0.2
    result = {
        "rendered_html": display.html,
        "ip_from": display.owner,
        "version": display.version,
    }
    return _json(jsonrpc.result_body(None, result))


def _json(body: bytes, *, close: bool = False) -> Response:
    headers = {"Connection": "close"} if close else None
    return Response(body, media_type="application/json", headers=headers)
