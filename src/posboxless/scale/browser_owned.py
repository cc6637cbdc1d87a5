"""A scale the POS reads itself: Odoo 19.4/20 speak Toledo 8217 to it over Web Serial, from
Chrome (odoo-19-20.md §6). posboxless must then keep off its port entirely (two programs on one
serial line read each other's answers), so this service never opens, probes or polls anything;
it only says, in ``status_json``, on the page and in doctor, who owns the scale."""

from __future__ import annotations

from typing import Any

from posboxless.device import (
    DeviceStatus,
    DeviceUnavailable,
    ScaleReading,
    ScaleSimulatorControl,
    ScaleSnapshot,
)
from posboxless.scale.config import ScaleConfig
from posboxless.scale.discovery import usb_id_text

MESSAGE = (
    "The scale is read by the browser (Odoo Web Serial): posboxless leaves {where} alone "
    '([scale] owner = "browser").'
)


class BrowserOwnedScale:
    kind = "scale"
    simulator: ScaleSimulatorControl | None = None

    def __init__(self, config: ScaleConfig) -> None:
        self.name = config.name
        self.port = config.port
        self.usb = config.usb
        if config.port:
            where = config.port
        elif config.usb:
            where = f"the serial port of USB id {usb_id_text(config.usb)}"
        else:
            where = "every serial port"
        self.message = MESSAGE.format(where=where)

    def status(self) -> DeviceStatus:
        # Not "connected": a POS that reads the scale through the proxy (8-19) must not try.
        return DeviceStatus("disconnected", (self.message,))

    def snapshot(self) -> ScaleSnapshot:
        return ScaleSnapshot(
            name=self.name,
            status=self.status(),
            reading=ScaleReading(info=("read_by_browser",)),
            owner="browser",
            port=self.port,
            usb=usb_id_text(self.usb) if self.usb else None,
        )

    def details(self) -> dict[str, Any]:
        snapshot = self.snapshot()
        return {"owner": snapshot.owner, "port": snapshot.port, "usb": snapshot.usb}

    def reading(self) -> dict[str, Any]:
        # Always an object: Odoo 8-16 read `.weight` without checking.
        reading = self.snapshot().reading
        return {"weight": reading.weight, "unit": reading.unit, "info": list(reading.info)}

    def _refuse(self) -> DeviceUnavailable:
        return DeviceUnavailable(self.message)

    async def zero(self) -> None:
        raise self._refuse()

    async def tare(self) -> None:
        raise self._refuse()

    async def clear_tare(self) -> None:
        raise self._refuse()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None
