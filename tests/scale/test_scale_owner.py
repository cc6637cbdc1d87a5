"""A scale the browser owns (Odoo 19.4/20 Web Serial) is never opened by posboxless; a scale
posboxless owns is held exclusively; the udev rules and doctor follow the configured owner."""

from __future__ import annotations

import asyncio
import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from posboxless.config import Config, ServerConfig, parse_config
from posboxless.scale.browser_owned import BrowserOwnedScale
from posboxless.services import build_services
from posboxless.transports.serial_port import SerialSettings, SerialTransport

POSBOXLESS = str(Path(sys.executable).parent / "posboxless")


def browser_config(tmp_path: Path, **scale: Any) -> Config:
    data = {"server": {"data_dir": str(tmp_path)}, "scale": {"owner": "browser", **scale}}
    return parse_config(data)


@pytest.mark.parametrize("scale", [{}, {"usb": "0eb8:2200"}, {"port": "/dev/ttyACM0"}])
async def test_browser_owned_scale_is_never_opened_nor_probed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scale: dict[str, str]
) -> None:
    def touched(*args: object, **kwargs: object) -> None:
        raise AssertionError("posboxless touched a serial port of a browser-owned scale")

    monkeypatch.setattr("posboxless.scale.discovery.system_ports", touched)
    monkeypatch.setattr(SerialTransport, "open", touched)
    for simulate in (False, True):
        config = browser_config(tmp_path, **scale)
        if simulate:
            config = Config(
                server=ServerConfig(data_dir=tmp_path, simulate=True), scale=config.scale
            )
        services = build_services(config)
        assert isinstance(services.scale, BrowserOwnedScale)
        await services.scale.start()
        status = services.scale.status()
        assert status.status == "disconnected"  # 18/19 then never call scale_read
        assert "read by the browser" in status.messages[0]
        assert services.scale.reading()["weight"] == 0.0
        with pytest.raises(Exception, match="read by the browser"):
            await services.scale.tare()
        await services.scale.stop()


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root")
def test_a_scale_port_held_by_posboxless_cannot_be_opened_by_the_cashier() -> None:
    """What a browser's Web Serial open meets: the kernel refuses it (EBUSY) while posboxless
    holds the port, and allows it once posboxless let go."""
    master, slave = os.openpty()
    path = os.ttyname(slave)
    os.close(slave)
    os.chmod(path, 0o666)  # the test stands in for a uaccess ACL
    open_as_user = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        sys.executable,
        "-c",
        "import os, sys\n"
        "try:\n os.close(os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY))\n"
        "except OSError as e:\n sys.exit(e.errno)\n",
        path,
    ]
    transport = SerialTransport(path, SerialSettings.parse("9600 8N1"))
    try:
        transport.open()
        held = subprocess.run(open_as_user, check=False, timeout=30)
        assert held.returncode == errno.EBUSY
        transport.close()
        free = subprocess.run(open_as_user, check=False, timeout=30)
        assert free.returncode == 0
    finally:
        transport.close()
        os.close(master)


async def test_a_scale_port_held_by_another_program_is_explained(tmp_path: Path) -> None:
    from posboxless.scale.config import ScaleConfig
    from posboxless.scale.factory import build_service
    from posboxless.transports.base import TransportError

    class Busy(SerialTransport):
        def open(self) -> None:
            raise TransportError(f"Cannot open {self.port}: in use by another program")

    port = tmp_path / "ttyACM0"
    port.write_text("")
    service = build_service(ScaleConfig(port=str(port)))
    service._transport_factory = Busy  # type: ignore[assignment]
    await service.start()
    try:
        for _ in range(500):
            message = service.status().messages[0]
            if "in use" in message:
                break
            await asyncio.sleep(0.01)
        assert "Web Serial" in message and "doctor" in message
        assert service.status().status == "disconnected"
    finally:
        await service.stop()
