"""The systemd unit: which command starts the proxy, and the unit text."""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

from posboxless.ops.resources import template

# Directories the hardened unit cannot see (ProtectHome=yes hides them; PrivateTmp replaces /tmp).
HIDDEN_FROM_SERVICE = ("/home", "/root", "/run/user", "/tmp", "/var/tmp")


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_command(argv0: str | None = None) -> list[str]:
    """The command line that runs this installation of posboxless, found at install time so the
    unit works wherever the package is installed (system, /opt venv, pipx...)."""
    argv0 = sys.argv[0] if argv0 is None else argv0
    if argv0 and Path(argv0).name == "posboxless":
        candidate = Path(argv0).resolve()
        if _is_executable(candidate):
            return [str(candidate)]
    found = shutil.which("posboxless")
    if found:
        return [str(Path(found).resolve())]
    # Not resolved: in a virtualenv the python symlink is what selects the environment.
    return [str(Path(sys.executable).absolute()), "-m", "posboxless"]


def hidden_location(command: list[str]) -> str | None:
    """The protected directory the command lives in, if the service could not run it."""
    for prefix in HIDDEN_FROM_SERVICE:
        for part in command[:1]:
            if part == prefix or part.startswith(prefix + "/"):
                return prefix
    return None


_PLAIN = re.compile(r"^[A-Za-z0-9_@%+=:,./-]+$")


def quote(arg: str) -> str:
    """Quote one ExecStart argument the way systemd parses it."""
    if _PLAIN.match(arg):
        return arg.replace("%", "%%")
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
    escaped = escaped.replace("$", "$$")
    return f'"{escaped}"'


def render_unit(command: list[str], user: str, config_path: str) -> str:
    exec_start = " ".join(quote(a) for a in [*command, "serve", "--config", config_path])
    return (
        template("posboxless.service").replace("@EXEC_START@", exec_start).replace("@USER@", user)
    )
