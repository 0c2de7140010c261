"""Cohorts: one table holds each cohort and what the cohort importer loads for it.

pk "COHORT" / sk "2024" is the cohort; pk "COHORT#2024" holds its LP links,
contracts and schedules under sk prefixes (statements have their own table: models/finance.py).
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from chalicelib.models.base import BaseMeta, BaseModel, register


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


class Band(MapAttribute[str, Any]):
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


class Milestone(MapAttribute[str, Any]):
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
