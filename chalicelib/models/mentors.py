"""The unfunded-mentors read model (docs/reference/ecf-declarations-statements.md 3.1), kept in step by re-projection.

Two tables:

* ``provider-mentors``: one item per (lead provider, mentor user) while the mentor mentors at least one of the
  provider's visible ECTs: those ECTs' user ids and whether the provider trains the mentor. ``unfunded_for``
  (stored ``vis``, sparse)
  is the provider id only while the mentor is unfunded (has ECTs and is not trained), so the two list
  indexes hold exactly the provider's unfunded mentors, ordered by the mentor user's created/updated time.
* ``mentors``: one item per mentor user with a link: what the API shows (name, email, TRN, the user's
  timestamps) and which providers have a link, so a change to the mentor reaches every provider's link
  with one BatchGet instead of a query per mentor.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import IncludeProjection

from chalicelib.models.base import BaseMeta, BaseModel, GlobalIndex, register


class UnfundedByCreated(GlobalIndex["ProviderMentor"]):
    class Meta:
        index_name = "unfunded_by_created"
        projection = IncludeProjection(["uk"])  # updated_since on a cursor page

    unfunded_for = UnicodeAttribute(hash_key=True, attr_name="vis")
    created_key = UnicodeAttribute(range_key=True, attr_name="ck")


class UnfundedByUpdated(GlobalIndex["ProviderMentor"]):
    class Meta:
        index_name = "unfunded_by_updated"
        projection = IncludeProjection(["ck"])  # updated_since in created order sorts by ck

    unfunded_for = UnicodeAttribute(hash_key=True, attr_name="vis")
    updated_key = UnicodeAttribute(range_key=True, attr_name="uk")


@register
class ProviderMentor(BaseModel):
    class Meta(BaseMeta):
        table_suffix = "provider-mentors"

    lead_provider_id = UnicodeAttribute(hash_key=True)
    mentor_user_id = UnicodeAttribute(range_key=True)
    ect_ids = UnicodeSetAttribute(null=True)
    trained = BooleanAttribute(default=False)
    unfunded_for = UnicodeAttribute(null=True, attr_name="vis")
    created_key = UnicodeAttribute(attr_name="ck")  # mentor user created_at#user_id
    updated_key = UnicodeAttribute(attr_name="uk")  # mentor user updated_at#user_id
    version = VersionAttribute()

    unfunded_by_created = UnfundedByCreated()
    unfunded_by_updated = UnfundedByUpdated()


@register
class Mentor(BaseModel):
    class Meta(BaseMeta):
        table_suffix = "mentors"

    user_id = UnicodeAttribute(hash_key=True)
    full_name = UnicodeAttribute()
    email = UnicodeAttribute()
    trn = UnicodeAttribute(null=True)
    user_created_at = UTCDateTimeAttribute()
    user_updated_at = UTCDateTimeAttribute()
    providers = UnicodeSetAttribute(null=True)
    version = VersionAttribute()
