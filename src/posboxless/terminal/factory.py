"""Builds the payment-terminal services from ``[[payment_terminal]]`` (or, in simulate mode, on
simulated terminals)."""

from __future__ import annotations

import functools
import logging
from dataclasses import replace

from posboxless.device import ServiceContext
from posboxless.terminal.config import TerminalConfig
from posboxless.terminal.registry import Terminals
from posboxless.terminal.service import TeliumTerminalService, find_port
from posboxless.terminal.simulator import TeliumSimulator
from posboxless.transports.serial_port import SerialSettings

log = logging.getLogger(__name__)

DEMO_CARD_DELAY = 3.0
"""Seconds the simulated customer takes with the card in the demo."""


def create_terminals(configs: tuple[TerminalConfig, ...], ctx: ServiceContext) -> Terminals:
    if ctx.simulate:
        configs = configs or (TerminalConfig(),)
    services = {}
    # The others' ports, so that looking for a terminal by USB id never takes a scale's port.
    claimed = ctx.claimed_serial_ports
    for config in configs:
        if ctx.simulate:
            service = create_simulated_terminal(config, ctx)
        else:
            service = TeliumTerminalService(
                config, ctx.data_dir, locate=functools.partial(find_port, config, claimed)
            )
        services[config.name] = service
    default = next((c.name for c in configs if c.default), configs[0].name if configs else None)
    return Terminals(services, default)


def create_simulated_terminal(
    config: TerminalConfig, ctx: ServiceContext, card_delay: float = DEMO_CARD_DELAY
) -> TeliumTerminalService:
    """The real service bound to a pty simulator (``service.simulator.script("refuse")``)."""
    simulator = TeliumSimulator(card_delay=card_delay).start()
    # Some kernels refuse parity settings on ptys: the simulated line is always 8N1.
    service = TeliumTerminalService(
        replace(config, port=simulator.port, usb=None, serial_settings=SerialSettings()),
        ctx.data_dir / "simulated",
    )
    service.simulator = simulator
    service.on_stop(simulator.close)
    log.info("simulated payment terminal %s on %s", config.name, simulator.port)
    return service
