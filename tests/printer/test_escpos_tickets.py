"""Drawer kick and text tickets."""

from __future__ import annotations

import logging

import pytest

from posboxless.printer.escpos import decode, render_drawer_kick, render_text_ticket
from posboxless.printer.profiles import get_profile


def test_drawer_kick_bytes() -> None:
    job = render_drawer_kick(get_profile("TM-T20III"))
    assert job.kind == "drawer"
    assert job.data == b"\x1b=\x01\x1bp\x00\x32\xc8\x1bp\x01\x32\xc8"
    assert decode(job.data).pulses == [(2, 100, 400), (5, 100, 400)]


def test_drawer_kick_follows_profile() -> None:
    profile = get_profile(
        "generic-58", {"drawer_pins": [2], "drawer_on_ms": 50, "drawer_off_ms": 50}
    )
    assert render_drawer_kick(profile).data == b"\x1b=\x01\x1bp\x00\x19\x19"


def test_text_ticket(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    job = render_text_ticket(
        ["Adresse IP : 192.168.1.20", "Imprimante : prête", "multi\nline", "日"],
        get_profile("generic-80"),
        title="posboxless — état",
    )
    assert job.kind == "ticket"
    assert job.data.startswith(b"\x1b@\x1bt\x10\x1bR\x00")
    doc = decode(job.data)
    assert doc.text().split("\n") == [
        "posboxless — état",
        "",
        "Adresse IP : 192.168.1.20",
        "Imprimante : prête",
        "multi",
        "line",
        "?",
    ]
    title = doc.lines[0]
    assert title.bold and title.align == "center" and title.style.width == 2
    assert not doc.lines[2].bold and doc.lines[2].align == "left"
    assert doc.cuts == ["full"]
    assert len(job.warnings) == 1 and "U+65E5" in job.warnings[0]
    assert any("U+65E5" in w for w in job.warnings)


def test_text_ticket_without_title() -> None:
    job = render_text_ticket(["a"], get_profile("TM-T20III"))
    assert decode(job.data).text() == "a" and job.warnings == ()
