from __future__ import annotations

import argparse
import http.server
import io
import json
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from posboxless.ops import doctor
from posboxless.ops import install as inst
from posboxless.ops.checks import Probe, run_checks
from posboxless.ops.layout import Layout
from posboxless.ops.results import CheckResult

from .certs import NOW, write_certificate

HOSTNAME = "till1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"ping" if self.path == "/hw_proxy/hello" else b"?"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hello_server() -> Iterator[int]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


@dataclass
class Till:
    """A good till below a temporary root; tests break one thing at a time."""

    root: Path
    http_port: int
    https_port: int
    active: dict[str, bool] = field(
        default_factory=lambda: {"posboxless.service": True, "ModemManager.service": False}
    )

    @property
    def layout(self) -> Layout:
        return Layout(self.root)

    def write_config(self, extra: str = "") -> None:
        self.layout.config_file.write_text(
            "[server]\n"
            f"http_port = {self.http_port}\nhttps_port = {self.https_port}\n"
            'allowed_origins = ["https://shop.example.com"]\n'
            'data_dir = "/var/lib/posboxless"\n'
            '[[printer]]\nname = "receipt"\ndevice = "/dev/usb/lp0"\n'
            '[scale]\nport = "/dev/ttyACM0"\n' + extra
        )

    def probe(self) -> Probe:
        return Probe(
            layout=self.layout,
            service_active=lambda unit: self.active.get(unit, False),
            hostname=lambda: HOSTNAME,
            now=lambda: NOW,
        )

    def check(self) -> tuple[int, list[CheckResult]]:
        results = run_checks(None, self.probe())
        return (1 if any(r.level == "fail" for r in results) else 0), results


def _device(root: Path, path: str, group: str) -> Path:
    node = root / path.lstrip("/")
    node.parent.mkdir(parents=True, exist_ok=True)
    node.write_bytes(b"")
    node.chmod(0o660)
    gid = next(
        int(line.split(":")[2])
        for line in (root / "etc/group").read_text().splitlines()
        if line.startswith(group + ":")
    )
    try:
        os.chown(node, -1, gid)
    except PermissionError:
        pytest.skip("giving a file to another group needs root")
    return node


@pytest.fixture
def till(fake_root: Path) -> Till:
    inst.install(inst.InstallOptions(root=fake_root, command=["/usr/bin/true"]), lambda c: None)
    t = Till(fake_root, free_port(), free_port())
    t.write_config()
    _device(fake_root, "/dev/usb/lp0", "lp")
    _device(fake_root, "/dev/ttyACM0", "dialout")
    write_certificate(fake_root / "var/lib/posboxless/tls", ["localhost", HOSTNAME, "127.0.0.1"])
    return t


def by_name(results: list[CheckResult], name: str) -> list[CheckResult]:
    return [r for r in results if r.name == name]


def failures(results: list[CheckResult]) -> list[str]:
    return [r.name for r in results if r.level == "fail"]


def test_good_till_passes(till: Till) -> None:
    code, results = till.check()
    assert failures(results) == [], results
    assert code == 0
    assert all(r.level == "ok" for r in results), [r for r in results if r.level != "ok"]
    assert "ca.pem" in by_name(results, "certificate")[0].message


def test_missing_group_membership_fails_with_the_command_to_fix_it(till: Till) -> None:
    group = till.layout.group
    group.write_text(group.read_text().replace("input:x:101:posboxless", "input:x:101:"))
    code, results = till.check()
    assert code == 1
    (groups,) = by_name(results, "user and groups")
    assert groups.level == "fail" and "input" in groups.message
    assert "usermod -aG input posboxless" in groups.fix


def test_device_node_not_accessible(till: Till) -> None:
    (till.root / "dev/usb/lp0").chmod(0o600)
    code, results = till.check()
    assert code == 1
    (printer,) = by_name(results, "printer 'receipt'")
    assert printer.level == "fail" and "may not open it" in printer.message
    assert by_name(results, "scale")[0].level == "ok"


def test_device_node_missing(till: Till) -> None:
    (till.root / "dev/ttyACM0").unlink()
    code, results = till.check()
    assert code == 1
    (scale,) = by_name(results, "scale")
    assert "does not exist" in scale.message and scale.fix


def test_modemmanager_active_without_rules_fails(till: Till) -> None:
    till.active["ModemManager.service"] = True
    code, results = till.check()
    assert code == 0  # the udev rules keep it away
    till.layout.rules_file.unlink()
    code, results = till.check()
    assert code == 1
    (mm,) = by_name(results, "ModemManager")
    assert mm.level == "fail" and "ID_MM" not in mm.message and "posboxless install" in mm.fix


def test_stopped_service_fails(till: Till) -> None:
    till.active["posboxless.service"] = False
    code, results = till.check()
    assert code == 1
    assert "journalctl -u posboxless" in by_name(results, "service")[0].fix


def test_port_taken_by_another_program_fails(till: Till) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", till.http_port))
        other.listen()
        code, results = till.check()
    assert code == 1
    (port,) = by_name(results, f"port {till.http_port}")
    assert "another program" in port.message and f"sport = :{till.http_port}" in port.fix


def test_port_taken_by_posboxless_itself_is_fine(till: Till, hello_server: int) -> None:
    till.http_port = hello_server
    till.write_config()
    code, results = till.check()
    assert code == 0
    assert "posboxless answers" in by_name(results, f"port {hello_server}")[0].message


def test_expired_certificate_fails(till: Till) -> None:
    write_certificate(
        till.root / "var/lib/posboxless/tls",
        ["localhost", HOSTNAME],
        not_before=NOW - timedelta(days=400),
        not_after=NOW - timedelta(days=1),
    )
    code, results = till.check()
    assert code == 1
    (cert,) = by_name(results, "certificate")
    assert "expired" in cert.message and "server.pem" in cert.fix


def test_certificate_expiring_soon_warns(till: Till) -> None:
    write_certificate(
        till.root / "var/lib/posboxless/tls",
        ["localhost", HOSTNAME],
        not_after=NOW + timedelta(days=5),
    )
    code, results = till.check()
    assert code == 0
    assert by_name(results, "certificate")[0].level == "warn"


def test_certificate_missing_names_fails(till: Till) -> None:
    till.write_config("")
    till.layout.config_file.write_text(
        till.layout.config_file.read_text().replace(
            "data_dir", 'allowed_hosts = ["till1.shop.lan"]\ndata_dir'
        )
    )
    code, results = till.check()
    assert code == 1
    (cert,) = by_name(results, "certificate")
    assert "till1.shop.lan" in cert.message


def test_certificate_with_someone_elses_key_fails(till: Till) -> None:
    write_certificate(till.root / "var/lib/posboxless/tls", ["localhost", HOSTNAME], other_key=True)
    code, results = till.check()
    assert code == 1
    assert "does not belong" in by_name(results, "certificate")[0].message


def test_invalid_configuration_fails_and_names_the_key(till: Till) -> None:
    till.write_config('[[scanner]]\nnmae = "front"\n')
    code, results = till.check()
    assert code == 1
    (config,) = by_name(results, "configuration")
    assert config.level == "fail" and "scanner[0].nmae" in config.message


def test_broken_toml_fails(till: Till) -> None:
    till.layout.config_file.write_text("[server\n")
    code, results = till.check()
    assert code == 1
    assert "not valid TOML" in by_name(results, "configuration")[0].message


def test_unreachable_network_printer_fails(till: Till) -> None:
    till.write_config()
    text = till.layout.config_file.read_text().replace(
        'device = "/dev/usb/lp0"', f'host = "127.0.0.1:{free_port()}"'
    )
    till.layout.config_file.write_text(text)
    code, results = till.check()
    assert code == 1
    assert "does not answer" in by_name(results, "printer 'receipt'")[0].message


def test_open_origin_policy_warns(till: Till) -> None:
    text = till.layout.config_file.read_text().replace(
        'allowed_origins = ["https://shop.example.com"]\n', ""
    )
    till.layout.config_file.write_text(text)
    code, results = till.check()
    assert code == 0
    assert by_name(results, "origins")[0].level == "warn"


def test_not_installed_and_not_root(fake_root: Path) -> None:
    from posboxless.ops.identity import Identity

    probe = Probe(
        layout=Layout(fake_root),
        service_active=lambda unit: None,
        current=lambda: Identity("anna", 1000, frozenset({1000, 20}), False),
        port_state=lambda host, port: "free",
    )
    results = run_checks(None, probe)
    assert by_name(results, "service")[0].level == "warn"
    (groups,) = by_name(results, "user and groups")
    assert groups.level == "fail" and "usermod -aG lp,input anna" in groups.fix


def test_doctor_command_output_and_exit_code(till: Till) -> None:
    parser = argparse.ArgumentParser()
    doctor.add_arguments(parser)
    args = parser.parse_args(["--root", str(till.root)])
    args.config = None
    out = io.StringIO()
    assert doctor.run(args, lambda layout, user: till.probe(), out) == 0
    assert "Everything looks right." in out.getvalue()

    (till.root / "dev/usb/lp0").unlink()
    args = parser.parse_args(["--root", str(till.root), "--json"])
    args.config = None
    out = io.StringIO()
    assert doctor.run(args, lambda layout, user: till.probe(), out) == 1
    data = json.loads(out.getvalue())
    assert {"name": "printer 'receipt'", "level": "fail"}.items() <= next(
        d for d in data if d["name"] == "printer 'receipt'"
    ).items()


def test_certificate_generated_by_the_proxy_passes(till: Till) -> None:
    import shutil
    from datetime import datetime, timezone

    from posboxless import tls

    shutil.rmtree(till.root / "var/lib/posboxless/tls")
    tls.ensure_certificates(till.root / "var/lib/posboxless", [HOSTNAME], ["127.0.0.1"])
    probe = till.probe()
    probe.now = lambda: datetime.now(timezone.utc)
    results = run_checks(None, probe)
    (cert,) = by_name(results, "certificate")
    assert cert.level == "ok", cert
