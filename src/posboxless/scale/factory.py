"""Builds the scale service from ``[scale]`` (or, in simulate mode, on a simulated scale)."""

from __future__ import annotations

import logging
from dataclasses import replace

from posboxless.device import ScaleService, ServiceContext
from posboxless.pty_simulator import PtySimulator
from posboxless.scale.browser_owned import BrowserOwnedScale
from posboxless.scale.config import ScaleConfig
from posboxless.scale.discovery import PortLocator, echo_probe
from posboxless.scale.service import ScaleTiming, SerialScaleService
from posboxless.scale.simulator import AdamSimulator, Toledo8217Simulator
from posboxless.transports.serial_port import SerialSettings

log = logging.getLogger(__name__)

SIMULATED_START_WEIGHT = 1.234
"""Something visible on the demo page before anyone sets a weight."""


def timing_for(config: ScaleConfig) -> ScaleTiming:
    return ScaleTiming(
        poll_interval=config.effective_poll_interval,
        reply_timeout=config.reply_timeout,
        stale_after=config.stale_after,
        retry_max=config.retry_max,
        adam_hold=config.adam_hold,
    )


def build_service(config: ScaleConfig, claimed: frozenset[str] = frozenset()) -> SerialScaleService:
    """The real service for ``config``; probing never touches ``claimed`` ports."""
    settings = config.effective_settings
    locator = PortLocator(
        port=config.port,
        usb=config.usb,
        probe=config.probe and config.protocol == "toledo8217",
        claimed=claimed,
        prober=echo_probe(settings, config.reply_timeout),
    )
    return SerialScaleService(
        name=config.name,
        protocol=config.protocol,
        locator=locator,
        settings=settings,
        timing=timing_for(config),
    )


def create_scale(config: ScaleConfig | None, ctx: ServiceContext) -> ScaleService | None:
    if config is not None and config.browser_owned:  # even when simulating: never touch it
        return BrowserOwnedScale(config)
    if ctx.simulate:
        return create_simulated_scale(config or ScaleConfig())
    if config is None:
        return None
    return build_service(config, ctx.claimed_serial_ports)


def create_simulated_scale(config: ScaleConfig) -> SerialScaleService:
    """The real service bound to a pty simulator (``service.simulator.set_weight(kg)``)."""
    simulator: PtySimulator
    if config.protocol == "adam":
        simulator = AdamSimulator(weight=SIMULATED_START_WEIGHT)
    else:
        simulator = Toledo8217Simulator(weight=SIMULATED_START_WEIGHT)
    simulator.start()
    # Line settings are virtual on a pty (as on the Ariva-S's USB port), and some kernels refuse
    # 7-bit or parity settings on ptys outright: the demo always uses 8N1.
    speed = config.effective_settings.baudrate
    settings = SerialSettings.parse(f"{speed} 8N1")
    service = build_service(
        replace(config, port=simulator.port, usb=None, probe=False, serial_settings=settings)
    )
    service.simulator = simulator
    service.on_stop(simulator.close)
    log.info("simulated %s scale on %s", config.protocol, simulator.port)
    return service
