"""Vendor-class USB printers (e.g. Epson ``04B8:0202``) through libusb / pyusb.

The device is opened once and the handle kept: no ``reset()`` on open or per job (a reset per job
is what makes other proxies slow and fragile). A reset is done only as recovery, on the next open
after a write stalled.
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Callable
from typing import Any

import usb.core
import usb.util

from posboxless.transports.base import TransportError

_DIRECTION_MASK = 0x80
_BULK = 0x02


def _find(vendor: int, product: int) -> Any:
    return usb.core.find(idVendor=vendor, idProduct=product)


class UsbTransport:
    """First bulk IN/OUT endpoints of interface (0, 0), unless overridden."""

    bidirectional = True
    reset_breaks_link = True
    """A power cycle of the printer breaks this link (the worker relies on it)."""

    def __init__(
        self,
        vendor: int,
        product: int,
        *,
        in_endpoint: int | None = None,
        out_endpoint: int | None = None,
        timeout: float = 5.0,
        finder: Callable[[int, int], Any] = _find,
    ) -> None:
        self.vendor = vendor
        self.product = product
        self.in_override = in_endpoint
        self.out_override = out_endpoint
        self.timeout_ms = max(1, int(timeout * 1000))
        self._finder = finder
        self._device: Any = None
        self._interface_number = 0
        self.in_endpoint: int | None = None
        self.out_endpoint: int | None = None
        self._needs_reset = False
        self.resets = 0

    @property
    def description(self) -> str:
        return f"USB {self.vendor:04x}:{self.product:04x}"

    @property
    def is_open(self) -> bool:
        return self._device is not None

    def open(self) -> None:
        self.close()
        try:
            device = self._finder(self.vendor, self.product)
        except (usb.core.USBError, usb.core.NoBackendError) as exc:
            raise TransportError(f"Cannot look for {self.description}: {_reason(exc)}") from exc
        if device is None:
            raise TransportError(f"No printer at {self.description} (not connected)")
        try:
            if self._needs_reset:
                # Recovery only: the last write stalled, so the printer's USB state is suspect.
                device.reset()
                self.resets += 1
                self._needs_reset = False
            try:
                configuration = device.get_active_configuration()
            except usb.core.USBError:
                device.set_configuration()
                configuration = device.get_active_configuration()
            interface = configuration[(0, 0)]
            number = interface.bInterfaceNumber
            if device.is_kernel_driver_active(number):
                device.detach_kernel_driver(number)
            usb.util.claim_interface(device, number)
            self.in_endpoint, self.out_endpoint = self._endpoints(interface)
        except usb.core.USBError as exc:
            _dispose(device)
            raise TransportError(f"Cannot open {self.description}: {_reason(exc)}") from exc
        self._device = device
        self._interface_number = number

    def _endpoints(self, interface: Any) -> tuple[int | None, int]:
        found_in: int | None = None
        found_out: int | None = None
        for endpoint in interface:
            address = endpoint.bEndpointAddress
            if endpoint.bmAttributes & 0x03 != _BULK:
                continue
            if address & _DIRECTION_MASK and found_in is None:
                found_in = address
            elif not address & _DIRECTION_MASK and found_out is None:
                found_out = address
        in_ep = self.in_override if self.in_override is not None else found_in
        out_ep = self.out_override if self.out_override is not None else found_out
        if out_ep is None:
            raise usb.core.USBError("no bulk OUT endpoint on interface 0 (set out_endpoint)")
        return in_ep, out_ep

    def close(self) -> None:
        device, self._device = self._device, None
        if device is not None:
            # A vanished device fails in many ways here; it is gone anyway.
            with contextlib.suppress(Exception):
                usb.util.release_interface(device, self._interface_number)
            _dispose(device)

    def _handle(self) -> Any:
        if self._device is None:
            raise TransportError(f"{self.description} is not open")
        return self._device

    def write(self, data: bytes) -> None:
        device = self._handle()
        assert self.out_endpoint is not None
        try:
            written = device.write(self.out_endpoint, data, self.timeout_ms)
        except usb.core.USBTimeoutError as exc:
            self._needs_reset = True
            self.close()
            raise TransportError(
                f"{self.description} did not accept data within {self.timeout_ms} ms"
            ) from exc
        except usb.core.USBError as exc:
            self.close()
            raise TransportError(f"Write to {self.description} failed: {_reason(exc)}") from exc
        if written != len(data):
            self._needs_reset = True
            self.close()
            raise TransportError(
                f"Write to {self.description} stopped after {written} of {len(data)} bytes"
            )

    def read(self, size: int, timeout: float) -> bytes:
        device = self._handle()
        if self.in_endpoint is None:
            return b""
        try:
            data = device.read(self.in_endpoint, max(size, 64), max(1, int(timeout * 1000)))
        except usb.core.USBTimeoutError:
            return b""
        except usb.core.USBError as exc:
            self.close()
            raise TransportError(f"Read from {self.description} failed: {_reason(exc)}") from exc
        return bytes(data)[:size] if len(data) > size else bytes(data)

    def discard_input(self) -> None:
        while self._device is not None and self.read(64, 0.001):
            pass


def _dispose(device: Any) -> None:
    with contextlib.suppress(Exception):  # best effort: the handle may already be invalid
        usb.util.dispose_resources(device)


def _reason(exc: BaseException) -> str:
    code = getattr(exc, "errno", None)
    if code == errno.EACCES:
        return "permission denied: add the udev rule for this printer"
    if code == errno.EBUSY:
        return "in use by another program or driver"
    if code in (errno.ENODEV, errno.ENOENT):
        return "not connected"
    if isinstance(exc, usb.core.NoBackendError):
        return "libusb is not installed"
    return str(exc) or exc.__class__.__name__
