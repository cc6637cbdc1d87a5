"""The few system tools install and doctor call (systemctl, udevadm), behind small functions
that tests replace."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from posboxless.ops.layout import Layout


def systemd_manages(layout: Layout) -> bool:
    """True when changes below ``layout`` should be applied with systemctl right away."""
    return (
        layout.is_live_system
        and Path("/run/systemd/system").is_dir()
        and shutil.which("systemctl") is not None
    )


def service_active(unit: str) -> bool | None:
    """Whether a systemd unit is running; None when that cannot be known (no systemd)."""
    if shutil.which("systemctl") is None or not Path("/run/systemd/system").is_dir():
        return None
    try:
        result = subprocess.run(
            ["systemctl", "is-active", "--quiet", unit], capture_output=True, timeout=5
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.returncode == 0


def command_output(command: list[str], timeout: float = 10) -> str | None:
    """Standard output of a command, or None if it is missing, fails or hangs."""
    if shutil.which(command[0]) is None:
        return None
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout if result.returncode == 0 else None
