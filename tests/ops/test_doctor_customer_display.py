"""``posboxless doctor`` on the customer display's port: missing, not allowed, fine."""

from __future__ import annotations

from pathlib import Path

from .test_doctor import Till, _device, by_name, till  # noqa: F401  (fixture)


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
