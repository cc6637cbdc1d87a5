"""The metrics agent of a till behind NAT: Debian's ``prometheus`` in agent mode scrapes the
proxy's ``/metrics`` on loopback and pushes (``remote_write``) to the partner's receiver over TLS
with basic auth, labelled with the shop and the till. This module checks the options and renders
the agent's configuration and its hardened systemd unit from the shipped templates."""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from posboxless.ops.monitoring import AGENT_TEMPLATE, AGENT_UNIT_TEMPLATE, shipped
from posboxless.ops.unit import quote

AGENT_SERVICE = "posboxless-metrics-agent.service"
AGENT_CONFIG_DIR = "/etc/posboxless-metrics-agent"
AGENT_STATE_DIR = "/var/lib/posboxless-metrics-agent"
AGENT_LISTEN = "127.0.0.1:9491"
"""The agent's own web port (health, its metrics): loopback only, and not Prometheus' 9090."""
CREDENTIAL_PATH = f"/run/credentials/{AGENT_SERVICE}/monitoring-password"
WAL_MAX_AGE = "72h"
"""How long samples wait for the internet to come back (a long weekend) before being dropped."""

_LABEL_VALUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_USER = re.compile(r"^[A-Za-z0-9_.@+-]{1,64}$")


class AgentOptionError(ValueError):
    """An option of the metrics agent is refused; the message says why."""


@dataclass(frozen=True)
class AgentSettings:
    url: str
    user: str
    shop: str
    till: str
    target: str
    """host:port of the proxy's plain HTTP listener, as the agent reaches it (loopback)."""
    password_file: str = CREDENTIAL_PATH
    ca_file: str | None = None
    scrape_interval: str = "30s"
    scrape_timeout: str = "10s"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> str:
    """The receiver's URL: https (plain http only towards this machine, for tests), no password
    in the URL (it would end up in a world-readable file)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise AgentOptionError(f"--monitoring-url must be an https:// URL, not {url!r}")
    if parts.username or parts.password:
        raise AgentOptionError(
            "--monitoring-url must not hold a user or password: use --monitoring-user and "
            "--monitoring-password-file"
        )
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise AgentOptionError(
            "--monitoring-url must use https: the metrics and the password cross the internet"
        )
    if any(c.isspace() or c in "\"'\\" for c in url):
        raise AgentOptionError(f"--monitoring-url holds a space or a quote: {url!r}")
    return url


def check_settings(settings: AgentSettings) -> AgentSettings:
    check_url(settings.url)
    if not _USER.match(settings.user):
        raise AgentOptionError(
            f"--monitoring-user {settings.user!r}: letters, digits and _ . @ + - only"
        )
    for option, value in (("--shop", settings.shop), ("--till", settings.till)):
        if not _LABEL_VALUE.match(value):
            raise AgentOptionError(
                f"{option} {value!r}: a short name of letters, digits and _ . - (it labels "
                "every sample and alert)"
            )
    return settings


def scrape_target(host: str, http_port: int) -> str:
    """Where the agent finds /metrics: the proxy's listener, through loopback when it listens on
    every address."""
    if host in ("", "0.0.0.0", "localhost"):
        return f"127.0.0.1:{http_port}"
    if host == "::":
        return f"[::1]:{http_port}"
    if ":" in host:
        return f"[{host}]:{http_port}"
    return f"{host}:{http_port}"


def render_agent_config(settings: AgentSettings) -> str:
    check_settings(settings)

    def q(value: str) -> str:  # a JSON string is a valid YAML scalar, whatever it holds
        return json.dumps(value)

    ca = f"ca_file: {q(settings.ca_file)}" if settings.ca_file else "# ca_file: /etc/ssl/..."
    replacements = {
        "@SCRAPE_INTERVAL@": settings.scrape_interval,
        "@SCRAPE_TIMEOUT@": settings.scrape_timeout,
        "@SHOP@": q(settings.shop),
        "@TILL@": q(settings.till),
        "@TARGET@": q(settings.target),
        "@URL@": q(settings.url),
        "@USER@": q(settings.user),
        "@PASSWORD_FILE@": q(settings.password_file),
        "@CA_FILE@": ca,
    }
    text = shipped(AGENT_TEMPLATE)
    for key, value in replacements.items():
        text = text.replace(key, value)
    return text


def agent_command(
    prometheus: str,
    config_file: str,
    state_dir: str = AGENT_STATE_DIR,
    listen: str = AGENT_LISTEN,
) -> list[str]:
    """The agent's command line (also what the end-to-end test runs)."""
    return [
        prometheus,
        "--enable-feature=agent",
        f"--config.file={config_file}",
        f"--storage.agent.path={state_dir}",
        f"--storage.agent.retention.max-time={WAL_MAX_AGE}",
        f"--web.listen-address={listen}",
    ]


def render_agent_unit(prometheus: str, config_file: str, password_source: str) -> str:
    exec_start = " ".join(quote(a) for a in agent_command(prometheus, config_file))
    return (
        shipped(AGENT_UNIT_TEMPLATE)
        .replace("@EXEC_START@", exec_start)
        .replace("@PASSWORD_SOURCE@", password_source)
    )
