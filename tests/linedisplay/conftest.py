from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from posboxless.linedisplay import commands
from posboxless.linedisplay.service import DisplayTiming, PoleDisplayService
from posboxless.linedisplay.simulator import PoleDisplaySimulator
from posboxless.transports.serial_port import SerialSettings

WELCOME = ("Bienvenue", "")


def make_service(
    port: str, profile: str = "epson", *, write_timeout: float = 1.0, **overrides: Any
) -> PoleDisplayService:
    timing = overrides.pop(
        "timing", DisplayTiming(retry_min=0.05, retry_max=0.2, check_interval=0.05)
    )
    return PoleDisplayService(
        port=port,
        settings=SerialSettings(write_timeout=write_timeout),
        commands=commands.profile(profile, **overrides),
        welcome=WELCOME,
        timing=timing,
    )


def eventually(predicate: Callable[[], bool], within: float = 5.0) -> None:
    """Wait until ``predicate()`` holds; fail after ``within`` seconds (a bound, not a timing)."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        time.sleep(0.01)


def wait_bytes(sim: PoleDisplaySimulator, start: int, frame: bytes, within: float = 5.0) -> None:
    """Wait until the simulator received ``frame`` as the last bytes after offset ``start``."""
    with sim.changed:
        ok = sim.changed.wait_for(lambda: bytes(sim.received[start:]).endswith(frame), within)
    assert ok, f"display got {bytes(sim.received[start:])!r}, expected it to end with {frame!r}"


@pytest.fixture(params=["epson", "bixolon", "aures"])
def profile(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def sim(profile: str) -> Iterator[PoleDisplaySimulator]:
    simulator = PoleDisplaySimulator(dialect=profile)
    simulator.start()
    yield simulator
    simulator.close()


@pytest.fixture
async def display(sim: PoleDisplaySimulator, profile: str) -> AsyncIterator[PoleDisplayService]:
    service = make_service(sim.port, profile)
    await service.start()
    yield service
    await service.stop()


__all__ = ["threading"]
