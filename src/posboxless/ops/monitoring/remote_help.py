"""``posboxless remote-help``: remote help without a VPN, by pushing rather than opening.

The till sends its IT partner, over HTTPS with basic auth (the metrics agent's credentials), two
files: the diagnostics snapshot the page is drawn from (``diagnostics.json``: devices, queues,
warnings, clients, recent log lines) and the support bundle (secrets redacted), with HTTP ``PUT``
to ``<url>/<shop>/<till>/diagnostics.json`` and ``.../support-bundle.tar.gz``. Any HTTPS server
that accepts authenticated PUT stores them (nginx's dav module, a WebDAV share, an S3-style
gateway). Nothing is listening on the till for it, so nothing the partner does can print or open
the drawer; it is off until ``posboxless install --remote-help-url`` installs its timer.
"""

from __future__ import annotations

import argparse
import base64
import io
import logging
import ssl
import sys
import tarfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote as url_quote

from posboxless.ops.monitoring.agent import AgentOptionError, check_url

log = logging.getLogger(__name__)

TIMEOUT = 30.0


def check_push_url(url: str) -> str:
    try:
        return check_url(url)
    except AgentOptionError as exc:
        raise AgentOptionError(str(exc).replace("--monitoring-url", "--remote-help-url")) from None


def _tarball(files: dict[str, bytes], created: float) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(f"posboxless-support/{name}")
            info.size = len(content)
            info.mtime = int(created)
            info.mode = 0o600
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def collect(config_path: Path | None, root: Path = Path("/")) -> dict[str, bytes]:
    """The pushed files: what ``posboxless support-bundle`` would write, collected the same way."""
    from posboxless.ops import bundle
    from posboxless.ops.checks import Probe
    from posboxless.ops.layout import Layout

    sources = bundle.Sources(probe=Probe(layout=Layout(root)))
    files = bundle.collect(config_path, sources)
    return {
        "diagnostics.json": files["diagnostics.json"],
        "support-bundle.tar.gz": _tarball(files, sources.now()),
    }


def push(
    url: str,
    user: str,
    password: str,
    shop: str,
    till: str,
    files: dict[str, bytes],
    *,
    ca_file: str | None = None,
) -> list[str]:
    """PUT each file below ``<url>/<shop>/<till>/``; returns the URLs written. Raises OSError
    (``urllib.error.URLError`` included) when the partner's server cannot be reached or refuses."""
    check_push_url(url)
    context = ssl.create_default_context(cafile=ca_file)
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    base = url.rstrip("/") + f"/{url_quote(shop, safe='')}/{url_quote(till, safe='')}/"
    written = []
    for name, content in files.items():
        target = base + name
        kind = "application/json" if name.endswith(".json") else "application/gzip"
        request = urllib.request.Request(
            target,
            data=content,
            method="PUT",
            headers={
                "Authorization": f"Basic {token}",
                "Content-Type": kind,
            },
        )
        https = context if target.startswith("https:") else None
        with urllib.request.urlopen(request, timeout=TIMEOUT, context=https) as answer:
            if not 200 <= answer.status < 300:
                raise OSError(f"{target} answered {answer.status}")
        written.append(target)
    return written


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", required=True, help="the partner's HTTPS base URL")
    parser.add_argument("--user", required=True, help="basic-auth user (the metrics agent's)")
    parser.add_argument(
        "--password-file", type=Path, required=True, help="file holding the basic-auth password"
    )
    parser.add_argument("--shop", required=True, help="shop name (as for the metrics agent)")
    parser.add_argument("--till", required=True, help="till name (as for the metrics agent)")
    parser.add_argument("--ca-file", help="the partner's private CA (PEM), if any")
    parser.add_argument("--root", type=Path, default=Path("/"), help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    try:
        password = args.password_file.read_text("utf-8").strip()
        check_push_url(args.url)
    except (OSError, AgentOptionError) as exc:
        print(f"remote-help: {exc}", file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        files = collect(getattr(args, "config", None), args.root)
        written = push(
            args.url, args.user, password, args.shop, args.till, files, ca_file=args.ca_file
        )
    except (OSError, ValueError) as exc:
        log.error("remote help: push failed: %s", exc)
        print(f"remote-help: push failed: {exc}", file=sys.stderr)
        return 1
    sizes = ", ".join(f"{name} {len(content)} bytes" for name, content in files.items())
    print(f"Pushed {sizes} in {time.monotonic() - started:.1f} s to {', '.join(written)}")
    return 0
