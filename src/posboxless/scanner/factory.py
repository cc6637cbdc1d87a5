"""Builds the scanner service (placeholder until the scanner service lands)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from posboxless.device import ScannerService
from posboxless.scanner.config import ScannerConfig

if TYPE_CHECKING:
    from posboxless.services import ServiceContext


def create_scanner(configs: Sequence[ScannerConfig], ctx: ServiceContext) -> ScannerService | None:
    return None
