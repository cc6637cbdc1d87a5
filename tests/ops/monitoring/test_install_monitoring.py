"""``posboxless install --monitoring-url ...`` with ``--root``: the agent's configuration, its
password (root only), its hardened unit, the optional remote-help timer; nothing without the
options; everything gone after uninstall."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from posboxless.ops import install as inst
from posboxless.ops.layout import Layout
from posboxless.ops.monitoring.agent import (
    AGENT_SERVICE,
    CREDENTIAL_PATH,
    AgentOptionError,
    AgentSettings,
    check_url,
    render_agent_config,
    scrape_target,
)
from tests.ops.test_install import refuse_commands

PARTNER = "https://metrics.partner.example/api/v1/write"


def _parse(root: Path, *extra: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    inst.add_install_arguments(parser)
    return parser.parse_args(["--root", str(root), *extra])


def _monitoring_args(password: Path, *extra: str) -> list[str]:
    return [
        "--monitoring-url", PARTNER, "--monitoring-user", "shop-42",
        "--monitoring-password-file", str(password), "--shop", "bakery-lyon", "--till", "till-1",
        *extra,
    ]  # fmt: skip


@pytest.fixture
def password(tmp_path: Path) -> Path:
    path = tmp_path / "password.txt"
    path.write_text("s3cret pass\n")
    return path


def _agent_files(root: Path) -> dict[str, Path]:
    layout = Layout(root)
    return {
        "config": layout.at("/etc/posboxless-metrics-agent/agent.yml"),
        "password": layout.at("/etc/posboxless-metrics-agent/password"),
        "unit": layout.at(f"/etc/systemd/system/{AGENT_SERVICE}"),
        "timer": layout.at("/etc/systemd/system/posboxless-remote-help.timer"),
        "help": layout.at("/etc/systemd/system/posboxless-remote-help.service"),
    }


def test_nothing_leaves_the_till_unless_configured(fake_root: Path) -> None:
    assert inst.run_install(_parse(fake_root), refuse_commands) == 0
    assert not any(path.exists() for path in _agent_files(fake_root).values())
    assert not Layout(fake_root).at("/etc/posboxless-metrics-agent").exists()


def test_install_writes_the_agent(
    fake_root: Path, password: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert inst.run_install(_parse(fake_root, *_monitoring_args(password)), refuse_commands) == 0
    files = _agent_files(fake_root)
    config = yaml.safe_load(files["config"].read_text())
    assert config["global"]["external_labels"] == {"shop": "bakery-lyon", "till": "till-1"}
    assert config["scrape_configs"][0]["static_configs"] == [{"targets": ["127.0.0.1:8069"]}]
    (remote,) = config["remote_write"]
    assert remote["url"] == PARTNER
    assert remote["basic_auth"] == {"username": "shop-42", "password_file": CREDENTIAL_PATH}
    assert remote["tls_config"]["insecure_skip_verify"] is False
    assert "s3cret" not in files["config"].read_text()
    assert files["password"].read_text() == "s3cret pass\n"
    assert oct(files["password"].stat().st_mode & 0o777) == "0o600"
    unit = files["unit"].read_text()
    assert "--enable-feature=agent" in unit
    assert "--config.file=/etc/posboxless-metrics-agent/agent.yml" in unit
    assert "--storage.agent.path=/var/lib/posboxless-metrics-agent" in unit
    assert "--web.listen-address=127.0.0.1:9491" in unit
    assert "LoadCredential=monitoring-password:/etc/posboxless-metrics-agent/password" in unit
    assert "DynamicUser=yes" in unit
    assert not files["timer"].exists(), "remote help is off by default"
    out = capsys.readouterr().out
    assert "prometheus.service" in out
    # Idempotent.
    before = {k: p.read_bytes() for k, p in files.items() if p.exists()}
    assert inst.run_install(_parse(fake_root, *_monitoring_args(password)), refuse_commands) == 0
    assert before == {k: p.read_bytes() for k, p in files.items() if p.exists()}


def test_remote_help_timer_and_uninstall(fake_root: Path, password: Path) -> None:
    args = _monitoring_args(password, "--remote-help-url", "https://help.partner.example/tills")
    assert inst.run_install(_parse(fake_root, *args), refuse_commands) == 0
    files = _agent_files(fake_root)
    service = files["help"].read_text()
    assert "remote-help --url https://help.partner.example/tills --user shop-42" in service
    assert "/run/credentials/posboxless-remote-help.service/monitoring-password" in service
    assert "OnUnitActiveSec=5min" in files["timer"].read_text()
    # Installing again without it turns it off.
    assert inst.run_install(_parse(fake_root, *_monitoring_args(password)), refuse_commands) == 0
    assert not files["timer"].exists() and not files["help"].exists()
    outcome = inst.uninstall(fake_root, run=refuse_commands)
    assert not any(path.exists() for path in files.values())
    assert not Layout(fake_root).at("/etc/posboxless-metrics-agent").exists()
    assert any("posboxless-metrics-agent" in change for change in outcome.changes)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--monitoring-url", PARTNER], "--monitoring-user"),
        (["--shop", "x"], "go with --monitoring-url"),
    ],
)
def test_half_the_options_is_refused(
    fake_root: Path, extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert inst.run_install(_parse(fake_root, *extra), refuse_commands) == 1
    assert message in capsys.readouterr().err
    assert not _agent_files(fake_root)["unit"].exists()


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--monitoring-url", "http://metrics.partner.example/write", "https"),
        ("--monitoring-url", "https://u:p@metrics.partner.example/write", "password"),
        ("--shop", "bakery lyon", "--shop"),
        ("--till", 'a"b', "--till"),
    ],
)
def test_bad_values_are_refused(
    fake_root: Path,
    password: Path,
    option: str,
    value: str,
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = _monitoring_args(password)
    args[args.index(option) + 1] = value
    assert inst.run_install(_parse(fake_root, *args), refuse_commands) == 1
    assert message in capsys.readouterr().err
    assert not _agent_files(fake_root)["unit"].exists()


def test_checks_of_the_url_and_target() -> None:
    assert check_url("http://127.0.0.1:9090/api/v1/write")  # tests only: loopback
    with pytest.raises(AgentOptionError):
        check_url("ftp://x.example/")
    assert scrape_target("0.0.0.0", 8069) == "127.0.0.1:8069"
    assert scrape_target("::", 8069) == "[::1]:8069"
    assert scrape_target("192.168.1.5", 80) == "192.168.1.5:80"


def test_the_agent_config_passes_promtool(tmp_path: Path) -> None:
    from tests.ops.monitoring.tools import need

    promtool = need("promtool")
    password = tmp_path / "password"
    password.write_text("x\n")
    config = tmp_path / "agent.yml"
    config.write_text(
        render_agent_config(
            AgentSettings(
                url=PARTNER, user="u", shop="s", till="t", target="127.0.0.1:8069",
                password_file=str(password),
            )
        )
    )  # fmt: skip
    result = subprocess.run(
        [promtool, "check", "config", "--agent", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.systemd
@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_agent_unit_is_hardened(fake_root: Path, password: Path) -> None:
    assert inst.run_install(_parse(fake_root, *_monitoring_args(password)), refuse_commands) == 0
    unit = _agent_files(fake_root)["unit"]
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--no-pager", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    m = re.search(r"Overall exposure level for [\w.-]+: (\d+\.\d+)", result.stdout)
    assert m, result.stdout + result.stderr
    assert float(m.group(1)) <= 2.0
