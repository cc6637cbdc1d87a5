"""The doctor's Local Network Access check (Odoo 19 with ``point_of_sale.use_lna``).

The cause of a POS that never connects with ``use_lna`` is on the Odoo side and invisible to the
proxy (the browser refuses the request before sending it), so this check explains it from the
configuration and the installed browser policies.
"""

from __future__ import annotations

import ipaddress
import json

from posboxless.config import ServerConfig
from posboxless.ops.browser_policies import (
    LNA_ALLOW_POLICIES,
    OVERRIDES_POLICY,
    chromium_policy_files,
    lna_override,
)
from posboxless.ops.layout import Layout
from posboxless.ops.results import CheckResult, ok, warn

NAME = "Local Network Access"

CAUSE = (
    "With the Odoo 19 system parameter point_of_sale.use_lna, an https POS calls "
    "http://<IoT Box address>:8069, and the 19.0 release (builds before 2026-02-27) marks that "
    "call as going to the local network even for localhost; Chrome refuses it for a proxy on "
    "127.0.0.1 ('target IP address space of local yet the resource is in address space "
    "loopback')."
)


def _installed_policies(layout: Layout) -> list[dict[str, object]]:
    found = []
    for path in chromium_policy_files(layout):
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            found.append(data)
    return found


def check_lna(server: ServerConfig, layout: Layout) -> list[CheckResult]:
    if not server.lna_address:
        return [
            ok(
                NAME,
                f"No lna_address. {CAUSE} If a 19.0 POS stays disconnected with use_lna: set "
                'server.lna_address = "127.0.0.2", run sudo posboxless install '
                "--browser-policies, restart the browser and type 127.0.0.2 as IoT Box IP "
                "address; or delete that system parameter. Later 19.x and 20 work with "
                "localhost.",
            )
        ]
    address = server.lna_address
    if not server.allowed_origins:
        return [
            warn(
                NAME,
                f"lna_address {address} serves only server.allowed_origins, and none is set: "
                "no POS can use it.",
                'Set server.allowed_origins, e.g. ["https://shop.example.com"].',
            )
        ]
    if not ipaddress.ip_address(address).is_loopback:
        return [
            warn(
                NAME,
                f"The POS API is also served on {address}:{server.http_port}, which other "
                "machines of the shop network can reach (only /hw_proxy, only with an allowed "
                "Origin, which a program other than a browser can forge).",
                'Prefer lna_address = "127.0.0.2" with sudo posboxless install '
                "--browser-policies: nothing is then reachable from the network.",
            )
        ]
    policies = _installed_policies(layout)
    wanted = lna_override(address, server.http_port)
    if not any(wanted in (p.get(OVERRIDES_POLICY) or []) for p in policies):  # type: ignore[operator]
        return [
            warn(
                NAME,
                f"lna_address is {address}, but no Chrome/Chromium policy declares "
                f"{address}:{server.http_port} a local address: browsers see it as loopback, and "
                "the 19.0 POS fails there as on 127.0.0.1.",
                "sudo posboxless install --browser-policies, then restart the browser "
                "(Chrome/Chromium 146 or later).",
            )
        ]
    missing = [
        origin
        for origin in server.allowed_origins
        if not any(origin in (p.get(LNA_ALLOW_POLICIES[0]) or []) for p in policies)  # type: ignore[operator]
    ]
    if missing:
        return [
            warn(
                NAME,
                f"Chrome will ask the cashier once to allow {', '.join(missing)} to reach "
                "local devices: the browser policies do not list it.",
                "sudo posboxless install --browser-policies (after setting allowed_origins).",
            )
        ]
    return [
        ok(
            NAME,
            f"Odoo 19 with use_lna: type {address} as IoT Box IP address; Chrome/Chromium "
            f"146+ treats {address}:{server.http_port} as local (managed policy) and lets "
            f"{', '.join(server.allowed_origins)} reach it without a prompt.",
        )
    ]
