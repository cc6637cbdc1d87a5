"""The scale service: one worker thread owns the serial port, polls the weight at the protocol's
pace and keeps the latest reading; the web layer reads that cache and queues zero/tare/clear.

``reading()`` and ``status()`` never touch the port, so a slow or silent scale can never delay an
HTTP answer (peers.md defect 5). A reading older than ``stale_after`` is never served as current.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from posboxless.device import (
    Activity,
    DeviceError,
    DeviceStatus,
    DeviceUnavailable,
    InvalidInput,
    ScaleReading,
    ScaleSimulatorControl,
    ScaleSnapshot,
)
from posboxless.scale import adam, toledo8217
from posboxless.scale.discovery import PortLocator, ScaleNotFound
from posboxless.transports.base import Transport, TransportError
from posboxless.transports.serial_port import SerialSettings, SerialTransport
from posboxless.worker import DeviceWorker

log = logging.getLogger(__name__)


class LineTransport(Transport, Protocol):
    """A transport that can stop reading at a frame terminator (``SerialTransport`` can)."""

    def read_until(self, terminator: bytes, size: int, timeout: float) -> bytes: ...


TransportFactory = Callable[[str, SerialSettings], LineTransport]


@dataclass(frozen=True)
class ScaleTiming:
    poll_interval: float = 0.2
    reply_timeout: float = 1.0
    stale_after: float = 2.0
    retry_min: float = 0.1
    retry_max: float = 1.0
    adam_hold: float = 10.0
    misses_before_error: int = 2
    """Consecutive unanswered polls after which the status says so (one may be line noise)."""


@dataclass(frozen=True)
class Reading:
    """One answer of the scale. ``weight`` is in kg and 0.0 whenever no valid weight was given."""

    weight: float
    stable: bool
    flags: tuple[str, ...]
    net: bool
    at: float
    """``time.monotonic()`` when the answer arrived."""
    wall: float = field(default_factory=time.time)


class NoAnswer(Exception):
    """The scale did not answer a request in time (``garbled``: only unreadable bytes came)."""

    def __init__(self, garbled: bool) -> None:
        super().__init__("garbled answer" if garbled else "no answer")
        self.garbled = garbled


# ---- protocol sessions: what to send and how to read the answer over a blocking transport ----


class Session(Protocol):
    display_name: str

    def measure(self, transport: LineTransport) -> Reading:
        """Ask for the weight; raises ``NoAnswer`` or ``TransportError``."""
        ...

    def command(self, transport: LineTransport, kind: str, kilograms: float = 0.0) -> None:
        """Send ``zero``, ``tare``, ``clear_tare`` or ``preset_tare`` (of ``kilograms``); raises
        ``DeviceError``/``TransportError``."""
        ...

    def hint(self, settings: SerialSettings) -> str:
        """What to check when the scale does not answer."""
        ...


_REFUSALS = {
    # which flags in the answer mean the scale did not carry the command out, and why
    "zero": (
        (toledo8217.StatusFlags.MOTION, "the weight is moving"),
        (toledo8217.StatusFlags.OVER_CAPACITY, "the scale is over capacity"),
        (toledo8217.StatusFlags.OUTSIDE_ZERO_RANGE, "the weight is outside the zero range"),
        (toledo8217.StatusFlags.NET, "a tare is set (clear it first)"),
    ),
    "tare": (
        (toledo8217.StatusFlags.MOTION, "the weight is moving"),
        (toledo8217.StatusFlags.OVER_CAPACITY, "the scale is over capacity"),
        (toledo8217.StatusFlags.UNDER_ZERO, "the weight is below zero"),
    ),
    "clear_tare": (),
    "preset_tare": (),
}

_COMMAND_LABELS = {
    "zero": "zero",
    "tare": "tare",
    "clear_tare": "clear tare",
    "preset_tare": "set tare",
}


class Toledo8217Session:
    display_name = toledo8217.DISPLAY_NAME

    def __init__(self, reply_timeout: float) -> None:
        self.reply_timeout = reply_timeout
        self.parser = toledo8217.AnswerParser()

    def hint(self, settings: SerialSettings) -> str:
        return f"check protocol option 3 (8217) and {settings}"

    def _exchange(self, transport: LineTransport, request: bytes) -> toledo8217.Answer:
        # Anything already waiting is a late answer to an earlier request: it must not be taken
        # for the answer to this one.
        transport.discard_input()
        self.parser.reset()
        garbage_before = self.parser.discarded
        transport.write(request)
        deadline = time.monotonic() + self.reply_timeout
        while (remaining := deadline - time.monotonic()) > 0:
            data = transport.read_until(b"\r", 64, remaining)
            for frame in self.parser.feed(data):
                if not isinstance(frame, toledo8217.EchoStartFrame):
                    return frame
        raise NoAnswer(garbled=self.parser.discarded > garbage_before)

    def measure(self, transport: LineTransport) -> Reading:
        frame = self._exchange(transport, toledo8217.WEIGHT)
        now = time.monotonic()
        if isinstance(frame, toledo8217.WeightFrame):
            return Reading(frame.kilograms, True, (), frame.net, now)
        assert isinstance(frame, toledo8217.StatusFrame)
        flags = frame.flags
        return Reading(
            0.0,
            not flags & toledo8217.StatusFlags.MOTION,
            tuple(toledo8217.flag_names(flags)),
            bool(flags & toledo8217.StatusFlags.NET),
            now,
        )

    def command(self, transport: LineTransport, kind: str, kilograms: float = 0.0) -> None:
        if kind == "preset_tare":
            request = toledo8217.digital_tare(kilograms)
        else:
            request = {
                "zero": toledo8217.ZERO,
                "tare": toledo8217.TARE,
                "clear_tare": toledo8217.CLEAR_TARE,
            }[kind]
        label = _COMMAND_LABELS[kind]
        try:
            frame = self._exchange(transport, request)
        except NoAnswer:
            raise DeviceError(f"The scale did not answer the {label} command") from None
        if not isinstance(frame, toledo8217.StatusFrame):
            raise DeviceError(f"The scale sent a weight instead of confirming the {label} command")
        for flag, reason in _REFUSALS[kind]:
            if frame.flags & flag:
                raise DeviceError(f"The scale refused to {label}: {reason}")


class AdamSession:
    display_name = adam.DISPLAY_NAME

    # Adam answers at once or not at all (silence means "no new weight"): waiting longer than
    # Odoo's 0.2 s only slows the polling down.
    answer_wait = 0.2

    def __init__(self, hold: float) -> None:
        self.hold = hold
        self.parser = adam.AnswerParser()
        self._last_weight = 0.0
        self._last_weight_at = 0.0

    def hint(self, settings: SerialSettings) -> str:
        return f"check that the scale sends label format 3 in kg at {settings}"

    def measure(self, transport: LineTransport) -> Reading:
        transport.discard_input()
        self.parser.reset()
        transport.write(adam.WEIGHT)
        data = transport.read_until(b"\n", 128, self.answer_wait)
        now = time.monotonic()
        weights = self.parser.feed(data)
        if weights:
            self._last_weight = weights[-1].kilograms
            self._last_weight_at = now
        held = now - self._last_weight_at < self.hold
        weight = self._last_weight if held else 0.0
        flags = ("negative",) if weight < 0 else ()
        return Reading(max(weight, 0.0), True, flags, False, now)

    def command(self, transport: LineTransport, kind: str, kilograms: float = 0.0) -> None:
        if kind == "preset_tare":
            raise DeviceError("An Adam Equipment scale cannot be given a tare value")
        request = {"zero": adam.ZERO, "tare": adam.TARE, "clear_tare": adam.CLEAR_TARE}[kind]
        transport.write(request)
        self._last_weight = 0.0


def session_for(protocol: str, timing: ScaleTiming) -> Session:
    if protocol == "adam":
        return AdamSession(timing.adam_hold)
    return Toledo8217Session(timing.reply_timeout)


# ---- the service ------------------------------------------------------------------------------


class SerialScaleService:
    """A scale on a serial port (USB CDC, USB-serial adapter, RS-232), Toledo 8217 or Adam."""

    kind = "scale"

    def __init__(
        self,
        *,
        name: str = "scale",
        protocol: str = "toledo8217",
        locator: PortLocator,
        settings: SerialSettings,
        timing: ScaleTiming | None = None,
        transport_factory: TransportFactory = SerialTransport,
    ) -> None:
        self.name = name
        self.protocol = protocol
        self.locator = locator
        self.settings = settings
        self.timing = timing or ScaleTiming()
        self._transport_factory = transport_factory
        self._session = session_for(protocol, self.timing)
        self.activity = Activity()
        self.simulator: ScaleSimulatorControl | None = None
        """Set by the factory in simulate mode: the simulated scale (``set_weight(kg)``...)."""
        self.port: str | None = None
        self._reading: Reading | None = None
        self._worker: DeviceWorker[LineTransport] = DeviceWorker(
            f"scale {name}",
            self._connect_and_serve,
            logger=log,
            retry_min=self.timing.retry_min,
            retry_max=self.timing.retry_max,
            status=DeviceStatus("connecting", ("Starting the scale service",)),
            thread_name=f"scale-{name}",
            device="the scale",
            after_session=self._forget_reading,
            activity=self.activity,
        )

    # ---- cached answers (never block) ----------------------------------------------------------

    def status(self) -> DeviceStatus:
        status = self._worker.status
        if status.status != "connected":
            return status
        reading = self._reading
        age = None if reading is None else time.monotonic() - reading.at
        if age is None or age > self.timing.stale_after:
            return DeviceStatus(
                "error",
                (
                    f"No answer from the scale on {self.port} for "
                    f"{self.timing.stale_after:g} s: {self._session.hint(self.settings)}",
                ),
            )
        return status

    def _current_reading(self) -> ScaleReading:
        reading = self._reading
        current = self._worker.status.status
        if reading is None or current in ("disconnected", "connecting"):
            condition = "no_reading" if current == "connecting" else "disconnected"
            return ScaleReading(info=(condition,))
        age = time.monotonic() - reading.at
        if age > self.timing.stale_after:
            return ScaleReading(info=("stale",), age=round(age, 3))
        return ScaleReading(
            reading.weight, "kg", reading.flags, reading.stable, net=reading.net, age=round(age, 3)
        )

    def reading(self) -> dict[str, Any]:
        return self._current_reading().as_json()

    def snapshot(self) -> ScaleSnapshot:
        return ScaleSnapshot(
            name=self.name,
            status=self.status(),
            reading=self._current_reading(),
            protocol=self.protocol,
            model=self._session.display_name,
            port=self.port,
            configured=self.locator.describe(),
            serial_settings=str(self.settings),
            poll_interval=self.timing.poll_interval,
            simulated=self.simulator is not None,
            activity=self.activity.snapshot(),
        )

    def details(self) -> dict[str, Any]:
        snapshot = self.snapshot()
        activity = snapshot.activity
        return {
            "protocol": snapshot.protocol,
            "scale": snapshot.model,
            "port": snapshot.port,
            "configured": snapshot.configured,
            "serial_settings": snapshot.serial_settings,
            "poll_interval": snapshot.poll_interval,
            "reading": snapshot.reading.as_json(),
            "last_ok": activity.last_ok,
            "last_error": activity.last_error,
            "last_error_message": activity.last_error_message,
            "counters": dict(activity.counters),
            "simulated": snapshot.simulated,
        }

    # ---- commands (queued to the worker) -------------------------------------------------------

    async def zero(self) -> None:
        await self._submit("zero")

    async def tare(self) -> None:
        await self._submit("tare")

    async def clear_tare(self) -> None:
        await self._submit("clear_tare")

    async def preset_tare(self, kilograms: Any) -> None:
        """Digital tare (8217 ``TWWWWW CR``): a known container weight, in kg."""
        try:
            value = float(kilograms)
        except (TypeError, ValueError):
            value = float("nan")
        if not 0 <= value <= toledo8217.MAX_DIGITAL_TARE_KG:  # also rejects NaN
            message = (
                f"A tare must be a weight from 0 to {toledo8217.MAX_DIGITAL_TARE_KG} kg, "
                f"not {kilograms!r}"
            )
            log.warning("%s", message)
            raise InvalidInput(message)
        await self._submit("preset_tare", value)

    async def _submit(self, kind: str, kilograms: float = 0.0) -> None:
        label = _COMMAND_LABELS[kind]
        status = self.status()
        if status.status != "connected":
            message = f"Cannot {label}: the scale is not connected ({'; '.join(status.messages)})"
            log.warning("%s", message)
            raise DeviceUnavailable(message)
        future = self._worker.submit(self._command(kind, kilograms))
        # the worker may be in the middle of a poll: allow for it, then for our own exchange
        budget = self.timing.poll_interval + 2 * self.timing.reply_timeout + 1.0
        try:
            await asyncio.wait_for(asyncio.wrap_future(future), budget)
        except asyncio.TimeoutError:
            future.cancel()
            message = f"The scale did not carry out the {label} command in time"
            log.warning("%s", message)
            raise DeviceError(message) from None
        except TransportError as exc:
            raise DeviceUnavailable(f"The scale went away: {exc}") from None

    # ---- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        self._worker.start()

    async def stop(self) -> None:
        await self._worker.shut_down(5.0, "Scale service stopped")

    def on_stop(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` after the worker stopped (the factory closes its simulator so)."""
        self._worker.on_stop(callback)

    # ---- worker thread ------------------------------------------------------------------------

    def _forget_reading(self) -> None:
        self._reading = None

    def _connect_and_serve(self) -> bool:
        """Find and open the port, then poll until it fails; True if the scale ever answered."""
        try:
            port = self.locator.resolve()
        except ScaleNotFound as exc:
            self._worker.report("disconnected", str(exc))
            return False
        transport = self._transport_factory(port, self.settings)
        try:
            transport.open()
        except TransportError as exc:
            message = str(exc)
            if "Invalid argument" in message:
                message = f"{port} refuses the line settings {self.settings}: {message}"
            elif "in use by another program" in message:
                message += (
                    " (a browser reading the scale over Web Serial? sudo posboxless doctor "
                    'names the program; [scale] owner = "browser" leaves the scale to it)'
                )
            self._worker.report("disconnected", message)
            return False
        self.port = port
        self._worker.report(
            "connecting", f"Waiting for the {self._session.display_name} scale on {port}"
        )
        try:
            return self._serve(transport)
        except TransportError as exc:
            self._worker.report("disconnected", f"Scale disconnected from {port}: {exc}")
            return True
        finally:
            transport.close()

    def _serve(self, transport: LineTransport) -> bool:
        worker = self._worker
        answered = False
        misses = 0
        next_poll = time.monotonic()
        while not worker.stopping:
            if worker.run_commands(transport):
                continue
            wait = next_poll - time.monotonic()
            if wait > 0:
                worker.wait(wait)
                continue
            next_poll = time.monotonic() + self.timing.poll_interval
            try:
                reading = self._session.measure(transport)
            except NoAnswer as exc:
                misses += 1
                self.activity.counters["no_answer"] = self.activity.counters.get("no_answer", 0) + 1
                if misses >= self.timing.misses_before_error:
                    what = "Unreadable answers" if exc.garbled else "No answer"
                    hint = self._session.hint(self.settings)
                    self._worker.report("error", f"{what} from the scale on {self.port}: {hint}")
                continue
            misses = 0
            answered = True
            self._reading = reading
            self.activity.ok("readings")
            self._worker.report(
                "connected",
                f"Connected to {self._session.display_name} scale on {self.port} ({self.settings})",
            )
        return answered

    def _command(self, kind: str, kilograms: float) -> Callable[[LineTransport], None]:
        """A zero/tare command for the worker; a ``TransportError`` also ends the session."""

        def run(transport: LineTransport) -> None:
            try:
                self._session.command(transport, kind, kilograms)
            except DeviceError as exc:
                log.warning("scale %s: %s", self.name, exc)
                self.activity.error(str(exc), kind)
                raise
            self.activity.ok(kind)

        return run
