"""A simulated Telium payment terminal on a pty (payment-terminal.md §B6), for the tests, the
``--simulate`` demo and the benchmark.

It plays the terminal's side of the session with the same sans-I/O core as the proxy, and can
be scripted outcome by outcome (``script("refuse")``), faults included:

``accept`` / ``refuse`` / ``not_verified``
    a complete exchange with result ``0`` / ``7`` / ``9``;
``silent``
    never answers ENQ (terminal off, cash-register link disabled);
``nak``
    NAKs every request frame;
``no_answer``
    takes the request, then never announces an answer;
``garbage``
    announces its answer, then sends noise instead of the frame, each time it is asked;
``lose_line``
    accepts the payment, then the line dies in the middle of the answer frame.

An answer nobody acknowledges is announced again (ENQ every ``enq_interval`` seconds, up to
``enq_repeats`` times): a proxy restarted during a payment can still collect it. How often a
real terminal repeats its ENQ is not documented (§D): this is an assumption.
"""

from __future__ import annotations

import collections
import logging
import threading
import time

from posboxless.pty_simulator import PtySimulator
from posboxless.terminal import telium
from posboxless.terminal.telium import ACK, ENQ, EOT, NAK

log = logging.getLogger(__name__)

OUTCOMES = (
    "accept", "refuse", "not_verified", "silent", "nak", "no_answer", "garbage", "lose_line",
)  # fmt: skip
"""Everything the simulator can be told to do next."""
_RESULTS = {"accept": "0", "refuse": "7", "not_verified": "9", "garbage": "0", "lose_line": "0"}
REAL_OUTCOME = {
    "accept": "accepted",
    "lose_line": "accepted",
    "garbage": "accepted",
    "refuse": "refused",
    "not_verified": "not_verified",
    "no_answer": "no_answer",
    "silent": "not_sent",
    "nak": "not_sent",
}
"""What the terminal itself did (printed on its ticket) for each scripted behaviour."""
TEST_CARD = "4970101122334455"


class TeliumSimulator(PtySimulator):
    def __init__(self, *, card_delay: float = 1.0, default: str = "accept") -> None:
        if default not in OUTCOMES:
            raise ValueError(f"unknown outcome {default!r}")
        # Timers (card delay, repeated ENQ) are checked at least every 20 ms.
        super().__init__(idle_after=0.02)
        self.card_delay = card_delay
        """Seconds the customer takes with the card (the answer comes after it)."""
        self.default = default
        self.enq_interval = 1.0
        self.enq_repeats = 60
        self.send_eot = True
        self.silent_for = 10.0
        """How long ``silent`` ignores every ENQ (the terminal is off), unless ``wake()``."""
        self._silent_until = 0.0
        self.requests: list[telium.PaymentRequest] = []
        self.history: list[tuple[telium.PaymentRequest, str]] = []
        """(request, what the terminal really did), one per request it took."""
        self.changed = threading.Condition()
        self._script: collections.deque[str] = collections.deque()
        self._state = "idle"
        self._current = default
        self._request: telium.PaymentRequest | None = None
        self._reader = telium.FrameReader(max_length=telium.REQUEST_LENGTH)
        self._timer = 0.0
        self._enqs = 0

    # ---- scripting -----------------------------------------------------------------------------

    def script(self, *outcomes: str) -> None:
        """The next transactions' behaviour, in order; then ``default`` again."""
        for outcome in outcomes:
            if outcome not in OUTCOMES:
                raise ValueError(f"unknown outcome {outcome!r}; expected one of {OUTCOMES}")
        with self.changed:
            self._script.extend(outcomes)

    def wake(self) -> None:
        """End a ``silent`` spell now (the terminal is switched back on)."""
        self._silent_until = 0.0

    @property
    def next_outcome(self) -> str:
        with self.changed:
            return self._script[0] if self._script else self.default

    @property
    def state(self) -> str:
        return self._state

    def wait_for(self, predicate: object, timeout: float = 10.0) -> bool:
        """Wait until ``predicate()`` is true (checked on every state change)."""
        assert callable(predicate)
        with self.changed:
            return self.changed.wait_for(predicate, timeout)

    def _set(self, state: str) -> None:
        with self.changed:
            self._state = state
            self.changed.notify_all()

    # ---- the terminal ----------------------------------------------------------------------------

    def on_data(self, data: bytes) -> None:
        with self.changed:
            self.changed.notify_all()  # ``received`` grew
        for i in range(len(data)):
            self._byte(data[i : i + 1])
        self._timers()

    def on_idle(self) -> None:
        self._timers()

    def _byte(self, byte: bytes) -> None:
        state, value = self._state, byte[0]
        if state == "idle":
            if value == ENQ:
                with self.changed:
                    self._current = self._script.popleft() if self._script else self.default
                if self._current == "silent":
                    self._silent_until = time.monotonic() + self.silent_for
                    self._set("silent")
                    return
                self._reader.reset()
                self.send(bytes([ACK]))
                self._set("request")
        elif state == "request":
            if value == EOT and not self._reader.partial:
                self._set("idle")  # the proxy gave up
                return
            try:
                message, _ = self._reader.feed(byte)
            except telium.FrameError:
                self.send(bytes([NAK]))
                return
            if message is None:
                return
            try:
                request = telium.PaymentRequest.decode(message)
            except telium.FrameError:
                self.send(bytes([NAK]))
                return
            if self._current == "nak":
                self.send(bytes([NAK]))
                return
            self._request = request
            self.requests.append(request)
            self.send(bytes([ACK]))
            self._set("expect_eot")
        elif state == "expect_eot":
            if value == EOT:
                assert self._request is not None
                self.history.append((self._request, REAL_OUTCOME[self._current]))
                self._timer = time.monotonic() + self.card_delay
                self._set("card")
        elif state == "announced":
            if value == ACK:
                self._send_answer()
        elif state == "silent":
            if time.monotonic() >= self._silent_until:
                self._set("idle")
                self._byte(byte)
        elif state == "lost":
            if value == ENQ:  # the line is back and the proxy starts afresh
                self._set("idle")
                self._byte(byte)
        elif state == "answered":
            if value == ACK:
                if self.send_eot:
                    self.send(bytes([EOT]))
                self._set("idle")
            elif value == NAK:
                self._send_answer()
            elif value == ENQ:  # the proxy gave up on that answer and starts afresh
                self._set("idle")
                self._byte(byte)

    def _answer_frame(self) -> bytes:
        request = self._request
        assert request is not None
        report = f"{TEST_CARD} 1225 CB AUTO 123456" if request.full_answer else None
        answer = telium.Answer(
            pos_number=request.pos_number,
            result=_RESULTS.get(self._current, "0"),
            amount=request.amount,
            mode=request.mode,
            currency=request.currency,
            private=request.private,
            report=report,
        )
        return telium.frame(answer.encode())

    def _send_answer(self) -> None:
        full = self._answer_frame()
        if self._current == "garbage":
            self.send(b"\x7f\xfe?!" + full[1:12] + b"\x00")
        elif self._current == "lose_line":
            self.send(full[: len(full) // 2])
            self._set("lost")
            return
        else:
            self.send(full)
        self._set("answered")

    def _timers(self) -> None:
        now = time.monotonic()
        if self._state == "card" and now >= self._timer:
            if self._current == "no_answer":
                self._set("idle")  # it will never announce anything for this one
                return
            self._enqs = 1
            self.send(bytes([ENQ]))
            self._timer = now + self.enq_interval
            self._set("announced")
        elif self._state == "announced" and now >= self._timer:
            if self._enqs >= self.enq_repeats:
                self._set("idle")
                return
            self._enqs += 1
            self.send(bytes([ENQ]))
            self._timer = now + self.enq_interval
