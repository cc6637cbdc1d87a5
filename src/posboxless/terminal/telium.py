"""Telium "Concert" cash-register protocol, sans-I/O (payment-terminal.md §B).

Pure code: bytes and clock values in, bytes and decisions out. Used by the proxy's terminal
service (over a serial port) and by the simulated terminal (on a pty).

* ``frame`` / ``lrc`` / ``FrameReader``: ``STX message ETX LRC``, LRC = XOR of message + ETX.
* ``PaymentRequest.encode()``: the 34-character request (§B3).
* ``parse_answer``: the 25- or 80-character answer (§B4).
* ``Session``: the ENQ/ACK/EOT exchange of one transaction as a state machine (§B2, §B5). It is
  fed received bytes and the current time, and answers with bytes to send; its timeouts and
  retries are data (``Timing``).

What rests on the spec's two library sources only (no official Concert text, no terminal):
the field layout, the result codes 0/7/9, the meaning of ``A010``/``A011``, and NAK handling
(neither library retransmits; here a NAKed request is sent again and a bad answer frame is
NAKed, both a bounded number of times).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

STX = 0x02
ETX = 0x03
EOT = 0x04
ENQ = 0x05
ACK = 0x06
NAK = 0x15

REQUEST_LENGTH = 34
SHORT_ANSWER_LENGTH = 25
FULL_ANSWER_LENGTH = 80
REPORT_LENGTH = 55
MAX_AMOUNT_MINOR = 99_999_999
"""Eight digits of minor units: the widest amount the request can carry."""

PAYMENT_MODES = {"card": "1", "check": "C"}
"""OCA ``payment_mode`` -> request mode character (PTM also knows Amex ``2``, Moneo ``O``...)."""

RESULT_CODES = {"0": "accepted", "7": "refused", "9": "not_verified"}
"""Answer result characters (PTM ``TERMINAL_PAYMENT_*``); success only for ``0``."""

# ISO 4217: alphabetic code -> (numeric code, minor unit digits). Currencies of the countries
# where OCA's module is used and their neighbours; a shop with another one adds it here.
CURRENCIES: dict[str, tuple[int, int]] = {
    "EUR": (978, 2), "USD": (840, 2), "GBP": (826, 2), "CHF": (756, 2), "CAD": (124, 2),
    "XPF": (953, 0), "XOF": (952, 0), "XAF": (950, 0), "MAD": (504, 2), "TND": (788, 3),
    "DZD": (12, 2), "MUR": (480, 2), "MGA": (969, 2), "SEK": (752, 2), "NOK": (578, 2),
    "DKK": (208, 2), "PLN": (985, 2), "CZK": (203, 2), "HUF": (348, 2), "RON": (946, 2),
    "BGN": (975, 2), "JPY": (392, 0), "AUD": (36, 2), "NZD": (554, 2), "BRL": (986, 2),
    "MXN": (484, 2), "INR": (356, 2), "CNY": (156, 2), "ZAR": (710, 2), "TRY": (949, 2),
}  # fmt: skip


class TeliumError(ValueError):
    """Bytes or values that do not follow the protocol."""


class FrameError(TeliumError):
    """A frame with a wrong LRC, length or content."""


class AmountError(TeliumError):
    """An amount the request cannot carry."""


def _digits(text: str) -> bool:
    # str.isdigit also takes "²" and int() takes "+1" or "1_0": the protocol means 0-9 only
    return bool(text) and all("0" <= c <= "9" for c in text)


def lrc(message: bytes) -> int:
    """XOR of every byte of ``message`` and of ETX (STX excluded)."""
    value = ETX
    for byte in message:
        value ^= byte
    return value


def frame(message: bytes) -> bytes:
    return bytes([STX]) + message + bytes([ETX, lrc(message)])


def to_minor_units(amount: Decimal | float | int | str, currency: str) -> int:
    """``12.5`` EUR -> ``1250``. Float noise from the POS (``68.32000000000001``) is rounded
    away; a real fraction of a minor unit (``12.505``) is refused, never rounded silently."""
    if currency not in CURRENCIES:
        raise AmountError(f"unknown currency {currency!r}")
    _, digits = CURRENCIES[currency]
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise AmountError(f"not an amount: {amount!r}") from None
    if not value.is_finite():
        raise AmountError(f"not an amount: {amount!r}")
    scaled = value.scaleb(digits)
    minor = int(scaled.to_integral_value())
    if abs(scaled - minor) > Decimal("0.000001"):
        raise AmountError(f"{amount} {currency} has more than {digits} decimals")
    if minor <= 0:
        raise AmountError(f"the amount must be more than zero, not {amount}")
    if minor > MAX_AMOUNT_MINOR:
        raise AmountError(f"{amount} {currency} is more than the terminal can take")
    return minor


def format_amount(minor: int, currency: str) -> str:
    digits = CURRENCIES.get(currency, (0, 2))[1]
    return f"{Decimal(minor).scaleb(-digits):.{digits}f} {currency}"


@dataclass(frozen=True)
class PaymentRequest:
    """The 34-character request (§B3)."""

    amount: int
    """In minor units (cents)."""
    currency: int = 978
    """ISO 4217 numeric."""
    mode: str = "1"
    """``1`` card, ``C`` cheque."""
    pos_number: str = "01"
    full_answer: bool = True
    """``1``: the answer carries the 55-character report; ``0``: the short answer."""
    transaction_type: str = "0"
    """``0`` debit (``1`` credit, ``2`` refund, ``4`` auto)."""
    delay: str = "A010"
    authorisation: str = "B010"
    private: str = " " * 10

    def encode(self) -> bytes:
        if not (len(self.pos_number) == 2 and self.pos_number.isdigit()):
            raise TeliumError(f"the POS number is two digits, not {self.pos_number!r}")
        if not 0 < self.amount <= MAX_AMOUNT_MINOR:
            raise AmountError(f"amount {self.amount} is not 1 to {MAX_AMOUNT_MINOR} minor units")
        if not 0 <= self.currency <= 999:
            raise TeliumError(f"currency code {self.currency} is not 3 digits")
        for value, name in ((self.mode, "mode"), (self.transaction_type, "transaction type")):
            if len(value) != 1 or not value.isalnum() or not value.isascii():
                raise TeliumError(f"the {name} is one character, not {value!r}")
        if self.delay not in ("A010", "A011"):
            raise TeliumError(f"delay is A010 or A011, not {self.delay!r}")
        if self.authorisation not in ("B010", "B011"):
            raise TeliumError(f"authorisation is B010 or B011, not {self.authorisation!r}")
        if len(self.private) != 10 or not self.private.isascii():
            raise TeliumError("the private field is 10 ASCII characters")
        text = (
            f"{self.pos_number}{self.amount:08d}{'1' if self.full_answer else '0'}{self.mode}"
            f"{self.transaction_type}{self.currency:03d}{self.private}{self.delay}"
            f"{self.authorisation}"
        )
        data = text.encode("ascii")
        assert len(data) == REQUEST_LENGTH
        return data

    @classmethod
    def decode(cls, data: bytes) -> PaymentRequest:
        """The simulator's side: read a request message (without framing)."""
        if len(data) != REQUEST_LENGTH:
            raise FrameError(f"a request is {REQUEST_LENGTH} characters, not {len(data)}")
        text = data.decode("ascii", "replace")
        if not (_digits(text[2:10]) and _digits(text[13:16]) and text.isascii()):
            raise FrameError(f"not a request: {data!r}")
        amount, currency = int(text[2:10]), int(text[13:16])
        if text[10] not in "01":
            raise FrameError(f"answer flag {text[10]!r}")
        return cls(
            amount=amount,
            currency=currency,
            mode=text[11],
            pos_number=text[0:2],
            full_answer=text[10] == "1",
            transaction_type=text[12],
            delay=text[26:30],
            authorisation=text[30:34],
            private=text[16:26],
        )


@dataclass(frozen=True)
class Answer:
    """The terminal's answer (§B4)."""

    pos_number: str
    result: str
    amount: int
    mode: str
    currency: int
    private: str
    report: str | None = None
    """The 55-character report of a full answer: card data, never to be stored in clear."""

    @property
    def outcome(self) -> str:
        """``accepted``, ``refused``, ``not_verified`` or ``unknown_code``."""
        return RESULT_CODES.get(self.result, "unknown_code")

    @property
    def masked_card(self) -> str | None:
        """The report's first token (PTM reads it as the card number), all but its last four
        characters masked; None when there is no report or no such token."""
        if not self.report or not self.report.split():
            return None
        token = self.report.split()[0]
        if len(token) <= 4:
            return "*" * len(token)
        return "*" * (len(token) - 4) + token[-4:]

    def encode(self) -> bytes:
        """The simulator's side."""
        report = ""
        if self.report is not None:
            report = self.report.ljust(REPORT_LENGTH)[:REPORT_LENGTH]
        text = (
            f"{self.pos_number}{self.result}{self.amount:08d}{self.mode}{report}"
            f"{self.currency:03d}{self.private.ljust(10)[:10]}"
        )
        return text.encode("ascii")


def parse_answer(message: bytes) -> Answer:
    if len(message) not in (SHORT_ANSWER_LENGTH, FULL_ANSWER_LENGTH):
        raise FrameError(
            f"an answer is {SHORT_ANSWER_LENGTH} or {FULL_ANSWER_LENGTH} characters, "
            f"not {len(message)}"
        )
    try:
        text = message.decode("ascii")
    except UnicodeDecodeError:
        raise FrameError("the answer is not ASCII") from None
    report = None
    rest = text[12:]
    if len(message) == FULL_ANSWER_LENGTH:
        report, rest = text[12:67], text[67:]
    amount_text, currency_text = text[3:11], rest[0:3]
    if not (_digits(amount_text) and _digits(currency_text)):
        raise FrameError("the answer's amount or currency is not a number")
    amount, currency = int(amount_text), int(currency_text)
    return Answer(
        pos_number=text[0:2],
        result=text[2],
        amount=amount,
        mode=text[11],
        currency=currency,
        private=rest[3:13],
        report=report,
    )


class FrameReader:
    """Collects ``STX … ETX LRC`` from a byte stream; bytes before STX are skipped."""

    def __init__(self, max_length: int = FULL_ANSWER_LENGTH) -> None:
        self.max_length = max_length
        self.buffer = bytearray()
        self.skipped = 0

    def reset(self) -> None:
        self.buffer.clear()

    def feed(self, data: bytes) -> tuple[bytes | None, bytes]:
        """Returns ``(message, rest)`` once a whole frame arrived (``message`` without framing;
        raises ``FrameError`` on a bad LRC or an overlong frame), else ``(None, b"")``."""
        for index, byte in enumerate(data):
            if not self.buffer:
                if byte == STX:
                    self.buffer.append(byte)
                else:
                    self.skipped += 1
                continue
            self.buffer.append(byte)
            if len(self.buffer) >= 3 and self.buffer[-2] == ETX:
                message = bytes(self.buffer[1:-2])
                check = self.buffer[-1]
                self.buffer.clear()
                if lrc(message) != check:
                    raise FrameError(f"bad LRC {check:#04x} (expected {lrc(message):#04x})")
                return message, data[index + 1 :]
            if len(self.buffer) > self.max_length + 3:
                self.buffer.clear()
                raise FrameError(f"frame longer than {self.max_length} characters")
        return None, b""

    @property
    def partial(self) -> bool:
        return bool(self.buffer)


# ---- the session ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """Timeouts (seconds) and retries of one exchange (§B5)."""

    byte_timeout: float = 3.0
    """Longest wait for the terminal's next byte inside an exchange (PPT: 3 s; PTM: 1 s)."""
    answer_timeout: float = 150.0
    """Longest wait for the terminal's ENQ once it took the request: the customer's card,
    PIN and the bank (PTM waits 120 s; more here, since giving up makes the outcome unknown)."""
    enq_retries: int = 2
    """ENQ sent again (after EOT and ``retry_pause``) when the terminal does not ACK (PPT)."""
    retry_pause: float = 1.0
    request_retries: int = 2
    """Request frame sent again after a NAK."""
    answer_retries: int = 2
    """Bad answer frames NAKed (asking the terminal to send it again) before giving up."""


class Phase(str, enum.Enum):
    IDLE = "idle"
    CONNECTING = "connecting"
    """ENQ sent, waiting for ACK. Nothing of the request has left yet."""
    SENDING = "sending"
    """The request frame is being sent / waiting for its ACK: the terminal may have it."""
    WAITING_CARD = "waiting_card"
    """The terminal took the request (ACK, EOT sent): the customer pays."""
    RECEIVING = "receiving"
    """The terminal announced its answer (ENQ, ACK sent): reading the frame."""
    CLOSING = "closing"
    """Answer read and ACKed, waiting for the terminal's EOT."""
    DONE = "done"


class Ending(str, enum.Enum):
    ANSWERED = "answered"
    """The answer frame arrived (``Session.answer``)."""
    NOT_SENT = "not_sent"
    """The terminal never took the request: no payment can have started."""
    UNKNOWN = "unknown"
    """The terminal may have the request, but no valid answer came: check the terminal."""


@dataclass
class Session:
    """One transaction's exchange. Call ``start(now)``, then ``receive(data, now)`` with every
    byte read and ``tick(now)`` whenever ``deadline`` passed; each returns bytes to write.
    Also used to pick up a late answer after a restart: ``listen(now, timeout)``."""

    request: bytes
    """The 34-character message (unframed)."""
    timing: Timing = field(default_factory=Timing)
    phase: Phase = Phase.IDLE
    deadline: float = 0.0
    ending: Ending | None = None
    reason: str = ""
    answer: Answer | None = None
    answer_message: bytes | None = None
    missing_eot: bool = False
    _enq_tries: int = 0
    _request_tries: int = 0
    _answer_tries: int = 0
    _pausing: bool = False
    _reader: FrameReader = field(default_factory=FrameReader)

    @property
    def done(self) -> bool:
        return self.phase is Phase.DONE

    def start(self, now: float) -> bytes:
        self._enq_tries = 1
        return self._enter(Phase.CONNECTING, now, self.timing.byte_timeout, bytes([ENQ]))

    def listen(self, now: float, timeout: float) -> bytes:
        """Wait for an answer to a request sent before (by an earlier run of the proxy)."""
        return self._enter(Phase.WAITING_CARD, now, timeout, b"")

    def _enter(self, phase: Phase, now: float, timeout: float, out: bytes) -> bytes:
        self.phase = phase
        self.deadline = now + timeout
        return out

    def _finish(self, ending: Ending, reason: str, out: bytes = b"") -> bytes:
        self.phase = Phase.DONE
        self.ending = ending
        self.reason = reason
        return out

    def receive(self, data: bytes, now: float) -> bytes:
        out = bytearray()
        while data and not self.done:
            sent, data = self._step(data, now)
            out += sent
        return bytes(out)

    def _step(self, data: bytes, now: float) -> tuple[bytes, bytes]:
        """Consume some of ``data``; returns (bytes to send, the rest)."""
        phase = self.phase
        byte, rest = data[0], data[1:]
        if phase is Phase.CONNECTING:
            if byte == ACK and not self._pausing:
                self._request_tries = 1
                out = self._enter(Phase.SENDING, now, self.timing.byte_timeout, frame(self.request))
                return out, rest
            # NAK or anything else: the terminal is not ready; it never saw our request
            return b"", rest
        if phase is Phase.SENDING:
            if byte == ACK:
                return self._enter(
                    Phase.WAITING_CARD, now, self.timing.answer_timeout, bytes([EOT])
                ), rest
            if byte == NAK:
                if self._request_tries > self.timing.request_retries:
                    reason = f"the terminal refused the request {self._request_tries} times (NAK)"
                    return self._finish(Ending.NOT_SENT, reason, bytes([EOT])), b""
                self._request_tries += 1
                self.deadline = now + self.timing.byte_timeout
                return frame(self.request), rest
            return b"", rest  # noise; the deadline decides
        if phase is Phase.WAITING_CARD:
            if byte == ENQ:
                self._reader.reset()
                return self._receiving(now), rest
            return b"", rest
        if phase is Phase.RECEIVING:
            if byte == ENQ and not self._reader.partial:
                return bytes([ACK]), rest  # the terminal repeated its ENQ
            try:
                message, rest = self._reader.feed(data)
            except FrameError as exc:
                return self._bad_answer(str(exc), now), b""
            if message is None:
                # Only a frame in progress earns more time: noise must not hold the line open.
                if self._reader.partial:
                    self.deadline = now + self.timing.byte_timeout
                return b"", b""
            try:
                answer = parse_answer(message)
            except FrameError as exc:
                return self._bad_answer(str(exc), now), b""
            self.answer = answer
            self.answer_message = message
            return self._enter(Phase.CLOSING, now, self.timing.byte_timeout, bytes([ACK])), rest
        if phase is Phase.CLOSING:
            if byte == EOT:
                return self._finish(Ending.ANSWERED, "answered"), rest
            if byte == ENQ:
                # The terminal did not get our ACK and offers the answer again.
                self._reader.reset()
                return self._receiving(now), rest
            return b"", rest
        return b"", b""

    def _receiving(self, now: float) -> bytes:
        return self._enter(Phase.RECEIVING, now, self.timing.byte_timeout, bytes([ACK]))

    def _bad_answer(self, reason: str, now: float) -> bytes:
        self._reader.reset()
        if self._answer_tries >= self.timing.answer_retries:
            return self._finish(Ending.UNKNOWN, f"unreadable answer from the terminal: {reason}")
        self._answer_tries += 1
        self.deadline = now + self.timing.byte_timeout
        return bytes([NAK])

    def tick(self, now: float) -> bytes:
        """Call when ``now >= deadline``; returns bytes to send."""
        if self.done or now < self.deadline:
            return b""
        phase = self.phase
        if phase is Phase.CONNECTING:
            if self._enq_tries > self.timing.enq_retries and not self._pausing:
                return self._finish(
                    Ending.NOT_SENT,
                    f"the terminal did not answer ENQ ({self._enq_tries} tries)",
                    bytes([EOT]),
                )
            if not self._pausing:  # PPT: EOT, a pause, then ENQ again
                self._pausing = True
                self.deadline = now + self.timing.retry_pause
                return bytes([EOT])
            self._pausing = False
            self._enq_tries += 1
            self.deadline = now + self.timing.byte_timeout
            return bytes([ENQ])
        if phase is Phase.SENDING:
            return self._finish(
                Ending.UNKNOWN, "the terminal did not acknowledge the request", bytes([EOT])
            )
        if phase is Phase.WAITING_CARD:
            return self._finish(
                Ending.UNKNOWN,
                f"no answer from the terminal within {self.timing.answer_timeout:g} s",
            )
        if phase is Phase.RECEIVING:
            what = "stopped in the middle" if self._reader.partial else "did not come"
            return self._bad_answer(f"the answer {what}", now)
        if phase is Phase.CLOSING:
            # The answer itself is complete and checked: a missing EOT is only noted (PPT).
            self.missing_eot = True
            return self._finish(Ending.ANSWERED, "answered (no final EOT)")
        return b""
