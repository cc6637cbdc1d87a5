"""``posboxless install`` and ``posboxless uninstall``.

Install is idempotent: it creates the system user (groups dialout, lp, input), writes the
hardened systemd unit and the udev rules (rewritten when they differ), writes the commented
configuration file only when there is none, and on a live systemd system reloads udev and
(re)starts the service. ``--root`` installs below another directory instead (image builds,
tests); nothing is started then.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from posboxless.config import Config
from posboxless.ops.accounts import Runner, UserDatabase, accounts_for, run_command
from posboxless.ops.config_file import check_config_text, render_config
from posboxless.ops.layout import DEFAULT_USER, DEVICE_GROUPS, SERVICE_NAME, Layout
from posboxless.ops.monitoring import setup as monitoring
from posboxless.ops.system import systemd_manages
from posboxless.ops.udev_rules import render_rules
from posboxless.ops.unit import find_command, hidden_location, render_unit
from posboxless.settings import ConfigError

log = logging.getLogger(__name__)

_USER_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
UDEV_SUBSYSTEMS = ("tty", "usbmisc", "usb", "input")


class InstallError(Exception):
    """The installation cannot go on; the message says why and what to do."""


@dataclass
class InstallOptions:
    root: Path = Path("/")
    user: str = DEFAULT_USER
    listen: str | None = None
    allowed_origins: list[str] = field(default_factory=list)
    start: bool = True
    command: list[str] | None = None
    """How the service starts posboxless; found automatically when None."""
    browser_policies: bool = False
    """Also write the managed browser policies (``posboxless.ops.browser_policies``)."""
    monitoring: monitoring.MonitoringOptions | None = None
    """Push metrics to an IT partner (``posboxless.ops.monitoring``); nothing is sent when None."""


@dataclass
class Outcome:
    changes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def write_if_changed(path: Path, text: str, mode: int, group_gid: int | None = None) -> bool:
    """Write ``text`` unless the file already holds it; returns whether it was written."""
    try:
        if path.read_text("utf-8") == text:
            if (path.stat().st_mode & 0o7777) != mode:
                path.chmod(mode)
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.new")
    tmp.write_text(text, "utf-8")
    tmp.chmod(mode)
    if group_gid is not None and os.geteuid() == 0:
        os.chown(tmp, 0, group_gid)
    os.replace(tmp, path)
    return True


def _service_gid(layout: Layout, user: str) -> int | None:
    found = UserDatabase(layout).user(user)
    return found.gid if found else None


def install(options: InstallOptions, run: Runner = run_command) -> Outcome:
    if not _USER_NAME.match(options.user):
        raise InstallError(f"'{options.user}' is not a valid user name (lower case, digits, _ -)")
    layout = Layout(options.root)
    config_text = render_config(options.listen or "127.0.0.1", options.allowed_origins)
    try:
        check_config_text(config_text)
    except ConfigError as exc:
        raise InstallError(f"Invalid option for the configuration file: {exc}") from None
    command = options.command or find_command()
    outcome = Outcome()
    hidden = hidden_location(command)
    if hidden:
        outcome.notes.append(
            f"WARNING: {command[0]} is under {hidden}, which the hardened service cannot see. "
            "Install posboxless system-wide (e.g. a virtualenv in /opt/posboxless) and re-run."
        )

    outcome.changes += accounts_for(layout, run).ensure(options.user, DEVICE_GROUPS)
    gid = _service_gid(layout, options.user)

    unit = render_unit(command, options.user, "/etc/posboxless/config.toml")
    unit_changed = write_if_changed(layout.unit_file, unit, 0o644)
    if unit_changed:
        outcome.changes.append(f"wrote {layout.unit_file}")
    rules_changed = write_if_changed(
        layout.rules_file, render_rules(_planned_config(layout, config_text)), 0o644
    )
    if rules_changed:
        outcome.changes.append(f"wrote {layout.rules_file}")

    if not layout.config_dir.exists():
        layout.config_dir.mkdir(parents=True, mode=0o750)
        outcome.changes.append(f"created {layout.config_dir}")
    # The file may hold the admin token: readable by root and the service's group only.
    if gid is not None and os.geteuid() == 0:
        os.chown(layout.config_dir, 0, gid)
    if layout.config_file.exists():
        if options.listen or options.allowed_origins:
            outcome.notes.append(
                f"{layout.config_file} exists and was kept: edit it to change host or "
                "allowed_origins."
            )
    else:
        write_if_changed(layout.config_file, config_text, 0o640, gid)
        outcome.changes.append(f"wrote {layout.config_file}")

    if options.browser_policies:
        _install_browser_policies(layout, options.user, outcome)

    live = options.start and systemd_manages(layout)
    agent_changed = False
    if options.monitoring is not None:
        agent_changed = _install_monitoring(
            layout, options, command, config_text, live, run, outcome
        )

    if live:
        _apply_live(run, restart=unit_changed, outcome=outcome)
        if rules_changed:
            _reload_udev(run, outcome)
        if options.monitoring is not None:
            _start_monitoring(run, agent_changed, options.monitoring, outcome)
    else:
        outcome.notes.append(
            "Nothing was started. On the target system: systemctl daemon-reload && "
            f"systemctl enable --now {SERVICE_NAME} && udevadm control --reload && udevadm trigger"
        )
        if options.monitoring is not None:
            outcome.notes.append(
                f"Then: systemctl enable --now {monitoring.AGENT_SERVICE}"
                + (f" {monitoring.REMOTE_HELP_TIMER}" if options.monitoring.remote_help_url else "")
            )
    return outcome


def _install_monitoring(
    layout: Layout,
    options: InstallOptions,
    command: list[str],
    config_text: str,
    live: bool,
    run: Runner,
    outcome: Outcome,
) -> bool:
    wanted = options.monitoring
    assert wanted is not None
    if live and wanted.remote_help_url is None and monitoring.remote_help_installed(layout):
        run(["systemctl", "disable", "--now", monitoring.REMOTE_HELP_TIMER])
    planned = _planned_config(layout, config_text) or Config()
    prometheus = monitoring.find_prometheus()
    if prometheus is None:
        prometheus = "/usr/bin/prometheus"
        outcome.notes.append(
            "The metrics agent needs Debian's prometheus package: apt install prometheus"
        )
    outcome.notes.append(
        "Debian's prometheus package also runs a full server (prometheus.service, port 9090); "
        "the till does not need it: systemctl disable --now prometheus"
    )
    try:
        changes, changed = monitoring.install_monitoring(
            layout,
            wanted,
            planned.server.host,
            planned.server.http_port,
            prometheus,
            command,
            lambda path, text, mode: write_if_changed(path, text, mode),
        )
    except monitoring.AgentOptionError as exc:
        raise InstallError(str(exc)) from None
    outcome.changes += changes
    return changed


def _start_monitoring(
    run: Runner, changed: bool, wanted: monitoring.MonitoringOptions, outcome: Outcome
) -> None:
    agent = monitoring.AGENT_SERVICE
    run(["systemctl", "enable", agent])
    run(["systemctl", "restart" if changed else "start", agent])
    outcome.changes.append(f"{'restarted' if changed else 'started'} {agent}")
    if wanted.remote_help_url is not None:
        run(["systemctl", "enable", "--now", monitoring.REMOTE_HELP_TIMER])
        outcome.changes.append(f"started {monitoring.REMOTE_HELP_TIMER}")


def _planned_config(layout: Layout, new_text: str) -> Config | None:
    """The configuration the service will read: the existing file, else the one being written.
    None when it does not parse (doctor reports that)."""
    try:
        text = layout.config_file.read_text("utf-8")
    except FileNotFoundError:
        text = new_text
    except OSError:
        return None
    try:
        return check_config_text(text)
    except ValueError:
        return None


def _install_browser_policies(layout: Layout, user: str, outcome: Outcome) -> None:
    from posboxless.ops import browser_policies
    from posboxless.ops.config_file import check_config_text

    try:
        config = check_config_text(layout.config_file.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise InstallError(
            f"Cannot read {layout.config_file} for the browser policies: {exc}"
        ) from None
    account = UserDatabase(layout).user(user)
    owner = (account.uid, account.gid) if account else None
    changes, notes = browser_policies.install_policies(
        layout, config, owner, lambda path, text, mode: write_if_changed(path, text, mode)
    )
    outcome.changes += changes
    outcome.notes += notes


def _apply_live(run: Runner, restart: bool, outcome: Outcome) -> None:
    run(["systemctl", "daemon-reload"])
    run(["systemctl", "enable", SERVICE_NAME])
    run(["systemctl", "restart" if restart else "start", SERVICE_NAME])
    outcome.changes.append(f"{'restarted' if restart else 'started'} {SERVICE_NAME}")


def _reload_udev(run: Runner, outcome: Outcome) -> None:
    if shutil.which("udevadm") is None:
        return
    run(["udevadm", "control", "--reload"])
    subsystems = [f"--subsystem-match={s}" for s in UDEV_SUBSYSTEMS]
    run(["udevadm", "trigger", "--action=change", *subsystems])
    outcome.changes.append("reloaded udev rules")


def uninstall(
    root: Path,
    user: str = DEFAULT_USER,
    purge: bool = False,
    start: bool = True,
    run: Runner = run_command,
) -> Outcome:
    layout = Layout(root)
    outcome = Outcome()
    live = start and systemd_manages(layout)
    if live and layout.unit_file.exists():
        run(["systemctl", "disable", "--now", SERVICE_NAME])
        outcome.changes.append(f"stopped and disabled {SERVICE_NAME}")
    if live and monitoring.remote_help_installed(layout):
        run(["systemctl", "disable", "--now", monitoring.REMOTE_HELP_TIMER])
    if live and monitoring.monitoring_installed(layout):
        run(["systemctl", "disable", "--now", monitoring.AGENT_SERVICE])
    outcome.changes += monitoring.uninstall_monitoring(layout)
    for path in (layout.unit_file, layout.rules_file):
        if path.exists():
            path.unlink()
            outcome.changes.append(f"removed {path}")
    from posboxless.ops.browser_policies import remove_policies

    outcome.changes += remove_policies(layout)
    if live:
        run(["systemctl", "daemon-reload"])
        _reload_udev(run, outcome)
    if purge:
        for directory in (layout.config_dir, layout.state_dir, layout.logs_dir):
            if directory.exists():
                shutil.rmtree(directory)
                outcome.changes.append(f"removed {directory}")
        outcome.changes += accounts_for(layout, run).remove(user)
    else:
        outcome.notes.append(
            f"Kept {layout.config_file} and {layout.state_dir} (print journal, certificates); "
            "--purge removes them and the user."
        )
    return outcome


# Command line --------------------------------------------------------------------------------


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--root",
        type=Path,
        default=Path("/"),
        help="the system below this directory instead of / (image builds; nothing is started "
        "or stopped then)",
    )
    parser.add_argument("--no-start", action="store_true", help="do not run systemctl or udevadm")
    parser.add_argument(
        "--user", default=DEFAULT_USER, help=f"system user the service runs as ({DEFAULT_USER})"
    )


def add_install_arguments(parser: argparse.ArgumentParser) -> None:
    _common(parser)
    parser.add_argument(
        "--listen",
        metavar="ADDRESS",
        help="address written to the new configuration file (127.0.0.1; 0.0.0.0 for the network)",
    )
    parser.add_argument(
        "--allowed-origin",
        metavar="URL",
        action="append",
        default=[],
        help="Odoo URL allowed to use the devices, e.g. https://shop.example.com (repeatable)",
    )
    parser.add_argument(
        "--browser-policies",
        action="store_true",
        help="also write Chromium/Chrome and Firefox policies: trust the local CA, let the "
        "allowed Odoo origins reach this till without a Local Network Access prompt "
        "(removed by uninstall)",
    )
    monitoring.add_monitoring_arguments(parser)


def add_uninstall_arguments(parser: argparse.ArgumentParser) -> None:
    _common(parser)
    parser.add_argument(
        "--purge",
        action="store_true",
        help="also remove the configuration, the data directory and the system user",
    )


def _report(outcome: Outcome, done: str, out: Callable[[str], None]) -> None:
    for change in outcome.changes:
        out(f"  {change}")
    if not outcome.changes:
        out("  nothing to change")
    for note in outcome.notes:
        out(note)
    out(done)


def _needs_root(root: Path) -> str | None:
    if Layout(root).is_live_system and os.geteuid() != 0:
        return "This changes the system: run it with sudo (or use --root DIR)."
    return None


def _fail(message: str) -> int:
    log.error("%s", message)
    print(message, file=sys.stderr)
    return 1


def run_install(args: argparse.Namespace, run: Runner = run_command) -> int:
    problem = _needs_root(args.root)
    if problem:
        return _fail(problem)
    try:
        monitoring_options = monitoring.monitoring_options(args)
    except monitoring.AgentOptionError as exc:
        return _fail(f"Installation failed: {exc}")
    options = InstallOptions(
        monitoring=monitoring_options,
        root=args.root,
        user=args.user,
        listen=args.listen,
        allowed_origins=list(args.allowed_origin),
        start=not args.no_start,
        browser_policies=args.browser_policies,
    )
    try:
        outcome = install(options, run)
    except (InstallError, OSError) as exc:
        return _fail(f"Installation failed: {exc}")
    except _command_errors() as exc:
        return _fail(f"Installation failed: {_describe(exc)}")
    _report(outcome, "posboxless is installed. Check the till with: sudo posboxless doctor", print)
    return 0


def run_uninstall(args: argparse.Namespace, run: Runner = run_command) -> int:
    problem = _needs_root(args.root)
    if problem:
        return _fail(problem)
    try:
        outcome = uninstall(args.root, args.user, args.purge, not args.no_start, run)
    except OSError as exc:
        return _fail(f"Uninstallation failed: {exc}")
    except _command_errors() as exc:
        return _fail(f"Uninstallation failed: {_describe(exc)}")
    _report(outcome, "posboxless is uninstalled.", print)
    return 0


def _command_errors() -> tuple[type[BaseException], ...]:
    import subprocess

    return (subprocess.CalledProcessError, subprocess.TimeoutExpired)


def _describe(exc: BaseException) -> str:
    import subprocess

    if isinstance(exc, subprocess.CalledProcessError):
        command = " ".join(map(str, exc.cmd)) if isinstance(exc.cmd, Sequence) else str(exc.cmd)
        detail = (exc.stderr or "").strip()
        return f"'{command}' failed ({exc.returncode}){': ' + detail if detail else ''}"
    return str(exc)
