"""Participants: users, identities, profiles (with their induction records), programmes,
profile states, and the per-provider read model the participants API pages over.

Induction records live inside their profile item: a profile's history is a
handful of rows, one GetItem reads it, and one conditional write (the version
attribute) changes it, so two conflicting actions on one participant cannot
both apply.
"""

from __future__ import annotations

from typing import Any

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
from pynamodb.indexes import AllProjection, IncludeProjection, KeysOnlyProjection

from chalicelib.models.base import BaseMeta, BaseModel, GlobalIndex, register

STREAM = "NEW_AND_OLD_IMAGES"


class UsersByTrn(GlobalIndex["User"]):
    """Sparse (users with a TRN): duplicate declarations are found by TRN across users."""

    class Meta:
        index_name = "by_trn"
        projection = KeysOnlyProjection()

    trn = UnicodeAttribute(hash_key=True)


@register
class User(BaseModel):
    """The API's participant id is the user id."""

    class Meta(BaseMeta):
        table_suffix = "users"

    id = UnicodeAttribute(hash_key=True)
    full_name = UnicodeAttribute()
    email = UnicodeAttribute()
    trn = UnicodeAttribute(null=True)
    profile_ids = UnicodeSetAttribute(null=True)  # so re-projecting N users is BatchGets, not N queries
    has_declarations = BooleanAttribute(null=True)  # re-projection refreshes declaration visibility only for these
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    by_trn = UsersByTrn()


@register
class Identity(BaseModel):
    """An email a participant is known by; the key makes each email belong to one user."""

    class Meta(BaseMeta):
        table_suffix = "identities"

    email = UnicodeAttribute(hash_key=True)  # lower-cased
    user_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


class InductionRecordAttribute(MapAttribute[str, Any]):
    id = UnicodeAttribute()
    programme_id = UnicodeAttribute()
    school_id = UnicodeAttribute()
    school_urn = UnicodeAttribute()
    start_date = UTCDateTimeAttribute()
    end_date = UTCDateTimeAttribute(null=True)
    training_status = UnicodeAttribute(default="active")  # active | deferred | withdrawn
    induction_status = UnicodeAttribute(default="active")  # active | withdrawn | changed | leaving | completed
    email = UnicodeAttribute(null=True)
    mentor_profile_id = UnicodeAttribute(null=True)
    mentor_user_id = UnicodeAttribute(null=True)
    schedule_identifier = UnicodeAttribute()
    schedule_cohort = NumberAttribute()
    school_transfer = BooleanAttribute(default=False)
    appropriate_body = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class ProfilesByUser(GlobalIndex["ParticipantProfile"]):
    class Meta:
        index_name = "by_user"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True)


class ProfilesByCurrentProgramme(GlobalIndex["ParticipantProfile"]):
    """Sparse: ``current_programme_id`` is the programme of the profile's current (active) record."""

    class Meta:
        index_name = "by_current_programme"
        projection = KeysOnlyProjection()

    current_programme_id = UnicodeAttribute(hash_key=True, attr_name="cur_prog")


@register
class ParticipantProfile(BaseModel):
    class Meta(BaseMeta):
        table_suffix = "participant-profiles"

    id = UnicodeAttribute(hash_key=True)  # the training_record_id
    user_id = UnicodeAttribute()
    participant_type = UnicodeAttribute()  # ect | mentor
    school_id = UnicodeAttribute()
    cohort = NumberAttribute()  # the school cohort's year
    schedule_identifier = UnicodeAttribute()
    schedule_cohort = NumberAttribute()
    mentor_profile_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="active")  # active | withdrawn
    training_status = UnicodeAttribute(default="active")
    pupil_premium_uplift = BooleanAttribute(default=False)
    sparsity_uplift = BooleanAttribute(default=False)
    induction_start_date = UTCDateTimeAttribute(null=True)
    records = ListAttribute(of=InductionRecordAttribute, default=list)
    current_programme_id = UnicodeAttribute(null=True, attr_name="cur_prog")
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()

    by_user = ProfilesByUser()
    by_current_programme = ProfilesByCurrentProgramme()


@register
class ProfileState(BaseModel):
    """Append-only: one item per state change (active, deferred, withdrawn) with the provider's reason."""

    class Meta(BaseMeta):
        table_suffix = "profile-states"

    profile_id = UnicodeAttribute(hash_key=True)
    sort_key = UnicodeAttribute(range_key=True, attr_name="sk")  # "<at>#<id>"
    state = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    lead_provider_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()


class ProgrammesBySchoolCohort(GlobalIndex["InductionProgramme"]):
    class Meta:
        index_name = "by_school_cohort"
        projection = AllProjection()

    school_cohort = UnicodeAttribute(hash_key=True)  # "<school_id>#<year>"


class ProgrammesByPartnership(GlobalIndex["InductionProgramme"]):
    class Meta:
        index_name = "by_partnership"
        projection = AllProjection()

    partnership_id = UnicodeAttribute(hash_key=True)


@register
class InductionProgramme(BaseModel):
    class Meta(BaseMeta):
        table_suffix = "induction-programmes"

    id = UnicodeAttribute(hash_key=True)
    school_id = UnicodeAttribute()
    school_urn = UnicodeAttribute()
    cohort = NumberAttribute()
    school_cohort = UnicodeAttribute()
    training_programme = UnicodeAttribute()
    partnership_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    by_school_cohort = ProgrammesBySchoolCohort()
    by_partnership = ProgrammesByPartnership()


@register
class ProgrammeMember(BaseModel):
    """A profile has (or had) a record in a programme: what a partnership change must re-project."""

    class Meta(BaseMeta):
        table_suffix = "programme-members"

    programme_id = UnicodeAttribute(hash_key=True)
    profile_id = UnicodeAttribute(range_key=True)
    user_id = UnicodeAttribute()


class ViewsByCreated(GlobalIndex["ProviderParticipant"]):
    class Meta:
        index_name = "visible_by_created"
        projection = IncludeProjection(["cohorts", "statuses", "uk"])  # uk: updated_since on a cursor page

    visible_to = UnicodeAttribute(hash_key=True, attr_name="vis")
    created_key = UnicodeAttribute(range_key=True, attr_name="ck")


class ViewsByUpdated(GlobalIndex["ProviderParticipant"]):
    class Meta:
        index_name = "visible_by_updated"
        projection = IncludeProjection(["cohorts", "statuses", "ck"])

    visible_to = UnicodeAttribute(hash_key=True, attr_name="vis")
    updated_key = UnicodeAttribute(range_key=True, attr_name="uk")


class ViewsForSync(GlobalIndex["ProviderParticipant"]):
    """The visible participants by last update with whole items: a cursor page in ``updated_at`` order (a full
    sync) is one Query of up to 1 MB of views, with no BatchGet after it. The keys-only indexes above stay for
    page numbers, which read past keys to reach a page (about ten times more keys per request than items)."""

    class Meta:
        index_name = "visible_sync"
        projection = AllProjection()

    visible_to = UnicodeAttribute(hash_key=True, attr_name="vis")
    updated_key = UnicodeAttribute(range_key=True, attr_name="uk")


class ViewsWithTransfers(GlobalIndex["ProviderParticipant"]):
    """Sparse: the provider's visible participants that have a transfer involving it (the transfers list)."""

    class Meta:
        index_name = "with_transfers"
        projection = IncludeProjection(["uk"])  # updated_since filters on the view's update

    transfers_visible_to = UnicodeAttribute(hash_key=True, attr_name="tvis")
    created_key = UnicodeAttribute(range_key=True, attr_name="ck")


@register
class ProviderParticipant(BaseModel):
    """Read model: what one lead provider sees of one participant (docs/reference/ecf-domain.md 3.10).

    Rebuilt from the profiles whenever their records or the partnerships
    behind them change. ``visible_to`` (stored ``vis``, sparse) is the lead
    provider id while the provider may see the participant, so hidden
    participants are not in the list indexes at all.
    """

    class Meta(BaseMeta):
        table_suffix = "provider-participants"
        stream_view_type = STREAM  # the change feed (record_changes)

    lead_provider_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(range_key=True)
    visible_to = UnicodeAttribute(null=True, attr_name="vis")
    created_key = UnicodeAttribute(attr_name="ck")  # user created_at#user_id
    updated_key = UnicodeAttribute(attr_name="uk")  # updated_at#user_id
    cohorts = NumberSetAttribute(null=True)
    statuses = UnicodeSetAttribute(null=True)
    full_name = UnicodeAttribute()
    trn = UnicodeAttribute(null=True)
    enrolments = JSONAttribute(default=list)
    user_created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    digest = UnicodeAttribute()  # of the projected content: unchanged content keeps updated_at
    # The transfers involving the provider (provider ids and times; absent when none), and ``tvis`` (sparse):
    # the provider id while the participant is visible and has some.
    transfers = JSONAttribute(null=True)
    transfers_visible_to = UnicodeAttribute(null=True, attr_name="tvis")

    visible_by_created = ViewsByCreated()
    visible_by_updated = ViewsByUpdated()
    visible_sync = ViewsForSync()
    with_transfers = ViewsWithTransfers()
