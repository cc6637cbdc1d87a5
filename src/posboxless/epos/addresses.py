"""Which address a cashier types in Odoo's "ePos Printer" / "Epson Printer IP" field.

Odoo pastes the field verbatim into ``<page scheme>//<field>/cgi-bin/epos/service.cgi`` (epos.md
§1-§2), so the field holds ``host[:port]`` and the port must be the one serving the POS page's
scheme: the HTTP port for an ``http://`` Odoo (and for 19 with ``use_lna``, which forces http),
the HTTPS port for an ``https://`` Odoo. Odoo 19's onchange replaces a value without a dot by an
Epson cloud name, so every address here has one:

* the default printer: ``127.0.0.1:<port>`` (an IP literal: no DNS, a loopback address that
  later 19.x/20 builds tag ``loopback`` for Local Network Access);
* any printer by name: ``<name>.localhost:<port>`` (browsers send every ``*.localhost`` name to
  this machine; posboxless routes the request to the printer of that name, as for /hw_proxy).
"""

from __future__ import annotations

from dataclasses import dataclass


def _with_port(host: str, port: int, scheme: str) -> str:
    default = (scheme == "http" and port == 80) or (scheme == "https" and port == 443)
    return host if default else f"{host}:{port}"


@dataclass(frozen=True)
class EposAddress:
    printer: str
    http: str
    """For an Odoo served over http (or 19 with ``use_lna``)."""
    https: str | None
    """For an Odoo served over https (None when HTTPS is off)."""

    def as_json(self) -> dict[str, str | None]:
        return {"printer": self.printer, "http": self.http, "https": self.https}

    def describe(self) -> str:
        shown = f"{self.http} (http Odoo)"
        if self.https:
            shown += f", {self.https} (https Odoo)"
        return shown


def epos_address(name: str, *, default: bool, http_port: int, https_port: int) -> EposAddress:
    host = "127.0.0.1" if default else f"{name}.localhost"
    https = _with_port(host, https_port, "https") if https_port else None
    return EposAddress(name, _with_port(host, http_port, "http"), https)


def epos_addresses(
    names: list[str], default_name: str | None, *, http_port: int, https_port: int
) -> list[EposAddress]:
    return [
        epos_address(n, default=n == default_name, http_port=http_port, https_port=https_port)
        for n in names
    ]
