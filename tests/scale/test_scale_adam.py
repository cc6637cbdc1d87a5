"""Adam Equipment: the codec, and the service over a pty against the Adam simulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from posboxless.scale import adam
from posboxless.scale.discovery import PortLocator
from posboxless.scale.service import ScaleTiming, SerialScaleService
from posboxless.scale.simulator import AdamSimulator
from posboxless.transports.serial_port import SerialSettings


def test_parses_weight_lines_in_any_chunking() -> None:
    stream = b"   1.234kg\r\n  12.5 kg\r\nST,GS\r\n0.000kg\r\n"
    expected = [adam.AdamWeight(1.234), adam.AdamWeight(12.5), adam.AdamWeight(0.0)]
    assert adam.AnswerParser().feed(stream) == expected
    parser = adam.AnswerParser()
    weights: list[adam.AdamWeight] = []
    for byte in stream:
        weights += parser.feed(bytes((byte,)))
    assert weights == expected
    assert parser.discarded == len(b"ST,GS\r\n")


def test_garbage_without_line_end_is_bounded_and_resyncs() -> None:
    parser = adam.AnswerParser()
    assert parser.feed(b"\xff" * 1000) == []
    assert parser.discarded >= 900
    assert parser.feed(b"\n 2.000kg\r\n") == [adam.AdamWeight(2.0)]


def test_encoding_and_commands() -> None:
    assert adam.encode_weight(1.5) == b"    1.500kg\r\n"
    assert adam.AnswerParser().feed(adam.encode_weight(1.5)) == [adam.AdamWeight(1.5)]
    assert (adam.WEIGHT, adam.ZERO, adam.TARE) == (b"P\r\n", b"Z\r\n", b"T\r\n")
    assert adam.CLEAR_TARE == adam.TARE
    commands = [adam.parse_command(c) for c in (b"P", b" Z\r", b"T", b"Q")]
    assert commands == ["P", "Z", "T", "unknown"]


@pytest.fixture
def sim() -> Iterator[AdamSimulator]:
    simulator = AdamSimulator(weight=1.25)
    simulator.start()
    yield simulator
    simulator.close()


@pytest.fixture
async def scale(sim: AdamSimulator) -> AsyncIterator[SerialScaleService]:
    service = SerialScaleService(
        protocol="adam",
        locator=PortLocator(port=sim.port),
        settings=SerialSettings.parse("4800 8N1"),
        timing=ScaleTiming(poll_interval=0.02, stale_after=1.0, adam_hold=0.5),
    )
    await service.start()
    yield service
    await service.stop()


async def wait_reading(scale: SerialScaleService, key: str, value: Any) -> dict[str, Any]:
    for _ in range(300):
        reading = scale.reading()
        if reading[key] == value:
            return reading
        await asyncio.sleep(0.01)
    raise AssertionError(f"reading never had {key}={value!r}: {scale.reading()}")


async def test_new_weight_is_read_held_then_reset(
    scale: SerialScaleService, sim: AdamSimulator
) -> None:
    reading = await wait_reading(scale, "weight", 1.25)
    assert reading["info"] == "ok"
    assert scale.status().status == "connected"
    assert scale.status().messages[0] == (
        f"Connected to Adam Equipment scale on {sim.port} (4800 8N1)"
    )
    # the scale stays silent for an unchanged weight; the weight is held, then dropped (Odoo)
    await wait_reading(scale, "weight", 0.0)
    assert sim.beeps > 0
    sim.set_weight(2.0)
    await wait_reading(scale, "weight", 2.0)


async def test_tare_zero_and_clear(scale: SerialScaleService, sim: AdamSimulator) -> None:
    await wait_reading(scale, "weight", 1.25)
    await scale.tare()
    await asyncio.sleep(0.05)
    assert sim.tare == pytest.approx(1.25)
    sim.set_weight(2.0)
    await wait_reading(scale, "weight", 0.75)
    await scale.clear_tare()  # Adam has no clear: taring again is what Odoo does
    await received(sim, b"T\r\n", 2)
    await scale.zero()
    await received(sim, b"Z\r\n", 1)


async def received(sim: AdamSimulator, command: bytes, times: int) -> None:
    for _ in range(300):
        if sim.received.count(command) >= times:
            break
        await asyncio.sleep(0.01)
    assert sim.received.count(command) == times


async def test_unplugged_adam_is_reported(scale: SerialScaleService, sim: AdamSimulator) -> None:
    await wait_reading(scale, "weight", 1.25)
    sim.unplug()
    for _ in range(200):
        if scale.status().status == "disconnected":
            break
        await asyncio.sleep(0.01)
    assert scale.status().status == "disconnected"
    assert scale.reading()["info"] == ["disconnected"]


async def test_adam_refuses_a_tare_value(scale: SerialScaleService, sim: AdamSimulator) -> None:
    from posboxless.device import DeviceError

    await wait_reading(scale, "weight", 1.25)
    with pytest.raises(DeviceError, match="cannot be given a tare value"):
        await scale.preset_tare(0.2)
