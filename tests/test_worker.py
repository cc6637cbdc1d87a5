"""The device worker base (posboxless/worker.py): life cycle, backoff, commands, status log."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future

import pytest

from posboxless.device import Activity, DeviceStatus
from posboxless.transports.base import TransportError
from posboxless.worker import Backoff, CommandDropped, DeviceWorker, StatusLog
from tests.helpers import wait_until

log = logging.getLogger("tests.worker")

DOWN = DeviceStatus("disconnected", ("No scale on /dev/ttyUSB0",))
UP = DeviceStatus("connected", ("Connected to the scale on /dev/ttyUSB0",))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == log.name]


# ---- backoff --------------------------------------------------------------------------------


def test_backoff_doubles_up_to_its_bound_and_resets() -> None:
    backoff = Backoff(0.1, 1.0)
    assert [backoff.next() for _ in range(6)] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0])
    backoff.reset()
    assert backoff.next() == 0.1
    assert backoff.give_up() == 1.0 and backoff.next() == 1.0


class Recorded(DeviceWorker[None]):
    """Records the delays it would wait between sessions instead of waiting."""

    delays: list[float]

    def _pause(self, delay: float) -> None:
        self.delays.append(delay)


def test_the_worker_backs_off_while_the_device_is_away_and_restarts_after_reaching_it() -> None:
    outcomes = iter([False, False, False, True, False, False])
    done = threading.Event()

    def session() -> bool:
        reached = next(outcomes, None)
        if reached is None:
            worker.last_session()
            done.set()
            return False
        return reached

    worker = Recorded("scale s", session, logger=log, retry_min=0.1, retry_max=0.3, status=UP)
    worker.delays = []
    worker.start()
    assert done.wait(10) and wait_until(lambda: worker.exited)
    # away: 0.1, 0.2, then bounded at 0.3; reached: back to 0.1; away again: growing again
    assert worker.delays == pytest.approx([0.1, 0.2, 0.3, 0.1, 0.2, 0.3])


def test_an_unexpected_failure_is_logged_with_its_traceback_and_waits_the_longest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = []

    def session() -> bool:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("a bug")
        worker.last_session()
        return False

    worker = Recorded("scale s", session, logger=log, retry_min=0.1, retry_max=2.0, status=UP)
    worker.delays = []
    with caplog.at_level(logging.INFO, logger=log.name):
        worker.start()
        assert wait_until(lambda: worker.exited)
    assert worker.delays == [2.0]
    failure = next(r for r in caplog.records if "unexpected failure" in r.getMessage())
    assert failure.exc_info is not None
    assert worker.status.status == "error" and "a bug" in worker.status.messages[0]


# ---- life cycle -----------------------------------------------------------------------------


def test_stop_wakes_a_waiting_worker_at_once_and_start_stop_are_idempotent() -> None:
    waiting = threading.Event()

    def session() -> bool:
        while not worker.stopping:
            waiting.set()
            worker.wait(3600)  # an idle device: only stop (or wake) ends this
        return True

    worker: DeviceWorker[None] = DeviceWorker(
        "display d", session, logger=log, retry_min=3600, retry_max=3600, status=UP
    )
    worker.start()
    worker.start()  # no second thread
    assert waiting.wait(10)
    assert [t.name for t in threading.enumerate()].count("display-d") == 1
    assert worker.stop(timeout=10), "stop must not wait for the hour-long wait"
    assert worker.exited and not worker.alive
    assert worker.stop(timeout=10)


def test_stop_also_cuts_the_wait_between_connection_attempts() -> None:
    tried = threading.Event()

    def session() -> bool:
        tried.set()
        return False

    worker: DeviceWorker[None] = DeviceWorker(
        "scale s", session, logger=log, retry_min=3600, retry_max=3600, status=DOWN
    )
    worker.start()
    assert tried.wait(10)
    assert worker.stop(timeout=10)


def test_wake_ends_a_wait_early() -> None:
    woken = threading.Event()
    waiting = threading.Event()

    def session() -> bool:
        waiting.set()
        if worker.wait(3600):
            woken.set()
        worker.wait(3600)
        return True

    worker: DeviceWorker[None] = DeviceWorker(
        "printer p", session, logger=log, retry_min=3600, retry_max=3600, status=UP
    )
    worker.start()
    assert waiting.wait(10)
    worker.wake()
    assert woken.wait(10)
    assert worker.stop(timeout=10)


# ---- commands -------------------------------------------------------------------------------


def test_commands_run_between_polls_in_order_and_return_results_and_exceptions() -> None:
    trace: list[str] = []
    polled = threading.Event()

    def session() -> bool:
        while not worker.stopping:
            worker.run_commands("the transport")
            trace.append("poll start")
            polled.set()
            worker.wait(0.001)  # a command queued now waits for the end of this poll
            trace.append("poll end")
            worker.wait(3600)
        return True

    worker: DeviceWorker[str] = DeviceWorker(
        "scale s", session, logger=log, retry_min=1, retry_max=1, status=UP
    )
    worker.start()
    assert polled.wait(10)

    def tare(transport: str) -> str:
        trace.append(f"tare on {transport}")
        return "tared"

    def refused(transport: str) -> str:
        trace.append("zero")
        raise ValueError("the weight is moving")

    first = worker.submit(tare)
    second = worker.submit(refused)
    assert first.result(timeout=10) == "tared"
    with pytest.raises(ValueError, match="moving"):
        second.result(timeout=10)
    worker.stop(timeout=10)
    inside = False
    for step in trace:  # never inside a poll
        if step == "poll start":
            inside = True
        elif step == "poll end":
            inside = False
        else:
            assert not inside, trace
    assert trace.index("tare on the transport") < trace.index("zero")


def test_a_link_lost_in_a_command_ends_the_session_and_drops_what_was_queued() -> None:
    sessions: list[int] = []
    ready = threading.Event()
    release = threading.Event()

    def session() -> bool:
        sessions.append(1)
        if len(sessions) > 1:
            worker.last_session()
            return False
        ready.set()
        release.wait(10)
        try:
            while not worker.stopping:
                worker.run_commands(None)
                worker.wait(3600)
        except TransportError:
            pass
        return True

    worker: DeviceWorker[None] = DeviceWorker(
        "scale s", session, logger=log, retry_min=0.001, retry_max=0.001, status=UP
    )
    worker.start()
    assert ready.wait(10)

    def unplugged(_: None) -> None:
        raise TransportError("device unplugged")

    lost = worker.submit(unplugged)
    queued = worker.submit(lambda _: "never")
    release.set()
    with pytest.raises(TransportError):
        lost.result(timeout=10)
    with pytest.raises(CommandDropped, match="not connected"):
        queued.result(timeout=10)
    assert wait_until(lambda: worker.exited) and len(sessions) == 2


def test_commands_after_stop_are_refused_and_cancelled_ones_are_skipped() -> None:
    ran: list[str] = []
    ready = threading.Event()
    go = threading.Event()

    def session() -> bool:
        ready.set()
        go.wait(10)
        worker.run_commands(None)
        worker.wait(3600)
        return True

    worker: DeviceWorker[None] = DeviceWorker(
        "scale s", session, logger=log, retry_min=1, retry_max=1, status=UP, device="the scale"
    )
    worker.start()
    assert ready.wait(10)
    given_up: Future[None] = worker.submit(lambda _: ran.append("cancelled"))
    given_up.cancel()
    kept = worker.submit(lambda _: ran.append("kept"))
    go.set()
    kept.result(timeout=10)
    assert ran == ["kept"]
    worker.stop(timeout=10)
    with pytest.raises(CommandDropped, match=r"^Cannot do it: the scale is stopped$"):
        worker.submit(lambda _: None).result(timeout=0)


# ---- the status log -------------------------------------------------------------------------


def test_one_line_per_change_and_a_recovered_line(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    activity = Activity()
    status = StatusLog("scale s", log, UP, activity=activity, clock=clock)
    with caplog.at_level(logging.DEBUG, logger=log.name):
        for _ in range(5):  # the same failure on every retry
            status.set(DOWN)
            clock.now += 1
        clock.now += 37
        status.set(UP)
        status.set(UP)
    assert lines(caplog) == [
        "scale s: disconnected: No scale on /dev/ttyUSB0",
        "scale s: recovered after 42 s: Connected to the scale on /dev/ttyUSB0",
    ]
    levels = [r.levelno for r in caplog.records if r.name == log.name]
    assert levels == [logging.WARNING, logging.INFO]
    assert activity.last_error_message == "No scale on /dev/ttyUSB0"
    assert status.down_since is None


def test_a_new_reason_is_a_change_and_a_long_failure_is_recalled(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    status = StatusLog("printer p", log, UP, clock=clock, remind_every=600)
    paper = DeviceStatus("error", ("Paper end",))
    with caplog.at_level(logging.INFO, logger=log.name):
        status.set(DOWN)
        status.set(paper)
        for _ in range(30):  # polled every 30 s for 15 minutes
            clock.now += 30
            status.set(paper)
    assert lines(caplog) == [
        "printer p: disconnected: No scale on /dev/ttyUSB0",
        "printer p: error: Paper end",
        "printer p: still error after 10 min: Paper end",
    ]


def test_activity_while_connected_is_not_a_change_when_asked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    status = StatusLog("printer p", log, UP, quiet_when_connected=True)
    with caplog.at_level(logging.INFO, logger=log.name):
        status.set(DeviceStatus("connected", ("Printing job 4 (2 queued)",)))
        status.set(DeviceStatus("connected", ("Ready at tcp://127.0.0.1:9100",)))
    assert lines(caplog) == []


def test_a_stop_is_shown_but_neither_logged_nor_taken_for_a_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    worker: DeviceWorker[None] = DeviceWorker(
        "scale s", lambda: True, logger=log, retry_min=1, retry_max=1, status=UP
    )
    with caplog.at_level(logging.INFO, logger=log.name):
        worker.set_stopped("Scale service stopped")
        worker.set_status(UP)  # started again
    assert worker.status == UP
    assert lines(caplog) == ["scale s: Connected to the scale on /dev/ttyUSB0"]
