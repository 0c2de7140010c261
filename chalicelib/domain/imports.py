"""What the admin imports write (docs/reference/ecf-domain.md 4 and 9), as plain records.

The importer (``chalicelib.services.importers``) reads and checks the CSV rows into these;
``chalicelib.repositories.imports`` turns them into items and writes them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class CohortRecord:
    start_year: int
    registration_start_date: datetime | None
    academic_year_start_date: datetime | None
    automatic_assignment_period_end_date: datetime | None
    payments_frozen_at: datetime | None
    mentor_funding: bool
    detailed_evidence_types: bool
    created_at: datetime  # kept from the existing cohort on a re-import


@dataclass(frozen=True)
class CohortLeadProviderLink:
    cohort: int
    lead_provider_id: str
    lead_provider_name: str


@dataclass(frozen=True)
class ContractBand:
    name: str  # a, b, c or d
    min: float | None
    max: float | None
    per_participant: float | None


@dataclass(frozen=True)
class CallOffContractRecord:
    lead_provider_id: str
    cohort: int
    uplift_target: float | None
    uplift_amount: float | None
    recruitment_target: float | None
    revised_target: float | None
    set_up_fee: float | None
    monthly_service_fee: float | None
    bands: tuple[ContractBand, ...]


@dataclass(frozen=True)
class MentorContractRecord:
    lead_provider_id: str
    cohort: int
    recruitment_target: float | None
    payment_per_participant: float | None


@dataclass(frozen=True)
class ScheduleMilestone:
    name: str
    declaration_type: str
    start_date: datetime | None
    milestone_date: datetime | None
    payment_date: datetime | None


@dataclass
class ScheduleRecord:
    """Built from several rows (one a milestone): the last row's name wins, one milestone per declaration type."""

    schedule_identifier: str
    schedule_type: str
    cohort: int
    name: str = ""
    milestones: list[ScheduleMilestone] = field(default_factory=list)

    def add(self, milestone: ScheduleMilestone) -> None:
        kept = [m for m in self.milestones if m.declaration_type != milestone.declaration_type]
        self.milestones = [*kept, milestone]


CohortItem = CohortRecord | CohortLeadProviderLink | CallOffContractRecord | MentorContractRecord | ScheduleRecord


@dataclass(frozen=True)
class GiasSchool:
    """A school's GIAS fields, as an extract row gives them (and as they are stored)."""

    urn: str
    name: str
    ukprn: str | None
    address_line1: str | None
    address_line2: str | None
    address_line3: str | None
    postcode: str | None
    school_type_code: int | None
    school_type_name: str | None
    school_status_code: int | None
    school_status_name: str | None
    school_phase_type: int | None
    school_phase_name: str | None
    administrative_district_code: str | None
    administrative_district_name: str | None
    la_code: str | None
    la_name: str | None
    section_41_approved: bool
    school_website: str | None
    primary_contact_email: str | None
    secondary_contact_email: str | None
    listed_by_eligibility: int | None  # 1: listed by eligibility for every cohort (see domain.schools), 0: not


GIAS_FIELDS = tuple(f.name for f in dataclasses.fields(GiasSchool))


def gias_changed(stored: GiasSchool, new: GiasSchool) -> bool:
    """Whether a re-import changes a stored school (its URN is its identity, so it is not compared)."""
    return any(getattr(stored, name) != getattr(new, name) for name in GIAS_FIELDS if name != "urn")
