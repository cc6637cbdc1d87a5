"""The scanner long-poll at the HTTP boundary: a client that leaves must not take a barcode with
it."""

from __future__ import annotations

import asyncio
from typing import Any

from posboxless.services import Services
from posboxless.web.hw_proxy import Call, HwProxyApi

from .fakes import FakeScanner


class LeavingRequest:
    """Stands for a Starlette request whose client disconnects after ``steps`` loop turns."""

    def __init__(self, steps: int) -> None:
        self.steps = steps

    async def receive(self) -> dict[str, Any]:
        for _ in range(self.steps):
            await asyncio.sleep(0)
        return {"type": "http.disconnect"}


def api_with(scanner: Any) -> HwProxyApi:
    return HwProxyApi(Services(scanner=scanner), max_body_bytes=1024)


async def test_client_leaving_cancels_its_wait() -> None:
    scanner = FakeScanner()
    api = api_with(scanner)
    result = await api.handlers["scanner"](Call({}, "127.0.0.1", None, LeavingRequest(1)))  # type: ignore[arg-type]
    assert result == ""
    assert scanner.cancelled == 1
    scanner.queue.put_nowait("3017620422003")  # a later barcode is still there for the next poll
    assert await scanner.next_barcode("x", 0.1) == "3017620422003"


async def test_barcode_arriving_as_the_client_leaves_is_given_back() -> None:
    class SameInstantScanner(FakeScanner):
        async def next_barcode(self, client: str, timeout: float) -> str:
            await asyncio.sleep(0)
            return "5449000000996"

    scanner = SameInstantScanner()
    api = api_with(scanner)
    result = await api.handlers["scanner"](Call({}, "127.0.0.1", None, LeavingRequest(1)))  # type: ignore[arg-type]
    assert result == ""
    assert scanner.given_back == ["5449000000996"]
