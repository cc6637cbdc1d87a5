from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from posboxless.ops import install as inst
from posboxless.ops.accounts import ToolAccounts, UserDatabase
from posboxless.ops.config_file import check_config_text
from posboxless.ops.layout import Layout
from posboxless.ops.unit import find_command, hidden_location, quote, render_unit

POSBOXLESS = str(Path(sys.executable).parent / "posboxless")


def options(root: Path, **kw: object) -> inst.InstallOptions:
    return inst.InstallOptions(root=root, command=[POSBOXLESS], **kw)  # type: ignore[arg-type]


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mode)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def refuse_commands(command: Sequence[str]) -> None:
    raise AssertionError(f"no command may run for an alternate root: {command}")


def test_install_creates_user_unit_rules_and_config(fake_root: Path) -> None:
    outcome = inst.install(options(fake_root), refuse_commands)
    layout = Layout(fake_root)
    db = UserDatabase(layout)
    user = db.user("posboxless")
    assert user is not None and user.home == "/var/lib/posboxless"
    assert {"dialout", "lp", "input", "posboxless"} <= db.group_names_of("posboxless")
    assert "posboxless:!:" in layout.shadow.read_text()
    assert "dialout:*::posboxless" in layout.gshadow.read_text()
    assert oct(layout.shadow.stat().st_mode & 0o777) == "0o640"

    unit = layout.unit_file.read_text()
    assert f"ExecStart={POSBOXLESS} serve --config /etc/posboxless/config.toml" in unit
    assert "User=posboxless" in unit
    assert "PrivateDevices" not in unit.replace("Not PrivateDevices", "")
    assert "CapabilityBoundingSet=CAP_NET_BIND_SERVICE\n" in unit
    assert "DevicePolicy=closed" in unit
    assert "ID_MM_DEVICE_IGNORE" in layout.rules_file.read_text()

    config = check_config_text(layout.config_file.read_text())
    assert config.server.host == "127.0.0.1"
    assert config.server.allowed_origins == ()
    assert oct(layout.config_file.stat().st_mode & 0o777) == "0o640"
    assert any("wrote" in c for c in outcome.changes)
    assert any("Nothing was started" in n for n in outcome.notes)


def test_install_twice_changes_nothing(fake_root: Path) -> None:
    inst.install(options(fake_root), refuse_commands)
    before = snapshot(fake_root)
    outcome = inst.install(options(fake_root), refuse_commands)
    assert outcome.changes == []
    assert snapshot(fake_root) == before


def test_install_into_an_empty_root_creates_the_account_files(tmp_path: Path) -> None:
    inst.install(options(tmp_path), refuse_commands)
    db = UserDatabase(Layout(tmp_path))
    assert db.user("posboxless") is not None
    assert {"dialout", "lp", "input"} <= db.group_names_of("posboxless")
    gids = [g.gid for g in db.groups.values()]
    assert len(gids) == len(set(gids))


def test_install_keeps_an_existing_configuration(fake_root: Path) -> None:
    layout = Layout(fake_root)
    layout.config_dir.mkdir(parents=True)
    layout.config_file.write_text('[server]\nhost = "0.0.0.0"\n')
    outcome = inst.install(options(fake_root, listen="10.0.0.1"), refuse_commands)
    assert layout.config_file.read_text() == '[server]\nhost = "0.0.0.0"\n'
    assert any("was kept" in n for n in outcome.notes)


def test_listen_and_origins_go_into_the_new_configuration(fake_root: Path) -> None:
    origins = ["https://shop.example.com", "http://odoo.lan:8069"]
    inst.install(options(fake_root, listen="0.0.0.0", allowed_origins=origins), refuse_commands)
    config = check_config_text(Layout(fake_root).config_file.read_text())
    assert config.server.host == "0.0.0.0"
    assert config.server.allowed_origins == tuple(origins)


def test_bad_origin_is_refused_before_anything_is_written(fake_root: Path) -> None:
    before = snapshot(fake_root)
    with pytest.raises(inst.InstallError, match="allowed_origins"):
        inst.install(options(fake_root, allowed_origins=["shop.example.com/pos"]), refuse_commands)
    assert snapshot(fake_root) == before


def test_bad_user_name_is_refused(fake_root: Path) -> None:
    with pytest.raises(inst.InstallError, match="not a valid user name"):
        inst.install(options(fake_root, user="Bad User"), refuse_commands)


def test_uninstall_keeps_config_unless_purged(fake_root: Path) -> None:
    inst.install(options(fake_root), refuse_commands)
    layout = Layout(fake_root)
    layout.state_dir.mkdir(parents=True)
    inst.uninstall(fake_root, run=refuse_commands)
    assert not layout.unit_file.exists() and not layout.rules_file.exists()
    assert layout.config_file.exists() and layout.state_dir.exists()
    assert UserDatabase(layout).user("posboxless") is not None

    outcome = inst.uninstall(fake_root, purge=True, run=refuse_commands)
    assert not layout.config_dir.exists() and not layout.state_dir.exists()
    db = UserDatabase(layout)
    assert db.user("posboxless") is None and "posboxless" not in db.groups
    assert db.groups["dialout"].members == ()
    assert "posboxless" not in layout.gshadow.read_text()
    assert "posboxless" not in layout.shadow.read_text()
    assert outcome.changes
    assert inst.uninstall(fake_root, purge=True, run=refuse_commands).changes == []


def test_cli_entry_points(fake_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    inst.add_install_arguments(parser)
    args = parser.parse_args(["--root", str(fake_root), "--allowed-origin", "https://a.example"])
    assert inst.run_install(args, refuse_commands) == 0
    assert "posboxless is installed" in capsys.readouterr().out
    args = parser.parse_args(["--root", str(fake_root), "--allowed-origin", "https://b.example"])
    assert inst.run_install(args, refuse_commands) == 0
    assert "was kept" in capsys.readouterr().out
    assert "https://a.example" in Layout(fake_root).config_file.read_text()
    parser = argparse.ArgumentParser()
    inst.add_uninstall_arguments(parser)
    args = parser.parse_args(["--root", str(fake_root), "--purge"])
    assert inst.run_uninstall(args, refuse_commands) == 0
    assert not Layout(fake_root).config_file.exists()


def test_cli_reports_a_bad_option_without_a_traceback(
    fake_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser()
    inst.add_install_arguments(parser)
    args = parser.parse_args(["--root", str(fake_root), "--allowed-origin", "ftp://x"])
    assert inst.run_install(args, refuse_commands) == 1
    assert "allowed_origins" in capsys.readouterr().err


def test_live_system_uses_the_distribution_tools(fake_root: Path) -> None:
    commands: list[list[str]] = []
    tools = ToolAccounts(Layout(fake_root), lambda c: commands.append(list(c)))
    tools.ensure("posboxless", ("dialout", "lp", "input", "plugdev"))
    assert commands[0] == ["groupadd", "--system", "plugdev"]
    assert commands[1][:2] == ["useradd", "--system"] and commands[1][-1] == "posboxless"
    assert commands[2] == [
        "usermod",
        "--append",
        "--groups",
        "dialout,lp,input,plugdev",
        "posboxless",
    ]


def test_exec_start_quoting() -> None:
    assert quote("/opt/posboxless/bin/posboxless") == "/opt/posboxless/bin/posboxless"
    assert quote("/opt/my pos/bin/posboxless") == '"/opt/my pos/bin/posboxless"'
    assert quote("/opt/100%/x") == "/opt/100%%/x"
    assert quote("/opt/$HOME x") == '"/opt/$$HOME x"'
    unit = render_unit(
        ["/opt/a b/python", "-m", "posboxless"], "pos", "/etc/posboxless/config.toml"
    )
    assert 'ExecStart="/opt/a b/python" -m posboxless serve --config' in unit


def test_command_discovery_and_hidden_locations(tmp_path: Path) -> None:
    exe = tmp_path / "posboxless"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    assert find_command(str(exe)) == [str(exe.resolve())]
    fallback = find_command("/nonexistent/pytest")
    assert fallback[0] and Path(fallback[0]).exists()
    assert hidden_location(["/home/anna/.local/bin/posboxless"]) == "/home"
    assert hidden_location(["/opt/posboxless/bin/posboxless"]) is None


_RULE_TOKEN = re.compile(r'\s*([A-Z_]+(?:\{[A-Za-z_]+\})?)\s*(==|!=|\+=|:=|=)\s*"([^"]*)"\s*(,|$)')


def _parse_rule(line: str) -> list[tuple[str, str, str]]:
    tokens, pos = [], 0
    while pos < len(line):
        m = _RULE_TOKEN.match(line, pos)
        assert m, f"cannot parse udev rule at {line[pos:]!r}"
        tokens.append((m.group(1), m.group(2), m.group(3)))
        pos = m.end()
    return tokens


def test_udev_rules_are_well_formed_and_scoped(fake_root: Path) -> None:
    inst.install(options(fake_root), refuse_commands)
    text = Layout(fake_root).rules_file.read_text()
    rules = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    assert rules
    ariva = False
    for line in rules:
        tokens = _parse_rule(line)
        keys = {k for k, op, _ in tokens if op in ("==", "!=")}
        if any(k == "LABEL" for k, _, _ in tokens) or any(k == "GOTO" for k, _, _ in tokens):
            continue
        assert keys & {"ATTRS{idVendor}", "ATTR{idVendor}"}, f"rule not scoped by vendor: {line}"
        assert "SUBSYSTEM" in keys, line
        values = dict((k, v) for k, _, v in tokens)
        if values.get("ATTRS{idVendor}") == "0eb8" and values.get("ATTRS{idProduct}") == "2200":
            ariva = values.get("ENV{ID_MM_DEVICE_IGNORE}") == "1"
    assert ariva, "the Ariva scale must be hidden from ModemManager"


needs_systemd = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed"
)


@pytest.mark.systemd
@needs_systemd
def test_unit_passes_systemd_analyze_verify(fake_root: Path) -> None:
    inst.install(options(fake_root), refuse_commands)
    unit = Layout(fake_root).unit_file
    result = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


@pytest.mark.systemd
@needs_systemd
def test_unit_exposure_is_two_or_better(fake_root: Path) -> None:
    inst.install(options(fake_root), refuse_commands)
    unit = Layout(fake_root).unit_file
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--no-pager", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    m = re.search(r"Overall exposure level for posboxless.service: (\d+\.\d+)", result.stdout)
    assert m, result.stdout + result.stderr
    assert float(m.group(1)) <= 2.0
    assert "PrivateDevices=" in result.stdout  # rated, i.e. the unit deliberately does without it


def test_template_device_examples_are_valid_configuration() -> None:
    from posboxless.ops.config_file import render_config

    text = render_config()
    example = re.compile(r"^# (\[\[?[a-z_]+\]\]?(\s+#.*)?|[a-z_]+ = .*)$")
    uncommented = "\n".join(line[2:] if example.match(line) else line for line in text.splitlines())
    config = check_config_text(uncommented)
    assert [p.name for p in config.printers] == ["receipt", "kitchen", "bar", "counter"]
    assert config.printers[0].default and config.printers[1].host == ("192.168.1.50", 9100)
    assert config.scale is not None and config.scale.usb == (0x0EB8, 0x2200)
    assert [s.name for s in config.scanners] == ["front", "handheld"]
    assert config.scanners[1].type == "serial"
    assert [t.name for t in config.terminals] == ["terminal"]
    assert config.terminals[0].currencies == ("EUR",)
    # Every key of [server] is explained in the template.
    from dataclasses import fields

    from posboxless.config import ServerConfig

    for f in fields(ServerConfig):
        assert re.search(rf"^#? ?{f.name} = ", text, re.M), f"{f.name} is not documented"
