"""The POS clients seen recently (origin, address, last call), for the diagnostics page."""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class ClientSeen:
    origin: str
    address: str
    last_path: str
    last_seen: float
    first_seen: float
    calls: int


class ClientTracker:
    """Bounded: a misbehaving page cannot grow it without limit."""

    def __init__(self, capacity: int = 64) -> None:
        self.capacity = capacity
        self._clients: OrderedDict[tuple[str, str], ClientSeen] = OrderedDict()

    def seen(self, origin: str, address: str, path: str) -> None:
        key = (origin, address)
        now = time.time()
        entry = self._clients.pop(key, None)
        if entry is None:
            entry = ClientSeen(origin, address, path, now, now, 0)
        entry.last_path = path
        entry.last_seen = now
        entry.calls += 1
        self._clients[key] = entry
        while len(self._clients) > self.capacity:
            self._clients.popitem(last=False)

    def recent(self) -> list[dict[str, Any]]:
        return [asdict(c) for c in reversed(self._clients.values())]
