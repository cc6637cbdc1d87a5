"""The pole display calls of ``/hw_proxy`` (web layer), translated by ``web/line_display.py``,
its ``status_json`` entry and its card on the page."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from posboxless.web import line_display
from posboxless.web.hw_calls import Handler, HwProxyContext, KindWeb
from posboxless.web.state import AppState


def handlers(context: HwProxyContext) -> Mapping[str, Handler]:
    return line_display.handlers(context.services)


def status(context: HwProxyContext, host: str | None) -> Mapping[str, Any]:
    display = context.services.customer_display
    if display is None:
        return {}
    return {"customer_display": display.status().as_json()}  # the OCA 8.0 box module's key


def page(state: AppState) -> str:
    return line_display.page_card(state.services)


WEB = KindWeb(handlers=handlers, status=status, page=page)
