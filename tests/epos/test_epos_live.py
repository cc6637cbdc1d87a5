"""Odoo 15-19 printing to posboxless as to an Epson ePOS printer: the exact bodies each version
sends, through a real server, printed on simulated printers over loopback TCP, decoded, and the
answers read as each version's client reads them."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from PIL import Image

from posboxless.printer.escpos.decoder import DecodedImage

from .odoo_bodies import (
    CONTENT_TYPES,
    SERVICE_PATH,
    drawer_body,
    envelope,
    judge,
    odoo19_test_page_body,
    odoo_receipt,
    receipt_body,
)
from .rig import POS_ORIGIN, Till, till


def mono(image: Image.Image) -> Image.Image:
    return image.convert("L").point(lambda v: 0 if v < 128 else 255).convert("1")


SOURCE = mono(odoo_receipt(lines=3))
GIVEN = "The following error code was given by the printer: "


def assert_receipt_printed(t: Till, name: str = "receipt") -> None:
    doc = t.printed(name)
    (printed,) = [i for i in doc.items if isinstance(i, DecodedImage)]
    expected = Image.new("1", (576, SOURCE.height), 1)
    expected.paste(SOURCE, (32, 0))
    assert printed.align == "center"
    assert printed.on_paper(576).tobytes() == expected.tobytes()  # dot for dot, centred
    assert doc.cuts == ["partial"]


@pytest.mark.parametrize("version", [15, 16, 17, 18, 19])
def test_receipt_per_version(tmp_path: Path, version: int) -> None:
    with till(tmp_path) as t:
        response = t.post(receipt_body(SOURCE, version), version=version)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/xml")
        assert response.headers["access-control-allow-origin"] == POS_ORIGIN
        verdict = judge(version, response.text)
        assert verdict.success and verdict.warning is None
        # Answered only once printed: everything is at the printer when the answer comes.
        assert_receipt_printed(t)
        (entry,) = t.journal()
        assert entry["state"] == "done" and entry["source"] == "epos" and entry["kind"] == "image"


@pytest.mark.parametrize("version", [15, 17, 19])
def test_cash_drawer_pulse(tmp_path: Path, version: int) -> None:
    with till(tmp_path) as t:
        assert judge(version, t.post(drawer_body(version), version=version).text).success
        doc = t.printed()
        assert doc.pulses == [(2, 100, 400), (5, 100, 400)]  # the profile's pins, 100 ms
        assert doc.images == [] and doc.cuts == []
        (entry,) = t.journal()
        assert entry["kind"] == "drawer" and entry["source"] == "epos"


def test_odoo19_test_button(tmp_path: Path) -> None:
    with till(tmp_path) as t:
        response = t.post(odoo19_test_page_body(), version=19)
        assert judge(19, response.text, test_button=True).success
        doc = t.printed()
        assert [(line.text, line.align) for line in doc.lines if line.text] == [
            ("This is a test receipt", "center")
        ]
        assert doc.cuts == ["partial"]


def test_kitchen_printer_by_name(tmp_path: Path) -> None:
    with till(tmp_path, names=("receipt", "kitchen")) as t:
        assert judge(
            17, t.post(receipt_body(SOURCE, 17), version=17, host="kitchen.localhost").text
        ).success
        assert_receipt_printed(t, "kitchen")
        assert t.received("receipt").count(b"\x1dv0") == 0
        # devid may name a printer too; Odoo's own devid means "by Host".
        assert judge(
            19, t.post(drawer_body(19), path="/cgi-bin/epos/service.cgi?devid=kitchen").text
        ).success
        assert t.printed("kitchen").pulses
        response = t.post(drawer_body(19), path="/cgi-bin/epos/service.cgi?devid=bar")
        assert judge(19, response.text).message == "set the Device ID to local_printer"


@pytest.mark.parametrize(
    ("fault", "code", "message_19", "message_16"),
    [
        ("paper_out", "EPTR_REC_EMPTY", "out of paper", "out of paper"),
        ("cover_open", "EPTR_COVER_OPEN", "cover open", "error code EPTR_COVER_OPEN"),
        ("unplugged", "EX_BADPORT", GIVEN + "EX_BADPORT", "error code EX_BADPORT"),
        ("silent", "EX_TIMEOUT", GIVEN + "EX_TIMEOUT", "error code EX_TIMEOUT"),
    ],
)  # fmt: skip
def test_faults_give_the_code_odoo_maps_and_never_print_later(
    tmp_path: Path, fault: str, code: str, message_19: str, message_16: str
) -> None:
    with till(tmp_path, answer_timeout=1.0) as t:
        sim = t.sims["receipt"]
        service = t.printer()
        if fault == "unplugged":
            sim.unplug()
            t.wait(lambda: service.status().status == "disconnected")
        elif fault == "silent":
            sim.printer.silent = True
            t.wait(lambda: service.status().status != "connected")
        else:
            sim.printer.state = fault
            t.wait(lambda: service.status().status != "connected")
        before = len(t.received())
        answers = {v: t.post(receipt_body(SOURCE, v), version=v).text for v in (16, 19)}
        assert judge(19, answers[19]).message == message_19
        assert judge(16, answers[16]).message == message_16
        assert f'code="{code}"' in answers[19]
        status = int(answers[19].split('status="')[1].split('"')[0])
        if fault in ("unplugged", "silent"):
            assert status & 0x1  # NO_RESPONSE
        # The printer comes back: the refused receipts never print; a retry prints once.
        sim.printer.silent = False
        sim.printer.state = "ok"
        sim.replug()
        t.wait(lambda: service.status().status == "connected")
        assert judge(19, t.post(receipt_body(SOURCE, 19)).text).success
        after = t.received()[before:]
        assert after.count(b"\x1dv0") == 1 and after.count(b"\x1dVB") == 1
        states = [entry["state"] for entry in t.journal()]
        assert states.count("done") == 1 and len(states) == 3


def test_unknown_element_prints_nothing(tmp_path: Path) -> None:
    with till(tmp_path) as t:
        body = envelope('<text>Hello&#10;</text><barcode type="ean13">4006381333931</barcode>', 17)
        response = t.post(body, version=17)
        assert 'success="false"' in response.text and 'code="SchemaError"' in response.text
        assert t.journal() == []


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded; charset=UTF-8",
        "text/xml",
        None,
    ],
)
def test_any_content_type(tmp_path: Path, content_type: str | None) -> None:
    import httpx

    with till(tmp_path) as t:
        headers = {"Origin": POS_ORIGIN}
        if content_type is not None:
            headers["Content-Type"] = content_type
        response = httpx.post(t.url + SERVICE_PATH, content=drawer_body(15), headers=headers)
        assert judge(15, response.text).success


def test_other_origins_may_not_print(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    with till(tmp_path) as t:
        response = t.post(receipt_body(SOURCE, 19), origin="https://evil.example")
        verdict = judge(19, response.text)
        assert not verdict.success
        # The page itself cannot read it (no CORS grant for a refused origin); tools and logs can.
        assert "access-control-allow-origin" not in response.headers
        assert "https://evil.example" in verdict.message and "allowed_origins" in verdict.message
        assert t.journal() == [] and t.received().count(b"\x1dv0") == 0
        assert any("https://evil.example" in r.getMessage() for r in caplog.records)


def test_preflight_and_bare_options(tmp_path: Path) -> None:
    import httpx

    with till(tmp_path) as t:
        preflight = httpx.options(
            t.url + SERVICE_PATH,
            headers={
                "Origin": POS_ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type,soapaction,if-modified-since",
                "Access-Control-Request-Private-Network": "true",
            },
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == POS_ORIGIN
        allowed = preflight.headers["access-control-allow-headers"].lower()
        assert {"soapaction", "if-modified-since", "content-type"} <= {
            h.strip() for h in allowed.split(",")
        }
        assert preflight.headers["access-control-allow-private-network"] == "true"
        refused = httpx.options(
            t.url + SERVICE_PATH,
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert refused.status_code == 403
        assert "access-control-allow-origin" not in refused.headers
        bare = httpx.options(t.url + SERVICE_PATH)
        assert bare.status_code == 204 and "POST" in bare.headers["allow"]


def test_content_type_header_is_ignored_for_parsing(tmp_path: Path) -> None:
    with till(tmp_path) as t:
        assert set(CONTENT_TYPES) == {15, 16, 17, 18, 19}
        hostile = b'<!DOCTYPE x [<!ENTITY a "b">]><epos-print>&a;</epos-print>'
        assert 'code="SchemaError"' in t.post(hostile).text
        assert t.journal() == []
