"""What ``posboxless install --monitoring-url ...`` writes for the metrics agent and the
optional remote-help push, and what ``posboxless uninstall`` removes."""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from posboxless.ops.layout import Layout
from posboxless.ops.monitoring import shipped
from posboxless.ops.monitoring.agent import (
    AGENT_CONFIG_DIR,
    AGENT_SERVICE,
    AGENT_STATE_DIR,
    CREDENTIAL_PATH,
    AgentOptionError,
    AgentSettings,
    check_settings,
    render_agent_config,
    render_agent_unit,
    scrape_target,
)
from posboxless.ops.unit import quote

REMOTE_HELP_SERVICE = "posboxless-remote-help.service"
REMOTE_HELP_TIMER = "posboxless-remote-help.timer"
PASSWORD_MAX_BYTES = 4096

Writer = Callable[[Path, str, int], bool]


@dataclass(frozen=True)
class MonitoringOptions:
    url: str
    user: str
    password_file: Path
    shop: str
    till: str
    ca_file: Path | None = None
    remote_help_url: str | None = None
    """Also push the support bundle there on a timer (off when None)."""


def _paths(layout: Layout) -> dict[str, Path]:
    config_dir = layout.at(AGENT_CONFIG_DIR)
    return {
        "config_dir": config_dir,
        "config": config_dir / "agent.yml",
        "password": config_dir / "password",
        "ca": config_dir / "ca.pem",
        "unit": layout.at(f"/etc/systemd/system/{AGENT_SERVICE}"),
        "help_unit": layout.at(f"/etc/systemd/system/{REMOTE_HELP_SERVICE}"),
        "help_timer": layout.at(f"/etc/systemd/system/{REMOTE_HELP_TIMER}"),
        "state": layout.at(AGENT_STATE_DIR),
    }


def _read_password(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AgentOptionError(f"--monitoring-password-file: {exc}") from None
    text = data.decode("utf-8", "replace").strip()
    if not text or len(data) > PASSWORD_MAX_BYTES or "\n" in text:
        raise AgentOptionError(
            f"--monitoring-password-file {path}: one line holding the password is expected"
        )
    return text + "\n"


def install_monitoring(
    layout: Layout,
    options: MonitoringOptions,
    host: str,
    http_port: int,
    prometheus: str,
    posboxless_command: list[str],
    write: Writer,
) -> tuple[list[str], bool]:
    """Write the agent's configuration, its password, its unit (and the remote-help timer).
    Returns the changes and whether a unit changed (the agent must be restarted)."""
    paths = _paths(layout)
    settings = check_settings(
        AgentSettings(
            url=options.url,
            user=options.user,
            shop=options.shop,
            till=options.till,
            target=scrape_target(host, http_port),
            ca_file=f"{AGENT_CONFIG_DIR}/ca.pem" if options.ca_file else None,
        )
    )
    password = _read_password(options.password_file)
    changes: list[str] = []
    changed = False
    paths["config_dir"].mkdir(parents=True, exist_ok=True)
    paths["config_dir"].chmod(0o755)
    if options.ca_file is not None:
        try:
            ca_text = options.ca_file.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise AgentOptionError(f"--monitoring-ca-file: {exc}") from None
        if "BEGIN CERTIFICATE" not in ca_text:
            raise AgentOptionError(f"--monitoring-ca-file {options.ca_file}: no PEM certificate")
        if write(paths["ca"], ca_text, 0o644):
            changes.append(f"wrote {paths['ca']}")
            changed = True
    # Root only: systemd hands the agent its own copy (LoadCredential), never the file itself.
    if write(paths["password"], password, 0o600):
        changes.append(f"wrote {paths['password']}")
        changed = True
    password_source = f"{AGENT_CONFIG_DIR}/password"
    if write(paths["config"], render_agent_config(settings), 0o644):
        changes.append(f"wrote {paths['config']}")
        changed = True
    unit = render_agent_unit(prometheus, f"{AGENT_CONFIG_DIR}/agent.yml", password_source)
    if write(paths["unit"], unit, 0o644):
        changes.append(f"wrote {paths['unit']}")
        changed = True
    if options.remote_help_url is not None:
        from posboxless.ops.monitoring.remote_help import check_push_url

        check_push_url(options.remote_help_url)
        command = [
            *posboxless_command, "remote-help", "--url", options.remote_help_url,
            "--user", options.user, "--password-file", CREDENTIAL_PATH.replace(
                AGENT_SERVICE, REMOTE_HELP_SERVICE
            ), "--shop", options.shop, "--till", options.till,
        ]  # fmt: skip
        if options.ca_file is not None:
            command += ["--ca-file", f"{AGENT_CONFIG_DIR}/ca.pem"]
        help_unit = (
            shipped(REMOTE_HELP_SERVICE)
            .replace("@EXEC_START@", " ".join(quote(a) for a in command))
            .replace("@PASSWORD_SOURCE@", password_source)
        )
        for key, text in (("help_unit", help_unit), ("help_timer", shipped(REMOTE_HELP_TIMER))):
            if write(paths[key], text, 0o644):
                changes.append(f"wrote {paths[key]}")
                changed = True
    else:
        changes += _remove(paths["help_unit"], paths["help_timer"])
    return changes, changed


def _remove(*files: Path) -> list[str]:
    removed = []
    for path in files:
        if path.exists():
            path.unlink()
            removed.append(f"removed {path}")
    return removed


def remote_help_installed(layout: Layout) -> bool:
    return _paths(layout)["help_timer"].exists()


def monitoring_installed(layout: Layout) -> bool:
    return _paths(layout)["unit"].exists()


def uninstall_monitoring(layout: Layout) -> list[str]:
    """Remove the units, the configuration and the password; the write-ahead log goes too
    (metrics not sent by now are of no use to anyone)."""
    paths = _paths(layout)
    changes = _remove(paths["unit"], paths["help_unit"], paths["help_timer"])
    for directory in (paths["config_dir"], paths["state"]):
        if directory.exists():
            shutil.rmtree(directory)
            changes.append(f"removed {directory}")
    return changes


# Command line --------------------------------------------------------------------------------

_REQUIRED = ("monitoring_user", "monitoring_password_file", "shop", "till")


def add_monitoring_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "fleet monitoring (off unless --monitoring-url is given; see the README, For IT partners)"
    )
    group.add_argument(
        "--monitoring-url",
        metavar="URL",
        help="push this till's metrics to this Prometheus remote-write endpoint (https://...); "
        "installs posboxless-metrics-agent.service (Debian's prometheus in agent mode)",
    )
    group.add_argument("--monitoring-user", metavar="USER", help="basic-auth user for the URL")
    group.add_argument(
        "--monitoring-password-file",
        type=Path,
        metavar="FILE",
        help=f"file holding the basic-auth password (copied root-only under {AGENT_CONFIG_DIR})",
    )
    group.add_argument(
        "--monitoring-ca-file", type=Path, metavar="PEM", help="the partner's private CA, if any"
    )
    group.add_argument("--shop", help="shop name, the `shop` label of every sample and alert")
    group.add_argument("--till", help="till name, the `till` label of every sample and alert")
    group.add_argument(
        "--remote-help-url",
        metavar="URL",
        help="also push the read-only diagnostics and support bundle there every 5 minutes "
        "(HTTPS PUT, same credentials); off by default",
    )


def monitoring_options(args: argparse.Namespace) -> MonitoringOptions | None:
    """The monitoring options given, or None; refuses half of them."""
    url = getattr(args, "monitoring_url", None)
    given = [name for name in _REQUIRED if getattr(args, name, None)]
    if url is None:
        if given or getattr(args, "remote_help_url", None):
            raise AgentOptionError(
                "--monitoring-user, --monitoring-password-file, --shop, --till and "
                "--remote-help-url go with --monitoring-url"
            )
        return None
    missing = [name for name in _REQUIRED if name not in given]
    if missing:
        raise AgentOptionError(
            "--monitoring-url also needs "
            + ", ".join("--" + name.replace("_", "-") for name in missing)
        )
    return MonitoringOptions(
        url=url,
        user=args.monitoring_user,
        password_file=args.monitoring_password_file,
        shop=args.shop,
        till=args.till,
        ca_file=args.monitoring_ca_file,
        remote_help_url=args.remote_help_url,
    )


def find_prometheus() -> str | None:
    return shutil.which("prometheus")
