"""Declarations, statements and eligibility: the tables behind "the provider gets paid".

Access paths (each a GetItem or a Query; no Scan):

- a declaration by id (``declarations``), a participant's declarations (``by_user``);
- the billable slot of (user, course, declaration type) (``declaration-slots``): the guard item that makes
  "at most one submitted/eligible/payable/paid declaration" a DynamoDB condition;
- a provider's visible declarations by ``created_at`` and by ``updated_at`` (``provider-declarations``, a read
  model with one item per provider that may see the declaration);
- a declaration's state history (``declaration-states``), its attempts (``declaration-attempts``);
- a statement by id, a provider's statements by payment date, the next open output-fee statement of a provider
  and cohort, the open statements by deadline (``statements``);
- a statement's lines by declaration and by participant name (``statement-lines``);
- a profile's funding eligibility, and the eligibility changes not yet applied to declarations
  (``participant-eligibilities``, streamed).

Python names are readable; stored names stay short (``attr_name``) where they are index keys.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import (
    AllProjection,
    IncludeProjection,
    KeysOnlyProjection,
)

from chalicelib.models.base import BaseMeta, BaseModel, GlobalIndex, LocalIndex, register

STREAM = "NEW_AND_OLD_IMAGES"


# --------------------------------------------------------------------------- declarations


class DeclarationsByUser(GlobalIndex["DeclarationItem"]):
    class Meta:
        index_name = "by_user"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True, attr_name="ck")


@register
class DeclarationItem(BaseModel):
    class Meta(BaseMeta):
        table_suffix = "declarations"

    id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    profile_id = UnicodeAttribute()
    participant_type = UnicodeAttribute()  # ect | mentor
    lead_provider_id = UnicodeAttribute()
    lead_provider_name = UnicodeAttribute()
    cohort = NumberAttribute()  # the declaration's own cohort (the profile's schedule cohort at submission)
    course_identifier = UnicodeAttribute()
    declaration_type = UnicodeAttribute()
    declaration_date = UTCDateTimeAttribute()
    evidence_held = UnicodeAttribute(null=True)
    state = UnicodeAttribute()
    state_reason = UnicodeAttribute(null=True)
    delivery_partner_id = UnicodeAttribute(null=True)
    mentor_user_id = UnicodeAttribute(null=True)
    superseded_by_id = UnicodeAttribute(null=True)
    pupil_premium_uplift = BooleanAttribute(default=False)
    sparsity_uplift = BooleanAttribute(default=False)
    statement_id = UnicodeAttribute(null=True)  # the statement of the billable (or ineligible) line
    line_state = UnicodeAttribute(null=True)  # the state of that line (billable, ineligible or voided)
    clawback_statement_id = UnicodeAttribute(null=True)  # the statement of the refundable line
    viewers = UnicodeSetAttribute(null=True)  # lead providers with a read-model item for it
    voided_at = UTCDateTimeAttribute(null=True)
    created_key = UnicodeAttribute(attr_name="ck")
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()

    by_user = DeclarationsByUser()


@register
class DeclarationSlotItem(BaseModel):
    """Present while (user, course, declaration type) has a submitted/eligible/payable/paid declaration."""

    class Meta(BaseMeta):
        table_suffix = "declaration-slots"

    slot = UnicodeAttribute(hash_key=True)  # "<user_id>#<course_identifier>#<declaration_type>"
    declaration_id = UnicodeAttribute()
    lead_provider_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


@register
class DeclarationStateItem(BaseModel):
    """Append-only history: one item per state a declaration entered."""

    class Meta(BaseMeta):
        table_suffix = "declaration-states"

    declaration_id = UnicodeAttribute(hash_key=True)
    sort_key = UnicodeAttribute(range_key=True, attr_name="sk")  # "<at>#<n>#<state>"
    state = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    actor = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()


@register
class DeclarationAttemptItem(BaseModel):
    """Every POST whose participant resolves (and whose course is not NPQ), with what was sent."""

    class Meta(BaseMeta):
        table_suffix = "declaration-attempts"

    id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    lead_provider_id = UnicodeAttribute()
    course_identifier = UnicodeAttribute(null=True)
    declaration_date = UnicodeAttribute(null=True)  # as sent
    declaration_type = UnicodeAttribute(null=True)
    evidence_held = UnicodeAttribute(null=True)
    declaration_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()


class ViewsByCreated(GlobalIndex["ProviderDeclarationItem"]):
    class Meta:
        index_name = "by_created"
        projection = IncludeProjection(["cohort", "dp", "v12", "uk"])  # uk: updated_since on a cursor page

    lead_provider_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True, attr_name="ck")


class ViewsByUpdated(GlobalIndex["ProviderDeclarationItem"]):
    class Meta:
        index_name = "by_updated"
        projection = IncludeProjection(["cohort", "dp", "v12", "ck"])

    lead_provider_id = UnicodeAttribute(hash_key=True)
    updated_key = UnicodeAttribute(range_key=True, attr_name="uk")


@register
class ProviderDeclarationItem(BaseModel):
    """Read model: one item per (lead provider, declaration it may see)
    (docs/reference/ecf-declarations-statements.md 1.7)."""

    class Meta(BaseMeta):
        table_suffix = "provider-declarations"
        stream_view_type = STREAM  # the change feed (record_changes)

    lead_provider_id = UnicodeAttribute(hash_key=True)
    declaration_id = UnicodeAttribute(range_key=True)
    user_id = UnicodeAttribute()
    cohort = NumberAttribute()
    delivery_partner_id = UnicodeAttribute(null=True, attr_name="dp")
    in_v1_v2 = BooleanAttribute(attr_name="v12")  # v1/v2 see own declarations and active/completed records only
    created_key = UnicodeAttribute(attr_name="ck")
    updated_key = UnicodeAttribute(attr_name="uk")

    by_created = ViewsByCreated()
    by_updated = ViewsByUpdated()


# --------------------------------------------------------------------------- statements


class StatementsByLeadProvider(GlobalIndex["StatementItem"]):
    class Meta:
        index_name = "by_lead_provider"
        projection = AllProjection()

    lead_provider_id = UnicodeAttribute(hash_key=True)
    payment_key = UnicodeAttribute(range_key=True, attr_name="pk_pay")  # "<payment date>#<id>"


class NextOutputStatement(GlobalIndex["StatementItem"]):
    """Sparse: open (``ECF``) output-fee statements, by provider and cohort, in deadline order."""

    class Meta:
        index_name = "next_output"
        projection = AllProjection()

    open_output_key = UnicodeAttribute(hash_key=True, attr_name="oo")  # "<lead_provider_id>#<cohort>"
    deadline_key = UnicodeAttribute(range_key=True, attr_name="dl")  # "<deadline date>#<id>"


class StatementsToMarkPayable(GlobalIndex["StatementItem"]):
    """Sparse: statements still open, or whose move to payable has not finished, by deadline."""

    class Meta:
        index_name = "to_mark_payable"
        projection = KeysOnlyProjection()

    pending_payable = UnicodeAttribute(hash_key=True, attr_name="op")  # "Y"
    deadline_key = UnicodeAttribute(range_key=True, attr_name="dl")


@register
class StatementItem(BaseModel):
    class Meta(BaseMeta):
        table_suffix = "statements"
        stream_view_type = STREAM  # the change feed (record_changes)

    id = UnicodeAttribute(hash_key=True)
    lead_provider_id = UnicodeAttribute()
    cohort = NumberAttribute()
    name = UnicodeAttribute()
    statement_type = UnicodeAttribute()  # ECF | ECF::Payable | ECF::Paid
    deadline_date = UTCDateTimeAttribute()
    payment_date = UTCDateTimeAttribute()
    output_fee = BooleanAttribute(default=False)
    contract_version = UnicodeAttribute(default="0.0.1")
    mentor_contract_version = UnicodeAttribute(default="0.0.1")
    marked_as_paid_at = UTCDateTimeAttribute(null=True)
    payment_key = UnicodeAttribute(attr_name="pk_pay")
    deadline_key = UnicodeAttribute(attr_name="dl")
    open_output_key = UnicodeAttribute(null=True, attr_name="oo")
    pending_payable = UnicodeAttribute(null=True, attr_name="op")
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    by_lead_provider = StatementsByLeadProvider()
    next_output = NextOutputStatement()
    to_mark_payable = StatementsToMarkPayable()


class LinesByName(LocalIndex["StatementLineItem"]):
    """The statement's lines in participant-name order (the finance CSV's order)."""

    class Meta:
        index_name = "by_name"
        projection = AllProjection()

    statement_id = UnicodeAttribute(hash_key=True)
    name_key = UnicodeAttribute(range_key=True, attr_name="nk")  # "<casefolded full name>#<declaration id>"


@register
class StatementLineItem(BaseModel):
    """A declaration on a statement: its billable line or its refundable line, with the line's state."""

    class Meta(BaseMeta):
        table_suffix = "statement-lines"

    statement_id = UnicodeAttribute(hash_key=True)
    declaration_id = UnicodeAttribute(range_key=True)
    state = UnicodeAttribute()
    refundable = BooleanAttribute(default=False)
    declaration_type = UnicodeAttribute()
    name_key = UnicodeAttribute(attr_name="nk")
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    by_name = LinesByName()


# --------------------------------------------------------------------------- eligibility


class EligibilityChangesPending(GlobalIndex["EligibilityItem"]):
    """Sparse: eligibility rows whose consequences (declarations, read model) have not been applied yet."""

    class Meta:
        index_name = "pending"
        projection = KeysOnlyProjection()

    pending = UnicodeAttribute(hash_key=True, attr_name="pe")  # "Y"
    updated_key = UnicodeAttribute(range_key=True, attr_name="uk")


@register
class EligibilityItem(BaseModel):
    """A participant profile's funding eligibility (``ecf_participant_eligibilities``)."""

    class Meta(BaseMeta):
        table_suffix = "participant-eligibilities"
        stream_view_type = STREAM

    profile_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    status = UnicodeAttribute()  # eligible | matched | manual_check | ineligible
    reason = UnicodeAttribute(null=True)
    change_id = UnicodeAttribute()  # a new id per recorded change: what "applied" refers to
    pending = UnicodeAttribute(null=True, attr_name="pe")
    updated_key = UnicodeAttribute(attr_name="uk")
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    pending_changes = EligibilityChangesPending()
