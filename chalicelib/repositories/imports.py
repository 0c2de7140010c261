"""What the admin imports read and write, from and to the records of ``chalicelib.domain.imports``.

The cohort import's items share the cohorts table (keys from ``repositories.cohorts``); its statements are
``repositories.statements``'. The GIAS import's schools are ``repositories.schools``'.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime

from pynamodb.models import Model

from chalicelib.domain.imports import (
    GIAS_FIELDS,
    CallOffContractRecord,
    CohortItem,
    CohortLeadProviderLink,
    CohortRecord,
    ContractBand,
    GiasSchool,
    MentorContractRecord,
    ScheduleMilestone,
    ScheduleRecord,
)
from chalicelib.models import CallOffContract, Cohort, CohortLeadProvider, MentorCallOffContract, Schedule, School
from chalicelib.models.cohorts import Band, Milestone
from chalicelib.repositories import cohorts as cohort_repo
from chalicelib.repositories import partnerships as partnership_repo
from chalicelib.repositories import providers as provider_repo
from chalicelib.repositories import schools as school_repo

# --------------------------------------------------------------------------- cohort import: reads


def cohort_years() -> set[int]:
    return {int(c.start_year) for c in cohort_repo.list_cohorts()}


def cohort_created_at(year: int) -> datetime | None:
    existing = cohort_repo.get_cohort(year)
    return existing.created_at if existing else None


def lead_provider_id(name: str) -> str | None:
    found = provider_repo.find_lead_provider_by_name(name)
    return found.id if found else None


def contracted_lead_providers(year: int) -> list[str]:
    """Lead provider ids with a call-off contract in the cohort."""
    return cohort_repo.contracts_of(year)


# --------------------------------------------------------------------------- cohort import: writes


def save_cohort_items(records: Sequence[CohortItem], now: datetime) -> None:
    """Upsert one chunk with BatchWriteItem (``cohorts.save_all``: grouped by item type)."""
    cohort_repo.save_all([_cohort_item(record, now) for record in records])


def _cohort_item(record: CohortItem, now: datetime) -> Model:
    if isinstance(record, CohortRecord):
        return _cohort(record, now)
    if isinstance(record, CohortLeadProviderLink):
        return _link(record, now)
    if isinstance(record, CallOffContractRecord):
        return _contract(record, now)
    if isinstance(record, MentorContractRecord):
        return _mentor_contract(record, now)
    return _schedule(record, now)


def _cohort(record: CohortRecord, now: datetime) -> Cohort:
    return Cohort(
        pk=cohort_repo.COHORTS_PK,
        sk=cohort_repo.cohort_key(record.start_year),
        start_year=record.start_year,
        registration_start_date=record.registration_start_date,
        academic_year_start_date=record.academic_year_start_date,
        automatic_assignment_period_end_date=record.automatic_assignment_period_end_date,
        payments_frozen_at=record.payments_frozen_at,
        mentor_funding=record.mentor_funding,
        detailed_evidence_types=record.detailed_evidence_types,
        created_at=record.created_at,
        updated_at=now,
    )


def _link(record: CohortLeadProviderLink, now: datetime) -> CohortLeadProvider:
    return CohortLeadProvider(
        pk=cohort_repo.cohort_pk(record.cohort),
        sk=f"LP#{record.lead_provider_id}",
        lead_provider_id=record.lead_provider_id,
        lead_provider_name=record.lead_provider_name,
        cohort=record.cohort,
        created_at=now,
        updated_at=now,
    )


def _contract(record: CallOffContractRecord, now: datetime) -> CallOffContract:
    return CallOffContract(
        pk=cohort_repo.cohort_pk(record.cohort),
        sk=f"CONTRACT#{record.lead_provider_id}",
        lead_provider_id=record.lead_provider_id,
        cohort=record.cohort,
        uplift_target=record.uplift_target,
        uplift_amount=record.uplift_amount,
        recruitment_target=record.recruitment_target,
        revised_target=record.revised_target,
        set_up_fee=record.set_up_fee,
        monthly_service_fee=record.monthly_service_fee,
        bands=[_band(b) for b in record.bands],
        created_at=now,
        updated_at=now,
    )


def _band(band: ContractBand) -> Band:
    return Band(name=band.name, min=band.min, max=band.max, per_participant=band.per_participant)  # type: ignore[no-untyped-call]  # PynamoDB's MapAttribute.__init__ is unannotated


def _mentor_contract(record: MentorContractRecord, now: datetime) -> MentorCallOffContract:
    return MentorCallOffContract(
        pk=cohort_repo.cohort_pk(record.cohort),
        sk=f"MENTOR_CONTRACT#{record.lead_provider_id}",
        lead_provider_id=record.lead_provider_id,
        cohort=record.cohort,
        recruitment_target=record.recruitment_target,
        payment_per_participant=record.payment_per_participant,
        created_at=now,
        updated_at=now,
    )


def _schedule(record: ScheduleRecord, now: datetime) -> Schedule:
    return Schedule(
        pk=cohort_repo.cohort_pk(record.cohort),
        sk=f"SCHEDULE#{record.schedule_identifier}",
        schedule_identifier=record.schedule_identifier,
        schedule_type=record.schedule_type,
        name=record.name,
        cohort=record.cohort,
        milestones=[_milestone(m) for m in record.milestones],
        created_at=now,
        updated_at=now,
    )


def _milestone(milestone: ScheduleMilestone) -> Milestone:
    return Milestone(**dataclasses.asdict(milestone))  # type: ignore[no-untyped-call]  # PynamoDB's MapAttribute.__init__ is unannotated


# --------------------------------------------------------------------------- GIAS import


def stored_schools(school_ids: Sequence[str]) -> dict[str, GiasSchool]:
    """The GIAS fields of the schools that exist (BatchGetItem), by id."""
    found = school_repo.schools_by_id(school_ids)
    return {school_id: _gias(school) for school_id, school in found.items()}


def _gias(school: School) -> GiasSchool:
    return GiasSchool(**{name: getattr(school, name) for name in GIAS_FIELDS})


def create_schools(schools: Mapping[str, GiasSchool], now: datetime) -> None:
    """New schools (by id), BatchWriteItem: listed when eligible, with no partnerships yet."""
    school_repo.save_new_schools([new_school_item(school_id, school, now) for school_id, school in schools.items()])


def new_school_item(school_id: str, gias: GiasSchool, now: datetime) -> School:
    school = School(id=school_id, created_at=now, updated_at=now, **dataclasses.asdict(gias))
    school.created_key = school_repo.sort_key(now, school_id)
    school.updated_key = school_repo.sort_key(now, school_id)
    school.listed = school_repo.LISTED if school.listed_by_eligibility else None
    return school


def update_school(school_id: str, gias: GiasSchool, now: datetime) -> None:
    """Change only the GIAS fields of an existing school: its partnership bookkeeping (pc, lst) stays."""
    school_repo.update_gias_fields(school_id, dataclasses.asdict(gias), now)


def touch_partnerships(school_id: str, now: datetime, *, induction_tutor_email: str | None) -> None:
    """Bump ``updated_at`` on the school's partnership rows, so ``updated_since`` finds them, with the school's
    contact email (the rows' induction tutor email)."""
    rows = partnership_repo.rows_for_school(school_id)
    partnership_repo.touch_rows(rows, now, induction_tutor_email=induction_tutor_email)
