"""The scale service through the real serial path (pyserial on a pty slave) against the pty
Toledo 8217 simulator: readings, every status condition, commands, unplug/replug, garbage,
silence, slow answers, stale readings.

The ptys of this test machine refuse 7-bit and parity line settings (EINVAL), so the pty tests run
at 9600 8N1; line settings are virtual on a pty anyway, as on the Ariva-S's USB port.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from posboxless.device import DeviceError, DeviceUnavailable
from posboxless.scale.discovery import PortLocator
from posboxless.scale.service import ScaleTiming, SerialScaleService
from posboxless.scale.simulator import Toledo8217Simulator
from posboxless.scale.toledo8217 import StatusFlags as F
from posboxless.transports.serial_port import SerialSettings, SerialTransport
from tests.helpers import until

PTY_SETTINGS = SerialSettings.parse("9600 8N1")


def make_service(
    port: str,
    *,
    reply_timeout: float = 0.5,
    stale_after: float = 1.2,
    settings: SerialSettings = PTY_SETTINGS,
    **kwargs: Any,
) -> SerialScaleService:
    timing = ScaleTiming(
        poll_interval=0.02,
        reply_timeout=reply_timeout,
        stale_after=stale_after,
        retry_min=0.05,
        retry_max=0.2,
    )
    return SerialScaleService(
        locator=PortLocator(port=port), settings=settings, timing=timing, **kwargs
    )


@pytest.fixture
def sim() -> Iterator[Toledo8217Simulator]:
    simulator = Toledo8217Simulator(weight=1.234)
    simulator.start()
    yield simulator
    simulator.close()


@pytest.fixture
async def scale(sim: Toledo8217Simulator) -> AsyncIterator[SerialScaleService]:
    service = make_service(sim.port)
    await service.start()
    await until(lambda: service.status().status == "connected")
    yield service
    await service.stop()


async def next_reading(scale: SerialScaleService) -> dict[str, Any]:
    """A reading taken after the simulator's current state was certainly polled."""
    count = scale.activity.counters.get("readings", 0)
    await until(lambda: scale.activity.counters.get("readings", 0) >= count + 2)
    return scale.reading()


async def test_gross_weight_and_connected_status(
    scale: SerialScaleService, sim: Toledo8217Simulator
) -> None:
    reading = await next_reading(scale)
    assert reading["weight"] == 1.234
    assert reading["unit"] == "kg"
    assert reading["info"] == "ok"
    assert reading["stable"] is True
    assert reading["net"] is False
    status = scale.status()
    assert status.status == "connected"
    assert status.messages == (f"Connected to Mettler-Toledo 8217 scale on {sim.port} (9600 8N1)",)
    sim.set_weight(2.5)
    assert (await next_reading(scale))["weight"] == 2.5


@pytest.mark.parametrize(
    ("flags", "names"),
    [
        (F.NONE, "ok"),
        (F.MOTION, ["moving"]),
        (F.OVER_CAPACITY, ["over_capacity"]),
        (F.UNDER_ZERO, ["negative"]),
        (F.OUTSIDE_ZERO_RANGE, ["outside_zero_capture_range"]),
        (F.CENTER_OF_ZERO, ["center_of_zero"]),
        (F.NET, ["net_weight"]),
        (F.MOTION | F.NET, ["moving", "net_weight"]),
        (F.OVER_CAPACITY | F.OUTSIDE_ZERO_RANGE, ["over_capacity", "outside_zero_capture_range"]),
        (F.UNDER_ZERO | F.NET | F.MOTION, ["moving", "negative", "net_weight"]),
        (
            F(0x3F),
            [
                "moving",
                "over_capacity",
                "negative",
                "outside_zero_capture_range",
                "center_of_zero",
                "net_weight",
            ],
        ),
    ],
)
@pytest.mark.parametrize("parity", [False, True])
async def test_every_status_condition_over_the_wire(
    scale: SerialScaleService, sim: Toledo8217Simulator, flags: F, names: Any, parity: bool
) -> None:
    sim.parity_bit = parity
    sim.forced_status = flags
    reading = await next_reading(scale)
    assert reading["weight"] == 0.0
    assert reading["info"] == names
    assert reading["stable"] is not bool(flags & F.MOTION)
    assert scale.status().status == "connected"  # the scale answers: it is connected


async def test_simulated_conditions_from_the_load(
    scale: SerialScaleService, sim: Toledo8217Simulator
) -> None:
    sim.set_weight(3.0, moving=True)
    assert (await next_reading(scale))["info"] == ["moving"]
    sim.set_weight(20.0)
    assert (await next_reading(scale))["info"] == ["over_capacity"]
    sim.set_weight(-0.2)
    reading = await next_reading(scale)
    assert reading["info"] == ["negative"]
    assert reading["weight"] == 0.0


async def test_tare_gives_net_weights_and_clear_tare_returns_to_gross(
    scale: SerialScaleService, sim: Toledo8217Simulator
) -> None:
    sim.set_weight(0.4)
    await next_reading(scale)
    await scale.tare()
    assert sim.tare == pytest.approx(0.4)
    sim.set_weight(1.4)
    reading = await next_reading(scale)
    assert reading["weight"] == 1.0
    assert reading["net"] is True
    await scale.clear_tare()
    assert sim.tare == 0.0
    reading = await next_reading(scale)
    assert (reading["weight"], reading["net"]) == (1.4, False)
    assert b"T" in sim.received and b"C" in sim.received


async def test_zero(scale: SerialScaleService, sim: Toledo8217Simulator) -> None:
    sim.set_weight(0.1)
    await scale.zero()
    assert sim.zero_offset == pytest.approx(0.1)
    assert (await next_reading(scale))["weight"] == 0.0
    sim.set_weight(1.1)
    assert (await next_reading(scale))["weight"] == 1.0


@pytest.mark.parametrize(
    ("setup", "method", "reason"),
    [
        (lambda s: s.set_weight(0.1, moving=True), "zero", "the weight is moving"),
        (lambda s: s.set_weight(5.0), "zero", "outside the zero range"),
        (lambda s: s.set_weight(20.0), "tare", "over capacity"),
        (lambda s: s.set_weight(1.0, moving=True), "tare", "the weight is moving"),
    ],
)
async def test_refused_commands_raise_plain_errors(
    scale: SerialScaleService,
    sim: Toledo8217Simulator,
    setup: Callable[[Toledo8217Simulator], None],
    method: str,
    reason: str,
) -> None:
    setup(sim)
    await next_reading(scale)
    with pytest.raises(DeviceError, match=reason):
        await getattr(scale, method)()
    assert scale.status().status == "connected"


async def test_command_without_answer_fails_plainly(
    scale: SerialScaleService, sim: Toledo8217Simulator
) -> None:
    sim.silent = True
    with pytest.raises(DeviceError, match="did not answer the zero command"):
        await scale.zero()


async def test_unplug_then_replug_on_a_by_id_link(tmp_path: Path) -> None:
    link = tmp_path / "usb-Mettler_Toledo_Ariva-S-if00"
    first = Toledo8217Simulator(weight=1.0, link=link).start()
    service = make_service(str(link))
    await service.start()
    try:
        await until(lambda: service.status().status == "connected")
        assert service.reading()["weight"] == 1.0
        first.unplug()
        await until(lambda: service.status().status != "connected", timeout=2.0)
        assert service.status().status == "disconnected"
        assert service.reading()["weight"] == 0.0
        link.unlink()
        await until(lambda: "does not exist" in service.status().messages[0])
        with pytest.raises(DeviceUnavailable, match="not connected"):
            await service.tare()
        second = Toledo8217Simulator(weight=2.0, link=link).start()
        try:
            await until(lambda: service.status().status == "connected")
            await until(lambda: service.reading()["weight"] == 2.0)
            assert service.port == str(link)
        finally:
            second.close()
    finally:
        await service.stop()
        first.close()


async def test_garbage_before_answers_is_skipped(
    scale: SerialScaleService, sim: Toledo8217Simulator
) -> None:
    sim.garbage = b"\x00noise\x02?\x01\r\x0201.2"
    sim.set_weight(3.21)
    reading = await next_reading(scale)
    assert reading["weight"] == 3.21
    assert scale.status().status == "connected"


async def test_only_garbage_is_reported(
    scale: SerialScaleService, sim: Toledo8217Simulator
) -> None:
    sim.garbage = b"\x02garbage\r"
    sim.silent = False
    sim.forced_status = None
    # replace every answer by garbage alone
    sim.weight_answer = lambda: b""  # type: ignore[method-assign]
    await until(lambda: scale.status().status == "error")
    assert scale.status().messages[0] == (
        f"Unreadable answers from the scale on {sim.port}: check protocol option 3 (8217) and "
        "9600 8N1"
    )


async def test_silence_is_reported_and_the_reading_goes_stale(
    scale: SerialScaleService, sim: Toledo8217Simulator
) -> None:
    await next_reading(scale)
    sim.silent = True
    await until(lambda: scale.status().status == "error")
    assert scale.status().messages[0] == (
        f"No answer from the scale on {sim.port}: check protocol option 3 (8217) and 9600 8N1"
    )
    await until(lambda: scale.reading()["info"] == ["stale"])
    assert scale.reading()["weight"] == 0.0
    with pytest.raises(DeviceUnavailable):
        await scale.zero()
    sim.silent = False
    await until(lambda: scale.status().status == "connected")
    assert scale.reading()["weight"] == 1.234


async def test_slow_answers_are_read_and_reading_answers_from_cache(
    sim: Toledo8217Simulator,
) -> None:
    service = make_service(sim.port, reply_timeout=1.0, stale_after=2.0)
    await service.start()
    try:
        await until(lambda: service.status().status == "connected")
        sim.reply_delay = 0.3
        sim.set_weight(4.5)
        await until(lambda: service.reading()["weight"] == 4.5)
        # the worker is now inside a slow exchange; the cache still answers
        before = service.activity.counters["readings"]
        for _ in range(20):
            assert service.reading()["weight"] == 4.5
            assert service.status().status == "connected"
        assert service.activity.counters["readings"] <= before + 1
        await service.tare()  # a command waits its turn behind the slow poll
        assert sim.tare == pytest.approx(4.5)
    finally:
        await service.stop()


async def test_stale_reading_is_never_served(sim: Toledo8217Simulator) -> None:
    service = make_service(sim.port, reply_timeout=0.4, stale_after=0.6)
    await service.start()
    try:
        await until(lambda: service.status().status == "connected")
        sim.reply_delay = 2.0  # longer than stale_after: answers never come in time
        await until(lambda: service.reading()["info"] == ["stale"], timeout=4.0)
        assert service.reading()["weight"] == 0.0
        assert service.status().status == "error"
    finally:
        await service.stop()


async def test_missing_port_is_reported(tmp_path: Path) -> None:
    service = make_service(str(tmp_path / "ttyUSB9"))
    await service.start()
    try:
        await until(lambda: service.status().status == "disconnected")
        assert service.status().messages[0].startswith(f"Scale not found: {tmp_path}/ttyUSB9")
        assert service.reading() == {
            "weight": 0.0,
            "unit": "kg",
            "info": ["disconnected"],
            "stable": False,
            "age": None,
        }
    finally:
        await service.stop()


async def test_default_line_settings_are_7e1(sim: Toledo8217Simulator) -> None:
    from posboxless.scale.config import ScaleConfig
    from posboxless.scale.factory import build_service

    opened: list[SerialSettings] = []

    def on_pty(port: str, settings: SerialSettings) -> SerialTransport:
        opened.append(settings)
        return SerialTransport(port, PTY_SETTINGS)

    service = build_service(ScaleConfig(port=sim.port))
    service._transport_factory = on_pty
    await service.start()
    try:
        await until(lambda: service.status().status == "connected")
    finally:
        await service.stop()
    assert str(opened[0]) == "9600 7E1"
    assert service.details()["serial_settings"] == "9600 7E1"


async def test_details_are_json_ready(scale: SerialScaleService) -> None:
    import json

    details = scale.details()
    json.dumps(details)
    assert details["protocol"] == "toledo8217"
    assert details["counters"]["readings"] >= 1


async def test_digital_tare(scale: SerialScaleService, sim: Toledo8217Simulator) -> None:
    await scale.preset_tare(0.25)
    assert b"T00250\r" in sim.received
    assert sim.tare == pytest.approx(0.25)
    sim.set_weight(1.0)
    reading = await next_reading(scale)
    assert (reading["weight"], reading["net"]) == (0.75, True)
    await scale.preset_tare("0.5")
    assert sim.tare == pytest.approx(0.5)


@pytest.mark.parametrize("value", [-1, 100, "abc", None, float("nan")])
async def test_digital_tare_rejects_bad_values(
    scale: SerialScaleService, sim: Toledo8217Simulator, value: Any
) -> None:
    from posboxless.device import InvalidInput

    with pytest.raises(InvalidInput, match=r"A tare must be a weight from 0 to 99\.999 kg"):
        await scale.preset_tare(value)
    assert b"T0" not in sim.received
