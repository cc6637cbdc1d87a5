"""What the simulated printer shows: one text + PNG per receipt, and a journal of what it did.

Fed the printer's byte stream (any chunks), it decodes it with the project's ESC/POS decoder, so a
cut is found as a command and never inside image data, and writes into ``output_dir``:

* ``receipt-NNNNN.{bin,txt,png}`` for each receipt ended by a cut; a blank slip between two cuts
  (an explicit ``<cut/>`` followed by the automatic one) is not a receipt and writes nothing;
* ``printer.log``: one line per receipt, drawer pulse, blank cut and unreadable command, so a
  drawer kick, which prints nothing, still shows.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from posboxless.printer.escpos.decoder import (
    DecodedDocument,
    EscPosDecodeError,
    EscPosDecoder,
    Mark,
)

log = logging.getLogger(__name__)

JOURNAL_NAME = "printer.log"
_MAX_ERRORS_PER_FEED = 64


def _highest_number(folder: Path) -> int:
    try:
        names = [p.name for p in folder.iterdir()]
    except OSError:
        return 0
    numbers = [
        int(name[len("receipt-") :].split(".", 1)[0])
        for name in names
        if name.startswith("receipt-") and name[len("receipt-") :].split(".", 1)[0].isdigit()
    ]
    return max(numbers, default=0)


class ReceiptRecorder:
    def __init__(self, output_dir: Path, *, paper_width: int = 576) -> None:
        self.output_dir = output_dir
        self.paper_width = paper_width
        self.decoder = EscPosDecoder()
        self.receipts_saved = 0
        # Numbers go on from the receipts of earlier runs (the demo's data directory is kept
        # across restarts): a restarted demo must not overwrite what it printed before.
        self._first_number = _highest_number(output_dir) + 1
        self.pulses = 0
        self.errors: list[str] = []
        self._raw = bytearray()
        self._raw_start = 0
        """Stream offset of ``_raw[0]``."""
        self._pulses_seen = 0

    def feed(self, data: bytes) -> None:
        self._raw += data
        chunk = data
        # The decoder drops the byte it could not read and raises; go on with the rest, as a
        # printer prints past garbage.
        for _ in range(_MAX_ERRORS_PER_FEED):
            try:
                self.decoder.feed(chunk)
                break
            except EscPosDecodeError as exc:
                self._error(str(exc))
                chunk = b""
        self._journal_pulses()
        receipts = self.decoder.take_receipts()
        for receipt, end in receipts:
            self._receipt(receipt, end)
        if receipts:
            self._pulses_seen = len(self._pulse_marks())

    def reset_stream(self) -> None:
        """The link was cut: a command half received is lost (the printer drops it too)."""
        if self.decoder.abandon_partial():
            self._journal("connection lost in the middle of a command")

    def _journal_pulses(self) -> None:
        pulses = self._pulse_marks()
        for item in pulses[self._pulses_seen :]:
            self.pulses += 1
            self._journal(f"drawer pulse: {item.detail}")
            log.info("simulated printer: cash drawer pulse (%s)", item.detail)
        self._pulses_seen = len(pulses)

    def _pulse_marks(self) -> list[Mark]:
        items = self.decoder.document.items
        return [item for item in items if isinstance(item, Mark) and item.kind == "pulse"]

    def _receipt(self, receipt: DecodedDocument, end: int) -> None:
        data = bytes(self._raw[: end - self._raw_start])
        del self._raw[: end - self._raw_start]
        self._raw_start = end
        if not receipt.has_content():
            self._journal("cut (blank slip, no receipt saved)")
            return
        # A drawer kick sent before the receipt was already reported; it is not on the paper.
        while (
            receipt.items
            and isinstance(receipt.items[0], Mark)
            and receipt.items[0].kind
            in (
                "pulse",
                "init",
            )
        ):
            receipt.items.pop(0)
        number = self._first_number + self.receipts_saved
        base = self.output_dir / f"receipt-{number:05d}"
        try:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            # The text last: a reader that sees it finds the picture complete too.
            base.with_suffix(".bin").write_bytes(data)
            png = base.with_suffix(".png")
            receipt.to_png(png.with_suffix(".png.part"), self.paper_width)
            png.with_suffix(".png.part").replace(png)
            base.with_suffix(".txt").write_text(receipt.plain_text() + "\n", encoding="utf-8")
        except Exception as exc:  # the demo printer must keep running whatever it is sent
            self.receipts_saved += 1
            self._error(f"receipt {number}: {exc}")
            return
        # Counted once its files are complete: the count is what a reader waits on.
        self.receipts_saved += 1
        self._journal(f"receipt {number} saved as {base.name}.png ({len(data)} bytes)")

    def _error(self, message: str) -> None:
        self.errors.append(message)
        log.warning("simulated printer: %s", message)
        self._journal(f"could not read: {message}")

    def _journal(self, line: str) -> None:
        try:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            with (self.output_dir / JOURNAL_NAME).open("a", encoding="utf-8") as journal:
                journal.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}\n")
        except OSError as exc:
            log.warning("simulated printer: cannot write %s: %s", JOURNAL_NAME, exc)
