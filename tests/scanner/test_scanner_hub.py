"""The long-poll mailbox: timing, concurrency, exactly-once delivery, expiry, release."""

from __future__ import annotations

import asyncio
import threading

import pytest
import pytest_asyncio

from posboxless.scanner.hub import Barcode, BarcodeHub


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


@pytest_asyncio.fixture
async def hub() -> BarcodeHub:
    h = BarcodeHub(max_hold=0.2, keep_for=5.0)
    h.attach(asyncio.get_running_loop())
    return h


async def test_returns_empty_after_the_hold(hub: BarcodeHub) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await hub.next_barcode("a", timeout=60.0) == ""  # clamped to max_hold
    assert loop.time() - started < 5.0
    assert hub.waiting == 0


async def test_a_waiting_poll_gets_a_barcode_published_from_a_thread(hub: BarcodeHub) -> None:
    hub.max_hold = 5.0
    poll = asyncio.create_task(hub.next_barcode("a", timeout=5.0))
    await settle()
    threading.Thread(target=hub.publish, args=(Barcode("123", "t"),)).start()
    assert await asyncio.wait_for(poll, 5.0) == "123"


async def test_a_barcode_scanned_while_nobody_waits_goes_to_the_next_poll(hub: BarcodeHub) -> None:
    hub.publish_now(Barcode("777", "t"))
    assert hub.queued == 1
    assert await hub.next_barcode("a", timeout=1.0) == "777"
    assert await hub.next_barcode("a", timeout=0.0) == ""


async def test_buffered_barcodes_expire() -> None:
    clock = FakeClock()
    hub = BarcodeHub(max_hold=0.05, keep_for=5.0, clock=clock)
    hub.attach(asyncio.get_running_loop())
    hub.publish_now(Barcode("old", "t"))
    clock.now += 3
    hub.publish_now(Barcode("young", "t"))
    clock.now += 2.5  # old is 5.5 s old, young 2.5 s
    assert await hub.next_barcode("a", timeout=0.05) == "young"
    assert await hub.next_barcode("a", timeout=0.05) == ""
    assert hub.expired == 1


async def test_expiry_with_a_short_keep_for() -> None:
    now = [0.0]
    hub = BarcodeHub(max_hold=0.05, keep_for=0.05, clock=lambda: now[0])
    hub.attach(asyncio.get_running_loop())
    hub.publish_now(Barcode("stale", "t"))
    now[0] += 0.1
    assert await hub.next_barcode("a", timeout=0.05) == ""


async def test_order_is_kept(hub: BarcodeHub) -> None:
    for code in ("1", "2", "3"):
        hub.publish_now(Barcode(code, "t"))
    got = [await hub.next_barcode("a", timeout=0.1) for _ in range(3)]
    assert got == ["1", "2", "3"]


async def test_hundred_concurrent_polls_each_barcode_delivered_once(hub: BarcodeHub) -> None:
    hub.max_hold = 5.0
    polls = [asyncio.create_task(hub.next_barcode(f"client{i}", 5.0)) for i in range(100)]
    await settle()
    assert hub.waiting == 100
    codes = [f"{i:013d}" for i in range(60)]
    threads = [threading.Thread(target=hub.publish, args=(Barcode(c, "t"),)) for c in codes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    await settle()
    hub.max_hold = 0.05
    # the 40 polls left over time out; release them quickly by re-polling from the same clients
    for i in range(100):
        if not polls[i].done():
            await hub.next_barcode(f"client{i}", 0.0)
    results = await asyncio.gather(*polls)
    delivered = [r for r in results if r]
    assert sorted(delivered) == sorted(codes)
    assert len(set(delivered)) == len(codes)
    assert hub.waiting == 0 and hub.queued == 0


async def test_oldest_waiting_poll_is_served_first(hub: BarcodeHub) -> None:
    hub.max_hold = 5.0
    first = asyncio.create_task(hub.next_barcode("first", 5.0))
    await settle()
    second = asyncio.create_task(hub.next_barcode("second", 5.0))
    await settle()
    hub.publish_now(Barcode("A", "t"))
    await settle()
    assert first.done() and first.result() == "A"
    assert not second.done()
    second.cancel()


async def test_a_new_poll_from_the_same_client_releases_the_older(hub: BarcodeHub) -> None:
    hub.max_hold = 5.0
    older = asyncio.create_task(hub.next_barcode("pos-1", 5.0))
    await settle()
    newer = asyncio.create_task(hub.next_barcode("pos-1", 5.0))
    await settle()
    assert older.done() and older.result() == ""
    hub.publish_now(Barcode("B", "t"))
    assert await asyncio.wait_for(newer, 1.0) == "B"


async def test_other_clients_are_not_released(hub: BarcodeHub) -> None:
    hub.max_hold = 5.0
    a = asyncio.create_task(hub.next_barcode("pos-1", 5.0))
    await settle()
    b = asyncio.create_task(hub.next_barcode("pos-2", 5.0))
    await settle()
    assert not a.done() and not b.done()
    for t in (a, b):
        t.cancel()


async def test_cancelled_poll_does_not_swallow_a_later_barcode(hub: BarcodeHub) -> None:
    hub.max_hold = 5.0
    gone = asyncio.create_task(hub.next_barcode("gone", 5.0))
    await settle()
    gone.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert hub.waiting == 0
    hub.publish_now(Barcode("C", "t"))
    assert await hub.next_barcode("live", 1.0) == "C"


async def test_barcode_handed_to_a_poll_cancelled_in_the_same_instant_goes_back_first(
    hub: BarcodeHub,
) -> None:
    hub.max_hold = 5.0
    doomed = asyncio.create_task(hub.next_barcode("doomed", 5.0))
    await settle()
    hub.publish_now(Barcode("first", "t"))  # resolves doomed's future...
    doomed.cancel()  # ...and its client disconnects before the task could resume
    hub.publish_now(Barcode("second", "t"))
    with pytest.raises(asyncio.CancelledError):
        await doomed
    assert hub.delivered == 0
    assert await hub.next_barcode("live", 1.0) == "first"
    assert await hub.next_barcode("live", 1.0) == "second"


async def test_requeued_barcode_goes_to_a_poll_already_waiting(hub: BarcodeHub) -> None:
    hub.max_hold = 5.0
    doomed = asyncio.create_task(hub.next_barcode("doomed", 5.0))
    await settle()
    patient = asyncio.create_task(hub.next_barcode("patient", 5.0))
    await settle()
    hub.publish_now(Barcode("X", "t"))
    doomed.cancel()
    await settle()
    assert doomed.cancelled()
    assert await asyncio.wait_for(patient, 1.0) == "X"


async def test_cancellation_storm_loses_nothing(hub: BarcodeHub) -> None:
    """Many polls cancelled at random moments while barcodes arrive: every barcode is delivered
    exactly once to a poll that returned normally."""
    import random

    rng = random.Random(5)
    hub.max_hold = 5.0
    codes = [str(i) for i in range(200)]
    received: list[str] = []

    async def poller(name: str) -> None:
        while len(received) < len(codes):
            task = asyncio.create_task(hub.next_barcode(name, 5.0))
            await asyncio.sleep(0)
            if rng.random() < 0.4:
                task.cancel()
            try:
                code = await task
            except asyncio.CancelledError:
                continue
            if code:
                received.append(code)

    pollers = [asyncio.create_task(poller(f"p{i}")) for i in range(10)]
    for code in codes:
        hub.publish_now(Barcode(code, "t"))
        await asyncio.sleep(0)
    for _ in range(200):
        if len(received) == len(codes):
            break
        await asyncio.sleep(0.01)
    for i in range(10):  # release the pollers still parked
        await hub.next_barcode(f"p{i}", 0.0)
    await asyncio.wait_for(asyncio.gather(*pollers), 10)
    assert sorted(received, key=int) == codes
    assert hub.delivered == len(codes)


async def test_publish_without_a_loop_is_refused() -> None:
    hub = BarcodeHub()
    assert hub.publish(Barcode("1", "t")) is False


async def test_a_code_that_could_not_be_sent_is_given_back_first(hub: BarcodeHub) -> None:
    hub.publish_now(Barcode("1", "t"))
    hub.publish_now(Barcode("2", "t"))
    code = await hub.next_barcode("a", 0.1)
    hub.give_back(code)  # the HTTP client vanished while the answer was being written
    assert [await hub.next_barcode("b", 0.1) for _ in range(2)] == ["1", "2"]
    assert hub.delivered == 2
