"""The till's payment terminals, by the name the POS gives as ``terminal_id``."""

from __future__ import annotations

from dataclasses import dataclass, field

from posboxless.device import DeviceUnavailable, InvalidInput
from posboxless.terminal.service import TeliumTerminalService


@dataclass
class Terminals:
    by_name: dict[str, TeliumTerminalService] = field(default_factory=dict)
    default_name: str | None = None

    def all(self) -> list[TeliumTerminalService]:
        return list(self.by_name.values())

    def get(self, terminal_id: str | None) -> TeliumTerminalService:
        """The terminal the POS names, or the default one when it names none."""
        if terminal_id:
            terminal = self.by_name.get(terminal_id)
            if terminal is None:
                known = ", ".join(self.by_name) or "none"
                raise InvalidInput(
                    f"No payment terminal {terminal_id!r} in posboxless (configured: {known}); "
                    "check the payment method's Terminal Identifier",
                    arguments=[f"Unknown payment terminal {terminal_id!r}", terminal_id],
                )
            return terminal
        if self.default_name is None:
            raise DeviceUnavailable("No payment terminal is configured in posboxless")
        return self.by_name[self.default_name]

    def claimed_ports(self) -> set[str]:
        return {t.config.port for t in self.by_name.values() if t.config.port}
