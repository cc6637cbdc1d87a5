"""The bell's web part: ``/hw_proxy/bell_ring``, its ``status_json`` entry, its page section."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from posboxless.device import DeviceUnavailable
from posboxless.web.hw_calls import Call, Handler, HwProxyContext, KindWeb
from posboxless.web.state import AppState

from .service import BellService


def _bells(context_services: Any) -> list[BellService]:
    return [d for d in context_services.of_kind("bell") if isinstance(d, BellService)]


def handlers(context: HwProxyContext) -> dict[str, Handler]:
    async def bell_ring(call: Call) -> bool:
        bells = _bells(context.services)
        if not bells:
            raise DeviceUnavailable("No bell is configured")
        bells[0].ring()
        return True

    return {"bell_ring": bell_ring}


def status(context: HwProxyContext, host: str | None) -> Mapping[str, Any]:
    bells = _bells(context.services)
    return {"bell": bells[0].status().as_json()} if bells else {}


def page(state: AppState) -> str:
    rows = "".join(
        f"<li>{html.escape(b.name)}: {b.rings} rings</li>" for b in _bells(state.services)
    )
    return f"<h2>Bells</h2><ul id='bells'>{rows}</ul>"


WEB = KindWeb(handlers=handlers, status=status, page=page)
