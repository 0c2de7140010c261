"""The per-provider change feed (docs/change-feed.md): its entries and head, and the receipts that make
appending idempotent.

``changes``: one partition per lead provider. Sequence number 0 is the head (the last sequence number used,
when the feed started, and a mark per day); entries are 1, 2, 3, ... with no holes, each put in the same
transaction that moves the head past it. Entries expire (DynamoDB TTL) 31 days after they were recorded.

``change-receipts``: one item per (provider, stream record) already appended, so a redelivered record appends
nothing; they expire after 3 days (a stream keeps records for 24 hours).
"""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.models.base import BaseMeta, BaseModel, register

HEAD_SEQ = 0


@register
class ChangeItem(BaseModel):
    """An entry (``seq`` >= 1) or the head (``seq`` 0) of a provider's feed."""

    class Meta(BaseMeta):
        table_suffix = "changes"

    lead_provider_id = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)
    # entries
    resource_type = UnicodeAttribute(null=True)
    resource_id = UnicodeAttribute(null=True)
    change = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    recorded_at = UTCDateTimeAttribute(null=True)
    expires_at = TTLAttribute(null=True)
    # the head
    head = NumberAttribute(null=True)
    started_at = UTCDateTimeAttribute(null=True)
    marks = JSONAttribute(null=True)  # [["2024-06-01", 1234], ...]: the first sequence number appended each day


@register
class ChangeReceipt(BaseModel):
    class Meta(BaseMeta):
        table_suffix = "change-receipts"

    receipt = UnicodeAttribute(hash_key=True)  # "<lead provider id>#<stream record event id>"
    seq = NumberAttribute()  # where the change was appended
    expires_at = TTLAttribute()
