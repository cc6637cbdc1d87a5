"""``[scale]`` parsing and the factory (real and simulated)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from posboxless.device import ServiceContext
from posboxless.scale.config import ScaleConfig, parse_scale
from posboxless.scale.factory import create_scale
from posboxless.scale.service import SerialScaleService
from posboxless.scale.simulator import AdamSimulator, Toledo8217Simulator
from posboxless.settings import ConfigError, Table


def parse(**values: Any) -> ScaleConfig:
    config = parse_scale(Table(values, "scale"))
    assert config is not None
    return config


def test_no_table_no_scale() -> None:
    assert parse_scale(None) is None


def test_defaults_per_protocol() -> None:
    toledo = parse()
    assert toledo.protocol == "toledo8217"
    assert str(toledo.effective_settings) == "9600 7E1"
    assert toledo.effective_poll_interval == 0.2
    assert toledo.probe is True
    adam = parse(protocol="adam", port="/dev/ttyUSB0")
    assert str(adam.effective_settings) == "4800 8N1"
    assert adam.effective_poll_interval == 0.5


def test_full_table() -> None:
    config = parse(
        usb="0EB8:2200",
        serial_settings="9600 8N1",
        probe=False,
        poll_interval=0.1,
        reply_timeout=0.5,
        stale_after=1.5,
        retry_max=2.0,
        name="ariva",
    )
    assert config.usb == (0x0EB8, 0x2200)
    assert str(config.effective_settings) == "9600 8N1"
    assert (config.poll_interval, config.reply_timeout, config.stale_after) == (0.1, 0.5, 1.5)
    assert config.name == "ariva"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"protocol": "dialog06"}, "scale.protocol: expected one of 'toledo8217', 'adam'"),
        ({"serial_settings": "fast"}, "scale.serial_settings: expected serial settings"),
        ({"usb": "0eb8"}, "scale.usb: expected a USB id"),
        ({"port": "/dev/ttyUSB0", "usb": "0eb8:2200"}, "either 'port' or 'usb'"),
        ({"protocol": "adam"}, "an Adam scale cannot be found by probing"),
        ({"reply_timeout": 2.0, "stale_after": 1.0}, "scale.stale_after: expected more than"),
        ({"poll_interval": 0}, "scale.poll_interval: expected a number from"),
        ({"prot": "adam"}, "scale.prot: expected a known key"),
    ],
)
def test_errors_name_the_key(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_scale(Table(values, "scale"))


def test_factory_without_scale() -> None:
    ctx = ServiceContext(data_dir=Path("/nonexistent"), simulate=False)
    assert create_scale(None, ctx) is None


def test_factory_builds_the_real_service() -> None:
    ctx = ServiceContext(
        data_dir=Path("/nonexistent"), simulate=False, claimed_serial_ports=frozenset({"/dev/x"})
    )
    service = create_scale(parse(usb="0eb8:2200"), ctx)
    assert isinstance(service, SerialScaleService)
    assert service.locator.usb == (0x0EB8, 0x2200)
    assert service.locator.claimed == frozenset({"/dev/x"})
    assert service.simulator is None


async def _wait(predicate: Any) -> None:
    for _ in range(300):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met within 3 s")


@pytest.mark.parametrize("config", [None, ScaleConfig(poll_interval=0.02)])
async def test_simulate_mode_builds_the_real_service_on_a_simulator(
    tmp_path: Path, config: ScaleConfig | None
) -> None:
    ctx = ServiceContext(data_dir=tmp_path, simulate=True)
    service = create_scale(config, ctx)
    assert isinstance(service, SerialScaleService)
    assert isinstance(service.simulator, Toledo8217Simulator)
    await service.start()
    try:
        await _wait(lambda: service.status().status == "connected")
        service.simulator.set_weight(0.815)
        await _wait(lambda: service.reading()["weight"] == 0.815)
        await service.tare()
        assert service.details()["simulated"] is True
    finally:
        await service.stop()
    assert service.status().status == "disconnected"


async def test_simulate_mode_adam(tmp_path: Path) -> None:
    ctx = ServiceContext(data_dir=tmp_path, simulate=True)
    service = create_scale(ScaleConfig(protocol="adam", port="/dev/ttyUSB0"), ctx)
    assert isinstance(service, SerialScaleService)
    assert isinstance(service.simulator, AdamSimulator)
    await service.start()
    try:
        await _wait(lambda: service.reading()["weight"] == 1.234)
        assert "Adam Equipment" in service.status().messages[0]
    finally:
        await service.stop()
