"""The pole display calls of ``/hw_proxy``: translation only (customer-display.md §2, §4.3).

* ``send_text_customer_display`` (OCA ``pos_customer_display``, Odoo 8-14): ``text_to_display``
  is a JSON string holding the list of lines (JSON inside JSON); a list is taken as well.
* ``display_show`` (odoo-driver with GRAP's ``pos_odoo_driver_display``): ``data`` is an object
  (or its JSON text) with an ``action``; the lines are built here as odoo-driver builds them
  (decimal comma, ``€`` after amounts).

The answer is ``true`` once the text is the display's next screen; when the display is not
connected the text is kept for when it comes back and the call fails with the reason (the POS
only logs it).
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
import math
from collections.abc import Awaitable, Callable
from functools import cache
from importlib import resources
from typing import Any, Protocol

from posboxless.device import DeviceUnavailable, InvalidInput
from posboxless.linedisplay.screens import PoleDisplay

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 16_384
MAX_LINE_CHARS = 512


class _Call(Protocol):
    @property
    def params(self) -> dict[str, Any]: ...


class _HasDisplay(Protocol):
    customer_display: PoleDisplay | None


Handler = Callable[[_Call], Awaitable[Any]]


def handlers(services: _HasDisplay) -> dict[str, Handler]:
    """The calls to register in ``HwProxyApi``."""

    def display() -> PoleDisplay:
        found = services.customer_display
        if found is None:
            raise DeviceUnavailable("No customer display is configured in posboxless")
        return found

    async def send_text_customer_display(call: _Call) -> bool:
        target = display()
        lines = text_lines(call.params.get("text_to_display"), target.commands.rows)
        return _show(target, lines)

    async def display_show(call: _Call) -> bool:
        target = display()
        data = _decoded(call.params.get("data"), "data")
        if not isinstance(data, dict):
            raise InvalidInput("display_show needs 'data': {action: ...}")
        lines = action_lines(data, target.commands.width, target.commands.rows)
        return _show(target, lines)

    return {
        "send_text_customer_display": send_text_customer_display,
        "display_show": display_show,
    }


def _show(display: PoleDisplay, lines: list[str]) -> bool:
    display.show(lines)
    status = display.status()
    if status.status != "connected":
        raise DeviceUnavailable(
            f"The customer display is {status.status} ({'; '.join(status.messages)}); "
            "the text will be shown when it is back"
        )
    return True


def _decoded(value: Any, name: str) -> Any:
    if isinstance(value, str):
        if len(value) > MAX_TEXT_CHARS:
            raise InvalidInput(f"'{name}' is longer than {MAX_TEXT_CHARS} characters")
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise InvalidInput(f"'{name}' is a string that is not JSON") from None
    return value


def _lines(value: Any, rows: int, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(line, str) for line in value):
        raise InvalidInput(
            f"'{name}' must be a list of lines (strings), as JSON text or as a list",
            arguments=[f"'{name}' must be a list of lines", name],
        )
    if len(value) > rows:
        raise InvalidInput(f"'{name}' has {len(value)} lines; the display shows {rows}")
    if any(len(line) > MAX_LINE_CHARS for line in value):
        raise InvalidInput(f"a line of '{name}' is longer than {MAX_LINE_CHARS} characters")
    return list(value)


def text_lines(value: Any, rows: int) -> list[str]:
    """``text_to_display`` as sent by Odoo 8-14 (``'["line 1","line 2"]'``) or as a list."""
    if value is None:
        raise InvalidInput("send_text_customer_display needs 'text_to_display'")
    return _lines(_decoded(value, "text_to_display"), rows, "text_to_display")


# ---- odoo-driver's display_show actions -----------------------------------------------------


def _number(data: dict[str, Any], key: str) -> float:
    value = data.get(key, 0)
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = float(value.replace(",", "."))
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidInput(f"'{key}' must be a number, not {value!r}", arguments=[key, value])
    return float(value)


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key, "")
    if not isinstance(value, str) or len(value) > MAX_LINE_CHARS:
        raise InvalidInput(f"'{key}' must be a text of at most {MAX_LINE_CHARS} characters")
    return value


def money(value: float) -> str:
    return f"{value:.2f}".replace(".", ",") + "€"


def quantity(value: float) -> str:
    if value == int(value):
        return str(int(value))
    return f"{value:.3f}".rstrip("0").replace(".", ",")


def two_sides(left: str, right: str, width: int) -> str:
    """``left`` then ``right`` against the right edge; ``left`` is cut, never ``right``."""
    room = width - len(right) - 1 if right else width
    if room <= 0:
        return right[-width:]
    left = left[:room]
    return left.ljust(width - len(right)) + right


def action_lines(data: dict[str, Any], width: int, rows: int) -> list[str]:
    action = data.get("action")
    if action == "display_lines":
        lines = data.get("text_lines")
        if isinstance(lines, str):
            lines = lines.split("\n")
        return _lines(lines, rows, "text_lines")
    if action in ("add_line", "update_quantity", "update_unit_price", "update_discount"):
        discount = _number(data, "discount")
        first = two_sides(
            _text(data, "product_name"), f"-{quantity(discount)}%" if discount else "", width
        )
        detail = f"{quantity(_number(data, 'quantity'))}×{money(_number(data, 'unit_price'))}"
        return [first, two_sides(detail, money(_number(data, "total")), width)]
    if action == "remove_line":
        return ["Deleting Line ...", _text(data, "product_name")]
    if action == "payment_balance":
        total, due = _number(data, "total"), _number(data, "total_due")
        first = two_sides("Total:", money(total), width)
        if due >= 0:
            return [first, two_sides("To Pay:", money(due), width)]
        return [first, two_sides("Change:", money(-due), width)]
    raise InvalidInput(
        f"Unknown display action {action!r}; expected display_lines, add_line, "
        "update_quantity, update_unit_price, update_discount, remove_line or payment_balance",
        arguments=[f"Unknown display action {action!r}", action],
    )


# ---- the diagnostics page's card --------------------------------------------------------------

_CARD_STYLE = (
    "#pole-display .pole-screen{display:inline-block;font:1.3em/1.35 monospace;white-space:pre;"
    "background:#0d1f12;color:#8ef0a0;padding:.35em .6em;border-radius:4px;margin:.2em 0}"
)


@cache
def _script() -> str:
    return resources.files("posboxless.web").joinpath("static/pole_display.js").read_text("utf-8")


def page_card(services: _HasDisplay) -> str:
    """The live 2×20 text for the diagnostics page (empty without a display); its script
    refreshes it every second."""
    display = services.customer_display
    if display is None:
        return ""
    e = html.escape
    snapshot = display.snapshot()
    lines = snapshot.display_shows or snapshot.shown or ("",) * snapshot.rows
    status = snapshot.status.status
    rows = "".join(f"<div class='pole-row'>{e(line)}</div>" for line in lines)
    return (
        f"<style>{_CARD_STYLE}</style><h2>Customer display</h2>"
        f"<div id='pole-display' class='card'><div class='pole-screen'>{rows}</div>"
        f"<div class='sub'>{e(snapshot.profile)} · {e(snapshot.port or '')} · "
        f"<span class='pole-status {e(status)}'>{e(status)}</span></div></div>"
        f"<script>{_script()}</script>"
    )
