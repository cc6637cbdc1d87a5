"""The barcode scanners' doctor checks (ops layer; found through ``posboxless/kinds.py``)."""

from __future__ import annotations

from typing import Any

from posboxless.config import Config
from posboxless.ops.device_nodes import node_check, service_identity
from posboxless.ops.kind_ops import KindOps
from posboxless.ops.probe import Probe
from posboxless.ops.results import CheckResult


def checks(configs: tuple[Any, ...], config: Config, probe: Probe) -> list[CheckResult]:
    who = service_identity(probe)
    return [
        # Keyboard-wedge scanners are only read (and grabbed).
        node_check(
            f"scanner '{scanner.name}'",
            scanner.device,
            probe,
            who,
            write=not scanner.device.startswith("/dev/input/"),
        )
        for scanner in configs
        if scanner.device
    ]


OPS = KindOps(checks=checks)
