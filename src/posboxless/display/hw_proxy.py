"""The customer screen calls of ``/hw_proxy`` (web layer; Odoo 12-19's HTML customer display):
translation only. Odoo 19 community never pushes an order to a proxy, so its display page's poll
is answered with a line saying so."""

from __future__ import annotations

from typing import Any

from posboxless.web.hw_calls import Call, Handler, HwProxyContext, KindWeb

NO_ORDER_MESSAGE = (
    "This customer display gets no order from the POS: Odoo 19 sends it only to an IoT Box. "
    'See "Customer display" in the posboxless README.'
)
NO_ORDER_DISPLAY: dict[str, Any] = {
    # The shape of Odoo 19's display data (odoo-19-20.md §2.6): one line holding the message,
    # since its page shows only "Welcome." for an order without lines.
    "finalized": False,
    "general_customer_note": "",
    "amount": "",
    "lines": [
        {
            "productId": 0,
            "productName": NO_ORDER_MESSAGE,
            "price": "",
            "qty": "",
            "unit": "",
            "unitPrice": "",
            "discount": "",
            "customerNote": "",
            "internalNote": "[]",
            "packLotLines": [],
            "taxGroupLabels": "",
            "comboParent": "",
            "price_without_discount": "",
            "isSelected": False,
        }
    ],
    "paymentLines": [],
}
"""The answer to a display poll while no POS has pushed anything since start."""


def handlers(context: HwProxyContext) -> dict[str, Handler]:
    display = context.services.display

    async def customer_facing_display(call: Call) -> dict[str, Any]:
        if "action" in call.params:  # Odoo 18 and 19
            if call.params.get("action") == "get" and display.updated is None:
                # Nothing was ever pushed: Odoo 19's cashier never pushes to a proxy
                # (odoo-19-20.md §2.6), and its display page would show "Welcome." forever.
                return {"status": "retrieved", "data": NO_ORDER_DISPLAY}
            return display.action(call.params)
        return display.update_html(call.client_ip, call.params)

    async def take_control(call: Call) -> dict[str, Any]:
        return display.take_control(call.client_ip, call.params)

    async def test_ownership(call: Call) -> dict[str, Any]:
        return display.test_ownership(call.client_ip)

    async def display_refresh(call: Call) -> str:
        return "OK"

    return {
        "customer_facing_display": customer_facing_display,
        "take_control": take_control,
        "test_ownership": test_ownership,
        "display_refresh": display_refresh,
    }


WEB = KindWeb(handlers=handlers)
