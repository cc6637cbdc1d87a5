"""The till checks behind ``posboxless doctor``, the diagnostics page and support bundles.

Every check reads the system through ``Probe`` (a root directory and a few replaceable
functions), so tests build good and broken tills in a temporary directory.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from posboxless.config import Config, ServerConfig, default_data_dir, parse_config
from posboxless.ops import ports, system
from posboxless.ops.accounts import UserDatabase
from posboxless.ops.certificate import CertificateFiles, check_certificate
from posboxless.ops.identity import Identity, may_access
from posboxless.ops.layout import DEFAULT_USER, DEVICE_GROUPS, SERVICE_NAME, Layout
from posboxless.ops.results import CheckResult, fail, ok, warn
from posboxless.settings import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Probe:
    """The outside world as the checks see it."""

    layout: Layout = field(default_factory=Layout)
    user: str = DEFAULT_USER
    service_active: Callable[[str], bool | None] = system.service_active
    port_state: Callable[[str, int], ports.PortState] = ports.port_state
    answers_as_posboxless: Callable[[str, int, bool], bool] = ports.answers_as_posboxless
    tcp_reachable: Callable[[str, int], bool] = ports.tcp_reachable
    hostname: Callable[[], str] = socket.gethostname
    now: Callable[[], datetime] = _utc_now
    current: Callable[[], Identity] = Identity.current

    def accounts(self) -> UserDatabase:
        return UserDatabase(self.layout)

    @property
    def installed(self) -> bool:
        return self.layout.unit_file.exists()


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


def service_identity(probe: Probe) -> Identity:
    """The service user when installed, else whoever runs doctor (a hand-started proxy)."""
    return Identity.of_user(probe.accounts(), probe.user) or probe.current()


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


def _node_check(
    name: str, device: str, probe: Probe, who: Identity, write: bool = True
) -> CheckResult:
    path = probe.layout.at(device) if device.startswith("/") else Path(device)
    try:
        st = path.stat()
    except FileNotFoundError:
        return fail(
            name,
            f"{device} does not exist: the device is unplugged, switched off, or has another name.",
            "Plug it in and switch it on; stable names are listed by ls -l /dev/pos "
            "/dev/serial/by-id /dev/input/by-id.",
        )
    except PermissionError:
        return fail(name, f"{device} cannot be looked at by this user.", "Run doctor with sudo.")
    if not may_access(st, who, read=True, write=write):
        db = probe.accounts()
        owner_group = next((g.name for g in db.groups.values() if g.gid == st.st_gid), st.st_gid)
        return fail(
            name,
            f"{device} exists but {who.name} may not open it "
            f"(mode {st.st_mode & 0o777:o}, group {owner_group}).",
            f"sudo usermod -aG {owner_group} {who.name}, or install the udev rules "
            "(sudo posboxless install), then unplug and replug the device.",
        )
    return ok(name, f"{device} is accessible to {who.name}.")


def _usb_present(probe: Probe, vendor: int, product: int) -> bool:
    base = probe.layout.at("/sys/bus/usb/devices")
    if not base.is_dir():
        return False
    for device in base.iterdir():
        try:
            v = (device / "idVendor").read_text().strip()
            p = (device / "idProduct").read_text().strip()
        except OSError:
            continue
        if (int(v, 16), int(p, 16)) == (vendor, product):
            return True
    return False


def check_devices(config: Config, probe: Probe) -> list[CheckResult]:
    if config.simulate:
        return [ok("devices", "Simulated devices (no device is configured, or simulate = true).")]
    who = service_identity(probe)
    results = []
    for printer in config.printers:
        name = f"printer '{printer.name}'"
        if printer.device:
            results.append(_node_check(name, printer.device, probe, who))
        elif printer.host:
            host, port = printer.host
            if probe.tcp_reachable(host, port):
                results.append(ok(name, f"{host}:{port} answers."))
            else:
                results.append(
                    fail(
                        name,
                        f"The network printer {host}:{port} does not answer.",
                        "Check that it is on and plugged in, and its address "
                        "(print its self-test page).",
                    )
                )
        elif printer.usb:
            vid, pid = printer.usb
            if _usb_present(probe, vid, pid):
                results.append(ok(name, f"USB device {vid:04x}:{pid:04x} is plugged in."))
            else:
                results.append(
                    fail(
                        name,
                        f"No USB device {vid:04x}:{pid:04x} is plugged in.",
                        "Plug the printer in and switch it on; lsusb lists what is seen.",
                    )
                )
    if config.scale is not None and config.scale.port:
        results.append(_node_check("scale", config.scale.port, probe, who))
    for scanner in config.scanners:
        if scanner.device:
            # Keyboard-wedge scanners are only read (and grabbed).
            write = not scanner.device.startswith("/dev/input/")
            results.append(
                _node_check(f"scanner '{scanner.name}'", scanner.device, probe, who, write)
            )
    return results or [ok("devices", "Devices are found automatically (none named).")]


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


def check_tls(server: ServerConfig, probe: Probe) -> list[CheckResult]:
    if not server.https_port:
        return [ok("certificate", "HTTPS is off (https_port = 0).")]
    if server.tls_cert and server.tls_key:
        files = CertificateFiles(
            probe.layout.at(str(server.tls_cert)), probe.layout.at(str(server.tls_key)), None
        )
    else:
        tls = probe.layout.at(str(service_data_dir(server, probe) / "tls"))
        files = CertificateFiles(tls / "server.pem", tls / "server.key", tls / "ca.pem")
    return check_certificate(files, required_names(server, probe), probe.now())


# All of them -----------------------------------------------------------------------------------


def run_checks(config_path: Path | None = None, probe: Probe | None = None) -> list[CheckResult]:
    probe = probe or Probe()
    verdict, config = load_for_checks(config_path, probe)
    results = [verdict]
    usable = config or Config()
    if config is not None:
        results += check_exposure(config.server)
    results += check_installation(probe)
    results += check_groups(probe)
    if config is not None:
        results += check_devices(config, probe)
    results += check_modemmanager(probe)
    results += check_ports(usable.server, probe)
    results += check_tls(usable.server, probe)
    return results
