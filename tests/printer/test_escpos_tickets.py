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


def test_text_ticket_breaks_long_lines_between_words() -> None:
    profile = get_profile("generic-80")  # 48 columns
    warning = (
        "Warning: Any web page open on this computer may print and open the cash drawer: set "
        "server.allowed_origins to your Odoo address(es) in the configuration."
    )
    doc = decode(render_text_ticket(["  indented", warning], profile).data)
    lines = doc.text().split("\n")
    assert lines[0] == "  indented"
    assert all(len(line) <= profile.columns for line in lines)
    assert " ".join(lines[1:]) == warning  # no word cut in two, nothing lost
    assert len(lines) > 3


def test_preview_wraps_a_full_line_like_the_printer() -> None:
    # A printer whose line buffer is full prints it and goes on on the next row.
    long = decode(b"\x1b@" + b"A" * 60 + b"\n" + b"\x1b!\x20" + b"B" * 30 + b"\n").render(576)
    rows = decode(
        b"\x1b@" + b"A" * 48 + b"\n" + b"A" * 12 + b"\n"
        b"\x1b!\x20" + b"B" * 24 + b"\n" + b"B" * 6 + b"\n"
    ).render(576)
    assert long.size == rows.size
    assert long.tobytes() == rows.tobytes()
