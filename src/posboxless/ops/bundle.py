"""``posboxless support-bundle``: one archive a support person can ask a shop for.

It holds the configuration (secrets redacted), recent logs, the live status from the running
proxy, a summary of the print journal, versions, and the doctor's results. The configuration,
data directory and log lines are those of the proxy actually running (``posboxless.ops.running``):
its in-memory log ring is read over its loopback API, so logs are there whatever the logging
backend (journal, a terminal, a file), and ``diagnostics.json`` holds its full diagnostics
(devices, queues, weight, warnings, clients). Everything is read
only; every part that cannot be collected is replaced by a note saying why, so a bundle is
always produced.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import platform
import sys
import tarfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from posboxless import __version__, logs
from posboxless.config import Config
from posboxless.ops.checks import Probe, resolve, run_checks
from posboxless.ops.layout import DEFAULT_USER, Layout
from posboxless.ops.ports import local_address
from posboxless.ops.print_journal import summarise_journals
from posboxless.ops.redact import redact_toml, redact_values
from posboxless.ops.running import URL_HELP, RunningProxy, asker
from posboxless.ops.system import command_output
from posboxless.terminal.journal import export_journals

log = logging.getLogger(__name__)

PACKAGES = (
    "starlette", "uvicorn", "pyserial", "pyusb", "Pillow", "evdev", "pyudev", "cryptography",
    "prometheus-client", "xkbcommon",
)  # fmt: skip
JOURNAL_LINES = 2000


def journal_lines() -> str | None:
    return command_output(
        ["journalctl", "-u", "posboxless", "-n", str(JOURNAL_LINES), "--no-pager", "-o",
         "short-iso"],
        timeout=20,
    )  # fmt: skip


def fetch_status(host: str, port: int, timeout: float = 2.0) -> Any:
    """``status_json`` from the running proxy, as the POS asks for it."""
    body = json.dumps({"jsonrpc": "2.0", "method": "call", "params": {}, "id": 1}).encode()
    address = local_address(host)
    if ":" in address:
        address = f"[{address}]"
    request = urllib.request.Request(
        f"http://{address}:{port}/hw_proxy/status_json",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read(1_000_000))


def versions() -> dict[str, Any]:
    packages: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    os_release = {}
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            key, _, value = line.partition("=")
            os_release[key] = value.strip('"')
    except OSError:
        pass
    systemd = command_output(["systemctl", "--version"], timeout=5)
    return {
        "posboxless": __version__,
        "python": sys.version,
        "executable": sys.executable,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "os": os_release.get("PRETTY_NAME"),
        "systemd": systemd.splitlines()[0] if systemd else None,
        "packages": packages,
    }


@dataclass
class Sources:
    """Where the bundle's parts come from; tests replace the ones that reach outside."""

    probe: Probe = field(default_factory=Probe)
    journal: Callable[[], str | None] = journal_lines
    recent_lines: Callable[[], list[str]] = logs.recent.lines
    fetch_status: Callable[[str, int], Any] = fetch_status
    versions: Callable[[], dict[str, Any]] = versions
    now: Callable[[], float] = time.time


def _config_text(path: Path | None, on_till: Path | None) -> str:
    if path is None or on_till is None:
        return "# no configuration file: built-in defaults\n"
    try:
        return redact_toml(on_till.read_text("utf-8"))
    except OSError as exc:
        return f"# cannot read {path}: {exc}\n"


def _has_entries(journal: str | None) -> bool:
    # journalctl prints "-- No entries --" when the unit never logged (a proxy run by hand).
    return bool(journal and journal.strip() and journal.strip() != "-- No entries --")


def _logs(sources: Sources, running: RunningProxy | None) -> str:
    parts = []
    if running is not None:
        lines = running.log_lines
        parts.append(
            f"# {len(lines)} recent lines from the memory of the running proxy ({running.url}):\n"
            + "".join(line + "\n" for line in lines)
        )
    journal = sources.journal()
    if _has_entries(journal):
        assert journal is not None
        parts.append(
            "# journalctl -u posboxless:\n" + journal + ("" if journal.endswith("\n") else "\n")
        )
    if not parts:
        lines = sources.recent_lines()
        parts.append(
            "# no proxy answered and the journal has no entries; lines logged by this process:\n"
            + "".join(line + "\n" for line in lines)
        )
    return "\n".join(parts)


def _status(config: Config, sources: Sources) -> Any:
    try:
        return sources.fetch_status(config.server.host, config.server.http_port)
    except (OSError, urllib.error.URLError, ValueError) as exc:
        return {"error": f"the proxy did not answer on port {config.server.http_port}: {exc}"}


def collect(config_path: Path | None, sources: Sources) -> dict[str, bytes]:
    """The bundle's files, by name."""
    target = resolve(config_path, sources.probe)
    used = target.path
    config_text = _config_text(used, target.config_file)
    config = target.config or Config()
    secrets = [config.server.admin_token]
    checks = run_checks(config_path, sources.probe, target)
    data_dir = target.data_dir
    running = target.running
    diagnostics: Any = (
        running.diagnostics
        if running is not None
        else {"error": f"no posboxless answered on port {config.server.http_port}"}
    )

    def as_json(value: Any) -> bytes:
        return redact_values(json.dumps(value, indent=2, default=str), secrets).encode()

    files = {
        "config.toml": config_text.encode(),
        "logs.txt": redact_values(_logs(sources, running), secrets).encode(),
        "status.json": as_json(_status(config, sources)),
        "diagnostics.json": as_json(diagnostics),
        "print_journal.json": as_json(summarise_journals(data_dir)),
        "payment_journal.json": as_json(export_journals(data_dir)),
        "versions.json": as_json(sources.versions()),
        "doctor.json": as_json([r.as_json() for r in checks]),
    }
    manifest = {
        "created": sources.now(),
        "hostname": sources.probe.hostname(),
        "config_file": str(used) if used else None,
        "data_dir": str(data_dir),
        "running_proxy": running.url if running else None,
        "files": sorted(files),
    }
    files["manifest.json"] = as_json(manifest)
    return files


def write_bundle(output: Path, files: dict[str, bytes], created: float) -> Path:
    prefix = output.name.removesuffix(".tar.gz")
    output.parent.mkdir(parents=True, exist_ok=True)
    # Logs may name customers' receipts and the network: owner-only, like the data itself.
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(f"{prefix}/{name}")
            info.size = len(content)
            info.mtime = int(created)
            info.mode = 0o600
            tar.addfile(info, io.BytesIO(content))
    return output


def default_output(hostname: str, created: float) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(created))
    return Path.cwd() / f"posboxless-support-{hostname}-{stamp}.tar.gz"


def make_bundle(
    output: Path | None = None, config_path: Path | None = None, sources: Sources | None = None
) -> Path:
    sources = sources or Sources()
    created = sources.now()
    files = collect(config_path, sources)
    return write_bundle(output or default_output(sources.probe.hostname(), created), files, created)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output", "-o", type=Path,
        help="archive to write (default: posboxless-support-<host>-<time>.tar.gz here)",
    )  # fmt: skip
    parser.add_argument("--url", help=URL_HELP)
    parser.add_argument("--root", type=Path, default=Path("/"), help=argparse.SUPPRESS)
    parser.add_argument("--user", default=DEFAULT_USER, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    layout = Layout(getattr(args, "root", Path("/")))
    probe = Probe(
        layout=layout,
        user=getattr(args, "user", DEFAULT_USER),
        running=asker(getattr(args, "url", None)),
    )
    try:
        path = make_bundle(getattr(args, "output", None), getattr(args, "config", None),
                           Sources(probe=probe))  # fmt: skip
    except OSError as exc:
        log.error("support bundle failed: %s", exc)
        print(f"Could not write the support bundle: {exc}", file=sys.stderr)
        return 1
    print(f"Support bundle written to {path}")
    print("It holds logs and the configuration with secrets removed; send it to your support.")
    if os.geteuid() != 0:
        print("(Run with sudo to include the service's journal and print journal.)")
    return 0
