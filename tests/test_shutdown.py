"""Stopping the server: the first Ctrl-C is graceful and bounded, the second is at once."""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn

from posboxless.app import GRACEFUL_SHUTDOWN, Shutdown, _Server
from posboxless.services import Services


class StuckServices(Services):
    """Devices whose stop never ends (a printer that never lets go of its job)."""

    def __init__(self) -> None:
        super().__init__()
        self.stopping = asyncio.Event()
        self.cancelled = False

    async def stop(self) -> None:
        self.stopping.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise


async def _app(scope: Any, receive: Any, send: Any) -> None: ...


def test_open_requests_get_a_bounded_grace() -> None:
    server = _Server(uvicorn.Config(_app))
    assert server.config.timeout_graceful_shutdown == GRACEFUL_SHUTDOWN


def test_first_signal_is_graceful_second_forces() -> None:
    servers = [_Server(uvicorn.Config(_app)), _Server(uvicorn.Config(_app))]
    stop = Shutdown(servers)
    stop()
    assert all(s.should_exit and not s.force_exit for s in servers)
    assert not stop.forced.is_set()
    stop()
    assert all(s.force_exit for s in servers)
    assert stop.forced.is_set()


async def test_a_second_signal_stops_waiting_for_stuck_devices() -> None:
    services = StuckServices()
    stop = Shutdown([])
    stopping = asyncio.create_task(stop.stop_services(services))
    await services.stopping.wait()
    assert not stopping.done()
    stop()
    stop()
    await stopping  # returns: the stuck stop is abandoned
    assert services.cancelled
