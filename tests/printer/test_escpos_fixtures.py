"""Receipts shaped like Odoo 8/10/12 POS templates (XmlReceipt, SaleDetailsReport,
pos_restaurant OrderChangeReceipt) and a user-customised header/footer."""

from __future__ import annotations

from pathlib import Path

import pytest

from posboxless.printer.escpos import decode, render_xml_receipt
from posboxless.printer.escpos.decoder import DecodedDocument
from posboxless.printer.profiles import PrinterProfile, get_profile

FIXTURES = Path(__file__).parent / "fixtures"
T20 = get_profile("TM-T20III")


def rendered(name: str, profile: PrinterProfile = T20) -> tuple[tuple[str, ...], DecodedDocument]:
    job = render_xml_receipt((FIXTURES / name).read_text(encoding="utf-8"), profile)
    return job.warnings, decode(job.data)


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.xml")))
@pytest.mark.parametrize(
    "profile",
    [
        T20,
        get_profile("generic-58"),
        get_profile("generic-80", {"code_table": 40}),
        get_profile("TM-T88V", {"image_method": "column"}),
    ],
    ids=["t20iii", "58mm", "iso", "t88v-column"],
)
def test_every_fixture_renders_and_decodes(name: str, profile: PrinterProfile) -> None:
    _, doc = rendered(name, profile)
    assert doc.initialisations == 1 and doc.code_tables == [profile.code_table]
    assert doc.text()


def test_odoo8_receipt() -> None:
    warnings, doc = rendered("odoo8_receipt.xml")
    assert warnings == ()
    lines = doc.text().split("\n")
    assert lines[0] == "Boulangerie Dupré"
    assert doc.lines[0].bold and doc.lines[0].style.width == 2  # h1
    assert doc.lines[0].align == "center"
    assert "Served by Amélie" in lines
    assert doc.lines[lines.index("Served by Amélie")].style.font == "b"
    assert "Pain de campagne" + " " * 20 + "3.20" in lines  # line-ratio 0.6 of width 40
    assert "Œufs fermiers (6)" + " " * 19 + "2.95" in lines
    assert "  3 Unit(s) x 1.20" + " " * 22 in lines
    assert " " * 32 + "--------" in lines
    total = next(line for line in doc.lines if "TOTAL" in line.text)
    assert total.text == "        TOTAL" + " " * 23 + "9.75"
    assert total.style.height == 2 and total.style.width == 1
    assert "Espèces" + " " * 28 + "20.00" in lines
    assert lines[-2:] == ["Order 00001-001-0042", "14/07/2015 12:34:56"]
    assert all(
        len(line.text) == 40
        for line in doc.lines
        if line.text.endswith(("0", "5")) and " " * 5 in line.text
    )
    assert doc.cuts == ["partial"] and doc.pulses == []


def test_odoo10_receipt_with_logo() -> None:
    warnings, doc = rendered("odoo10_receipt.xml")
    assert warnings == ()
    (logo,) = doc.images
    assert logo.size == (304, 150)  # 300 px padded to whole bytes (white)
    assert logo.crop((300, 0, 304, 150)).getextrema() == (255, 255)
    assert logo.getpixel((150, 55)) == 0  # the blue disc prints black
    lines = doc.text().split("\n")
    assert lines[0] == "Café de la Gare"
    assert "Bienvenue ! Wifi : « gare2017 »" in lines
    assert "Bœuf bourguignon du chef" + " " * 9 + "1234.50" in lines
    assert "  2 Unit(s) x 2.20" + " " * 22 in lines
    assert "        CHANGE" + " " * 22 + "0.00" in lines


def test_odoo12_sale_details() -> None:
    _, doc = rendered("odoo12_sale_details.xml")
    lines = doc.text().split("\n")
    assert lines[0] == "Sales Details"
    assert "Comté 18 mois" + " " * 19 + "1.250 kg" in lines
    assert "Saucisson sec" + " " * 18 + "4 Unit(s)" in lines  # value-autoint on an integer
    assert "  1.250 x 32.90" + " " * 25 in lines
    assert "Total:" + " " * 27 + "2141.75" in lines  # no thousands separator


def test_odoo12_kitchen_ticket() -> None:
    _, doc = rendered("odoo12_kitchen.xml")
    lines = doc.text().split("\n")
    assert lines[0] == "Table 7"
    assert doc.lines[0].style.width == 2 and doc.lines[0].style.height == 2
    assert "Terrasse / 7" in lines
    assert "2" + " " * 23 + "Magret de canard" in lines
    assert "1" + " " * 28 + "Œuf cocotte" in lines
    new = next(line for line in doc.lines if line.text == "NEW")
    assert new.style.red
    assert doc.cuts == []  # cut='false' on the root
    assert all(line.style.height == 2 for line in doc.lines if line.text.strip())


def test_customised_header_and_footer() -> None:
    warnings, doc = rendered("custom_header_footer.xml")
    lines = doc.text().split("\n")
    assert lines[:3] == ["Le Petit Marché", "Depuis 1987", "Soldes d'été !"]
    assert lines[3:5] == [" - Livraison gratuite", " - Carte fidélité"]
    assert lines[5:8] == [" 1) Scannez", " 2) Payez", " 3) Profitez"]
    assert "Total" + " " * 22 + "€1 234 567,89" in lines
    assert "-" * 40 in lines
    assert doc.barcodes == [("EAN13", "3017620422003")]
    assert doc.qr_codes == ["https://petit-marche.example/fid/42"]
    assert doc.cuts == ["partial", "partial"]  # <partialcut/> and the TM-T20III final cut
    assert doc.pulses == [(2, 100, 400), (5, 100, 400)]
    assert warnings == ("unknown tag <marquee>: its content is printed as a plain block",)
