"""What the simulated printer shows a person: receipt files, drawer pulses, barcodes, blank cuts."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from posboxless.printer.escpos import encoder as e
from posboxless.printer.escpos import render_drawer_kick, render_xml_receipt
from posboxless.printer.profiles import get_profile
from posboxless.printer.simulator import SimulatedPrinter

T20 = get_profile("TM-T20III")


def files(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir()) if out.exists() else []


def test_drawer_pulse_shows_in_the_journal_at_once(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    printer = SimulatedPrinter(output_dir=out)
    printer.feed(render_drawer_kick(T20).data)
    assert files(out) == ["printer.log"]  # nothing printed, but the kick is there
    journal = (out / "printer.log").read_text().splitlines()
    assert [line.split(" ", 2)[2] for line in journal] == [
        "drawer pulse: pin 2 100/400 ms",
        "drawer pulse: pin 5 100/400 ms",
    ]
    # The next receipt does not carry the kick on its paper.
    printer.feed(render_xml_receipt("<receipt>Merci</receipt>", T20).data)
    text = (out / "receipt-00001.txt").read_text()
    assert "Merci" in text and "pulse" not in text
    assert len((out / "printer.log").read_text().splitlines()) == 3


def test_pulse_inside_a_receipt_is_in_its_text(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    printer = SimulatedPrinter(output_dir=out)
    printer.feed(render_xml_receipt("<receipt>Total 4.50<cashdraw/>Bye</receipt>", T20).data)
    lines = (out / "receipt-00001.txt").read_text().splitlines()
    assert lines[:4] == [
        "Total 4.50",
        "[drawer pulse: pin 2 100/400 ms]",
        "[drawer pulse: pin 5 100/400 ms]",
        " Bye",  # the inline separator Odoo writes
    ]


def test_explicit_cut_then_automatic_cut_writes_one_receipt(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    printer = SimulatedPrinter(output_dir=out)
    job = render_xml_receipt("<receipt><div>Ticket 17</div><cut/></receipt>", T20).data
    assert job.count(b"\x1dV") == 2  # Odoo's <cut/> and the cut that ends every job
    for byte in range(0, len(job), 5):  # arrives in small pieces
        printer.feed(job[byte : byte + 5])
    assert files(out) == [
        "printer.log",
        "receipt-00001.bin",
        "receipt-00001.png",
        "receipt-00001.txt",
    ]
    assert "Ticket 17" in (out / "receipt-00001.txt").read_text()
    assert "blank slip" in (out / "printer.log").read_text()
    assert printer.receipts_saved == 1 and printer.decode_errors == []


def test_cut_bytes_inside_an_image_do_not_split_the_receipt(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    printer = SimulatedPrinter(output_dir=out)
    # A raster row that reads "GS V B 0" (a cut) if bytes are searched instead of decoded.
    row = b"\x1dVB\x00" * 16
    image = b"\x1dv0\x00" + bytes([64, 0, 4, 0]) + row * 4
    printer.feed(e.initialise() + e.align("center") + image + e.cut("feed-partial"))
    assert printer.receipts_saved == 1
    assert "[image 512x4 (raster)]" in (out / "receipt-00001.txt").read_text()


def test_barcodes_and_qr_codes_are_drawn_in_the_png(tmp_path: Path) -> None:
    zxingcpp = pytest.importorskip("zxingcpp")
    out = tmp_path / "sim"
    printer = SimulatedPrinter(output_dir=out)
    xml = (
        "<receipt><div>Order 42</div><barcode encoding='ean13'>5901234123457</barcode>"
        "<qr>https://shop.example/r/42</qr></receipt>"
    )
    printer.feed(render_xml_receipt(xml, T20).data)
    png = Image.open(out / "receipt-00001.png")
    found = {r.text for r in zxingcpp.read_barcodes(png)}
    assert found == {"5901234123457", "https://shop.example/r/42"}


def test_garbage_is_journaled_and_printing_goes_on(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    printer = SimulatedPrinter(output_dir=out)
    printer.feed(e.initialise() + b"\x07\x1b\xff" + b"still printed\n" + e.cut("full"))
    assert "still printed" in (out / "receipt-00001.txt").read_text()
    assert len(printer.decode_errors) == 2
    assert "could not read" in (out / "printer.log").read_text()
