"""Odoo 12-19's HTML customer screen as a device kind: no table, always there (``services.py``
builds it); its calls are in ``display/hw_proxy.py``."""

from __future__ import annotations

from posboxless.kind import DeviceKind

KIND = DeviceKind(key="display", package="posboxless.display")
