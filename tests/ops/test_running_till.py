"""doctor, support-bundle and check-config look at the till as it runs: the configuration and
data directory of the proxy that answers, every device kind and transport, and what a valid file
can still get wrong."""

from __future__ import annotations

import argparse
import io
import json
import logging
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from posboxless import logs
from posboxless.app import create_app
from posboxless.cli import main
from posboxless.config import parse_config
from posboxless.ops import bundle, doctor
from posboxless.ops.checks import Probe, run_checks
from posboxless.ops.layout import Layout
from posboxless.printer.queue import JobQueue
from posboxless.services import build_services
from tests.helpers import wait_until

from ..live import live_server

try:
    import tomllib
except ImportError:  # pragma: no cover
    import tomli as tomllib  # type: ignore[no-redef]

MISSING_PORT = "/dev/ttyUSB7"


@pytest.fixture
def ring() -> Iterator[None]:
    """The proxy's in-memory log ring, as ``posboxless serve`` installs it."""
    root = logging.getLogger()
    level = root.level
    root.addHandler(logs.recent)
    root.setLevel(logging.INFO)
    yield
    root.removeHandler(logs.recent)
    root.setLevel(level)


@dataclass
class HandStarted:
    """A proxy started by hand (no systemd) with its own configuration and data directory."""

    url: str
    config_file: Path
    data_dir: Path
    root: Path


@pytest.fixture
def hand_started(tmp_path: Path, ring: None) -> Iterator[HandStarted]:
    srv = tmp_path / "srv"
    data_dir = srv / "data"
    config_file = srv / "till.toml"
    srv.mkdir()
    config_file.write_text(
        f'[server]\ndata_dir = "{data_dir}"\nhttps_port = 0\n'
        f'[[printer]]\nname = "receipt"\nserial = "{MISSING_PORT}"\n'
    )
    config = parse_config(tomllib.loads(config_file.read_text()), source=config_file)
    # Two receipts waiting for the printer that cannot be opened.
    queue = JobQueue(data_dir / "printers" / "receipt.sqlite3")
    queue.enqueue("xml", b"one")
    queue.enqueue("xml", b"two")
    queue.close()
    services = build_services(config)
    root = tmp_path / "root"
    (root / "etc/posboxless").mkdir(parents=True)
    with live_server(create_app(config, services), services=services) as url:
        port = url.rsplit(":", 1)[1]
        # The default configuration only says where the proxy listens: nothing else matches.
        (root / "etc/posboxless/config.toml").write_text(f"[server]\nhttp_port = {port}\n")
        printer = services.printers["receipt"]
        assert wait_until(lambda: printer.status().status != "connecting")
        yield HandStarted(url, config_file, data_dir, root)


def probe(root: Path) -> Probe:
    return Probe(layout=Layout(root), service_active=lambda unit: None, hostname=lambda: "till1")


def test_doctor_fails_for_a_missing_serial_printer(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        f'[server]\nhttp_port = 1\n[[printer]]\nname = "receipt"\nserial = "{MISSING_PORT}"\n'
    )
    results = run_checks(config, probe(tmp_path / "root"))
    (printer,) = [r for r in results if r.name == "printer 'receipt'"]
    assert printer.level == "fail"
    assert printer.message.startswith(f"{MISSING_PORT} does not exist")
    out = io.StringIO()
    args = argparse.Namespace(config=config, root=tmp_path / "root", user="nobody-here")
    assert doctor.run(args, out=out) == 1
    assert f"[FAIL] printer 'receipt': {MISSING_PORT} does not exist" in out.getvalue()


def test_doctor_checks_the_configuration_of_the_proxy_that_runs(
    hand_started: HandStarted,
) -> None:
    results = run_checks(None, probe(hand_started.root))
    by_name = {r.name: r for r in results}
    running = by_name["running proxy"]
    assert running.level == "ok"
    assert str(hand_started.config_file) in running.message
    assert str(hand_started.data_dir) in running.message
    assert by_name["configuration"].message == f"{hand_started.config_file} is valid."
    assert by_name["printer 'receipt'"].level == "fail"
    reported = by_name["printer 'receipt' (running proxy)"]
    assert reported.level == "fail" and MISSING_PORT in reported.message


def read(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {
            m.name.split("/", 1)[1]: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
        }


def test_support_bundle_off_systemd_has_the_proxys_log_lines_and_queue(
    hand_started: HandStarted, tmp_path: Path
) -> None:
    logging.getLogger("posboxless.test").warning("a line only the proxy's memory holds")
    sources = bundle.Sources(
        probe=probe(hand_started.root),
        journal=lambda: "-- No entries --\n",  # journalctl off systemd, or a hand-run proxy
        recent_lines=lambda: [],  # nothing from the bundle's own process: only the proxy's API
        versions=lambda: {},
    )
    files = read(bundle.make_bundle(tmp_path / "b.tar.gz", None, sources))
    text = files["logs.txt"].decode()
    assert "recent lines from the memory of the running proxy" in text
    assert "a line only the proxy's memory holds" in text
    assert MISSING_PORT in text  # the printer's own complaint
    assert "No entries" not in text

    diagnostics = json.loads(files["diagnostics.json"])
    (printer,) = [d for d in diagnostics["devices"] if d["kind"] == "printer"]
    assert printer["details"]["pending_jobs"] == 2
    assert {"warnings", "clients", "scale", "printers"} <= set(diagnostics)

    manifest = json.loads(files["manifest.json"])
    assert manifest["config_file"] == str(hand_started.config_file)
    assert manifest["data_dir"] == str(hand_started.data_dir)
    assert manifest["running_proxy"] == hand_started.url
    assert f'serial = "{MISSING_PORT}"'.encode() in files["config.toml"]
    journal = json.loads(files["print_journal.json"])["receipt"]
    assert journal["jobs_by_state"] == {"queued": 2}
    doctor_results = json.loads(files["doctor.json"])
    assert any(r["name"] == "printer 'receipt'" and r["level"] == "fail" for r in doctor_results)


# --- check-config: what a valid file can still get wrong -----------------------------------------


def check_config(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    config = tmp_path / "c.toml"
    config.write_text(text)
    code = main(["check-config", "--config", str(config)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_check_config_warns_about_a_device_path_that_does_not_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = check_config(
        tmp_path, f'[[printer]]\nname = "receipt"\nserial = "{MISSING_PORT}"\n', capsys
    )
    assert code == 0  # devices are plugged in later: a warning
    assert (
        f"[WARN] printer 'receipt': {MISSING_PORT} does not exist now: the device is unplugged, "
        "switched off, or has another name. posboxless will use it when it appears."
    ) in out


def test_check_config_refuses_two_devices_on_one_port(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = tmp_path / "ttyUSB0"
    port.write_bytes(b"")
    by_id = tmp_path / "usb-FTDI_FT232R-if00-port0"
    by_id.symlink_to(port)
    code, out = check_config(
        tmp_path,
        f'[[printer]]\nname = "receipt"\nserial = "{port}"\n[scale]\nport = "{by_id}"\n',
        capsys,
    )
    assert code == 1
    assert (
        f"[FAIL] one port, two devices: printer 'receipt' ({port}) and scale ({by_id}) are the "
        "same port: only one device can use it."
    ) in out


def test_check_config_suggests_the_key_meant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = check_config(
        tmp_path, '[server]\nallowed_origin = ["https://shop.example.com"]\n', capsys
    )
    assert code == 2
    assert "server.allowed_origin: expected a known key (did you mean 'allowed_origins'?" in out


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ('[[printer]]\nname = "r"\nserial = "/dev/ttyS0"', "printer[0].serial_settings"),
        ('[scale]\nport = "/dev/ttyS0"', "scale.serial_settings"),
        ('[[scanner]]\ndevice = "/dev/ttyS0"', "scanner[0].serial_settings"),
    ],
)
def test_check_config_states_the_serial_settings_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str, key: str
) -> None:
    code, out = check_config(tmp_path, table + '\nserial_settings = "38400 baud"\n', capsys)
    assert code == 2
    assert f"{key}: expected serial settings '<speed> <data bits><parity><stop bits>'" in out
    assert "(data bits 5 to 8; parity N, E or O; stop bits 1 or 2); got '38400 baud'" in out


def test_doctor_and_check_config_know_every_device_kind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Payment terminals too: a missing port fails doctor, and one port for two devices is an
    error whatever their kinds."""
    config = tmp_path / "c.toml"
    config.write_text(
        '[server]\nhttp_port = 1\n[[printer]]\nname = "receipt"\nserial = "/dev/ttyUSB9"\n'
        '[[payment_terminal]]\nport = "/dev/ttyUSB9"\n'
    )
    results = run_checks(config, probe(tmp_path / "root"))
    (terminal,) = [r for r in results if r.name == "payment terminal 'terminal'"]
    assert terminal.level == "fail" and "/dev/ttyUSB9 does not exist" in terminal.message
    assert any(r.name == "one port, two devices" and r.level == "fail" for r in results)
    assert main(["check-config", "--config", str(config)]) == 1
    assert "payment terminal 'terminal' (/dev/ttyUSB9) are the same port" in (
        capsys.readouterr().out
    )


def test_url_finds_a_proxy_started_on_another_port(
    hand_started: HandStarted, tmp_path: Path
) -> None:
    """No configuration file names the port: --url says where the proxy is."""
    (hand_started.root / "etc/posboxless/config.toml").unlink()
    out = io.StringIO()
    args = argparse.Namespace(
        config=None, root=hand_started.root, user="nobody-here", url=hand_started.url
    )
    assert doctor.run(args, out=out) == 1
    text = out.getvalue()
    assert f"[ OK ] running proxy: posboxless answers at {hand_started.url}" in text
    assert f"{hand_started.config_file} is valid." in text
    assert f"[FAIL] printer 'receipt': {MISSING_PORT} does not exist" in text

    parser = argparse.ArgumentParser()
    parser.add_argument("--config", type=Path)
    bundle.add_arguments(parser)
    output = tmp_path / "b.tar.gz"
    args = parser.parse_args(
        ["--root", str(hand_started.root), "--url", hand_started.url, "-o", str(output)]
    )
    assert bundle.run(args) == 0
    manifest = json.loads(read(output)["manifest.json"])
    assert manifest["config_file"] == str(hand_started.config_file)
