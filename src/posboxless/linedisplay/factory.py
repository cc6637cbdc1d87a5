"""Builds the customer display service from ``[customer_display]`` (or, in simulate mode, on a
simulated display)."""

from __future__ import annotations

import logging
from dataclasses import replace

from posboxless.device import ServiceContext
from posboxless.linedisplay.config import CustomerDisplayConfig
from posboxless.linedisplay.service import DisplayTiming, PoleDisplayService
from posboxless.linedisplay.simulator import PoleDisplaySimulator

log = logging.getLogger(__name__)


def centred(lines: tuple[str, ...], width: int) -> tuple[str, ...]:
    return tuple(line.strip().center(width) for line in lines)


def build_service(config: CustomerDisplayConfig) -> PoleDisplayService:
    assert config.port is not None
    return PoleDisplayService(
        name=config.name,
        port=config.port,
        settings=config.serial_settings,
        commands=config.commands,
        welcome=centred(config.welcome, config.commands.width),
        timing=DisplayTiming(welcome_after=config.welcome_after),
    )


def create_customer_display(
    config: CustomerDisplayConfig | None, ctx: ServiceContext
) -> PoleDisplayService | None:
    if ctx.simulate:
        return create_simulated_display(config or CustomerDisplayConfig())
    if config is None:
        return None
    return build_service(config)


def create_simulated_display(config: CustomerDisplayConfig) -> PoleDisplayService:
    """The real service bound to a pty simulator of the configured profile."""
    commands = config.commands
    simulator = PoleDisplaySimulator(dialect=commands.profile, width=commands.width)
    if commands.read_after_write:
        simulator.answer_byte = b"\x00"
    simulator.start()
    service = build_service(replace(config, port=simulator.port))
    service.simulator = simulator
    service.on_stop(simulator.close)
    log.info("simulated %s customer display on %s", commands.profile, simulator.port)
    return service
