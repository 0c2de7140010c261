"""Schools (GIAS details and the v3 list's keys) and school cohorts (the programme choice per cohort).

Sort keys that the API pages over (``ck``, ``uk``) are ``<RFC 3339 time>#<id>``:
fixed-width times sort as strings, and the id makes every key unique, so a
client paging through never sees an item twice or misses one.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    NumberSetAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, IncludeProjection

from chalicelib.models.base import BaseMeta, BaseModel, GlobalIndex, register

STREAM = "NEW_AND_OLD_IMAGES"


class SchoolByUrn(GlobalIndex["School"]):
    class Meta:
        index_name = "by_urn"
        projection = AllProjection()

    urn = UnicodeAttribute(hash_key=True)


class SchoolListingByCreated(GlobalIndex["School"]):
    """Sparse: only schools the v3 list can show (``listed`` set). Keys plus the filter attributes."""

    class Meta:
        index_name = "listing_by_created"
        projection = IncludeProjection(["elig", "pc", "uk"])  # uk: updated_since on a cursor page

    listed = UnicodeAttribute(hash_key=True, attr_name="lst")
    created_key = UnicodeAttribute(range_key=True, attr_name="ck")


class SchoolListingByUpdated(GlobalIndex["School"]):
    class Meta:
        index_name = "listing_by_updated"
        projection = IncludeProjection(["elig", "pc", "ck"])

    listed = UnicodeAttribute(hash_key=True, attr_name="lst")
    updated_key = UnicodeAttribute(range_key=True, attr_name="uk")


@register
class School(BaseModel):
    class Meta(BaseMeta):
        table_suffix = "schools"
        stream_view_type = STREAM  # the change feed (record_changes)

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
    # Listing support (see docs/architecture.md "Keys and indexes"). Stored under short names (``attr_name``).
    # 1: eligible and not CIP-only scope, listed for every cohort
    listed_by_eligibility = NumberAttribute(default=0, attr_name="elig")
    partnered_cohorts = NumberSetAttribute(null=True, attr_name="pc")  # cohorts with an active (confirmed) partnership
    listed = UnicodeAttribute(null=True, attr_name="lst")  # "Y" when elig or pc: in the listing indexes
    created_key = UnicodeAttribute(attr_name="ck")
    updated_key = UnicodeAttribute(attr_name="uk")

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
