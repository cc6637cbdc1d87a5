"""``ESC = n`` (a customer display wired through the printer): the decoder and the simulated
printer send the display's bytes to the display, never to the paper."""

from __future__ import annotations

import pytest

from posboxless.printer.escpos import EscPosDecoder
from posboxless.printer.simulator import SimulatedPrinter

SELECT_DISPLAY = b"\x1b=\x02"
SELECT_PRINTER = b"\x1b=\x01"
FRAME = b"\x1f\x43\x00\x1bt\x13\x0c\x1f\x24\x01\x01Caf\x82 cr\x8ame     2,50\x1f\x24\x01\x02" + (
    b"TOTAL" + b" " * 15
)


def decoded(data: bytes) -> EscPosDecoder:
    decoder = EscPosDecoder()
    decoder.feed(data)
    return decoder


def test_bytes_for_the_display_are_not_printed() -> None:
    stream = b"\x1b@Hello\n" + SELECT_DISPLAY + FRAME + SELECT_PRINTER + b"World\n"
    doc = decoded(stream).document
    assert doc.text() == "Hello\nWorld"
    assert bytes(doc.display_data) == SELECT_DISPLAY + FRAME + SELECT_PRINTER


def test_a_deselected_printer_ignores_commands_but_answers_status_queries() -> None:
    # ESC @ and a cut while the display is selected are the display's, not the printer's
    decoder = decoded(SELECT_DISPLAY + b"\x1b@\x1dV\x00abc\x10\x04\x01" + SELECT_PRINTER)
    doc = decoder.document
    assert doc.initialisations == 0 and doc.cuts == [] and doc.text() == ""
    assert decoder.pending_status_queries() == [1]


def test_selection_split_across_reads() -> None:
    decoder = EscPosDecoder()
    stream = b"A\n" + SELECT_DISPLAY + b"xyz" + SELECT_PRINTER + b"B\n"
    for byte in stream:
        decoder.feed(bytes([byte]))
    assert decoder.document.text() == "A\nB"
    assert bytes(decoder.document.display_data) == SELECT_DISPLAY + b"xyz" + SELECT_PRINTER


def test_both_selected_print_and_display() -> None:
    doc = decoded(b"\x1b=\x03Hi\n\x1b=\x01").document
    assert doc.text() == "Hi"
    assert bytes(doc.display_data) == b"\x1b=\x03Hi\n\x1b=\x01"


def test_simulated_printer_shows_the_display_bytes_on_its_display() -> None:
    printer = SimulatedPrinter()
    answers = printer.feed(
        b"\x1b@Paper\n" + SELECT_DISPLAY + FRAME + SELECT_PRINTER + b"\x10\x04\x01"
    )
    assert answers == b"\x12"
    assert printer.display_lines == ["Café crème     2,50 ", "TOTAL" + " " * 15]
    assert printer.printer_selected
    assert printer.document().text() == "Paper"


def test_simulated_printer_follows_selection_split_in_single_bytes() -> None:
    printer = SimulatedPrinter()
    for byte in SELECT_DISPLAY + FRAME + SELECT_PRINTER:
        printer.feed(bytes([byte]))
    assert printer.display_lines == ["Café crème     2,50 ", "TOTAL" + " " * 15]


def test_esc_equals_inside_image_data_selects_nothing() -> None:
    printer = SimulatedPrinter()
    image = b"\x1dv0\x00\x04\x00\x01\x00" + SELECT_DISPLAY + b"\x00"  # 4 bytes of raster data
    printer.feed(image + b"\x1b@Text\n")
    assert printer.printer_selected
    assert printer.display_bytes == 0
    assert printer.document().text() == "Text"


def test_deselected_printer_keeps_answering_and_stays_deselected_across_a_new_connection() -> None:
    printer = SimulatedPrinter()
    printer.feed(SELECT_DISPLAY + b"\x0cHi")
    printer.reset_stream()  # the link was cut after ESC = 2: the printer still ignores data
    assert printer.feed(b"\x10\x04\x01") == b"\x12"
    assert not printer.printer_selected
    printer.feed(b"\x1b@Lost\n" + SELECT_PRINTER + b"\x1b@Kept\n")
    assert printer.document().text() == "Kept"


def test_frames_holding_what_the_printer_acts_on_are_refused() -> None:
    from posboxless.printer.display_port import DisplayChannel, frame_problem

    assert frame_problem(FRAME) is None
    assert frame_problem(b"\x1bt\x10\x0c") is None  # ESC t 16: a 10 byte, no real-time command
    for bad in (b"a\x10\x04\x01", b"\x10\x14\x01\x00\x01", b"\x10\x05\x02", b"x\x1b=\x01y"):
        assert frame_problem(bad) is not None, bad
    channel = DisplayChannel()
    try:
        channel.offer(b"\x10\x04\x01")
    except ValueError as exc:
        assert "real-time" in str(exc)
    else:
        raise AssertionError("a frame with DLE EOT was taken")
    assert not channel.attached and channel.due() is None


def test_the_channel_keeps_only_the_newest_frame_and_rewrites_it_after_a_reconnection() -> None:
    from posboxless.printer.display_port import DisplayChannel

    channel = DisplayChannel()
    for n in range(100):
        channel.offer(b"screen %d" % n)
    due = channel.due()
    assert due == (100, SELECT_DISPLAY + b"screen 99" + SELECT_PRINTER)
    assert channel.collapsed == 99
    channel.done(100)
    assert channel.due() is None and channel.written == 100
    channel.reconnected()
    assert channel.due() == due


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_frame_is_due_once_the_previous_one_has_crossed_the_display_line() -> None:
    from posboxless.printer.display_port import DisplayChannel

    clock = Clock()
    channel = DisplayChannel(clock=clock)
    number, wake = channel.submit(b"x" * 48, baudrate=4800)  # 48 bytes at 4800 baud: 0.1 s
    assert wake and channel.wait_time() == 0.0
    taken = channel.due()
    assert taken == (number, SELECT_DISPLAY + b"x" * 48 + SELECT_PRINTER)
    channel.done(number)
    assert channel.wait_time() is None  # nothing waits: the worker sleeps until its poll
    # the next message wakes the worker, which learns how long the line is still busy
    _, wake = channel.submit(b"second", baudrate=4800)
    assert wake and channel.due() is None
    assert channel.wait_time() == pytest.approx(0.1)
    # the rest of the burst neither wakes the worker nor goes out before its time
    for n in range(50):
        clock.now += 0.001
        newest, wake = channel.submit(b"screen %d" % n, baudrate=4800)
        assert not wake and channel.due() is None
    assert channel.wait_time() == pytest.approx(0.05)
    clock.now += 0.0501
    assert channel.due() == (newest, SELECT_DISPLAY + b"screen 49" + SELECT_PRINTER)
    assert channel.collapsed == 50  # "second" and 49 of the burst were never written
    channel.done(newest)
    assert channel.due() is None and channel.written == newest
    # the size of the frame written ("screen 49": 9 bytes) sets the next pause
    channel.submit(b"last", baudrate=4800)
    assert channel.wait_time() == pytest.approx(9 * 10 / 4800)


def test_a_message_after_a_quiet_spell_wakes_the_worker_and_is_due_at_once() -> None:
    from posboxless.printer.display_port import DisplayChannel

    clock = Clock()
    channel = DisplayChannel(clock=clock)
    number, _ = channel.submit(b"a" * 96, baudrate=9600)
    assert channel.due() is not None
    channel.done(number)
    clock.now += 0.1001  # 96 bytes at 9600 baud: 0.1 s of line
    number, wake = channel.submit(b"b", baudrate=9600)
    assert wake and channel.wait_time() == 0.0 and channel.due() is not None


def test_a_reconnection_makes_the_current_frame_due_at_once() -> None:
    from posboxless.printer.display_port import DisplayChannel

    clock = Clock()
    channel = DisplayChannel(clock=clock)
    number, _ = channel.submit(b"z" * 1200, baudrate=1200)  # 10 s of line
    assert channel.due() is not None
    channel.done(number)
    channel.submit(b"newer", baudrate=1200)
    assert channel.due() is None
    channel.reconnected()  # a new link: the display may show nothing; do not wait
    assert channel.wait_time() == 0.0
    assert channel.due() == (2, SELECT_DISPLAY + b"newer" + SELECT_PRINTER)


def test_a_baud_rate_must_be_positive() -> None:
    from posboxless.printer.display_port import DisplayChannel

    with pytest.raises(ValueError, match="baud"):
        DisplayChannel().submit(b"x", baudrate=0)
