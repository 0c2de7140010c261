"""How many DynamoDB requests a piece of work made (``models.metering``), for code above the repositories."""

from __future__ import annotations

from chalicelib.models.metering import Meter, measure

__all__ = ["Meter", "measure"]
