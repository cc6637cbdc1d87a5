"""doctor: who owns the scale, posboxless or the browser (Odoo 19.4/20 Web Serial)?

What can be seen from outside: the configuration, the installed udev rules (does the cashier's
session get an ACL on scale ports?) and, as root, which programs hold the scale's port open
(``/proc/<pid>/fd``). What cannot: a browser that *tried* to open the port while posboxless held
it exclusively (TIOCEXCL) got an error in the browser only; nothing reaches posboxless.
"""

from __future__ import annotations

import os
from pathlib import Path

from posboxless.config import Config
from posboxless.ops.probe import Probe
from posboxless.ops.results import CheckResult, fail, ok, warn
from posboxless.ops.udev_rules import active_uaccess_lines

NAME = "scale owner"
BROWSERS = ("chrome", "chromium", "chromium-browse", "msedge", "brave", "opera", "vivaldi")


def port_holders(port: str, probe: Probe) -> tuple[list[tuple[int, str]], bool]:
    """``([(pid, program)], complete)`` of the processes other than posboxless that hold
    ``port`` open; ``complete`` is False when some processes could not be looked at (not root).
    """
    proc = probe.layout.at("/proc")
    try:
        target = os.path.realpath(probe.layout.at(port))
    except OSError:
        return [], True
    holders: list[tuple[int, str]] = []
    complete = True
    try:
        entries = list(proc.iterdir())
    except OSError:
        return [], False
    for entry in entries:
        if not entry.name.isdigit():
            continue
        try:
            fds = list((entry / "fd").iterdir())
        except PermissionError:
            complete = False
            continue
        except OSError:  # the process ended meanwhile
            continue
        if not any(_points_to(fd, target, probe) for fd in fds):
            continue
        program = _program(entry)
        if "posboxless" in program:
            continue
        holders.append((int(entry.name), program))
    return holders, complete


def _points_to(fd: Path, target: str, probe: Probe) -> bool:
    try:
        link = os.readlink(fd)
    except OSError:
        return False
    return os.path.realpath(probe.layout.at(link) if link.startswith("/") else link) == target


def _program(entry: Path) -> str:
    try:
        comm = (entry / "comm").read_text().strip()
        cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "?"
    return f"{comm} {cmdline}".strip() if "posboxless" in cmdline else comm


def check_scale_owner(config: Config, probe: Probe) -> list[CheckResult]:
    scale = config.scale
    if scale is None:
        return []
    rules = probe.layout.rules_file
    try:
        uaccess = active_uaccess_lines(rules.read_text("utf-8"))
    except OSError:
        uaccess = []
    if scale.browser_owned:
        if uaccess:
            return [
                ok(
                    NAME,
                    "The scale is left to the browser (Odoo Web Serial): posboxless never opens "
                    "it, and the udev rules let the logged-in cashier's browser open it "
                    "(uaccess).",
                )
            ]
        return [
            warn(
                NAME,
                'The scale is left to the browser ([scale] owner = "browser"), but no udev rule '
                "lets the cashier's session open it: Chrome will not see or open the port.",
                "sudo posboxless install (writes the uaccess rule), then unplug and replug the "
                "scale.",
            )
        ]

    results: list[CheckResult] = []
    if uaccess:
        results.append(
            warn(
                NAME,
                "posboxless owns the scale, but the udev rules still let the cashier's browser "
                "open scale ports (uaccess).",
                "sudo posboxless install (rewrites the rules for a posboxless-owned scale).",
            )
        )
    port = scale.port if scale.port and scale.port.startswith("/") else None
    holders: list[tuple[int, str]] = []
    complete = True
    if port is not None:
        holders, complete = port_holders(port, probe)
    browsers = [(pid, name) for pid, name in holders if name.split()[0] in BROWSERS]
    if browsers:
        named = ", ".join(f"{name} (pid {pid})" for pid, name in browsers)
        results.append(
            fail(
                NAME,
                f"{named} has the scale's port {port} open while posboxless owns the scale: a "
                "POS reading it over Web Serial; both read garbage or nothing.",
                "In Odoo, remove the Web Serial scale from the POS settings, or let the browser "
                'own it: [scale] owner = "browser", then sudo posboxless install.',
            )
        )
    elif holders:
        named = ", ".join(f"{name} (pid {pid})" for pid, name in holders)
        results.append(
            warn(
                NAME,
                f"{named} also has the scale's port {port} open.",
                "Stop that program: one program per serial port.",
            )
        )
    note = (
        "posboxless owns the scale and holds its port exclusively: a browser asking for it over "
        "Web Serial gets an error in the browser, which posboxless cannot see."
    )
    if port is None:
        note += " (Give scale.port to let doctor look for other programs holding it.)"
    elif not complete:
        note += " Run doctor with sudo to see whether another program holds the port."
    if not results:
        results.append(ok(NAME, note))
    return results
