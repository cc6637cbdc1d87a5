"""What every page and API of the web layer reads: the configuration, the device services, the
origin policy and the recent POS clients, built once by ``app.create_app``.

It lives in the web layer (not in ``app``) so that pages can name it without importing the module
that assembles them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from posboxless import tls
from posboxless.config import Config
from posboxless.services import Services
from posboxless.web.clients import ClientTracker
from posboxless.web.origin import OriginPolicy


@dataclass
class AppState:
    """Everything the web layer needs, built once by ``create_app``."""

    config: Config
    services: Services
    clients: ClientTracker
    policy: OriginPolicy
    listen_urls: list[str] = field(default_factory=list)
    startup_warnings: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.time)

    def warnings(self) -> list[str]:
        found = list(self.startup_warnings)
        if self.policy.is_open:
            found.append(
                "Any web page open on this computer may print and open the cash drawer: set "
                "server.allowed_origins to your Odoo address(es) in the configuration."
            )
        if self.config.simulate:
            found.append(
                "Simulated devices: no real printer, scale, scanner, payment terminal or pole "
                "display is used."
            )
        server = self.config.server
        if server.https_port and not server.tls_cert:
            notice = tls.replaced_notice(server.data_dir)
            if notice:
                found.append(notice)
        return found
