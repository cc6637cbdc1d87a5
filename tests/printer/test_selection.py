"""One rule chooses the printer for every front-end (``printer/selection.py``)."""

from __future__ import annotations

from posboxless.printer.selection import LOCAL_PRINTER, PrinterSelection


def _local(host: str) -> bool:
    return host in ("localhost", "till.lan")


def printers() -> PrinterSelection[str]:
    return PrinterSelection({"receipt": "R", "kitchen": "K"}, "receipt", _local)


def test_by_name_and_default() -> None:
    assert printers().named("kitchen") == "K"
    assert printers().named(None) == printers().named("") == "R"
    assert printers().named("bar") is None
    assert PrinterSelection({}, None).default is None


def test_by_host_only_on_local_names() -> None:
    assert printers().for_host("kitchen.localhost") == "K"
    assert printers().for_host("kitchen.till.lan") == "K"
    assert printers().for_host("kitchen.example.com") == "R"  # never on a foreign host
    assert printers().for_host("bar.localhost") == "R"
    assert printers().for_host("localhost") == "R"


def test_by_epos_device_id() -> None:
    assert printers().for_device_id(LOCAL_PRINTER, "kitchen.localhost") == "K"
    assert printers().for_device_id(None, "localhost") == "R"
    assert printers().for_device_id("kitchen", "localhost") == "K"
    assert printers().for_device_id("bar", "localhost") is None
    assert printers().device_ids() == [LOCAL_PRINTER, "receipt", "kitchen"]


def test_a_view_sees_printers_added_later() -> None:
    by_name: dict[str, str] = {}
    selection = PrinterSelection(by_name, "receipt")
    by_name["receipt"] = "R"
    assert selection.default == "R"
