"""The bell's service: no worker, no transport (the registry is what is tested here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from posboxless.device import ActivitySnapshot, DeviceStatus


@dataclass(frozen=True)
class BellConfig:
    name: str
    port: str


@dataclass(frozen=True)
class BellSnapshot:
    name: str
    status: DeviceStatus
    activity: ActivitySnapshot
    port: str


class BellService:
    kind = "bell"

    def __init__(self, config: BellConfig, *, simulated: bool = False) -> None:
        self.config = config
        self.name = config.name
        self.simulated = simulated
        self.started = False
        self.rings = 0

    def status(self) -> DeviceStatus:
        if not self.started:
            return DeviceStatus("disconnected", ("Not started",))
        return DeviceStatus("connected")

    def snapshot(self) -> BellSnapshot:
        activity = ActivitySnapshot(counters={"rings": self.rings})
        return BellSnapshot(self.name, self.status(), activity, self.config.port)

    def details(self) -> dict[str, Any]:
        return {"port": self.config.port, "counters": {"rings": self.rings}}

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.started = False

    def ring(self) -> None:
        self.rings += 1
