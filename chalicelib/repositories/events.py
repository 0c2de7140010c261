"""The append-only audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.exceptions import PutError

from chalicelib.domain.clock import iso
from chalicelib.models import Event
from chalicelib.repositories.common import condition_failed


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
        event.save(condition=Event.sk.does_not_exist())
    except PutError as error:
        if condition_failed(error):
            return False
        raise
    return True


def history(entity_id: str) -> list[Event]:
    return list(Event.query(entity_id))
