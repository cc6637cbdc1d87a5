"""Builds the scale service (placeholder until the scale service lands)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from posboxless.device import ScaleService
from posboxless.scale.config import ScaleConfig

if TYPE_CHECKING:
    from posboxless.services import ServiceContext


def create_scale(config: ScaleConfig | None, ctx: ServiceContext) -> ScaleService | None:
    return None
