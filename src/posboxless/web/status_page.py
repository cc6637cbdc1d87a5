"""The HTML status page at ``/`` and ``/hw_proxy/status``: version, listen addresses, devices,
origin-policy warning. Self-contained (no external resources)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import HTMLResponse

from posboxless import __version__
from posboxless.web.hw_proxy import status_snapshot

if TYPE_CHECKING:
    from posboxless.app import AppState

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem;color:#222}
h1{font-size:1.4rem} table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}
.connected{color:#176f2c;font-weight:bold}.connecting{color:#8a6d00;font-weight:bold}
.disconnected,.error{color:#b00020;font-weight:bold}
.warning{background:#fff4ce;border:1px solid #e0c060;padding:.6rem;margin:.6rem 0}
"""


def render(state: AppState) -> str:
    e = html.escape
    rows = []
    for key, value in status_snapshot(state.services).items():
        if key == "escpos":
            continue
        messages = value.get("messages") or []
        if isinstance(messages, str):
            messages = [messages]
        rows.append(
            f"<tr><td>{e(key)}</td><td class='{e(value['status'])}'>{e(value['status'])}</td>"
            f"<td>{'<br>'.join(e(str(m)) for m in messages)}</td></tr>"
        )
    warnings = "".join(f"<div class='warning'>{e(w)}</div>" for w in state.warnings())
    listen = "".join(f"<li>{e(url)}</li>" for url in state.listen_urls)
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width'>"
        f"<title>posboxless</title><style>{_STYLE}</style></head><body>"
        f"<h1>posboxless {e(__version__)}</h1>{warnings}"
        f"<h2>Devices</h2><table><tr><th>device</th><th>status</th><th>messages</th></tr>"
        f"{''.join(rows)}</table>"
        f"<h2>Listening on</h2><ul>{listen}</ul>"
        "</body></html>"
    )


async def page(request: Request) -> HTMLResponse:
    return HTMLResponse(render(request.app.state.posboxless))
