"""The display as a device kind (registered in ``posboxless/kinds.py``)."""

from __future__ import annotations

from posboxless.kind import DeviceKind

KIND = DeviceKind(key="display", package="posboxless.display")
