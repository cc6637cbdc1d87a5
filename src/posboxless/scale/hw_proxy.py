"""The scale calls of ``/hw_proxy`` (web layer): translation only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from posboxless.device import DeviceStatus, DeviceUnavailable, ScaleService
from posboxless.web.hw_calls import Call, Handler, HwProxyContext, KindWeb
from posboxless.web.state import AppState


def handlers(context: HwProxyContext) -> dict[str, Handler]:
    def scale() -> ScaleService:
        if context.services.scale is None:
            raise DeviceUnavailable("No scale is configured in posboxless")
        return context.services.scale

    async def scale_read(call: Call) -> dict[str, Any]:
        # Always an object: Odoo 8-16 read `.weight` without checking for null.
        if context.services.scale is None:
            return {"weight": 0.0, "unit": "kg", "info": ["no_scale"]}
        return context.services.scale.reading()

    async def scale_zero(call: Call) -> bool:
        await scale().zero()
        return True

    async def scale_tare(call: Call) -> bool:
        await scale().tare()
        return True

    async def scale_clear_tare(call: Call) -> bool:
        await scale().clear_tare()
        return True

    return {
        "scale_read": scale_read,
        "scale_zero": scale_zero,
        "scale_tare": scale_tare,
        "scale_clear_tare": scale_clear_tare,
    }


def status(context: HwProxyContext, host: str | None) -> Mapping[str, Any]:
    scale = context.services.scale
    found = scale.status() if scale else DeviceStatus("disconnected", ("No scale configured",))
    return {"scale": found.as_json()}


# Outside the refreshed card, so that a refresh does not wipe what is being typed.
_WEIGHT_FORM = (
    "<form id='weight-form' class='action-form'><input id='weight-input' type='number' "
    "min='0' max='99.999' step='0.001' placeholder='kg' required> "
    "<label><input id='weight-moving' type='checkbox'> moving</label> "
    "<button>Set simulated weight</button></form>"
)


def page(state: AppState) -> str:
    # The card is filled by the page's script from /api/diagnostics.
    form = _WEIGHT_FORM if state.config.simulate else ""
    return f"<h2>Scale</h2><div id='scale' class='card'></div>{form}"


WEB = KindWeb(handlers=handlers, status=status, page=page)
