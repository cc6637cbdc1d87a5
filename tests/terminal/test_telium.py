"""The Telium core byte for byte against payment-terminal.md §B (framing, LRC, the 34-character
request, the 25/80-character answer) and its session state machine, on a fake clock."""

from __future__ import annotations

import functools
import operator
from decimal import Decimal

import pytest

from posboxless.terminal import telium
from posboxless.terminal.telium import ACK, ENQ, EOT, ETX, NAK, STX, Ending, Phase, Session

# §B3's example: 12.50 EUR card -> 01 00001250 0 1 0 978 ␠×10 A011 B010 (PPT sends answer flag 0)
SPEC_EXAMPLE = b"0100001250010978" + b" " * 10 + b"A011B010"


def xor(data: bytes) -> int:
    return functools.reduce(operator.xor, data, 0)


def test_control_bytes_are_the_spec_values() -> None:
    assert (STX, ETX, EOT, ENQ, ACK, NAK) == (0x02, 0x03, 0x04, 0x05, 0x06, 0x15)


def test_spec_example_request_is_34_characters_byte_for_byte() -> None:
    request = telium.PaymentRequest(amount=1250, full_answer=False, delay="A011").encode()
    assert request == SPEC_EXAMPLE
    assert len(request) == 34
    # offsets of §B3
    assert request[0:2] == b"01" and request[2:10] == b"00001250" and request[10:11] == b"0"
    assert request[11:12] == b"1" and request[12:13] == b"0" and request[13:16] == b"978"
    assert request[16:26] == b" " * 10 and request[26:30] == b"A011" and request[30:34] == b"B010"


def test_frame_is_stx_message_etx_lrc_with_lrc_over_message_and_etx() -> None:
    framed = telium.frame(SPEC_EXAMPLE)
    assert framed[0] == 0x02 and framed[-2] == 0x03
    assert framed[1:-2] == SPEC_EXAMPLE
    assert framed[-1] == xor(SPEC_EXAMPLE + b"\x03")  # STX excluded
    assert framed[-1] != xor(b"\x02" + SPEC_EXAMPLE + b"\x03")
    # worked by hand: "01" -> 0x30^0x31^0x03 = 0x02
    assert telium.lrc(b"01") == 0x02
    assert telium.frame(b"01") == b"\x0201\x03\x02"


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        (12.5, "EUR", 1250),
        (68.32000000000001, "EUR", 6832),  # float noise from the POS (ODT comment)
        (0.01, "EUR", 1),
        (99999.99, "EUR", 9999999),
        ("7", "USD", 700),
        (1500, "XPF", 1500),
        (1.234, "TND", 1234),
    ],
)
def test_amounts_become_minor_units(amount: object, currency: str, minor: int) -> None:
    assert telium.to_minor_units(amount, currency) == minor  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "amount", [0, -1, -0.01, 12.505, float("nan"), float("inf"), "abc", 1_000_000.0]
)
def test_impossible_amounts_are_refused(amount: object) -> None:
    with pytest.raises(telium.AmountError):
        telium.to_minor_units(amount, "EUR")  # type: ignore[arg-type]


def test_unknown_currency_is_refused() -> None:
    with pytest.raises(telium.AmountError):
        telium.to_minor_units(1, "XXX")


def test_request_fields_card_cheque_currency_and_options() -> None:
    cheque = telium.PaymentRequest(amount=4200, currency=840, mode="C").encode()
    assert cheque == b"01000042001C0840" + b" " * 10 + b"A010B010"
    forced = telium.PaymentRequest(amount=1, pos_number="07", authorisation="B011").encode()
    assert forced.startswith(b"0700000001") and forced.endswith(b"A010B011")
    decoded = telium.PaymentRequest.decode(cheque)
    assert decoded == telium.PaymentRequest(amount=4200, currency=840, mode="C")


@pytest.mark.parametrize(
    "changes",
    [
        {"amount": 0},
        {"amount": 100_000_000},
        {"pos_number": "1"},
        {"pos_number": "ab"},
        {"currency": 1000},
        {"mode": "CC"},
        {"delay": "A012"},
        {"authorisation": "B012"},
        {"private": "short"},
    ],
)
def test_request_refuses_values_it_cannot_carry(changes: dict[str, object]) -> None:
    with pytest.raises(telium.TeliumError):
        telium.PaymentRequest(**{"amount": 100, **changes}).encode()  # type: ignore[arg-type]


SHORT_ANSWER = b"010000012501978" + b" " * 10
REPORT = b"4970101122334455 1225 CB".ljust(55)
FULL_ANSWER = b"017000012501" + REPORT + b"978" + b" " * 10


def test_short_answer_25_characters() -> None:
    assert len(SHORT_ANSWER) == 25
    answer = telium.parse_answer(SHORT_ANSWER)
    assert (answer.pos_number, answer.result, answer.amount, answer.mode) == ("01", "0", 1250, "1")
    assert (answer.currency, answer.private, answer.report) == (978, " " * 10, None)
    assert answer.outcome == "accepted"
    assert answer.masked_card is None
    assert answer.encode() == SHORT_ANSWER
    assert len(telium.frame(SHORT_ANSWER)) == 28  # §B4: STX + 25 + ETX + LRC


def test_full_answer_80_characters_with_masked_card() -> None:
    assert len(FULL_ANSWER) == 80
    answer = telium.parse_answer(FULL_ANSWER)
    assert answer.outcome == "refused"
    assert answer.report == REPORT.decode()
    assert answer.currency == 978
    assert answer.masked_card == "************4455"
    assert "4970101122334455" not in repr(answer.masked_card)
    assert answer.encode() == FULL_ANSWER
    assert len(telium.frame(FULL_ANSWER)) == 83


@pytest.mark.parametrize(
    ("code", "outcome"),
    [("0", "accepted"), ("7", "refused"), ("9", "not_verified"), ("5", "unknown_code")],
)
def test_result_codes(code: str, outcome: str) -> None:
    answer = telium.parse_answer(SHORT_ANSWER[:2] + code.encode() + SHORT_ANSWER[3:])
    assert answer.outcome == outcome


@pytest.mark.parametrize(
    "message",
    [
        SHORT_ANSWER[:-1],
        SHORT_ANSWER + b" ",
        b"0100000X2501978" + b" " * 10,
        b"010+00012501978" + b" " * 10,
        b"\xff" * 25,
    ],
)
def test_malformed_answers_raise(message: bytes) -> None:
    with pytest.raises(telium.FrameError):
        telium.parse_answer(message)


def test_frame_reader_skips_noise_checks_lrc_and_keeps_the_rest() -> None:
    reader = telium.FrameReader()
    framed = telium.frame(SHORT_ANSWER)
    assert reader.feed(b"\x00\xff" + framed[:10]) == (None, b"")
    assert reader.partial
    message, rest = reader.feed(framed[10:] + b"\x04")
    assert message == SHORT_ANSWER and rest == b"\x04"
    assert reader.skipped == 2
    bad = framed[:-1] + bytes([framed[-1] ^ 0x01])
    with pytest.raises(telium.FrameError, match="LRC"):
        reader.feed(bad)
    with pytest.raises(telium.FrameError, match="longer"):
        telium.FrameReader(max_length=5).feed(b"\x02" + b"x" * 20)


# ---- the session, on a fake clock ---------------------------------------------------------------

TIMING = telium.Timing(byte_timeout=3, answer_timeout=150, enq_retries=2, retry_pause=1,
                       request_retries=2, answer_retries=2)  # fmt: skip
REQUEST = telium.PaymentRequest(amount=1250).encode()


def answered(session: Session, now: float = 20.0) -> None:
    assert session.receive(bytes([ENQ]), now) == bytes([ACK])
    assert session.phase is Phase.RECEIVING
    assert session.receive(telium.frame(FULL_ANSWER), now) == bytes([ACK])
    assert session.phase is Phase.CLOSING
    assert session.receive(bytes([EOT]), now) == b""


def test_session_happy_path_bytes_in_order() -> None:
    session = Session(REQUEST, TIMING)
    assert session.start(0.0) == bytes([ENQ])
    assert session.phase is Phase.CONNECTING and session.deadline == 3.0
    assert session.receive(bytes([ACK]), 0.1) == telium.frame(REQUEST)
    assert session.phase is Phase.SENDING
    assert session.receive(bytes([ACK]), 0.2) == bytes([EOT])
    assert session.phase is Phase.WAITING_CARD and session.deadline == 150.2
    assert session.tick(100.0) == b""  # before the deadline nothing happens
    answered(session)
    assert session.done and session.ending is Ending.ANSWERED
    assert session.answer is not None and session.answer.outcome == "refused"
    assert not session.missing_eot


def test_session_retries_enq_with_eot_and_pause_then_gives_up_not_sent() -> None:
    session = Session(REQUEST, TIMING)
    sent = [session.start(0.0)]
    now = 0.0
    while not session.done:
        now = session.deadline
        sent.append(session.tick(now))
    # ENQ, (EOT, pause, ENQ) x 2 retries, then EOT: three ENQs in all, never the request
    assert sent == [b"\x05", b"\x04", b"\x05", b"\x04", b"\x05", b"\x04"]
    assert session.ending is Ending.NOT_SENT
    assert now == 3 + 1 + 3 + 1 + 3


def test_session_ack_after_a_retry_proceeds() -> None:
    session = Session(REQUEST, TIMING)
    session.start(0.0)
    assert session.tick(3.0) == bytes([EOT])
    assert session.receive(bytes([ACK]), 3.5) == b""  # a late ACK during the pause is ignored
    assert session.tick(4.0) == bytes([ENQ])
    assert session.receive(bytes([ACK]), 4.1) == telium.frame(REQUEST)


def test_nak_on_request_resends_then_gives_up_not_sent() -> None:
    session = Session(REQUEST, TIMING)
    session.start(0.0)
    session.receive(bytes([ACK]), 0.0)
    assert session.receive(bytes([NAK]), 0.1) == telium.frame(REQUEST)
    assert session.receive(bytes([NAK]), 0.2) == telium.frame(REQUEST)
    assert session.receive(bytes([NAK]), 0.3) == bytes([EOT])
    assert session.ending is Ending.NOT_SENT


def test_silence_after_the_request_is_unknown_never_not_sent() -> None:
    session = Session(REQUEST, TIMING)
    session.start(0.0)
    session.receive(bytes([ACK]), 0.0)
    session.tick(3.0)
    assert session.ending is Ending.UNKNOWN  # the terminal may have the request


def test_no_answer_within_answer_timeout_is_unknown() -> None:
    session = Session(REQUEST, TIMING)
    session.start(0.0)
    session.receive(bytes([ACK, ACK]), 0.0)
    assert session.phase is Phase.WAITING_CARD
    assert session.receive(b"\x00garbage", 10.0) == b""  # noise while waiting is ignored
    session.tick(150.0)
    assert session.ending is Ending.UNKNOWN and "150" in session.reason


def test_bad_answer_frame_is_naked_then_accepted_when_resent() -> None:
    session = Session(REQUEST, TIMING)
    session.start(0.0)
    session.receive(bytes([ACK, ACK]), 0.0)
    session.receive(bytes([ENQ]), 5.0)
    good = telium.frame(SHORT_ANSWER)
    assert session.receive(good[:-1] + bytes([good[-1] ^ 0xFF]), 5.1) == bytes([NAK])
    assert session.receive(good, 5.2) == bytes([ACK])
    assert session.receive(bytes([EOT]), 5.3) == b""
    assert session.ending is Ending.ANSWERED and session.answer is not None


def test_answer_cut_mid_frame_is_naked_then_unknown() -> None:
    session = Session(REQUEST, TIMING)
    session.start(0.0)
    session.receive(bytes([ACK, ACK]), 0.0)
    session.receive(bytes([ENQ]), 5.0)
    session.receive(telium.frame(FULL_ANSWER)[:40], 5.1)
    assert session.tick(8.1) == bytes([NAK])  # asks for it again
    assert session.tick(11.1) == bytes([NAK])
    assert session.tick(14.1) == b""
    assert session.ending is Ending.UNKNOWN


def test_missing_final_eot_keeps_the_checked_answer() -> None:
    session = Session(REQUEST, TIMING)
    session.start(0.0)
    session.receive(bytes([ACK, ACK, ENQ]), 0.0)
    session.receive(telium.frame(SHORT_ANSWER), 1.0)
    session.tick(4.0)
    assert session.ending is Ending.ANSWERED and session.missing_eot


def test_repeated_enq_and_bytes_in_one_read() -> None:
    session = Session(REQUEST, TIMING)
    session.start(0.0)
    out = session.receive(bytes([ACK]), 0.0)
    assert out == telium.frame(REQUEST)
    out = session.receive(bytes([ACK, ENQ, ENQ]) + telium.frame(SHORT_ANSWER) + bytes([EOT]), 1)
    assert out == bytes([EOT, ACK, ACK, ACK])
    assert session.ending is Ending.ANSWERED


def test_listen_collects_a_late_answer() -> None:
    session = Session(REQUEST, TIMING)
    assert session.listen(0.0, 60) == b""
    assert session.phase is Phase.WAITING_CARD and session.deadline == 60
    answered(session)
    assert session.ending is Ending.ANSWERED


def test_decimal_amount_formatting() -> None:
    assert telium.format_amount(1250, "EUR") == "12.50 EUR"
    assert telium.format_amount(1500, "XPF") == "1500 XPF"
    assert telium.to_minor_units(Decimal("0.10"), "EUR") == 10


def test_noise_instead_of_the_answer_does_not_hold_the_session_open() -> None:
    session = Session(REQUEST, TIMING)
    session.start(0.0)
    session.receive(bytes([ACK, ACK, ENQ]), 0.0)
    for t in range(1, 30):  # a terminal spewing bytes that never start a frame
        session.receive(b"\x7f\xfe?!", t / 10)
    assert session.deadline == 3.0
    assert session.tick(3.0) == bytes([NAK])
