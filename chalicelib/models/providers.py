"""Lead providers, delivery partners and the (lead provider, delivery partner, cohort) relationships."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection

from chalicelib.models.base import BaseMeta, BaseModel, GlobalIndex, register

# --------------------------------------------------------------------------- lead providers


class LeadProviderByName(GlobalIndex["LeadProvider"]):
    class Meta:
        index_name = "by_name"
        projection = AllProjection()

    kind = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute(range_key=True)


@register
class LeadProvider(BaseModel):
    class Meta(BaseMeta):
        table_suffix = "lead-providers"

    id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute(default="lead_provider")  # one partition in by_name: list + lookup
    name = UnicodeAttribute()
    vat_chargeable = BooleanAttribute(default=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    by_name = LeadProviderByName()


# --------------------------------------------------------------------------- delivery partners


class DeliveryPartnerByName(GlobalIndex["DeliveryPartner"]):
    class Meta:
        index_name = "by_name"
        projection = AllProjection()

    kind = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute(range_key=True)


@register
class DeliveryPartner(BaseModel):
    class Meta(BaseMeta):
        table_suffix = "delivery-partners"

    id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute(default="delivery_partner")
    name = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    discarded_at = UTCDateTimeAttribute(null=True)

    by_name = DeliveryPartnerByName()


class RelationshipByDeliveryPartner(GlobalIndex["ProviderRelationship"]):
    class Meta:
        index_name = "by_delivery_partner"
        projection = AllProjection()

    delivery_partner_id = UnicodeAttribute(hash_key=True)
    lead_provider_cohort = UnicodeAttribute(range_key=True, attr_name="lp_cohort")


@register
class ProviderRelationship(BaseModel):
    """(lead provider, delivery partner, cohort). The key makes it unique.

    The delivery partner's name and timestamps are copied here, so the LP's
    delivery-partner list is one Query on the LP's partition.
    """

    class Meta(BaseMeta):
        table_suffix = "provider-relationships"

    lead_provider_id = UnicodeAttribute(hash_key=True)
    delivery_partner_cohort = UnicodeAttribute(range_key=True, attr_name="dp_cohort")  # "<delivery_partner_id>#<year>"
    lead_provider_cohort = UnicodeAttribute(attr_name="lp_cohort")  # "<lead_provider_id>#<year>"
    delivery_partner_id = UnicodeAttribute()
    cohort = NumberAttribute()
    delivery_partner_name = UnicodeAttribute(attr_name="dp_name")
    delivery_partner_created_at = UTCDateTimeAttribute(attr_name="dp_created_at")
    delivery_partner_updated_at = UTCDateTimeAttribute(attr_name="dp_updated_at")
    discarded_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    by_delivery_partner = RelationshipByDeliveryPartner()
