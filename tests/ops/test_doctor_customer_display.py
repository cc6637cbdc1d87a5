"""``posboxless doctor`` on the customer display's port: missing, not allowed, fine."""

from __future__ import annotations

from pathlib import Path

from posboxless.app import create_app
from posboxless.config import parse_config
from posboxless.linedisplay.simulator import PoleDisplaySimulator
from posboxless.ops.checks import run_checks
from posboxless.services import build_services
from tests.helpers import wait_until

from ..live import live_server
from .test_doctor import Till, _device, by_name, till  # noqa: F401  (fixture)
from .test_running_till import probe, ring, tomllib  # noqa: F401  (fixture)


def _with_display(till: Till) -> None:  # noqa: F811
    till.write_config('[customer_display]\nport = "/dev/ttyUSB0"\nprofile = "epson"\n')


def test_display_port_fine(till: Till, fake_root: Path) -> None:  # noqa: F811
    _with_display(till)
    _device(fake_root, "/dev/ttyUSB0", "dialout")
    code, results = till.check()
    (display,) = by_name(results, "customer display")
    assert display.level == "ok" and code == 0


def test_display_port_missing(till: Till) -> None:  # noqa: F811
    _with_display(till)
    code, results = till.check()
    (display,) = by_name(results, "customer display")
    assert display.level == "fail" and "/dev/ttyUSB0 does not exist" in display.message
    assert code == 1


def test_display_port_permission_denied(till: Till, fake_root: Path) -> None:  # noqa: F811
    _with_display(till)
    _device(fake_root, "/dev/ttyUSB0", "dialout").chmod(0o600)
    _, results = till.check()
    (display,) = by_name(results, "customer display")
    assert display.level == "fail" and "may not open it" in display.message and display.fix


def test_doctor_reports_a_display_that_does_not_answer(tmp_path: Path, ring: None) -> None:  # noqa: F811
    """The running proxy saw the display stay silent: doctor says so."""
    sim = PoleDisplaySimulator().start()  # never answers (answer_byte unset)
    srv = tmp_path / "srv"
    srv.mkdir()
    config_file = srv / "till.toml"
    config_file.write_text(
        f'[server]\ndata_dir = "{srv / "data"}"\nhttps_port = 0\n'
        f'[customer_display]\nport = "{sim.port}"\nread_after_write = 0.1\n'
    )
    config = parse_config(tomllib.loads(config_file.read_text()), source=config_file)
    services = build_services(config)
    root = tmp_path / "root"
    (root / "etc/posboxless").mkdir(parents=True)
    try:
        with live_server(create_app(config, services), services=services) as url:
            port = url.rsplit(":", 1)[1]
            (root / "etc/posboxless/config.toml").write_text(f"[server]\nhttp_port = {port}\n")
            display = services.customer_display
            assert display is not None
            display.show(["one more", "message"])
            assert wait_until(lambda: display.status().status == "error")
            results = run_checks(None, probe(root))
    finally:
        sim.close()
    (reported,) = [
        r for r in results if r.name == "customer_display 'pole-display' (running proxy)"
    ]
    assert reported.level == "fail" and "No answer from the customer display" in reported.message


def _through_printer(till: Till) -> None:  # noqa: F811
    till.write_config('[customer_display]\nprinter = "receipt"\n')


def test_display_through_a_printer_follows_that_printer(till: Till, fake_root: Path) -> None:  # noqa: F811
    """No port of its own to check: doctor names the printer and that printer's state."""
    _through_printer(till)
    code, results = till.check()
    (display,) = by_name(results, "customer display")
    assert display.level == "ok" and "display port of printer 'receipt'" in display.message
    assert code == 0
    (fake_root / "dev/usb/lp0").unlink()  # the printer is unplugged
    _, results = till.check()
    (display,) = by_name(results, "customer display")
    assert display.level != "ok" and "printer 'receipt'" in display.message
    assert "/dev/usb/lp0 does not exist" in display.message
