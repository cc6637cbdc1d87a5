"""Reads one serial scanner (USB-COM ``/dev/ttyACM*``, RS-232 adapter) in its own thread.

A read error means the port went away: the transport is closed, the state says so and the port is
re-opened every ``retry_interval`` until it is back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from posboxless.device import ScannerSourceSnapshot, StatusName
from posboxless.scanner.serial_lines import LineSplitter
from posboxless.scanner.source import OnBarcode, ReaderThread
from posboxless.transports.base import TransportError
from posboxless.transports.serial_port import SerialSettings, SerialTransport

log = logging.getLogger(__name__)


class SerialScanner(ReaderThread):
    persistent = True

    def __init__(
        self,
        port: str,
        splitter: LineSplitter,
        on_barcode: OnBarcode,
        *,
        label: str | None = None,
        settings: SerialSettings | None = None,
        transport_factory: Callable[[str, SerialSettings], SerialTransport] = SerialTransport,
        retry_interval: float = 1.0,
        read_timeout: float = 0.1,
    ) -> None:
        super().__init__(
            label or port,
            port,
            thread_name=f"scanner-serial {port}",
            retry_interval=retry_interval,
        )
        self.path = port
        self.splitter = splitter
        self.settings = settings or SerialSettings()
        self._on_barcode = on_barcode
        self._transport = transport_factory(port, self.settings)
        self._read_timeout = read_timeout
        self.connects = 0
        self.disconnects = 0
        self.barcodes = 0

    @property
    def finished(self) -> bool:
        return False

    def snapshot(self) -> ScannerSourceSnapshot:
        facts = self.details()
        return ScannerSourceSnapshot(
            type="serial",
            path=self.path,
            status=facts["status"],
            message=facts["message"],
            barcodes=self.barcodes,
            facts=MappingProxyType(facts),
        )

    def details(self) -> dict[str, Any]:
        return {
            "type": "serial",
            "path": self.path,
            "serial_settings": str(self.settings),
            "suffix": self.splitter.suffix,
            "status": self.state.status,
            "message": self.state.message,
            "barcodes": self.barcodes,
            "dropped_overlong": self.splitter.dropped,
            "connects": self.connects,
            "disconnects": self.disconnects,
        }

    def _session(self) -> bool:
        if not self._open():
            return False
        self._read_until_gone()
        return True

    def _after_session(self) -> None:
        self._transport.close()

    def _open(self) -> bool:
        try:
            self._transport.open()
        except TransportError as exc:
            text = str(exc)
            status: StatusName = "disconnected" if "not connected" in text else "error"
            self._set(
                status,
                f"Scanner '{self.label}': {text}",
                logging.INFO if status == "disconnected" else logging.ERROR,
            )
            return False
        self.splitter.reset()
        self.connects += 1
        self._set("connected", f"Connected: {self.label} ({self.path}, serial {self.settings})")
        return True

    def _read_until_gone(self) -> None:
        lost: TransportError | None = None
        try:
            while not self.stopping:
                # pyserial's read(n) waits for n bytes or the whole timeout: wait for the first
                # byte only, then take what else has arrived, so a code is handed on at once.
                data = self._transport.read(1, self._read_timeout)
                if data:
                    data += self._transport.read(4096, 0)
                for code in self.splitter.feed(data) if data else ():
                    self.barcodes += 1
                    try:
                        self._on_barcode(code, self.label)
                    except Exception:  # a delivery bug must not kill the reader
                        log.exception("scanner %s: delivering %r failed", self.label, code)
        except TransportError as exc:
            lost = exc
        finally:
            self._transport.close()
        if lost is not None:  # said once the port is closed, so that nothing races the close
            self.disconnects += 1
            self._set(
                "disconnected", f"Scanner '{self.label}' disconnected: {lost}", logging.WARNING
            )
        if self.stopping:
            self._set("disconnected", f"Scanner '{self.label}' stopped")
