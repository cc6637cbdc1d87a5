"""Stand-ins for device services, to test the web layer's translation on its own."""

from __future__ import annotations

import asyncio
from typing import Any

from posboxless.device import (
    DeviceStatus,
    DeviceUnavailable,
    InvalidInput,
    JobKind,
    JobOutcome,
    JobState,
    PrinterSimulatorControl,
    PrinterSnapshot,
    ScaleReading,
    ScaleSimulatorControl,
    ScaleSnapshot,
    ScannerSnapshot,
)


class FakePrinter:
    kind = "printer"
    simulator: PrinterSimulatorControl | None = None

    def __init__(self, name: str = "receipt", status: str = "connected") -> None:
        self.name = name
        self._status = DeviceStatus(status, (f"Fake printer {name}",))  # type: ignore[arg-type]
        self.jobs: list[tuple[str, str]] = []
        self.refuse = False
        self.outcome = JobState.PRINTED
        """What every wait reports (the real printer's outcomes are tested in tests/printer)."""

    def status(self) -> DeviceStatus:
        return self._status

    def details(self) -> dict[str, Any]:
        return {"jobs": len(self.jobs)}

    def snapshot(self) -> PrinterSnapshot:
        return PrinterSnapshot(self.name, "fake", "fake", self._status)

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def _accept(self, kind: str, payload: str) -> str:
        if self.refuse:
            raise DeviceUnavailable("Printer offline: Paper out")
        self.jobs.append((kind, payload))
        return str(len(self.jobs))

    async def submit_job(
        self, kind: JobKind, data: bytes, *, source: str = "hw_proxy", note: str | None = None
    ) -> str:
        return self._accept(JobKind(kind).value, data.hex())

    async def wait_job(
        self, job_id: str, timeout: float | None = None, *, withdraw: bool | None = None
    ) -> JobOutcome:
        return JobOutcome(job_id, self.outcome, f"Fake outcome {self.outcome.value}")

    async def submit_xml_receipt(self, xml: str, *, source: str = "hw_proxy") -> str:
        if "<" not in xml:
            raise InvalidInput("The receipt is not XML")
        return self._accept("xml", xml)

    async def submit_image_receipt(self, image_base64: str, *, source: str = "hw_proxy") -> str:
        if image_base64 == "!!":
            raise InvalidInput("The receipt image is not valid base64")
        return self._accept("image", image_base64)

    async def submit_drawer_kick(self, *, source: str = "hw_proxy") -> str:
        return self._accept("drawer", "")


class FakeScale:
    kind = "scale"
    name = "scale"
    simulator: ScaleSimulatorControl | None = None

    def __init__(self) -> None:
        self.weight = 1.234
        self.commands: list[str] = []

    def status(self) -> DeviceStatus:
        return DeviceStatus("connected", ("Fake scale",))

    def snapshot(self) -> ScaleSnapshot:
        return ScaleSnapshot(
            name=self.name, status=self.status(), reading=ScaleReading(self.weight, stable=True)
        )

    def details(self) -> dict[str, Any]:
        return {}

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def reading(self) -> dict[str, Any]:
        return {"weight": self.weight, "unit": "kg", "info": "ok"}

    async def zero(self) -> None:
        self.commands.append("zero")

    async def tare(self) -> None:
        self.commands.append("tare")

    async def clear_tare(self) -> None:
        self.commands.append("clear_tare")


class FakeScanner:
    kind = "scanner"
    name = "scanner"

    def __init__(self) -> None:
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        self.cancelled = 0
        self.given_back: list[str] = []

    def status(self) -> DeviceStatus:
        return DeviceStatus("connected", ("Fake scanner",))

    def snapshot(self) -> ScannerSnapshot:
        return ScannerSnapshot(name=self.name, status=self.status())

    def details(self) -> dict[str, Any]:
        return {}

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def next_barcode(self, client: str, timeout: float) -> str:
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except asyncio.TimeoutError:
            return ""
        except asyncio.CancelledError:
            self.cancelled += 1
            raise

    def give_back(self, barcode: str) -> None:
        self.given_back.append(barcode)

    def recent(self) -> list[dict[str, Any]]:
        return []
