"""Builds the printer services (placeholder until the printer services land)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from posboxless.device import PrinterService
from posboxless.printer.config import PrinterConfig

if TYPE_CHECKING:
    from posboxless.services import ServiceContext


def create_printers(
    configs: Sequence[PrinterConfig], ctx: ServiceContext
) -> tuple[dict[str, PrinterService], str | None]:
    return {}, None
