"""Where posboxless puts its files on a system, optionally below an alternate root directory
(``--root``), which is how packaging and the tests install without touching the real system."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SERVICE_NAME = "posboxless.service"
RULES_NAME = "70-posboxless.rules"
DEFAULT_USER = "posboxless"
DEVICE_GROUPS = ("dialout", "lp", "input")
"""Groups owning serial ports, usblp printers and input devices on Debian-based systems."""


@dataclass(frozen=True)
class Layout:
    root: Path = Path("/")

    def at(self, absolute: str) -> Path:
        """``/etc/x`` below the root."""
        return self.root / absolute.lstrip("/")

    @property
    def is_live_system(self) -> bool:
        return self.root.resolve() == Path("/")

    @property
    def unit_file(self) -> Path:
        return self.at(f"/etc/systemd/system/{SERVICE_NAME}")

    @property
    def rules_file(self) -> Path:
        return self.at(f"/etc/udev/rules.d/{RULES_NAME}")

    @property
    def config_dir(self) -> Path:
        return self.at("/etc/posboxless")

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def state_dir(self) -> Path:
        """systemd's StateDirectory=posboxless."""
        return self.at("/var/lib/posboxless")

    @property
    def logs_dir(self) -> Path:
        return self.at("/var/log/posboxless")

    @property
    def passwd(self) -> Path:
        return self.at("/etc/passwd")

    @property
    def group(self) -> Path:
        return self.at("/etc/group")

    @property
    def shadow(self) -> Path:
        return self.at("/etc/shadow")

    @property
    def gshadow(self) -> Path:
        return self.at("/etc/gshadow")
