"""What a partner's monitoring needs from a till: the Prometheus agent configuration that pushes
its metrics out (``agent``), the alert rules with their unit tests and the Grafana dashboard
(shipped files beside this module), and the optional remote-help push (``remote_help``)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

RULES_FILE = "posboxless-alerts.yml"
RULES_TEST_FILE = "posboxless-alerts.test.yml"
DASHBOARD_FILE = "posboxless-dashboard.json"
AGENT_TEMPLATE = "metrics-agent.yml"
AGENT_UNIT_TEMPLATE = "posboxless-metrics-agent.service"


def shipped(name: str) -> str:
    """The text of a file shipped in this package."""
    return resources.files(__name__).joinpath(name).read_text("utf-8")


def shipped_path(name: str) -> Path:
    """The file on disk (the package is installed unzipped: setuptools, pip, Debian)."""
    return Path(str(resources.files(__name__).joinpath(name)))
