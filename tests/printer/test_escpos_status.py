"""DLE EOT status queries and the pure decoding of their answers."""

from __future__ import annotations

import pytest

from posboxless.printer.escpos import (
    STATUS_QUERIES,
    PrinterState,
    StatusDecodeError,
    decode_asb,
    decode_status,
    is_asb_header,
    is_status_answer,
)
from posboxless.printer.escpos.status import count_status_queries
from posboxless.printer.simulator import SimulatedPrinter

OK = [0x12, 0x12, 0x12, 0x12]


def test_queries() -> None:
    assert STATUS_QUERIES == (b"\x10\x04\x01", b"\x10\x04\x02", b"\x10\x04\x03", b"\x10\x04\x04")


def test_all_fine() -> None:
    state = decode_status(OK)
    assert state == PrinterState(
        online=True,
        cover_open=False,
        paper_near_end=False,
        paper_out=False,
        drawer_pin3_high=False,
        error=None,
    )
    assert state.messages() == []


@pytest.mark.parametrize(
    ("answers", "field", "messages"),
    [
        ([0x1A, 0x12, 0x12, 0x12], "online", ["Printer offline"]),
        ([0x1A, 0x16, 0x12, 0x12], "cover_open", ["Cover open"]),
        ([0x12, 0x12, 0x12, 0x1E], "paper_near_end", ["Paper near end"]),
        ([0x1A, 0x32, 0x12, 0x72], "paper_out", ["Paper out"]),
        ([0x16, 0x12, 0x12, 0x12], "drawer_pin3_high", []),
    ],
)
def test_single_conditions(answers: list[int], field: str, messages: list[str]) -> None:
    state = decode_status(answers)
    expected = field != "online"
    assert getattr(state, field) is expected
    assert state.messages() == messages


def test_paper_out_with_near_end_only_reports_paper_out() -> None:
    state = decode_status([0x1A, 0x32, 0x12, 0x7E])
    assert state.paper_out and state.paper_near_end
    assert state.messages() == ["Paper out"]


@pytest.mark.parametrize(
    ("error_byte", "words"),
    [(0x1A, "cutter"), (0x32, "restart"), (0x52, "overheated"), (0x16, "mechanism")],
)
def test_error_causes(error_byte: int, words: str) -> None:
    state = decode_status([0x1A, 0x52, error_byte, 0x12])
    assert state.error is not None and words in state.error
    assert state.messages() == [state.error]


def test_generic_error_from_offline_cause() -> None:
    assert decode_status([0x1A, 0x52, 0x12, 0x12]).error == "Printer error"


def test_cover_open_and_paper_out_together() -> None:
    assert decode_status([0x1A, 0x36, 0x12, 0x72]).messages() == ["Cover open", "Paper out"]


@pytest.mark.parametrize(
    "answers",
    [
        [0x12] * 3,
        [0x12] * 5,
        [0x12, 0x10, 0x12, 0x12],
        [0x12, 0x12, 0x12, 0x13],
        [0x12, 0x12, 0x12, 0x92],
    ],
)
def test_rejects_bytes_that_are_not_answers(answers: list[int]) -> None:
    with pytest.raises(StatusDecodeError):
        decode_status(answers)


def test_answer_vs_asb_bit_patterns() -> None:
    answers = [b for b in range(256) if is_status_answer(b)]
    headers = [b for b in range(256) if is_asb_header(b)]
    assert 0x12 in answers and 0x1E in answers and 0x72 in answers
    assert 0x10 in headers and 0x14 in headers and 0x38 in headers
    assert not set(answers) & set(headers)
    assert len(answers) == len(headers) == 16
    assert not is_status_answer(0x00) and not is_status_answer(0xFF)


def test_asb_frame() -> None:
    state = decode_asb([0x10 | 0x20 | 0x08, 0x08, 0x0C, 0x00])
    assert state.cover_open and not state.online and state.paper_out
    assert state.error is not None and "cutter" in state.error
    assert decode_asb([0x10, 0, 0x03, 0]).paper_near_end
    with pytest.raises(StatusDecodeError):
        decode_asb([0x12, 0, 0, 0])


@pytest.mark.parametrize(
    ("data", "count"),
    [
        (b"", 0),
        (b"\x10\x04\x01\x10\x04\x02\x10\x04\x03\x10\x04\x04", 4),
        (b"\x1dv0\x00\x48\x00\x10\x00" + b"\x00\x10\x04\x03\xff" * 3, 3),  # inside raster data
        (b"\x10\x04\x00\x10\x04\x05\x10\x04", 0),  # n outside 1..4; a cut-off pattern
        (b"\x10\x04\x10\x04\x01", 1),  # the bad n byte starts a real query
        (b"\x10\x10\x04\x02", 1),
    ],
)
def test_count_status_queries_follows_the_printer(data: bytes, count: int) -> None:
    assert count_status_queries(data) == count
    printer = SimulatedPrinter()  # the simulator's own scan agrees, even fed byte by byte
    assert len(b"".join(printer.feed(data[i : i + 1]) for i in range(len(data)))) == count
