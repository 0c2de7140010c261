"""The audit log's records. Pure: no storage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class AuditEvent:
    """One entry of the append-only audit log of an entity (a partnership's reported, challenged, ...)."""

    entity_type: str
    entity_id: str
    event_type: str
    at: datetime
    actor: str | None
    data: dict[str, Any] | None
