"""``Probe``: the outside world as the till checks see it (a root directory and a few replaceable
functions), so tests build good and broken tills in a temporary directory.

Its own module so that every check module (``checks``, ``scale_owner_check``, ...) can take one
without importing the module that runs them all.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from posboxless.config import ServerConfig
from posboxless.ops import ports, system
from posboxless.ops.accounts import UserDatabase
from posboxless.ops.identity import Identity
from posboxless.ops.layout import DEFAULT_USER, Layout
from posboxless.ops.running import RunningProxy, find_running


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Probe:
    """The outside world as the checks see it."""

    layout: Layout = field(default_factory=Layout)
    user: str = DEFAULT_USER
    service_active: Callable[[str], bool | None] = system.service_active
    port_state: Callable[[str, int], ports.PortState] = ports.port_state
    answers_as_posboxless: Callable[[str, int, bool], bool] = ports.answers_as_posboxless
    tcp_reachable: Callable[[str, int], bool] = ports.tcp_reachable
    hostname: Callable[[], str] = socket.gethostname
    now: Callable[[], datetime] = _utc_now
    current: Callable[[], Identity] = Identity.current
    running: Callable[[ServerConfig], RunningProxy | None] = find_running

    def accounts(self) -> UserDatabase:
        return UserDatabase(self.layout)

    @property
    def installed(self) -> bool:
        return self.layout.unit_file.exists()
