"""Doctor's checks of a device's node (``/dev/...``) and USB presence, and who the service runs as:
shared by ``ops/checks.py`` and the device kinds' own checks (``<kind>/checks.py``)."""

from __future__ import annotations

from pathlib import Path

from posboxless.ops.identity import Identity, may_access
from posboxless.ops.probe import Probe
from posboxless.ops.results import CheckResult, fail, ok


def service_identity(probe: Probe) -> Identity:
    """The service user when installed, else whoever runs doctor (a hand-started proxy)."""
    return Identity.of_user(probe.accounts(), probe.user) or probe.current()


def node_check(
    name: str, device: str, probe: Probe, who: Identity, write: bool = True
) -> CheckResult:
    path = probe.layout.at(device) if device.startswith("/") else Path(device)
    try:
        st = path.stat()
    except FileNotFoundError:
        return fail(
            name,
            f"{device} does not exist: the device is unplugged, switched off, or has another name.",
            "Plug it in and switch it on; stable names are listed by ls -l /dev/pos "
            "/dev/serial/by-id /dev/input/by-id.",
        )
    except PermissionError:
        return fail(name, f"{device} cannot be looked at by this user.", "Run doctor with sudo.")
    if not may_access(st, who, read=True, write=write):
        db = probe.accounts()
        owner_group = next((g.name for g in db.groups.values() if g.gid == st.st_gid), st.st_gid)
        return fail(
            name,
            f"{device} exists but {who.name} may not open it "
            f"(mode {st.st_mode & 0o777:o}, group {owner_group}).",
            f"sudo usermod -aG {owner_group} {who.name}, or install the udev rules "
            "(sudo posboxless install), then unplug and replug the device.",
        )
    return ok(name, f"{device} is accessible to {who.name}.")


def usb_present(probe: Probe, vendor: int, product: int) -> bool:
    base = probe.layout.at("/sys/bus/usb/devices")
    if not base.is_dir():
        return False
    for device in base.iterdir():
        try:
            v = (device / "idVendor").read_text().strip()
            p = (device / "idProduct").read_text().strip()
        except OSError:
            continue
        if (int(v, 16), int(p, 16)) == (vendor, product):
            return True
    return False


def is_url(port: str) -> bool:
    return "://" in port
