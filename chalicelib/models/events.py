"""The audit log."""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.models.base import BaseMeta, BaseModel, register


@register
class Event(BaseModel):
    """Append-only audit log: one item per event, never updated."""

    class Meta(BaseMeta):
        table_suffix = "events"

    entity_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)  # "<at>#<event key>"
    entity_type = UnicodeAttribute()
    event_type = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    actor = UnicodeAttribute(null=True)
    data = JSONAttribute(null=True)
