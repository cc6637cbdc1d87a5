"""The till checks behind ``posboxless doctor``, the diagnostics page and support bundles.

Every check reads the system through ``Probe`` (a root directory and a few replaceable
functions), so tests build good and broken tills in a temporary directory.
"""

from __future__ import annotations

import ipaddress
import sys
from dataclasses import dataclass, field
from pathlib import Path

from posboxless.config import Config, ServerConfig, default_data_dir, parse_config, with_overrides
from posboxless.ops.certificate import CertificateFiles, check_certificate
from posboxless.ops.kinds import kind_checks
from posboxless.ops.layout import DEVICE_GROUPS, SERVICE_NAME
from posboxless.ops.lna_check import check_lna
from posboxless.ops.probe import Probe
from posboxless.ops.results import CheckResult, fail, ok, warn
from posboxless.ops.running import RunningProxy, unit_config_path
from posboxless.ops.scale_owner_check import check_scale_owner
from posboxless.settings import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


# Configuration -------------------------------------------------------------------------------


def load_for_checks(path: Path | None, probe: Probe) -> tuple[CheckResult, Config | None]:
    """The configuration the service would read, with the verdict on it."""
    name = "configuration"
    if path is None:
        path = probe.layout.config_file
        if not path.exists():
            return ok(
                name, "No configuration file: built-in defaults, simulated devices."
            ), Config()
    try:
        data = tomllib.loads(path.read_text("utf-8"))
        config = parse_config(data, source=path)
    except FileNotFoundError:
        return fail(name, f"{path} does not exist.", "Give the right --config path."), None
    except PermissionError:
        return warn(name, f"Cannot read {path} as this user.", "Run doctor with sudo."), None
    except tomllib.TOMLDecodeError as exc:
        return fail(
            name, f"{path} is not valid TOML: {exc}.", f"Correct the syntax in {path}."
        ), None
    except ConfigError as exc:
        return fail(name, f"{path}: {exc}.", f"Correct {exc.key} in {path}."), None
    return ok(name, f"{path} is valid."), config


@dataclass
class Target:
    """The till being checked: its configuration, and the proxy running it when one answers."""

    path: Path | None
    """The configuration file (a path on the till), None for built-in defaults."""
    verdict: CheckResult
    config: Config | None
    running: RunningProxy | None
    data_dir: Path
    """The data directory in use, as a path to open (below ``--root`` unless the running proxy
    named it: a proxy that answers reports the real paths of this machine)."""
    config_file: Path | None = None
    """The configuration file as a path to open."""
    notes: list[CheckResult] = field(default_factory=list)


def configuration_path(given: Path | None, probe: Probe) -> Path | None:
    """``--config``, else the installed unit's, else the default file when it exists."""
    if given is not None:
        return given
    from_unit = unit_config_path(probe.layout)
    if from_unit is not None:
        return from_unit
    return Path("/etc/posboxless/config.toml") if probe.layout.config_file.exists() else None


def _on_till(path: Path | None, probe: Probe) -> Path | None:
    """A path named by the till (its unit, its proxy) as seen below ``probe.layout.root``."""
    if path is None or not path.is_absolute():
        return path
    return probe.layout.at(str(path))


def resolve(given: Path | None, probe: Probe, *, ask_proxy: bool = True) -> Target:
    """The configuration and data directory of the till: the running proxy's when it answers."""
    path = configuration_path(given, probe)
    config_file = _on_till(path, probe) if given is None else path
    verdict, config = load_for_checks(config_file, probe)
    running = probe.running((config or Config()).server) if ask_proxy else None
    notes: list[CheckResult] = []
    if running is not None:
        used = running.config_file
        if used != path and given is None and (path is None or used != path.absolute()):
            # The proxy that runs was started with another file: that one is the truth.
            path = config_file = used
            if used is None:
                verdict = ok("configuration", "The running proxy uses the built-in defaults.")
                config = Config()
            else:
                verdict, config = load_for_checks(used, probe)
        elif given is not None and used != given.absolute():
            notes.append(
                warn(
                    "running proxy",
                    f"The proxy at {running.url} was started with {used or 'built-in defaults'}, "
                    f"not {given}: its devices and files may differ from what is checked here.",
                    "Check the configuration it uses: posboxless doctor (without --config).",
                )
            )
        if not notes:
            notes.append(
                ok(
                    "running proxy",
                    f"posboxless answers at {running.url} (configuration "
                    f"{used or 'built-in defaults'}, data directory {running.data_dir}).",
                )
            )
        data_dir = running.data_dir
        if config is not None:  # ports given as flags: check the ones it listens on
            config = with_overrides(config, **running.server_ports())
    else:
        data_dir = probe.layout.at(str(service_data_dir((config or Config()).server, probe)))
    return Target(path, verdict, config, running, data_dir, config_file, notes)


def check_exposure(server: ServerConfig) -> list[CheckResult]:
    name = "origins"
    if server.allowed_origins:
        return [ok(name, "Devices accept requests from " + ", ".join(server.allowed_origins))]
    remote = server.host not in ("127.0.0.1", "::1", "localhost")
    text = "Any web page open on " + ("the network's machines" if remote else "this computer")
    return [
        warn(
            name,
            text + " may use the printer and the cash drawer (allowed_origins is empty).",
            'Set server.allowed_origins to your Odoo address, e.g. ["https://shop.example.com"].',
        )
    ]


# Installation, user and groups -----------------------------------------------------------------


def check_installation(probe: Probe) -> list[CheckResult]:
    layout = probe.layout
    if not probe.installed:
        return [
            warn(
                "service",
                "posboxless is not installed as a service (no systemd unit).",
                "sudo posboxless install",
            )
        ]
    results = []
    if not layout.rules_file.exists():
        results.append(
            warn("udev rules", f"{layout.rules_file} is missing.", "sudo posboxless install")
        )
    active = probe.service_active(SERVICE_NAME)
    if active is False:
        results.append(
            fail(
                "service",
                "The posboxless service is installed but not running.",
                "sudo systemctl start posboxless; if it stops again: "
                "journalctl -u posboxless -n 50",
            )
        )
    elif active:
        results.append(ok("service", "The posboxless service is running."))
    else:
        results.append(ok("service", "Installed (systemd is not running here: state unknown)."))
    return results


def check_groups(probe: Probe) -> list[CheckResult]:
    name = "user and groups"
    db = probe.accounts()
    if db.user(probe.user) is not None:
        member = db.group_names_of(probe.user)
        subject, who_name = f"The service user '{probe.user}'", probe.user
        apply = " && sudo systemctl restart posboxless"
    elif probe.installed:
        return [
            fail(
                name, f"The service user '{probe.user}' does not exist.", "sudo posboxless install"
            )
        ]
    else:
        who = probe.current()
        if who.uid == 0:
            return [ok(name, "Running as root: every device is accessible.")]
        member = {g.name for g in db.groups.values() if g.gid in who.gids}
        subject, who_name = f"You ({who.name})", who.name
        apply = ", then log out and in again"
    missing = [g for g in DEVICE_GROUPS if g not in member]
    if not missing:
        return [ok(name, f"{subject} is in groups {', '.join(DEVICE_GROUPS)}.")]
    return [
        fail(
            name,
            f"{subject} is not in group(s) {', '.join(missing)}: "
            + ", ".join(_GROUP_PURPOSE[g] for g in missing)
            + " cannot be opened.",
            f"sudo usermod -aG {','.join(missing)} {who_name}{apply}",
        )
    ]


_GROUP_PURPOSE = {
    "dialout": "serial scales, scanners and printers",
    "lp": "USB printers (/dev/usb/lp*)",
    "input": "keyboard-wedge scanners (/dev/input/*)",
}


# Devices ---------------------------------------------------------------------------------------


def check_devices(config: Config, probe: Probe) -> list[CheckResult]:
    """Each kind's own checks (``<kind>/checks.py``), in the registry's order."""
    if config.simulate:
        return [ok("devices", "Simulated devices (no device is configured, or simulate = true).")]
    results = kind_checks(config, probe)
    return results or [ok("devices", "Devices are found automatically (none named).")]


def device_paths(config: Config) -> list[tuple[str, str]]:
    """``(device label, path or address)`` of every device named by the configuration."""
    named: list[tuple[str, str]] = []
    for printer in config.printers:
        label = f"printer '{printer.name}'"
        for path in (printer.device, printer.serial):
            if path:
                named.append((label, path))
        if printer.host:
            named.append((label, f"{printer.host[0]}:{printer.host[1]}"))
        if printer.usb:
            named.append((label, "usb {:04x}:{:04x}".format(*printer.usb)))
    if config.scale is not None:
        if config.scale.port:
            named.append(("scale", config.scale.port))
        if config.scale.usb:
            named.append(("scale", "usb {:04x}:{:04x}".format(*config.scale.usb)))
    for scanner in config.scanners:
        if scanner.device:
            named.append((f"scanner '{scanner.name}'", scanner.device))
    for terminal in config.terminals:
        label = f"payment terminal '{terminal.name}'"
        if terminal.port:
            named.append((label, terminal.port))
        if terminal.usb:
            named.append((label, "usb {:04x}:{:04x}".format(*terminal.usb)))
    if config.customer_display is not None and config.customer_display.port:
        named.append(("customer display", config.customer_display.port))
    return named


def _same_port_key(where: str, probe: Probe) -> str:
    if where.startswith("/"):
        # /dev/serial/by-id/... and /dev/ttyUSB0 are the same port.
        return str(probe.layout.at(where).resolve())
    return where.lower()


def check_shared_ports(config: Config, probe: Probe) -> list[CheckResult]:
    """Two devices on one port: each would read the other's bytes (error)."""
    owners: dict[str, list[tuple[str, str]]] = {}
    for label, where in device_paths(config):
        owners.setdefault(_same_port_key(where, probe), []).append((label, where))
    results = []
    for users in owners.values():
        labels = list(dict.fromkeys(label for label, _ in users))
        if len(labels) > 1:
            places = " and ".join(f"{label} ({where})" for label, where in users)
            results.append(
                fail(
                    "one port, two devices",
                    f"{places} are the same port: only one device can use it.",
                    "Give each device its own port (ls -l /dev/serial/by-id /dev/pos lists "
                    "them), or remove one of the tables.",
                )
            )
    return results


def check_paths_exist(config: Config, probe: Probe) -> list[CheckResult]:
    """Device paths that do not exist now: a warning (devices are plugged in later)."""
    results = []
    for label, where in device_paths(config):
        if not where.startswith("/"):
            continue
        if probe.layout.at(where).exists():
            continue
        results.append(
            warn(
                label,
                f"{where} does not exist now: the device is unplugged, switched off, or has "
                "another name. posboxless will use it when it appears.",
                "Plug it in and switch it on; stable names are listed by ls -l /dev/pos "
                "/dev/serial/by-id /dev/input/by-id.",
            )
        )
    return results


def check_semantics(config: Config, probe: Probe) -> list[CheckResult]:
    """What a valid file can still get wrong (check-config)."""
    results = check_shared_ports(config, probe) + check_paths_exist(config, probe)
    if config.origin_policy_open:
        results += check_exposure(config.server)
    return results


def check_running_devices(running: RunningProxy) -> list[CheckResult]:
    """What the proxy itself reports about its devices (it saw the real errors)."""
    results = []
    devices = running.diagnostics.get("devices")
    for device in devices if isinstance(devices, list) else []:
        if not isinstance(device, dict):
            continue
        status = device.get("status")
        kind, name = device.get("kind"), device.get("name")
        messages = "; ".join(str(m) for m in device.get("messages") or []) or str(status)
        label = f"{kind} '{name}' (running proxy)"
        if status == "error" or (kind == "printer" and status != "connected"):
            results.append(
                fail(
                    label,
                    f"The proxy reports {status}: {messages}",
                    "See the diagnostics page (http://localhost:8069/) and the log lines.",
                )
            )
        elif kind == "scale" and status != "connected":
            details = device.get("details")
            if isinstance(details, dict) and details.get("owner") == "browser":
                results.append(ok(label, messages))  # by design: check_scale_owner says more
            else:
                results.append(warn(label, f"The proxy reports {status}: {messages}"))
    return results


def check_modemmanager(probe: Probe) -> list[CheckResult]:
    name = "ModemManager"
    active = probe.service_active("ModemManager.service")
    if not active:
        return [ok(name, "ModemManager is not running: it cannot disturb serial devices.")]
    if probe.layout.rules_file.exists():
        return [
            ok(
                name,
                "ModemManager runs; the posboxless udev rules keep it away from "
                "scales and scanners.",
            )
        ]
    return [
        fail(
            name,
            "ModemManager is running and sends modem commands to new serial ports: a scale "
            "or serial scanner may stop answering or read garbage.",
            "sudo posboxless install (udev rules that tell ModemManager to ignore POS "
            "devices), or sudo systemctl disable --now ModemManager if this till has no modem.",
        )
    ]


# Network -------------------------------------------------------------------------------------


def _check_port(server: ServerConfig, port: int, tls: bool, probe: Probe) -> CheckResult:
    scheme = "HTTPS" if tls else "HTTP"
    name = f"port {port}"
    state = probe.port_state(server.host, port)
    if state == "free":
        return ok(name, f"Port {port} ({scheme}) is free for posboxless.")
    if state == "bad-address":
        return fail(
            name,
            f"This computer has no address {server.host}.",
            "Set server.host to 127.0.0.1, 0.0.0.0 or one of this computer's addresses.",
        )
    if probe.answers_as_posboxless(server.host, port, tls):
        return ok(name, f"posboxless answers on port {port} ({scheme}).")
    if state == "denied":
        return warn(
            name,
            f"Port {port} can only be tested by root (the service is allowed to use it).",
            "Run doctor with sudo.",
        )
    return fail(
        name,
        f"Port {port} ({scheme}) is used by another program: the POS cannot reach posboxless.",
        f"Find it with: sudo ss -ltnp 'sport = :{port}' (often Odoo itself, CUPS or a second "
        "posboxless); stop it, or change the port in [server].",
    )


def check_ports(server: ServerConfig, probe: Probe) -> list[CheckResult]:
    results = [_check_port(server, server.http_port, False, probe)]
    if server.https_port:
        results.append(_check_port(server, server.https_port, True, probe))
    return results


def service_data_dir(server: ServerConfig, probe: Probe) -> Path:
    """The data directory the service uses (systemd's StateDirectory unless configured), as a
    path on the till (not below ``probe.layout.root``)."""
    if server.data_dir != default_data_dir() or not probe.installed:
        return server.data_dir
    return Path("/var/lib/posboxless")


def required_names(server: ServerConfig, probe: Probe) -> list[str]:
    names = ["localhost", probe.hostname(), *server.allowed_hosts]
    try:
        address = ipaddress.ip_address(server.host)
        if not address.is_unspecified and not address.is_loopback:
            names.append(str(address))
    except ValueError:
        names.append(server.host)
    return list(dict.fromkeys(n for n in names if n))


def check_tls(
    server: ServerConfig, probe: Probe, data_dir: Path | None = None
) -> list[CheckResult]:
    if not server.https_port:
        return [ok("certificate", "HTTPS is off (https_port = 0).")]
    if server.tls_cert and server.tls_key:
        files = CertificateFiles(
            probe.layout.at(str(server.tls_cert)), probe.layout.at(str(server.tls_key)), None
        )
    else:
        data_dir = data_dir or probe.layout.at(str(service_data_dir(server, probe)))
        tls = data_dir / "tls"
        files = CertificateFiles(tls / "server.pem", tls / "server.key", tls / "ca.pem")
    return check_certificate(files, required_names(server, probe), probe.now())


# All of them -----------------------------------------------------------------------------------


def run_checks(
    config_path: Path | None = None, probe: Probe | None = None, target: Target | None = None
) -> list[CheckResult]:
    probe = probe or Probe()
    target = target or resolve(config_path, probe)
    config = target.config
    results = [target.verdict, *target.notes]
    usable = config or Config()
    if config is not None:
        results += check_exposure(config.server)
    results += check_installation(probe)
    results += check_groups(probe)
    if config is not None:
        results += check_devices(config, probe)
        results += check_scale_owner(config, probe)
        results += check_shared_ports(config, probe)
    if target.running is not None:
        results += check_running_devices(target.running)
    results += check_modemmanager(probe)
    results += check_ports(usable.server, probe)
    results += check_tls(usable.server, probe, target.data_dir)
    results += check_lna(usable.server, probe.layout)
    if config is not None:
        results += check_epos(config)
    return results


def check_epos(config: Config) -> list[CheckResult]:
    """The address to type in Odoo's ePOS printer field for each printer (issue 11)."""
    from posboxless.epos.addresses import epos_addresses
    from posboxless.printer.config import default_printer_name
    from posboxless.printer.factory import SIMULATED_PRINTER_NAME

    names = [p.name for p in config.printers]
    default = default_printer_name(config.printers)
    if not names or config.simulate:  # the simulated printer of the demo
        names, default = [SIMULATED_PRINTER_NAME], SIMULATED_PRINTER_NAME
    server = config.server
    return [
        ok(
            f"ePOS address of printer '{address.printer}'",
            f"In Odoo, 'ePos Printer' / 'Use an Epson printer': {address.describe()}.",
        )
        for address in epos_addresses(
            names, default, http_port=server.http_port, https_port=server.https_port
        )
    ]
