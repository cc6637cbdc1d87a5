"""What the OCA ``pos_customer_display`` clients send, per version (customer-display.md §2-3).

The lines are built here the way each version's client builds them: 8.0/10.0 send exactly two
lines of exactly ``line_length`` characters (``prepare_text_customer_display``), 12.0/14.0 pad
each line and cut the left part to ``max_left - 1`` characters (``CustomerDisplay_2_20``).
Amounts use ``toFixed(decimals)`` (a dot); ``text_to_display`` is JSON text inside the JSON-RPC
call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

WIDTH = 20
MSG_NEXT = ("Point of Sale Open", "Welcome!")
MSG_CLOSED = ("Point of Sale Closed", "See you soon!")


@dataclass(frozen=True)
class PosCall:
    event: str
    lines: tuple[str, str]

    def params(self) -> dict[str, Any]:
        return {"text_to_display": json.dumps(list(self.lines))}


def left(text: str) -> str:
    return text[:WIDTH].ljust(WIDTH)


def right(text: str) -> str:
    return text[-WIDTH:].rjust(WIDTH)


def centred(text: str) -> str:
    return text[:WIDTH].center(WIDTH)


def both(left_part: str, right_part: str) -> str:
    """12/14 ``_prepare_line``: the left part is cut to ``max_left - 1`` characters."""
    max_left = WIDTH - len(right_part)
    if len(left_part) > max_left - 1:
        left_part = left_part[: max_left - 1]
    return left_part + " " * (WIDTH - len(left_part) - len(right_part)) + right_part


def odoo8_10() -> list[PosCall]:
    # add_update_line: name / "<qty><unit> x <price>" + " <total>" against the right edge
    return [
        PosCall("openPOS", (left(MSG_NEXT[0]), left(MSG_NEXT[1]))),
        PosCall("product added", (left("Crème brûlée"), both("1 x 3.50", " 3.50"))),
        PosCall("product added again", (left("Crème brûlée"), both("1 x 3.50", " 3.50"))),
        PosCall("quantity changed", (left("Crème brûlée"), both("3 x 3.50", " 10.50"))),
        # the 8/10 client cuts a long name at the line length itself
        PosCall(
            "long name",
            (
                left("Pâté en croûte à l'ancienne, façon grand-mère"),
                both("0.450kg x 4.90", " 2.21"),
            ),
        ),
        PosCall("œuf", (left("Œuf cocotte"), both("2 x 4.20", " 8.40"))),
        PosCall("line removed", (left("Delete Item"), right("Œuf cocotte"))),
        PosCall("payment", (left("TOTAL: "), right("25.11"))),
        PosCall("change due", (left("Your Change:"), right("4.89"))),
        PosCall("order done", (centred(MSG_NEXT[0]), centred(MSG_NEXT[1]))),
        PosCall("POS closed", (left(MSG_CLOSED[0]), left(MSG_CLOSED[1]))),
    ]


def odoo12_14(version: str) -> list[PosCall]:
    calls = [
        PosCall("welcome", (both(MSG_NEXT[0], ""), both(MSG_NEXT[1], ""))),
        PosCall("product added", (both("Crème brûlée", ""), both("1 x 3.50", "3.50"))),
        PosCall("quantity changed", (both("Crème brûlée", ""), both("3 x 3.50", "10.50"))),
        PosCall("discount", (both("Crème brûlée", " -10%"), both("3 x 3.15", "9.45"))),
        PosCall(
            "long name",
            (
                both("Pâté en croûte à l'ancienne, façon grand-mère", " -5%"),
                both("2 x 23.66", "47.31"),
            ),
        ),
        PosCall("œuf", (both("Œuf cocotte", ""), both("2 x 4.20", "8.40"))),
        PosCall("line removed", (both("Deleting Line ...", ""), both("Œuf cocotte", ""))),
        PosCall("payment", (both("Total", "56.76"), both("", ""))),
        PosCall("partly paid", (both("Total", "56.76"), both("To Pay: ", "6.76"))),
        PosCall("change due", (both("Total", "56.76"), both("Returned: ", "3.24"))),
        PosCall("order done", (both(MSG_NEXT[0], ""), both(MSG_NEXT[1], ""))),
    ]
    if version == "12":  # the close message is commented out in 14's chrome.js
        calls.append(PosCall("POS closed", (both(MSG_CLOSED[0], ""), both(MSG_CLOSED[1], ""))))
    return calls


CATALOGUE = {"8": odoo8_10(), "10": odoo8_10(), "12": odoo12_14("12"), "14": odoo12_14("14")}


def rpc(params: dict[str, Any], request_id: int) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "method": "call", "params": params, "id": request_id}


def query(version: str) -> str:
    return {"8": "?session_id=abc123", "10": "?session_id=abc123", "12": "?session_id="}.get(
        version, ""
    )
