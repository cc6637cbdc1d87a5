"""The monitoring path end to end, with real processes on loopback: a live ``posboxless serve
--simulate``, Debian's Prometheus scraping it (pull), and the shipped agent configuration in a
real ``prometheus --enable-feature=agent`` pushing over TLS with basic auth to a real receiver
(``--web.enable-remote-write-receiver``) that evaluates the shipped alert rules. The printer's
cable is pulled in the simulator; the alert's expression must become true on both sides, with
the shop and till labels on the receiver. The receiver is then stopped while the cover is open:
the agent's write-ahead log must deliver those samples once it is back."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import bcrypt
import httpx
import pytest
import yaml

from posboxless import tls
from posboxless.ops.monitoring import RULES_FILE, shipped
from posboxless.ops.monitoring.agent import AgentSettings, agent_command, render_agent_config
from tests.ops.monitoring.stack import (
    Process,
    PromApi,
    free_port,
    posboxless_simulated,
    running,
    wait_for,
    wait_until_serving,
)
from tests.ops.monitoring.tools import need

USER, PASSWORD = "partner", "correct horse battery staple"


def _rules_always_open(tmp: Path) -> Path:
    """The shipped rules, with the opening hours a partner would set: here, always open."""
    doc = yaml.safe_load(shipped(RULES_FILE))
    for group in doc["groups"]:
        for rule in group["rules"]:
            if rule.get("record") == "posboxless:shop_open":
                rule["expr"] = "vector(1)"
    path = tmp / "rules.yml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _alert_expr(name: str) -> str:
    for group in yaml.safe_load(shipped(RULES_FILE))["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") == name:
                return str(rule["expr"])
    raise KeyError(name)


def _prometheus(name: str, tmp: Path, config: dict[str, Any], port: int, *extra: str) -> Process:
    prometheus = need("prometheus")
    (tmp / name).mkdir(exist_ok=True)
    config_file = tmp / name / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(config))
    command = [
        prometheus, f"--config.file={config_file}", f"--storage.tsdb.path={tmp / name / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}", *extra,
    ]  # fmt: skip
    return Process(name, command, tmp / f"{name}.log")


def _simulate_printer(base: str, state: str) -> None:
    response = httpx.post(f"{base}/api/simulate_printer", json={"state": state}, timeout=10)
    assert response.status_code == 200, response.text


def test_pull_and_push_see_the_printer_unplugged(tmp_path: Path) -> None:
    need("promtool")
    rules = _rules_always_open(tmp_path)
    till_port, puller_port, receiver_port, agent_port = (free_port() for _ in range(4))
    till = f"http://127.0.0.1:{till_port}"

    # The partner's receiver: TLS from a private CA, basic auth with a bcrypt hash.
    certs = tls.ensure_certificates(tmp_path / "receiver-tls", ["localhost"], ["127.0.0.1"])
    assert certs.ca is not None
    web_config = tmp_path / "receiver-web.yml"
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    web_config.write_text(
        yaml.safe_dump(
            {
                "tls_server_config": {"cert_file": str(certs.cert), "key_file": str(certs.key)},
                "basic_auth_users": {USER: hashed},
            }
        )
    )
    rules_config = {"global": {"evaluation_interval": "1s"}, "rule_files": [str(rules)]}
    receiver = _prometheus(
        "receiver", tmp_path, rules_config, receiver_port,
        "--web.enable-remote-write-receiver", f"--web.config.file={web_config}",
    )  # fmt: skip
    puller = _prometheus(
        "puller",
        tmp_path,
        {
            **rules_config,
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [
                {"job_name": "posboxless", "static_configs": [{"targets": [till[7:]]}]}
            ],
        },
        puller_port,
    )

    # The till's agent: the shipped template, filled for loopback.
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD + "\n")
    password_file.chmod(0o600)
    agent_config = tmp_path / "agent.yml"
    agent_config.write_text(
        render_agent_config(
            AgentSettings(
                url=f"https://127.0.0.1:{receiver_port}/api/v1/write",
                user=USER,
                shop="bakery-lyon",
                till="till-1",
                target=f"127.0.0.1:{till_port}",
                password_file=str(password_file),
                ca_file=str(certs.ca),
                scrape_interval="1s",
                scrape_timeout="1s",
            )
        )
    )
    agent = Process(
        "agent",
        agent_command(
            need("prometheus"),
            str(agent_config),
            str(tmp_path / "agent-wal"),
            f"127.0.0.1:{agent_port}",
        ),
        tmp_path / "agent.log",
    )
    proxy = posboxless_simulated(tmp_path, till_port)

    trust = ssl.create_default_context(cafile=str(certs.ca))
    received = PromApi(f"https://127.0.0.1:{receiver_port}", verify=trust, auth=(USER, PASSWORD))
    pulled = PromApi(f"http://127.0.0.1:{puller_port}")
    labels = '{kind="printer", shop="bakery-lyon", till="till-1"}'

    with running(proxy, receiver, puller, agent):
        wait_until_serving(proxy, till)
        # The receiver refuses anyone without the password.
        anonymous = PromApi(f"https://127.0.0.1:{receiver_port}", verify=trust)
        wait_for("receiver ready", received.ready)
        with pytest.raises(httpx.HTTPStatusError):
            anonymous.query("up")

        wait_for(
            "the printer up on the receiver, pushed with the shop and till labels",
            lambda: received.query(f"posboxless_device_up{labels} == 1"),
        )
        wait_for("the printer up on the puller", lambda: pulled.query(
            'posboxless_device_up{kind="printer"} == 1'))  # fmt: skip
        assert received.query(_alert_expr("PosboxlessPrinterDown")) == []

        _simulate_printer(till, "unplugged")
        down = _alert_expr("PosboxlessPrinterDown")
        pushed = wait_for("PosboxlessPrinterDown's expression on the receiver", lambda: (
            received.query(down)))  # fmt: skip
        assert pushed[0]["metric"]["reason"] == "unplugged"
        assert pushed[0]["metric"]["shop"] == "bakery-lyon"
        assert pushed[0]["metric"]["till"] == "till-1"
        pulled_down = wait_for("PosboxlessPrinterDown's expression on the puller", lambda: (
            pulled.query(down)))  # fmt: skip
        assert pulled_down[0]["metric"]["name"] == "receipt"
        # The receiver's rule engine has it too (pending: the alert waits 5 minutes to fire).
        wait_for("the alert pending on the receiver", lambda: received.query(
            'ALERTS{alertname="PosboxlessPrinterDown", alertstate="pending"}'))  # fmt: skip

        _simulate_printer(till, "paper_out")
        paper = _alert_expr("PosboxlessPrinterPaperOut")
        wait_for("PosboxlessPrinterPaperOut's expression on the receiver", lambda: (
            received.query(paper)))  # fmt: skip
        assert received.query(down) == [] or wait_for("printer down cleared", lambda: (
            received.query(f"absent(({down}))")))  # fmt: skip

        # The shop's internet is down: the receiver is unreachable while the cover is open.
        receiver.stop()
        _simulate_printer(till, "cover_open")
        wait_for("a few scrapes of the open cover", lambda: pulled.query(
            'sum_over_time(posboxless_device_problem{reason="cover_open"}[1m]) >= 5'))  # fmt: skip
        _simulate_printer(till, "ready")
        wait_for("the printer ready again", lambda: pulled.query(
            'posboxless_device_up{kind="printer"} == 1'))  # fmt: skip
        receiver.start()
        wait_for("receiver back", received.ready)
        late = wait_for(
            "the open cover, buffered by the agent, on the receiver",
            lambda: received.query(
                'max_over_time(posboxless_device_problem{reason="cover_open", '
                'shop="bakery-lyon"}[10m]) == 1'
            ),
        )
        assert late[0]["metric"]["till"] == "till-1"
        assert agent.alive(), agent.tail()
    assert "Traceback" not in proxy.tail(), proxy.tail()
