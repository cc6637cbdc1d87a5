"""doctor and the udev rules follow who owns the scale: posboxless or the browser (Odoo 19.4/20
Web Serial)."""

from __future__ import annotations

import sys
from pathlib import Path

from posboxless.config import parse_config
from posboxless.ops import install as inst
from posboxless.ops.checks import Probe
from posboxless.ops.layout import Layout
from posboxless.ops.scale_owner_check import check_scale_owner
from posboxless.ops.udev_rules import active_uaccess_lines

POSBOXLESS = str(Path(sys.executable).parent / "posboxless")


def test_the_uaccess_rule_follows_the_owner(fake_root: Path) -> None:
    layout = Layout(fake_root)
    options = inst.InstallOptions(root=fake_root, command=[POSBOXLESS])
    inst.install(options, lambda c: None)
    rules = layout.rules_file.read_text()
    assert active_uaccess_lines(rules) == []

    layout.config_file.write_text('[scale]\nowner = "browser"\nusb = "0403:6001"\n')
    inst.install(options, lambda c: None)
    rules = layout.rules_file.read_text()
    active = active_uaccess_lines(rules)
    assert any('ATTRS{idVendor}=="0eb8"' in line for line in active)
    assert any('ATTRS{idVendor}=="0403", ATTRS{idProduct}=="6001"' in line for line in active)
    assert "0666" not in rules and 'MODE="0666"' not in rules
    # udev needs uaccess before 73-seat-late.rules.
    assert layout.rules_file.name < "73"


def _probe(root: Path) -> Probe:
    return Probe(layout=Layout(root))


def _fake_process(root: Path, pid: int, comm: str, target: str, cmdline: str = "") -> None:
    proc = root / "proc" / str(pid)
    (proc / "fd").mkdir(parents=True)
    (proc / "comm").write_text(comm + "\n")
    (proc / "cmdline").write_bytes((cmdline or comm).replace(" ", "\0").encode())
    (proc / "fd" / "7").symlink_to(target)  # as /proc shows it: the path on the till


def test_doctor_names_a_browser_holding_a_posboxless_scale(fake_root: Path) -> None:
    tty = fake_root / "dev" / "ttyACM0"
    tty.parent.mkdir()
    tty.write_text("")
    link = fake_root / "dev" / "pos-scale"
    link.symlink_to(tty)
    config = parse_config({"scale": {"port": "/dev/pos-scale"}})

    [result] = check_scale_owner(config, _probe(fake_root))
    assert result.level == "ok" and "cannot see" in result.message

    _fake_process(fake_root, 100, "python3", "/dev/ttyACM0", "/opt/posboxless/bin/posboxless serve")
    [result] = check_scale_owner(config, _probe(fake_root))
    assert result.level == "ok"  # posboxless itself

    _fake_process(fake_root, 200, "chromium", "/dev/ttyACM0")
    [result] = check_scale_owner(config, _probe(fake_root))
    assert result.level == "fail"
    assert "chromium (pid 200)" in result.message and "Web Serial" in result.message
    assert 'owner = "browser"' in result.fix


def test_doctor_on_a_browser_owned_scale(fake_root: Path) -> None:
    config = parse_config({"scale": {"owner": "browser"}})
    [result] = check_scale_owner(config, _probe(fake_root))
    assert result.level == "warn" and "sudo posboxless install" in result.fix
    layout = Layout(fake_root)
    layout.config_dir.mkdir(parents=True)
    layout.config_file.write_text('[scale]\nowner = "browser"\n')
    inst.install(inst.InstallOptions(root=fake_root, command=[POSBOXLESS]), lambda c: None)
    [result] = check_scale_owner(config, _probe(fake_root))
    assert result.level == "ok" and "left to the browser" in result.message


def test_a_running_proxy_with_a_browser_owned_scale_is_not_a_warning(tmp_path: Path) -> None:
    from posboxless.ops.checks import check_running_devices
    from posboxless.ops.running import RunningProxy

    def device(owner: str) -> dict[str, object]:
        return {
            "kind": "scale",
            "name": "scale",
            "status": "disconnected",
            "messages": ["The scale is read by the browser"],
            "details": {"owner": owner},
        }

    for owner, level in (("browser", "ok"), ("posboxless", "warn")):
        running = RunningProxy(
            "http://localhost:8069", None, tmp_path, {"devices": [device(owner)]}
        )
        [result] = check_running_devices(running)
        assert result.level == level
