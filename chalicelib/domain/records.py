"""Plain records the services hand to the API and CLI (no storage types past the services)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class SchoolListing:
    id: str
    name: str
    urn: str
    cohort: int
    in_partnership: bool
    induction_programme_choice: str | None  # stored choice, None when the school has no row
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class DeliveryPartnerRecord:
    id: str
    name: str
    cohorts: tuple[str, ...]  # years as strings, ascending
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class PartnershipRecord:
    id: str
    cohort: int
    urn: str
    school_id: str
    lead_provider_id: str
    delivery_partner_id: str
    delivery_partner_name: str
    challenge_reason: str | None
    challenged_at: datetime | None
    challenge_deadline: datetime | None
    relationship: bool
    induction_tutor_name: str | None
    induction_tutor_email: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Cohort:
    start_year: int
    registration_start_date: datetime | None
    academic_year_start_date: datetime | None
    automatic_assignment_period_end_date: datetime | None
    payments_frozen_at: datetime | None
    mentor_funding: bool
    detailed_evidence_types: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class CohortView:
    """One cohort of the admin school view: the programme choice and the active partnership's providers."""

    cohort: int
    training_programme: str | None
    appropriate_body: str | None
    delivery_partner: str | None
    lead_provider: str | None
    partnerships: tuple[PartnershipRecord, ...]


@dataclass(frozen=True)
class SchoolView:
    """The admin school view: GIAS details, eligibility, and per cohort the programme and providers."""

    id: str
    urn: str
    name: str
    status: str | None
    type: str | None
    district: str | None
    section_41_approved: bool
    open: bool
    eligible: bool
    cip_only: bool
    cip_only_scope: bool
    contact_email: str | None
    created_at: datetime
    updated_at: datetime
    cohorts: tuple[CohortView, ...]
