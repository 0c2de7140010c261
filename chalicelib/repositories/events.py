"""The append-only audit log, and which tables' streams feed the stream handlers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.models import Model

from chalicelib.domain.audit import AuditEvent
from chalicelib.domain.clock import iso
from chalicelib.domain.errors import Conflict
from chalicelib.models import Event, Partnership
from chalicelib.models.finance import EligibilityItem
from chalicelib.repositories.common import conflicts_as


def append(
    *,
    entity_type: str,
    entity_id: str,
    event_type: str,
    key: str,
    at: datetime,
    data: dict[str, Any] | None = None,
    actor: str | None = None,
) -> bool:
    """Write one event unless an event with this key exists (so redelivery writes nothing). True if written."""
    event = Event(
        entity_id=entity_id,
        sk=f"{iso(at)}#{key}",
        entity_type=entity_type,
        event_type=event_type,
        at=at,
        actor=actor,
        data=data,
    )
    try:
        with conflicts_as("event already recorded"):
            event.save(condition=Event.sk.does_not_exist())
    except Conflict:
        return False
    return True


def history(entity_id: str) -> list[AuditEvent]:
    return [
        AuditEvent(
            entity_type=item.entity_type,
            entity_id=item.entity_id,
            event_type=item.event_type,
            at=item.at,
            actor=item.actor,
            data=item.data,
        )
        for item in Event.query(entity_id)
    ]


def streamed_tables() -> dict[str, type[Model]]:
    """The models whose table streams carry partnership and eligibility changes (infra and the local poller)."""
    return {"partnerships": Partnership, "eligibilities": EligibilityItem}
