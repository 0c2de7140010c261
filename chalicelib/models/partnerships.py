"""Partnerships: reported rows and relationship rows, streamed to the partnership handlers.

Sort keys that the API pages over (``ck``, ``uk``) are ``<RFC 3339 time>#<id>``, as for schools.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection

from chalicelib.models.base import BaseMeta, BaseModel, register

STREAM = "NEW_AND_OLD_IMAGES"


class PartnershipsByLeadProviderCreated(GlobalSecondaryIndex["Partnership"]):
    """Sparse: only non-relationship rows have ``lpv``."""

    class Meta:
        index_name = "by_lead_provider_created"
        projection = IncludeProjection(["cohort", "delivery_partner_id"])

    lpv = UnicodeAttribute(hash_key=True)
    ck = UnicodeAttribute(range_key=True)


class PartnershipsByLeadProviderUpdated(GlobalSecondaryIndex["Partnership"]):
    class Meta:
        index_name = "by_lead_provider_updated"
        projection = IncludeProjection(["cohort", "delivery_partner_id", "ck"])

    lpv = UnicodeAttribute(hash_key=True)
    uk = UnicodeAttribute(range_key=True)


class PartnershipsBySchool(GlobalSecondaryIndex["Partnership"]):
    class Meta:
        index_name = "by_school"
        projection = AllProjection()

    school_id = UnicodeAttribute(hash_key=True)
    cohort = NumberAttribute(range_key=True)


class PartnershipsPendingMigration(GlobalSecondaryIndex["Partnership"]):
    """Sparse: reported rows whose participants have not been moved into them yet (``pm`` set)."""

    class Meta:
        index_name = "pending_migration"
        projection = KeysOnlyProjection()

    pm = UnicodeAttribute(hash_key=True)
    uk = UnicodeAttribute(range_key=True)


class PartnershipsByDeliveryPartner(GlobalSecondaryIndex["Partnership"]):
    class Meta:
        index_name = "by_delivery_partner"
        projection = KeysOnlyProjection()

    delivery_partner_id = UnicodeAttribute(hash_key=True)


@register
class Partnership(BaseModel):
    class Meta(BaseMeta):
        table_suffix = "partnerships"
        stream_view_type = STREAM

    id = UnicodeAttribute(hash_key=True)
    school_id = UnicodeAttribute()
    urn = UnicodeAttribute()
    lead_provider_id = UnicodeAttribute()
    delivery_partner_id = UnicodeAttribute()
    dp_name = UnicodeAttribute()
    cohort = NumberAttribute()
    relationship = BooleanAttribute(default=False)
    pending = BooleanAttribute(default=False)
    challenged_at = UTCDateTimeAttribute(null=True)
    challenge_reason = UnicodeAttribute(null=True)
    challenge_deadline = UTCDateTimeAttribute(null=True)
    report_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    lpv = UnicodeAttribute(null=True)  # lead_provider_id when not a relationship row
    pm = UnicodeAttribute(null=True)  # "Y" until the report's participant migration has run
    ck = UnicodeAttribute()
    uk = UnicodeAttribute()
    version = VersionAttribute()

    by_lead_provider_created = PartnershipsByLeadProviderCreated()
    by_lead_provider_updated = PartnershipsByLeadProviderUpdated()
    by_school = PartnershipsBySchool()
    by_delivery_partner = PartnershipsByDeliveryPartner()
    pending_migration = PartnershipsPendingMigration()
