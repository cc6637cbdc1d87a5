"""Customer-facing display state (Odoo 12-18).

Odoo 12-17 push the rendered HTML of the order (``customer_facing_display {html}``) and hand the
screen over with ``take_control``; ownership is by client IP address, as on Odoo's box. Odoo 18
pushes structured data (``action: set``) and Odoo's own display page polls it back
(``action: get``) from ``http://localhost:8069``. posboxless keeps the latest state in memory and
serves it to a local display page; there is no device I/O here.
"""

from __future__ import annotations

import json
import time
from typing import Any

from posboxless.device import ActivitySnapshot, CustomerScreenSnapshot, DeviceStatus, InvalidInput

MAX_HTML_CHARS = 2_000_000
MAX_DATA_BYTES = 2_000_000


def _encodable(data: Any) -> Any:
    """The Odoo 18 display data is sent back as is to every ``get``: what could not be written as
    strict JSON (a lone surrogate, NaN) would break every later answer, so it is refused here."""
    try:
        size = len(json.dumps(data, ensure_ascii=False, allow_nan=False).encode("utf-8"))
    except (ValueError, TypeError, RecursionError):
        raise InvalidInput(
            "The customer display data cannot be stored: it is not plain JSON text"
        ) from None
    if size > MAX_DATA_BYTES:
        raise InvalidInput(f"The customer display data is larger than {MAX_DATA_BYTES} bytes")
    return data


class DisplayService:
    kind = "display"
    name = "customer-display"

    def __init__(self) -> None:
        self.owner: str | None = None
        self.html: str = ""
        self.data: Any = None
        self.is_open = False
        self.pos_url: str | None = None
        self.updated: float | None = None
        self.version = 0

    def status(self) -> DeviceStatus:
        if self.owner is None and self.data is None:
            return DeviceStatus("connected", ("Waiting for a POS to take control",))
        return DeviceStatus("connected", (f"Showing the order of {self.owner or 'the POS'}",))

    def snapshot(self) -> CustomerScreenSnapshot:
        return CustomerScreenSnapshot(
            name=self.name,
            status=self.status(),
            owner=self.owner,
            updated=self.updated,
            html_chars=len(self.html),
            has_data=self.data is not None,
            open=self.is_open,
            activity=ActivitySnapshot(last_ok=self.updated),
        )

    def details(self) -> dict[str, Any]:
        snapshot = self.snapshot()
        return {
            "owner": snapshot.owner,
            "updated": snapshot.updated,
            "html_chars": snapshot.html_chars,
            "has_data": snapshot.has_data,
            "open": snapshot.open,
        }

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def _touch(self) -> None:
        self.updated = time.time()
        self.version += 1

    @staticmethod
    def _html(params: dict[str, Any]) -> str:
        html = params.get("html", "")
        if not isinstance(html, str):
            raise InvalidInput("'html' must be a string")
        if len(html) > MAX_HTML_CHARS:
            raise InvalidInput(f"'html' is longer than {MAX_HTML_CHARS} characters")
        _encodable(html)
        return html

    # Odoo 12-17 ---------------------------------------------------------------------------
    def take_control(self, client_ip: str, params: dict[str, Any]) -> dict[str, Any]:
        self.html = self._html(params)
        self.owner = client_ip
        self._touch()
        return {"status": "success", "message": "You now have access to the display"}

    def test_ownership(self, client_ip: str) -> dict[str, Any]:
        return {"status": "OWNER" if self.owner in (None, client_ip) else "NOWNER"}

    def update_html(self, client_ip: str, params: dict[str, Any]) -> dict[str, Any]:
        html = self._html(params)
        if self.owner is None:
            self.owner = client_ip
        if client_ip != self.owner:
            return {"status": "failed"}
        self.html = html
        self._touch()
        return {"status": "updated"}

    # Odoo 18 ------------------------------------------------------------------------------
    def action(self, params: dict[str, Any]) -> dict[str, Any]:
        action = params.get("action")
        if action == "set":
            self.data = _encodable(params.get("data"))
            self._touch()
            return {"status": "updated"}
        if action == "get":
            return {"status": "retrieved", "data": self.data}
        if action in ("open", "open_kiosk"):
            self.is_open = True
            self._touch()
            return {"status": "opened"}
        if action == "close":
            self.is_open = False
            self.data = None
            self._touch()
            return {"status": "closed"}
        if action == "rotate_screen":
            return {"status": "rotated"}
        raise InvalidInput(
            f"Unknown customer display action {action!r}; expected open, close, set or get",
            arguments=[action],
        )
