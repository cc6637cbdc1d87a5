"""The configuration file: where it is, what it holds, how flags override it.

Layout (TOML)::

    [server]        listen addresses, ports, TLS, origins, data directory
    [[printer]]     one table per printer (posboxless.printer.config)
    [scale]         the scale (posboxless.scale.config)
    [[scanner]]     one table per scanner (posboxless.scanner.config)
    [[payment_terminal]]  one table per card payment terminal (posboxless.terminal.config)
    [customer_display]  a 2×20 pole display (posboxless.linedisplay.config)

Each device kind reads its own table (``DeviceKind.parse``, the kinds listed in
``posboxless/kinds.py``); this module reads ``[server]``, finds the file and applies command-line
overrides.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from posboxless import kinds
from posboxless.kind import DeviceKind
from posboxless.linedisplay.config import CustomerDisplayConfig
from posboxless.printer.config import PrinterConfig
from posboxless.scale.config import ScaleConfig
from posboxless.scanner.config import ScannerConfig
from posboxless.settings import ConfigError, Table
from posboxless.terminal.config import TerminalConfig

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEFAULT_CONFIG_PATH = Path("/etc/posboxless/config.toml")
"""Read when it exists and no ``--config`` is given."""


def default_data_dir() -> Path:
    """systemd's StateDirectory when run as the service, else the user's XDG data directory."""
    state = os.environ.get("STATE_DIRECTORY")
    if state:
        return Path(state.split(":")[0])
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "posboxless"


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    """Address to listen on; ``0.0.0.0`` (or ``::``) to accept other machines on the network."""
    http_port: int = 8069
    https_port: int = 443
    """0 turns HTTPS off."""
    tls_cert: Path | None = None
    tls_key: Path | None = None
    """A certificate and key of your own; when unset a local CA and certificate are generated
    in ``<data_dir>/tls``."""
    data_dir: Path = field(default_factory=default_data_dir)
    allowed_origins: tuple[str, ...] = ()
    """Odoo URLs allowed to use the devices (``https://shop.example.com``). Empty: any page may,
    which is reported as a warning."""
    allowed_hosts: tuple[str, ...] = ()
    """Extra names this machine is reached by (besides localhost, its host name and addresses);
    protects against DNS rebinding."""
    admin_token: str = ""
    """Token that allows diagnostics actions (test print, reprint, drawer test) from other
    machines. Local requests never need it."""
    max_body_bytes: int = 32 * 1024 * 1024
    max_connections: int = 512
    """Open HTTP(S) connections at most (also kept under the file descriptor limit); over it,
    connections serving no request are closed first."""
    header_timeout: float = 15.0
    """Seconds a client has to send a request's headers (after connecting or the last answer)."""
    body_timeout: float = 15.0
    """Seconds a request body may stop arriving before the connection is closed."""
    lna_address: str = ""
    """A second address for the POS API on ``http_port``, for Odoo 19's Local Network Access
    (``posboxless.web.lna``): ``"127.0.0.2"`` with the browser policies, or a private address of
    this machine. Empty: off."""
    simulate: bool = False
    log_level: str = "info"


@dataclass(frozen=True)
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    printers: tuple[PrinterConfig, ...] = ()
    scale: ScaleConfig | None = None
    scanners: tuple[ScannerConfig, ...] = ()
    terminals: tuple[TerminalConfig, ...] = ()
    customer_display: CustomerDisplayConfig | None = None
    source: Path | None = None
    """The file this was read from, if any."""
    devices: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    """The configurations of the kinds without a field above (``DeviceKind.config_field``), as
    ``(kind key, configurations)`` pairs: a kind added to the registry needs no field here. (Pairs,
    not a dict, so that the configuration stays hashable.)"""

    def configs_of(self, kind: DeviceKind) -> tuple[Any, ...]:
        """The kind's configurations (none, one or several), wherever they are kept."""
        if kind.config_field is None:
            return next((found for key, found in self.devices if key == kind.key), ())
        value = getattr(self, kind.config_field)
        if value is None:
            return ()
        return value if isinstance(value, tuple) else (value,)

    @property
    def devices_configured(self) -> bool:
        return any(self.configs_of(kind) for kind in kinds.installed())

    @property
    def simulate(self) -> bool:
        """Simulated devices on request, and when nothing is configured (so a newcomer sees it
        work)."""
        return self.server.simulate or not self.devices_configured

    @property
    def origin_policy_open(self) -> bool:
        return not self.server.allowed_origins


def _origin(table: Table, value: str) -> str:
    origin = value.rstrip("/")
    scheme, sep, rest = origin.partition("://")
    if scheme not in ("http", "https") or not sep or not rest or "/" in rest:
        raise ConfigError(
            table.key("allowed_origins"), "origins like 'https://shop.example.com' (no path)", value
        )
    return origin.lower()


def lna_address_problem(address: str, host: str, allowed_origins: tuple[str, ...]) -> str:
    """What is wrong with ``lna_address`` ("" when nothing): an IP literal, loopback or private,
    other than the main listener's. (Without ``allowed_origins`` it serves no one: doctor and
    ``serve`` say so.)"""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "an IP address such as '127.0.0.2' (a name would need DNS the browser trusts)"
    if ip.is_unspecified or ip.is_multicast:
        return "one address of this machine, not a wildcard"
    if not (ip.is_loopback or ip.is_private or ip.is_link_local):
        return "a loopback or private address: a public address is not 'local' for browsers"
    if address in ("127.0.0.1", "::1"):
        return "a second address (127.0.0.1 and ::1 are the main listener's)"
    if address == host or (host in ("0.0.0.0", "::", "")):
        return f"an address the main listener ({host}) does not already cover"
    return ""


def parse_server(table: Table | None) -> ServerConfig:
    if table is None:
        return ServerConfig()
    d = ServerConfig()
    tls_cert = table.str("tls_cert", "")
    tls_key = table.str("tls_key", "")
    if bool(tls_cert) != bool(tls_key):
        raise ConfigError(table.key("tls_key"), "tls_cert and tls_key to be given together")
    server = ServerConfig(
        host=table.str("host", d.host),
        http_port=table.int("http_port", d.http_port, minimum=1, maximum=65535),
        https_port=table.int("https_port", d.https_port, minimum=0, maximum=65535),
        tls_cert=Path(tls_cert) if tls_cert else None,
        tls_key=Path(tls_key) if tls_key else None,
        data_dir=Path(table.str("data_dir", str(d.data_dir))),
        allowed_origins=tuple(_origin(table, o) for o in table.str_list("allowed_origins", [])),
        allowed_hosts=tuple(h.lower() for h in table.str_list("allowed_hosts", [])),
        admin_token=table.str("admin_token", ""),
        max_body_bytes=table.int("max_body_bytes", d.max_body_bytes, minimum=1024),
        max_connections=table.int("max_connections", d.max_connections, minimum=16, maximum=65536),
        header_timeout=table.float("header_timeout", d.header_timeout, minimum=1, maximum=600),
        body_timeout=table.float("body_timeout", d.body_timeout, minimum=1, maximum=600),
        lna_address=table.str("lna_address", ""),
        simulate=table.bool("simulate", False),
        log_level=table.choice("log_level", ["debug", "info", "warning", "error"], "info"),
    )
    table.finish()
    if server.http_port == server.https_port:
        raise ConfigError(table.key("https_port"), "a port different from http_port")
    if server.lna_address:
        problem = lna_address_problem(server.lna_address, server.host, server.allowed_origins)
        if problem:
            raise ConfigError(table.key("lna_address"), problem, server.lna_address)
    return server


def parse_config(data: dict[str, Any], source: Path | None = None) -> Config:
    root = Table(data, "")
    server = parse_server(root.table("server"))
    fields: dict[str, Any] = {}
    devices: list[tuple[str, tuple[Any, ...]]] = []
    for kind in kinds.installed():  # each kind reads its own table(s)
        if kind.parse is None:
            continue
        if kind.many:
            tables = root.tables(kind.key)
        else:
            table = root.table(kind.key)
            tables = [table] if table is not None else []
        found = kind.parse(tables)
        if kind.config_field is None:
            devices.append((kind.key, found))
        elif kind.many:
            fields[kind.config_field] = found
        else:
            fields[kind.config_field] = found[0] if found else None
    config = Config(server=server, source=source, devices=tuple(devices), **fields)
    root.finish()
    _check_display_printer(config)
    return config


def _check_display_printer(config: Config) -> None:
    display = config.customer_display
    names = [p.name for p in config.printers]
    if display is not None and display.printer is not None and display.printer not in names:
        raise ConfigError(
            "customer_display.printer",
            f"the name of a [[printer]] ({', '.join(map(repr, names)) or 'none is configured'})",
            display.printer,
        )


def load_config(path: Path | None) -> Config:
    """Read ``path``, or the default location when it exists, or built-in defaults."""
    if path is None:
        if not DEFAULT_CONFIG_PATH.exists():
            return Config()
        path = DEFAULT_CONFIG_PATH
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(str(path), "an existing configuration file") from None
    except PermissionError:
        raise ConfigError(str(path), "a configuration file this user can read") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), f"valid TOML ({exc})") from None
    return parse_config(data, source=path)


def with_overrides(config: Config, **overrides: Any) -> Config:
    """Apply command-line flags (``None`` means 'not given') on top of the file."""
    given = {k: v for k, v in overrides.items() if v is not None}
    if not given:
        return config
    server = replace(config.server, **given)
    if server.http_port == server.https_port:
        raise ConfigError("--https-port", "a port different from the HTTP port")
    return replace(config, server=server)
