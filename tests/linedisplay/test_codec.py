"""The sans-I/O parts: command sets, fitting and encoding, and the emulator the simulator uses."""

from __future__ import annotations

import pytest

from posboxless.linedisplay import commands
from posboxless.linedisplay.commands import CommandError
from posboxless.linedisplay.emulator import DisplayEmulator
from posboxless.linedisplay.text import Layout, fit


def test_fit_pads_and_cuts_keeping_the_amount() -> None:
    assert fit("Total", 20) == "Total" + " " * 15
    assert fit("Very long product name here  12.50", 20) == "Very long prod 12.50"
    assert fit("Very long product name without amount", 20) == "Very long product na"
    assert fit("A  " + "9" * 25, 20) == "A  " + "9" * 17
    assert fit("Short   12.50   ", 20) == "Short   12.50" + " " * 7


@pytest.mark.parametrize(
    ("code_table", "shown", "replaced"),
    [
        (19, "Crème brûlée à ç € oeuf", ("œ",)),  # PC858: no œ
        (16, "Crème brûlée à ç € œuf", ()),  # WPC1252: all of French
        (0, "Crème brûlée à ç EUR oeuf", ("€", "œ")),  # PC437: accents, no euro
        (None, "Creme brulee a c EUR oeuf", ("è", "û", "é", "à", "ç", "€", "œ")),
    ],
)
def test_french_text_per_code_table(
    code_table: int | None, shown: str, replaced: tuple[str, ...]
) -> None:
    layout = Layout(width=30, code_table=code_table)
    for _ in range(2):  # the second time from what the layout remembers of each character
        screen = layout.screen(["Crème brûlée à ç € œuf"])
        assert screen.text[0].rstrip() == shown
        assert screen.replaced == replaced
        assert screen.data[0] == screen.text[0].encode(layout.codec)
        assert len(screen.data[0]) == 30


def test_control_characters_never_reach_the_display() -> None:
    screen = Layout().screen(["a\x1b@b\x0c\tc", "\x00"])
    assert screen.text == ("a?@b? c".ljust(20), "?".ljust(20))
    assert b"\x1b" not in b"".join(screen.data)


def test_french_character_set_cannot_show_remapped_ascii() -> None:
    layout = Layout(code_table=19, international="france")
    assert layout.screen(["mail shop 1"]).text[0].rstrip() == "mail shop 1"
    screen = layout.screen(["mail@shop {1} | ~"])
    assert screen.text[0].rstrip() == "mailashop (1) ! -"
    emulator = DisplayEmulator("aures")
    emulator.feed(commands.PROFILES["aures"].opening())
    emulator.feed(commands.PROFILES["aures"].message(list(screen.data)))
    assert emulator.lines[0].rstrip() == "mailashop (1) ! -"


def test_epson_frame_bytes() -> None:
    frame = commands.PROFILES["epson"].message([b"A" * 20, b"B" * 20])
    assert frame == (
        b"\x1f\x43\x00\x1b\x74\x13\x0c\x1f\x24\x01\x01"
        + b"A" * 20
        + b"\x1f\x24\x01\x02"
        + b"B" * 20
    )
    cd5220 = commands.profile("bixolon", goto="cd5220").message([b"A" * 20, b"B" * 20])
    assert b"\x1b\x6c\x01\x02" + b"B" * 20 in cd5220
    with pytest.raises(CommandError):
        commands.PROFILES["epson"].message([b"short", b"B" * 20])


def test_emulator_aures_before_setup_shows_garbage() -> None:
    emulator = DisplayEmulator("aures")
    emulator.feed(commands.PROFILES["aures"].message([b"Hello".ljust(20), b" " * 20]))
    assert emulator.lines != ["Hello".ljust(20), " " * 20]
    assert emulator.unknown


def test_emulator_epson_commands() -> None:
    emulator = DisplayEmulator("epson")
    emulator.feed(b"\x1b\x74\x13\x1f\x24\x03\x02\x82t\xd5\x0bX\x1f\x43")
    assert emulator.lines == ["X" + " " * 19, "  ét€" + " " * 15]
    emulator.feed(b"\x00")  # the rest of US C arrives later
    assert emulator.state.cursor_visible is False
    emulator.feed(b"\x0c" + b"x" * 41)  # overwrite mode wraps to the top left
    assert emulator.lines == ["x" * 20, "x" * 20]
    emulator.feed(b"\x1b\x40")
    assert emulator.lines == [" " * 20, " " * 20] and emulator.state.code_table == 0
    emulator.feed(b"\x1b\x6c\x01\x01")  # not an Epson command
    assert emulator.unknown[0] == b"\x1b\x6c"


def test_emulator_pass_through_selects_the_display() -> None:
    emulator = DisplayEmulator("epson")
    emulator.feed(b"\x1b\x3d\x01printer data\x1b\x3d\x02shown")
    assert emulator.lines[0].rstrip() == "shown"
