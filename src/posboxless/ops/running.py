"""The proxy that is actually running, and the configuration it was started with.

``doctor``, ``support-bundle`` and ``check-config`` must look at the till as it runs, not at
defaults: a proxy started by hand with ``--config /srv/till.toml --data-dir /srv/data`` keeps its
jobs, certificates and log lines there. They find it in this order:

1. ``--config`` given on the command line: that file (and the proxy listening on its port);
2. the configuration named by the installed systemd unit (``ExecStart=... --config PATH``);
3. ``/etc/posboxless/config.toml`` when it exists, else the built-in defaults;

then ask the proxy listening on that configuration's port, over loopback, for its diagnostics
(``GET /api/diagnostics``: its configuration file, data directory, devices, queues, weight,
warnings, clients and recent log lines from its in-memory ring, whatever the logging backend).
When it answers with another configuration file than the one found, and none was given, its own
is the one checked.
"""

from __future__ import annotations

import json
import shlex
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from posboxless.config import ServerConfig
from posboxless.ops.layout import Layout
from posboxless.ops.ports import local_address

LOG_LINES = 500
"""Lines asked from the proxy's ring buffer (its capacity)."""
MAX_ANSWER = 8_000_000


@dataclass(frozen=True)
class RunningProxy:
    url: str
    config_file: Path | None
    """The file it was started with (absolute), None for built-in defaults."""
    data_dir: Path
    diagnostics: dict[str, Any]
    """Everything ``/api/diagnostics`` answered (devices, printers' journals, scale reading,
    warnings, clients, log lines...)."""

    def server_ports(self) -> dict[str, int]:
        """``http_port`` and ``https_port`` it listens on, as far as its ``listen`` URLs say (a
        proxy started with ``--http-port``/``--https-port`` differs from its file)."""
        ports: dict[str, int] = {}
        listen = self.diagnostics.get("listen")
        for url in listen if isinstance(listen, list) else []:
            if not isinstance(url, str) or " " in url:  # "... (POS API only)": the LNA address
                continue
            try:
                parsed = urllib.parse.urlsplit(url)
                port = parsed.port
            except ValueError:
                continue
            key = {"http": "http_port", "https": "https_port"}.get(parsed.scheme)
            if key and port and key not in ports:
                ports[key] = port
        return ports

    @property
    def log_lines(self) -> list[str]:
        lines = self.diagnostics.get("logs")
        return [str(line) for line in lines] if isinstance(lines, list) else []


def proxy_url(server: ServerConfig) -> str:
    address = local_address(server.host)
    if ":" in address:
        address = f"[{address}]"
    return f"http://{address}:{server.http_port}"


def ask(url: str, timeout: float = 2.0) -> RunningProxy | None:
    """The posboxless answering at ``url``, or None when nothing (or something else) answers."""
    request = urllib.request.Request(
        f"{url.rstrip('/')}/api/diagnostics?log_lines={LOG_LINES}",
        headers={"Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data = json.loads(response.read(MAX_ANSWER))
    except (OSError, urllib.error.URLError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("data_dir"), str):
        return None  # another program, or a posboxless too old to say where its files are
    config_file = data.get("config_file")
    return RunningProxy(
        url=url.rstrip("/"),
        config_file=Path(config_file) if isinstance(config_file, str) else None,
        data_dir=Path(data["data_dir"]),
        diagnostics=data,
    )


def find_running(server: ServerConfig) -> RunningProxy | None:
    return ask(proxy_url(server))


def unit_config_path(layout: Layout) -> Path | None:
    """The ``--config`` path in the installed unit's ExecStart (as a path on the till)."""
    try:
        text = layout.unit_file.read_text("utf-8")
    except OSError:
        return None
    for line in text.splitlines():
        if not line.startswith("ExecStart="):
            continue
        try:
            args = shlex.split(line.removeprefix("ExecStart=").replace("%%", "%"))
        except ValueError:
            return None
        for i, arg in enumerate(args):
            if arg == "--config" and i + 1 < len(args):
                return Path(args[i + 1])
            if arg.startswith("--config="):
                return Path(arg.partition("=")[2])
    return None


URL_HELP = (
    "address of the running proxy to ask for its configuration, data directory and logs "
    "(default: http://127.0.0.1:<http_port of the configuration>)"
)


def asker(url: str | None) -> Callable[[ServerConfig], RunningProxy | None]:
    """``Probe.running`` for a ``--url`` given on the command line (None: from the config)."""
    if url is None:
        return find_running
    return lambda _server: ask(url)
