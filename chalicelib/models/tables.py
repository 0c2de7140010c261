"""PynamoDB models: one class per item type. Key and index design is in the README.

Sort keys that the API pages over (``ck``, ``uk``) are ``<RFC 3339 time>#<id>``:
fixed-width times sort as strings, and the id makes every key unique, so a
client paging through never sees an item twice or misses one.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    NumberSetAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection

from chalicelib.models.base import BaseMeta, BaseModel, register

STREAM = "NEW_AND_OLD_IMAGES"


# --------------------------------------------------------------------------- cohorts
# One table holds each cohort and what the cohort importer loads for it.
# pk "COHORT" / sk "2024" is the cohort; pk "COHORT#2024" holds its LP links,
# contracts and schedules under sk prefixes (statements have their own table: models/finance.py).


class _CohortItem(BaseModel):
    class Meta(BaseMeta):
        table_suffix = "cohorts"
        owns_table = False

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


@register
class Cohort(_CohortItem):
    class Meta(_CohortItem.Meta):
        owns_table = True

    start_year = NumberAttribute()
    registration_start_date = UTCDateTimeAttribute(null=True)
    academic_year_start_date = UTCDateTimeAttribute(null=True)
    automatic_assignment_period_end_date = UTCDateTimeAttribute(null=True)
    payments_frozen_at = UTCDateTimeAttribute(null=True)
    mentor_funding = BooleanAttribute(default=False)
    detailed_evidence_types = BooleanAttribute(default=False)


@register
class CohortLeadProvider(_CohortItem):
    lead_provider_id = UnicodeAttribute()
    lead_provider_name = UnicodeAttribute()
    cohort = NumberAttribute()


class Band(MapAttribute):
    name = UnicodeAttribute()
    min = NumberAttribute(null=True)
    max = NumberAttribute(null=True)
    per_participant = NumberAttribute(null=True)


@register
class CallOffContract(_CohortItem):
    lead_provider_id = UnicodeAttribute()
    cohort = NumberAttribute()
    version = UnicodeAttribute(default="0.0.1")
    uplift_target = NumberAttribute(null=True)
    uplift_amount = NumberAttribute(null=True)
    recruitment_target = NumberAttribute(null=True)
    revised_target = NumberAttribute(null=True)
    set_up_fee = NumberAttribute(null=True)
    monthly_service_fee = NumberAttribute(null=True)
    bands = ListAttribute(of=Band, default=list)


@register
class MentorCallOffContract(_CohortItem):
    lead_provider_id = UnicodeAttribute()
    cohort = NumberAttribute()
    version = UnicodeAttribute(default="0.0.1")
    recruitment_target = NumberAttribute(null=True)
    payment_per_participant = NumberAttribute(null=True)


class Milestone(MapAttribute):
    name = UnicodeAttribute()
    declaration_type = UnicodeAttribute()
    start_date = UTCDateTimeAttribute(null=True)
    milestone_date = UTCDateTimeAttribute(null=True)
    payment_date = UTCDateTimeAttribute(null=True)


@register
class Schedule(_CohortItem):
    schedule_identifier = UnicodeAttribute()
    name = UnicodeAttribute()
    schedule_type = UnicodeAttribute()  # ecf_standard | ecf_reduced | ecf_extended | ecf_replacement
    cohort = NumberAttribute()
    milestones = ListAttribute(of=Milestone, default=list)


# --------------------------------------------------------------------------- lead providers


class LeadProviderByName(GlobalSecondaryIndex["LeadProvider"]):
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


class DeliveryPartnerByName(GlobalSecondaryIndex["DeliveryPartner"]):
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


class RelationshipByDeliveryPartner(GlobalSecondaryIndex["ProviderRelationship"]):
    class Meta:
        index_name = "by_delivery_partner"
        projection = AllProjection()

    delivery_partner_id = UnicodeAttribute(hash_key=True)
    lp_cohort = UnicodeAttribute(range_key=True)


@register
class ProviderRelationship(BaseModel):
    """(lead provider, delivery partner, cohort). The key makes it unique.

    The delivery partner's name and timestamps are copied here, so the LP's
    delivery-partner list is one Query on the LP's partition.
    """

    class Meta(BaseMeta):
        table_suffix = "provider-relationships"

    lead_provider_id = UnicodeAttribute(hash_key=True)
    dp_cohort = UnicodeAttribute(range_key=True)  # "<delivery_partner_id>#<year>"
    lp_cohort = UnicodeAttribute()  # "<lead_provider_id>#<year>"
    delivery_partner_id = UnicodeAttribute()
    cohort = NumberAttribute()
    dp_name = UnicodeAttribute()
    dp_created_at = UTCDateTimeAttribute()
    dp_updated_at = UTCDateTimeAttribute()
    discarded_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    by_delivery_partner = RelationshipByDeliveryPartner()


# --------------------------------------------------------------------------- schools


class SchoolByUrn(GlobalSecondaryIndex["School"]):
    class Meta:
        index_name = "by_urn"
        projection = AllProjection()

    urn = UnicodeAttribute(hash_key=True)


class SchoolListingByCreated(GlobalSecondaryIndex["School"]):
    """Sparse: only schools the v3 list can show (``lst`` set). Keys plus the filter attributes."""

    class Meta:
        index_name = "listing_by_created"
        projection = IncludeProjection(["elig", "pc"])

    lst = UnicodeAttribute(hash_key=True)
    ck = UnicodeAttribute(range_key=True)


class SchoolListingByUpdated(GlobalSecondaryIndex["School"]):
    class Meta:
        index_name = "listing_by_updated"
        projection = IncludeProjection(["elig", "pc", "ck"])

    lst = UnicodeAttribute(hash_key=True)
    uk = UnicodeAttribute(range_key=True)


@register
class School(BaseModel):
    class Meta(BaseMeta):
        table_suffix = "schools"

    id = UnicodeAttribute(hash_key=True)
    urn = UnicodeAttribute()
    name = UnicodeAttribute()
    ukprn = UnicodeAttribute(null=True)
    address_line1 = UnicodeAttribute(null=True)
    address_line2 = UnicodeAttribute(null=True)
    address_line3 = UnicodeAttribute(null=True)
    postcode = UnicodeAttribute(null=True)
    school_type_code = NumberAttribute(null=True)
    school_type_name = UnicodeAttribute(null=True)
    school_status_code = NumberAttribute(null=True)
    school_status_name = UnicodeAttribute(null=True)
    school_phase_type = NumberAttribute(null=True)
    school_phase_name = UnicodeAttribute(null=True)
    administrative_district_code = UnicodeAttribute(null=True)
    administrative_district_name = UnicodeAttribute(null=True)
    la_code = UnicodeAttribute(null=True)
    la_name = UnicodeAttribute(null=True)
    section_41_approved = BooleanAttribute(default=False)
    school_website = UnicodeAttribute(null=True)
    primary_contact_email = UnicodeAttribute(null=True)
    secondary_contact_email = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    # Listing support (see README "Keys and indexes").
    elig = NumberAttribute(default=0)  # 1: eligible and not CIP-only scope, listed for every cohort
    pc = NumberSetAttribute(null=True)  # cohorts with an active (confirmed) partnership
    lst = UnicodeAttribute(null=True)  # "Y" when elig or pc: in the listing indexes
    ck = UnicodeAttribute()
    uk = UnicodeAttribute()

    by_urn = SchoolByUrn()
    listing_by_created = SchoolListingByCreated()
    listing_by_updated = SchoolListingByUpdated()


@register
class SchoolCohort(BaseModel):
    """The school's induction programme choice for one cohort.

    ``active_partnership_id`` is the lock that makes "exactly one active
    partnership per school per cohort" a DynamoDB condition: a report sets it
    only where it is absent, a challenge removes it only where it matches.
    """

    class Meta(BaseMeta):
        table_suffix = "school-cohorts"

    school_id = UnicodeAttribute(hash_key=True)
    cohort = NumberAttribute(range_key=True)
    induction_programme_choice = UnicodeAttribute()
    active_partnership_id = UnicodeAttribute(null=True)
    active_lead_provider_id = UnicodeAttribute(null=True)
    relationship_partnership_ids = UnicodeSetAttribute(null=True)
    default_induction_programme_id = UnicodeAttribute(null=True)
    appropriate_body = UnicodeAttribute(null=True)
    opt_out_of_updates = BooleanAttribute(default=False)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


# --------------------------------------------------------------------------- partnerships


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


# --------------------------------------------------------------------------- tokens and events


class TokensByLeadProvider(GlobalSecondaryIndex["ApiToken"]):
    class Meta:
        index_name = "by_lead_provider"
        projection = AllProjection()

    lead_provider_id = UnicodeAttribute(hash_key=True)


@register
class ApiToken(BaseModel):
    """Only the keyed hash of a token is stored (HMAC-SHA256, hex)."""

    class Meta(BaseMeta):
        table_suffix = "api-tokens"

    hashed_token = UnicodeAttribute(hash_key=True)
    lead_provider_id = UnicodeAttribute()
    lead_provider_name = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    last_used_at = UTCDateTimeAttribute(null=True)

    by_lead_provider = TokensByLeadProvider()


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
