"""The scale's doctor check (ops layer; found through ``posboxless/kinds.py``)."""

from __future__ import annotations

from typing import Any

from posboxless.config import Config
from posboxless.ops.device_nodes import is_url, node_check, service_identity, usb_present
from posboxless.ops.kind_ops import KindOps
from posboxless.ops.probe import Probe
from posboxless.ops.results import CheckResult, fail, ok
from posboxless.scale.config import ScaleConfig


def checks(configs: tuple[Any, ...], config: Config, probe: Probe) -> list[CheckResult]:
    return [r for scale in configs if (r := _scale_check(scale, probe)) is not None]


def _scale_check(scale: ScaleConfig, probe: Probe) -> CheckResult | None:
    # A scale the browser owns is not opened by the service (check_scale_owner looks at it).
    if scale.browser_owned:
        return None
    if scale.port and not is_url(scale.port):
        return node_check("scale", scale.port, probe, service_identity(probe))
    if scale.usb:
        vid, pid = scale.usb
        if usb_present(probe, vid, pid):
            return ok("scale", f"USB device {vid:04x}:{pid:04x} is plugged in.")
        return fail(
            "scale",
            f"No USB device {vid:04x}:{pid:04x} is plugged in.",
            "Plug the scale in and switch it on; lsusb lists what is seen.",
        )
    return None


OPS = KindOps(checks=checks)
