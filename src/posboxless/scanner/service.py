"""The scanner service: every barcode scanner of the till behind one ``ScannerService``.

Reader threads (one per scanner) decode codes and hand them to the ``BarcodeHub``; the web layer
long-polls ``next_barcode``. Configured scanners are read from start to stop; hot-plugged ones are
added by discovery and forgotten when they go away. ``status()`` only reads cached states.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from posboxless.device import (
    Activity,
    DeviceStatus,
    InvalidInput,
    ScannerSnapshot,
)
from posboxless.scanner.discovery import Enumerator, HotplugWatcher, InputDeviceInfo
from posboxless.scanner.evdev_source import permission_message
from posboxless.scanner.hub import DEFAULT_POLL_LINGER, Barcode, BarcodeHub
from posboxless.scanner.source import ScannerSource

log = logging.getLogger(__name__)

RECENT_SIZE = 20
MAX_INJECT_LENGTH = 512
NO_SCANNER = "No barcode scanner found"

SourceBuilder = Callable[[InputDeviceInfo, Any], ScannerSource]
"""Builds the reader of a discovered device from its info and the matching ScannerConfig."""


class Injector:
    """How ``inject`` sends a code; the simulator types it through a fake keyboard instead."""

    def inject(self, code: str) -> bool:
        """True when the code was sent through a simulated device."""
        return False


class BarcodeScannerService:
    kind = "scanner"

    def __init__(
        self,
        *,
        name: str = "scanner",
        hub: BarcodeHub | None = None,
        injector: Injector | None = None,
        poll_linger: float = DEFAULT_POLL_LINGER,
    ) -> None:
        self.name = name
        self.hub = hub or BarcodeHub()
        self.poll_linger = poll_linger
        self.activity = Activity()
        self._sources: dict[str, ScannerSource] = {}
        self._lock = threading.Lock()
        self._recent: deque[Barcode] = deque(maxlen=RECENT_SIZE)
        self._permission_denied: list[str] = []
        self._enumerator: Enumerator | None = None
        self._build_discovered: SourceBuilder | None = None
        self._watcher: HotplugWatcher | None = None
        self._injector = injector or Injector()
        self._running = False

    # --- wiring ------------------------------------------------------------------------------

    def enable_discovery(
        self, enumerator: Enumerator, build: SourceBuilder, *, interval: float = 1.5
    ) -> None:
        """Also read the scanners ``enumerator`` finds, now and when plugged in later."""
        self._enumerator = enumerator
        self._build_discovered = build
        self._watcher = HotplugWatcher(self._rescan, interval=interval)

    def sources(self) -> list[ScannerSource]:
        with self._lock:
            return list(self._sources.values())

    def add_source(self, source: ScannerSource) -> None:
        """Adds a scanner (before ``start``, or from discovery while running)."""
        with self._lock:
            self._sources[source.path] = source
            running = self._running
        if running:
            source.start()

    def pos_scanning(self) -> bool:
        """Whether a POS scans through the proxy now (a ``/hw_proxy/scanner`` long-poll within
        ``poll_linger`` seconds): scanners in grab mode 'while-polled' are taken only then."""
        return self.hub.polled_within(self.poll_linger)

    def on_barcode(self, code: str, source: str) -> None:
        """Reader threads call this for each decoded code (any thread)."""
        barcode = Barcode(code, source)
        with self._lock:
            self._recent.appendleft(barcode)
        self.activity.ok("barcodes")
        log.info("barcode %r from %s", code, source)
        self.hub.publish(barcode)

    def inject(self, code: str, source: str = "simulator") -> None:
        """Pushes a code as if scanned (diagnostics page, demo). In simulated mode it is typed
        through the simulated keyboard scanner, so it runs through the real decoder."""
        if not isinstance(code, str) or not code.strip():
            raise InvalidInput("Type a barcode to inject (the text is empty)")
        if len(code) > MAX_INJECT_LENGTH:
            raise InvalidInput(f"A barcode has at most {MAX_INJECT_LENGTH} characters")
        if any(not c.isprintable() and c != "\x1d" for c in code):
            raise InvalidInput("A barcode cannot contain control characters")
        if not self._injector.inject(code):
            self.on_barcode(code, source)

    # --- ScannerService -----------------------------------------------------------------------

    async def start(self) -> None:
        self.hub.attach(asyncio.get_running_loop())
        with self._lock:
            self._running = True
            sources = list(self._sources.values())
        for source in sources:
            source.start()
        if self._watcher is not None:
            self._watcher.start()

    async def stop(self) -> None:
        with self._lock:
            self._running = False  # discovery may still add a reader, but no longer start it
        if self._watcher is not None:
            await asyncio.to_thread(self._watcher.stop)
        sources = self.sources()
        await asyncio.gather(*(asyncio.to_thread(s.stop) for s in sources))
        self.hub.detach()

    async def next_barcode(self, client: str, timeout: float) -> str:
        return await self.hub.next_barcode(client, timeout)

    def give_back(self, barcode: str) -> None:
        """A code from ``next_barcode`` that could not be sent goes back to the front of the
        queue (event loop thread only)."""
        self.hub.give_back(barcode)

    def recent(self) -> list[dict[str, Any]]:
        with self._lock:
            items = list(self._recent)
        return [{"code": b.code, "time": b.time, "source": b.source} for b in items]

    def status(self) -> DeviceStatus:
        with self._lock:
            states = [s.state for s in self._sources.values()]
            denied = list(self._permission_denied)
        connected = [s.message for s in states if s.status == "connected"]
        problems = [s.message for s in states if s.status != "connected"]
        if connected:
            return DeviceStatus("connected", tuple(connected + problems))
        if denied:
            # Without the 'input' group every input node is refused: one line, not one per node.
            others = len(denied) - 1
            where = denied[0] + (f" and {others} other input devices" if others else "")
            problems.append(permission_message(where))
        if any(s.status == "error" for s in states) or denied:
            return DeviceStatus("error", tuple(problems))
        if any(s.status == "connecting" for s in states):
            return DeviceStatus("connecting", tuple(problems))
        return DeviceStatus("disconnected", tuple(problems) or (NO_SCANNER,))

    def snapshot(self) -> ScannerSnapshot:
        with self._lock:
            sources = tuple(s.snapshot() for s in self._sources.values())
            recent = len(self._recent)
        return ScannerSnapshot(
            name=self.name,
            status=self.status(),
            sources=sources,
            waiting_polls=self.hub.waiting,
            queued_barcodes=self.hub.queued,
            delivered=self.hub.delivered,
            expired=self.hub.expired,
            autodetect=self._watcher is not None,
            pos_scanning=self.pos_scanning(),
            recent_count=recent,
            activity=self.activity.snapshot(),
        )

    def details(self) -> dict[str, Any]:
        snapshot = self.snapshot()
        return {
            "scanners": [dict(s.facts) for s in snapshot.sources],
            "waiting_polls": snapshot.waiting_polls,
            "queued_barcodes": snapshot.queued_barcodes,
            "delivered": snapshot.delivered,
            "expired": snapshot.expired,
            "autodetect": snapshot.autodetect,
            "pos_scanning": snapshot.pos_scanning,
            "last_ok": snapshot.activity.last_ok,
            "counters": dict(snapshot.activity.counters),
        }

    # --- discovery (watcher thread) ----------------------------------------------------------

    def _rescan(self) -> None:
        assert self._enumerator is not None and self._build_discovered is not None
        with self._lock:
            for path, source in list(self._sources.items()):
                if source.finished:
                    del self._sources[path]
            # A configured /dev/input/by-id/... link and its eventN node are the same scanner.
            active = set(self._sources) | {os.path.realpath(p) for p in self._sources}
        result = self._enumerator.scan(skip=active)
        with self._lock:
            self._permission_denied = result.permission_denied
        for info, config in result.found:
            log.info("found scanner %s at %s", info.name, info.path)
            self.add_source(self._build_discovered(info, config))
