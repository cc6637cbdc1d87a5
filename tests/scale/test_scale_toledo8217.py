"""The sans-I/O Toledo 8217 codec: every status character, weights, garbage, chunking."""

from __future__ import annotations

import random

import pytest

from posboxless.scale import toledo8217 as t
from posboxless.scale.toledo8217 import StatusFlags as F

BIT_NAMES = [
    "moving",
    "over_capacity",
    "negative",
    "outside_zero_capture_range",
    "center_of_zero",
    "net_weight",
]


def parse_all(data: bytes) -> list[t.Answer]:
    return t.AnswerParser().feed(data)


@pytest.mark.parametrize("char", range(0x40, 0x80))
@pytest.mark.parametrize("parity", [False, True])
def test_every_status_character_decodes_bit_by_bit(char: int, parity: bool) -> None:
    byte = char | (0x80 if parity else 0)
    frames = parse_all(bytes((t.STX, ord("?"), byte, t.CR)))
    assert frames == [t.StatusFrame(F(char & 0x3F))]
    expected = [name for bit, name in enumerate(BIT_NAMES) if char & (1 << bit)]
    assert t.flag_names(t.decode_status(byte)) == expected


@pytest.mark.parametrize(
    ("frame", "flags", "names"),
    [
        (b"\x02?@\r", F.NONE, []),
        (b"\x02?A\r", F.MOTION, ["moving"]),
        (b"\x02?B\r", F.OVER_CAPACITY, ["over_capacity"]),
        (b"\x02?D\r", F.UNDER_ZERO, ["negative"]),
        (b"\x02?H\r", F.OUTSIDE_ZERO_RANGE, ["outside_zero_capture_range"]),
        (b"\x02?P\r", F.CENTER_OF_ZERO, ["center_of_zero"]),
        (b"\x02?`\r", F.NET, ["net_weight"]),
        (b"\x02?C\r", F.MOTION | F.OVER_CAPACITY, ["moving", "over_capacity"]),
        (b"\x02?e\r", F.MOTION | F.UNDER_ZERO | F.NET, ["moving", "negative", "net_weight"]),
        (b"\x02?\xc1\r", F.MOTION, ["moving"]),  # parity bit set
    ],
)
def test_named_status_characters(frame: bytes, flags: F, names: list[str]) -> None:
    [answer] = parse_all(frame)
    assert isinstance(answer, t.StatusFrame)
    assert answer.flags == flags
    assert t.flag_names(answer.flags) == names


def test_under_zero_is_bit_2_not_bits_0_and_1() -> None:
    # odoo-driver's defect: it read '?C' (motion + over capacity) as under zero
    assert t.flag_names(t.decode_status(ord("C"))) == ["moving", "over_capacity"]
    assert t.flag_names(t.decode_status(ord("D"))) == ["negative"]


@pytest.mark.parametrize("flags", [F(v) for v in range(64)])
def test_status_encoding_round_trips(flags: F) -> None:
    for parity in (False, True):
        assert parse_all(t.encode_status(flags, parity_bit=parity)) == [t.StatusFrame(flags)]


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (b"\x0201.234\r", t.WeightFrame(1.234, "kg", False)),
        (b"\x0201.234N\r", t.WeightFrame(1.234, "kg", True)),
        (b"\x0200.000\r", t.WeightFrame(0.0, "kg", False)),
        (b"\x02 1.500\r", t.WeightFrame(1.5, "kg", False)),
        (b"\x02123.456\r", t.WeightFrame(123.456, "kg", False)),
        (b"\x0202.50\r", t.WeightFrame(2.5, "lb", False)),
        (b"\x0202.50N\r", t.WeightFrame(2.5, "lb", True)),
    ],
)
def test_weight_frames(frame: bytes, expected: t.WeightFrame) -> None:
    assert parse_all(frame) == [expected]


def test_pounds_are_converted_to_kilograms() -> None:
    assert t.WeightFrame(2.5, "lb", False).kilograms == 1.134
    assert t.WeightFrame(1.234, "kg", True).kilograms == 1.234


@pytest.mark.parametrize("kg", [0.0, 0.005, 1.234, 7.5, 14.999])
def test_encoded_weights_parse_back(kg: float) -> None:
    assert parse_all(t.encode_weight(kg)) == [t.WeightFrame(kg, "kg", False)]
    assert parse_all(t.encode_weight(kg, net=True)) == [t.WeightFrame(kg, "kg", True)]


def test_encoded_weight_is_what_odoo_expects() -> None:
    assert t.encode_weight(1.234) == b"\x0201.234\r"
    assert t.encode_weight(1.234, net=True) == b"\x0201.234N\r"
    assert t.encode_status(F.MOTION) == b"\x02?A\r"


def test_echo_start_frame() -> None:
    assert parse_all(b"\x02E\r") == [t.EchoStartFrame()]


GOOD = [b"\x0201.234\r", b"\x02?A\r", b"\x0200.500N\r", b"\x02?@\r"]
EXPECTED = [
    t.WeightFrame(1.234, "kg", False),
    t.StatusFrame(F.MOTION),
    t.WeightFrame(0.5, "kg", True),
    t.StatusFrame(F.NONE),
]


@pytest.mark.parametrize(
    "garbage",
    [
        b"xyz",
        b"\r\r\n",
        b"\x02",  # a lone STX: a cut frame
        b"\x0201.2",  # a frame cut before its CR
        b"\x02??\r",  # not a status
        b"\x02abc\r",
        b"\x02" + b"9" * 40,  # STX followed by a flood
        b"\x00\xff\x80\x7f",
        b"\x02?\r",
    ],
)
def test_resynchronises_on_garbage(garbage: bytes) -> None:
    parser = t.AnswerParser()
    frames = parser.feed(garbage + garbage.join(GOOD) + garbage)
    assert frames == EXPECTED
    assert parser.discarded > 0


def test_random_garbage_between_frames_never_hides_good_frames() -> None:
    rng = random.Random(8217)
    for _ in range(200):
        # garbage without STX or CR cannot form or split a frame
        noise = [bytes(rng.choice(b"abcXYZ019.?N \n\x00\xff") for _ in range(rng.randint(0, 9)))]
        stream = b"".join(noise[0] + frame for frame in GOOD)
        assert t.AnswerParser().feed(stream) == EXPECTED


def test_chunked_input_byte_by_byte_and_random_splits() -> None:
    stream = b"junk" + b"".join(GOOD) + b"\x02?"
    parser = t.AnswerParser()
    frames: list[t.Answer] = []
    for byte in stream:
        frames += parser.feed(bytes((byte,)))
    assert frames == EXPECTED
    rng = random.Random(1)
    for _ in range(100):
        parser = t.AnswerParser()
        frames = []
        position = 0
        while position < len(stream):
            size = rng.randint(1, 7)
            frames += parser.feed(stream[position : position + size])
            position += size
        assert frames == EXPECTED


def test_incomplete_frame_waits_for_its_end() -> None:
    parser = t.AnswerParser()
    assert parser.feed(b"\x0201.2") == []
    assert parser.feed(b"34\r") == [t.WeightFrame(1.234, "kg", False)]


def test_reset_drops_a_half_frame() -> None:
    parser = t.AnswerParser()
    parser.feed(b"\x0201.2")
    parser.reset()
    assert parser.feed(b"34\r\x02?A\r") == [t.StatusFrame(F.MOTION)]


@pytest.mark.parametrize(
    ("kg", "command"),
    [(0, b"T00000\r"), (1.5, b"T01500\r"), (0.0015, b"T00002\r"), (99.999, b"T99999\r")],
)
def test_digital_tare(kg: float, command: bytes) -> None:
    assert t.digital_tare(kg) == command


@pytest.mark.parametrize("kg", [-0.001, 100.0, 1e9])
def test_digital_tare_out_of_range(kg: float) -> None:
    with pytest.raises(ValueError, match=r"between 0 and 99\.999 kg"):
        t.digital_tare(kg)


def test_probe() -> None:
    assert t.PROBE_REQUEST == b"Ehello"
    assert t.probe_matches(b"\x02E\rhello")
    assert t.probe_matches(b"noise\x02E\rhello")
    assert not t.probe_matches(b"\x02E\rhell")
    assert not t.probe_matches(b"\x0201.234\r")


# ---- scale side ---------------------------------------------------------------------------------


def kinds(commands: list[t.Command]) -> list[str]:
    return [c.kind for c in commands]


def test_command_parser_simple_commands() -> None:
    parser = t.CommandParser()
    assert kinds(parser.feed(b"WZCAB")) == ["W", "Z", "C", "A", "B"]
    assert kinds(parser.feed(b"W" + bytes((ord("W") | 0x80,)))) == ["W", "W"]  # parity bit
    assert parser.feed(b"x") == [t.Command("unknown", b"x")]


def test_command_parser_tare_needs_the_line_to_go_quiet() -> None:
    parser = t.CommandParser()
    assert parser.feed(b"T") == []
    assert kinds(parser.idle()) == ["T"]
    assert parser.idle() == []
    assert kinds(parser.feed(b"TW")) == ["T", "W"]


def test_command_parser_digital_tare_in_chunks() -> None:
    parser = t.CommandParser()
    commands: list[t.Command] = []
    for byte in t.digital_tare(1.234):
        commands += parser.feed(bytes((byte,)))
    assert commands == [t.Command("tare_preset", grams=1234)]
    assert parser.feed(b"T12\r") == [t.Command("unknown", b"T12\r")]


def test_command_parser_echo_mode() -> None:
    parser = t.CommandParser()
    commands = parser.feed(t.PROBE_REQUEST)
    assert kinds(commands) == ["E", "echo", "echo", "echo", "echo", "echo"]
    assert b"".join(c.data for c in commands) == b"hello"
    assert parser.echoing
    assert kinds(parser.feed(b"WF")) == ["echo", "F"]
    assert not parser.echoing
    assert kinds(parser.feed(b"W")) == ["W"]


@pytest.mark.parametrize("char", [0x00, 0x01, 0x20, 0x30, 0x3F, 0x80, 0xBF])
def test_status_characters_without_bit_6_are_noise(char: int) -> None:
    parser = t.AnswerParser()
    assert parser.feed(bytes((t.STX, ord("?"), char, t.CR))) == []
    assert parser.discarded == 4
