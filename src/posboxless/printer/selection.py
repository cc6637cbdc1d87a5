"""Which printer a request is for: the one rule every front-end (``/hw_proxy``, ePOS, the page,
``status_json``) uses.

* by name (the page's actions, an ePOS ``devid``): that printer, or none;
* by ``Host``: ``kitchen.localhost`` (or ``kitchen.<a local name>``) reaches the printer named
  ``kitchen``, any other host the default printer. Odoo gives each restaurant (kitchen) printer
  its own proxy address, and a POS on the till can reach a second printer of the same proxy only
  through another name: browsers resolve every ``*.localhost`` name to this machine. A name is
  never matched on a foreign host (``kitchen.example.com``);
* by ePOS device id: Odoo always sends ``local_printer`` ("the printer at this address"), which
  means "by Host"; any other id names a printer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from posboxless.epos.protocol import DEVICE_ID as LOCAL_PRINTER

P = TypeVar("P")


def _localhost_only(host: str) -> bool:
    return host == "localhost"


@dataclass(frozen=True)
class PrinterSelection(Generic[P]):
    """The printers by name and the default one's name, with the rules above. A view: it holds
    the services' own mapping, so printers added later are seen."""

    by_name: Mapping[str, P]
    default_name: str | None
    is_local: Callable[[str], bool] = _localhost_only
    """Whether a host name (without port) is one of this machine's names."""

    @property
    def default(self) -> P | None:
        if self.default_name is None:
            return None
        return self.by_name.get(self.default_name)

    def named(self, name: str | None) -> P | None:
        """The printer called ``name``; the default one when no name is given."""
        if not name:
            return self.default
        return self.by_name.get(name)

    def for_host(self, host: str) -> P | None:
        """The printer a request sent to ``host`` (lower-case, no port) is for."""
        label, dot, rest = host.partition(".")
        if dot and label in self.by_name and self.is_local(rest):
            return self.by_name[label]
        return self.default

    def for_device_id(self, device_id: str | None, host: str) -> P | None:
        """ePOS: ``local_printer`` (or no id) chooses by ``host``; another id names a printer."""
        if not device_id or device_id == LOCAL_PRINTER:
            return self.for_host(host)
        return self.by_name.get(device_id)

    def device_ids(self) -> list[str]:
        """Every device id an ePOS client may send."""
        return [LOCAL_PRINTER, *self.by_name]
