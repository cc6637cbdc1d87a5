"""The scale calls of ``/hw_proxy`` (web layer): translation only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from posboxless.device import DeviceStatus, DeviceUnavailable, ScaleService
from posboxless.web.hw_calls import Call, Handler, HwProxyContext, KindWeb


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


WEB = KindWeb(handlers=handlers, status=status)
