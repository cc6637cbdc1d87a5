"""doctor explains Odoo 19.0's Local Network Access failure and checks the chosen remedy."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from posboxless.config import ServerConfig
from posboxless.ops import install as inst
from posboxless.ops.checks import Probe, run_checks
from posboxless.ops.layout import Layout
from posboxless.ops.lna_check import check_lna

ORIGIN = "https://shop.example.com"
POSBOXLESS = str(Path(sys.executable).parent / "posboxless")


def server(**kw: object) -> ServerConfig:
    return ServerConfig(allowed_origins=(ORIGIN,), **kw)  # type: ignore[arg-type]


def test_without_lna_address_the_cause_and_the_remedy_are_explained(tmp_path: Path) -> None:
    [result] = check_lna(server(), Layout(tmp_path))
    assert result.level == "ok"
    assert "yet the resource is in address space" in result.message
    assert 'lna_address = "127.0.0.2"' in result.message
    assert "--browser-policies" in result.message


def test_loopback_lna_address_needs_the_browser_policy(fake_root: Path) -> None:
    layout = Layout(fake_root)
    [result] = check_lna(server(lna_address="127.0.0.2"), layout)
    assert result.level == "warn"
    assert "install --browser-policies" in result.fix

    options = inst.InstallOptions(
        root=fake_root, command=[POSBOXLESS], allowed_origins=[ORIGIN], browser_policies=True
    )
    inst.install(options, lambda c: None)
    config = layout.config_file.read_text()
    layout.config_file.write_text(
        config.replace("[server]\n", '[server]\nlna_address = "127.0.0.2"\n')
    )
    inst.install(options, lambda c: None)
    [result] = check_lna(server(lna_address="127.0.0.2"), layout)
    assert result.level == "ok", result
    assert "type 127.0.0.2" in result.message

    # Another port than the policy's: the override does not apply.
    [result] = check_lna(server(lna_address="127.0.0.2", http_port=8070), layout)
    assert result.level == "warn"

    # An origin the policy does not list: Chrome will prompt.
    other = ServerConfig(allowed_origins=(ORIGIN, "https://b.example"), lna_address="127.0.0.2")
    [result] = check_lna(other, layout)
    assert result.level == "warn" and "https://b.example" in result.message


def test_lna_address_without_origins_warns(tmp_path: Path) -> None:
    [result] = check_lna(ServerConfig(lna_address="127.0.0.2"), Layout(tmp_path))
    assert result.level == "warn" and "allowed_origins" in result.fix


def test_private_lna_address_warns_about_the_network(tmp_path: Path) -> None:
    [result] = check_lna(server(lna_address="192.168.1.20"), Layout(tmp_path))
    assert result.level == "warn"
    assert "shop network" in result.message


def test_doctor_runs_the_check(fake_root: Path) -> None:
    layout = Layout(fake_root)
    layout.config_dir.mkdir(parents=True)
    layout.config_file.write_text(
        f'[server]\nallowed_origins = ["{ORIGIN}"]\nlna_address = "127.0.0.2"\nhttps_port = 0\n'
    )
    results = run_checks(None, Probe(layout=layout, service_active=lambda unit: False))
    [lna] = [r for r in results if r.name == "Local Network Access"]
    assert lna.level == "warn"
    policy = layout.at("/etc/chromium/policies/managed/posboxless.json")
    assert not policy.exists()
    assert json.dumps(lna.as_json())
