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
