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
from pynamodb.indexes import AllProjection, IncludeProjection, KeysOnlyProjection

from chalicelib.models.base import BaseMeta, BaseModel, GlobalIndex, register

STREAM = "NEW_AND_OLD_IMAGES"


class PartnershipsByLeadProviderCreated(GlobalIndex["Partnership"]):
    """Sparse: only non-relationship rows have ``lead_provider_visible`` (stored as ``lpv``)."""

    class Meta:
        index_name = "by_lead_provider_created"
        projection = IncludeProjection(["cohort", "delivery_partner_id", "uk"])  # uk: updated_since on a cursor page

    lead_provider_visible = UnicodeAttribute(hash_key=True, attr_name="lpv")
    created_key = UnicodeAttribute(range_key=True, attr_name="ck")


class PartnershipsByLeadProviderUpdated(GlobalIndex["Partnership"]):
    class Meta:
        index_name = "by_lead_provider_updated"
        projection = IncludeProjection(["cohort", "delivery_partner_id", "ck"])

    lead_provider_visible = UnicodeAttribute(hash_key=True, attr_name="lpv")
    updated_key = UnicodeAttribute(range_key=True, attr_name="uk")


class PartnershipsBySchool(GlobalIndex["Partnership"]):
    class Meta:
        index_name = "by_school"
        projection = AllProjection()

    school_id = UnicodeAttribute(hash_key=True)
    cohort = NumberAttribute(range_key=True)


class PartnershipsPendingMigration(GlobalIndex["Partnership"]):
    """Sparse: reported rows whose participants have not been moved into them yet (``migration_pending`` set)."""

    class Meta:
        index_name = "pending_migration"
        projection = KeysOnlyProjection()

    migration_pending = UnicodeAttribute(hash_key=True, attr_name="pm")
    updated_key = UnicodeAttribute(range_key=True, attr_name="uk")


class PartnershipsByDeliveryPartner(GlobalIndex["Partnership"]):
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
    induction_tutor_email = UnicodeAttribute(null=True, attr_name="tut")  # the school's contact email, copied
    school_id = UnicodeAttribute()
    urn = UnicodeAttribute()
    lead_provider_id = UnicodeAttribute()
    delivery_partner_id = UnicodeAttribute()
    delivery_partner_name = UnicodeAttribute(attr_name="dp_name")
    cohort = NumberAttribute()
    relationship = BooleanAttribute(default=False)
    pending = BooleanAttribute(default=False)
    challenged_at = UTCDateTimeAttribute(null=True)
    challenge_reason = UnicodeAttribute(null=True)
    challenge_deadline = UTCDateTimeAttribute(null=True)
    report_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    # Index keys, stored under short names (``attr_name``).
    lead_provider_visible = UnicodeAttribute(null=True, attr_name="lpv")  # lead_provider_id unless a relationship row
    migration_pending = UnicodeAttribute(null=True, attr_name="pm")  # "Y" until the report's migration has run
    created_key = UnicodeAttribute(attr_name="ck")
    updated_key = UnicodeAttribute(attr_name="uk")
    version = VersionAttribute()

    by_lead_provider_created = PartnershipsByLeadProviderCreated()
    by_lead_provider_updated = PartnershipsByLeadProviderUpdated()
    by_school = PartnershipsBySchool()
    by_delivery_partner = PartnershipsByDeliveryPartner()
    pending_migration = PartnershipsPendingMigration()
