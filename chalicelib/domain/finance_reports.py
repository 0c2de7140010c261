"""Finance views: the participant search page and the statement's assurance report
(docs/reference/ecf-declarations-statements.md 2.3, 2.4).

Pure: records, the CSV's columns and cell formats, the file-name rule, and the "latest record" choice the
report makes. No storage and no clock.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.declarations import rfc3339_seconds
from chalicelib.domain.participants import ECT, Record

NO_RECORDS_FOUND = "No records found"  # the finance search page's alert (2.4)

# ``app/serializers/finance/ecf/assurance_report/csv_serializer.rb``, in order (2.3).
ASSURANCE_COLUMNS = (
    "Participant ID",
    "Participant Name",
    "TRN",
    "Type",
    "Mentor Profile ID",
    "Schedule",
    "Eligible For Funding",
    "Eligible For Funding Reason",
    "Sparsity Uplift",
    "Pupil Premium Uplift",
    "Sparsity And Pp",
    "Lead Provider Name",
    "Delivery Partner Name",
    "School Urn",
    "School Name",
    "Training Status",
    "Training Status Reason",
    "Declaration ID",
    "Declaration Status",
    "Declaration Type",
    "Declaration Date",
    "Declaration Created At",
    "Statement Name",
    "Statement ID",
    "Uplift Payable",
)

PROFILE_CLASS = {ECT: "ParticipantProfile::ECT", "mentor": "ParticipantProfile::Mentor"}
# Under ``programme_type_changes_2025`` the legacy withdrawal reason is shown with its new name
# (docs/reference/ecf-domain.md 1.11).
SHOWN_REASON = {"school-left-fip": "switched-to-school-led"}
# Ruby's ``\W`` is ASCII-only: an accented letter is dropped, as the real file name drops it.
_NON_WORD = re.compile(r"\W", re.ASCII)


def assurance_file_name(lead_provider_name: str, cohort: int, statement_name: str) -> str:
    """``ECF-Declarations-#{lp.name.gsub(/\\W/, '')}-Cohort#{start_year}-#{statement.name.gsub(/\\W/, '')}.csv``."""
    provider = _NON_WORD.sub("", lead_provider_name)
    statement = _NON_WORD.sub("", statement_name)
    return f"ECF-Declarations-{provider}-Cohort{cohort}-{statement}.csv"


def latest_created(records: Sequence[Record]) -> Record | None:
    """The report's "latest record" of a profile with a provider: ``induction_records.created_at DESC``."""
    return max(records, key=lambda r: (r.created_at, r.id), default=None)


def shown_reason(reason: str | None) -> str | None:
    return SHOWN_REASON.get(reason, reason) if reason else reason


@dataclass(frozen=True)
class SchoolRef:
    id: str
    urn: str
    name: str


# --------------------------------------------------------------------------- the assurance report (2.3)


@dataclass(frozen=True)
class AssuranceRow:
    """One line of the statement, joined: the values of ``ASSURANCE_COLUMNS``."""

    participant_id: str
    participant_name: str
    trn: str | None
    participant_type: str  # ect | mentor
    mentor_profile_id: str | None
    schedule: str | None
    eligible_for_funding: bool
    eligible_for_funding_reason: str | None  # the eligibility reason when not eligible
    sparsity_uplift: bool
    pupil_premium_uplift: bool
    lead_provider_name: str | None
    delivery_partner_name: str | None
    school_urn: str | None
    school_name: str | None
    training_status: str | None
    training_status_reason: str | None
    declaration_id: str
    declaration_status: str  # the statement LINE's state, not the declaration's
    declaration_type: str
    declaration_date: datetime
    declaration_created_at: datetime
    statement_name: str
    statement_id: str

    @property
    def sparsity_and_pp(self) -> bool:
        return self.sparsity_uplift and self.pupil_premium_uplift

    @property
    def uplift_payable(self) -> bool:
        return self.sparsity_uplift or self.pupil_premium_uplift

    def cells(self) -> list[str]:
        """The CSV row, in ``ASSURANCE_COLUMNS`` order: booleans ``true``/``false``, times ISO 8601, nil blank."""
        values: list[object] = [
            self.participant_id,
            self.participant_name,
            self.trn,
            PROFILE_CLASS.get(self.participant_type, self.participant_type),
            self.mentor_profile_id,
            self.schedule,
            self.eligible_for_funding,
            self.eligible_for_funding_reason,
            self.sparsity_uplift,
            self.pupil_premium_uplift,
            self.sparsity_and_pp,
            self.lead_provider_name,
            self.delivery_partner_name,
            self.school_urn,
            self.school_name,
            self.training_status,
            self.training_status_reason,
            self.declaration_id,
            self.declaration_status,
            self.declaration_type,
            self.declaration_date,
            self.declaration_created_at,
            self.statement_name,
            self.statement_id,
            self.uplift_payable,
        ]
        return [_cell(v) for v in values]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return rfc3339_seconds(value)
    return str(value)


# --------------------------------------------------------------------------- the participant page (2.4)


@dataclass(frozen=True)
class FinanceInductionRecord:
    id: str
    training_programme: str | None
    school_urn: str
    school_name: str | None
    lead_provider_id: str | None
    lead_provider_name: str | None
    delivery_partner_id: str | None
    delivery_partner_name: str | None
    induction_status: str
    training_status: str
    start_date: datetime
    end_date: datetime | None
    schedule_identifier: str
    schedule_cohort: int
    created_at: datetime


@dataclass(frozen=True)
class FinanceProfile:
    participant_id: str
    profile_id: str
    participant_type: str
    eligible_for_funding: bool  # eligibility status == eligible
    eligibility_status: str | None
    eligibility_reason: str | None
    lead_provider_id: str | None  # the school cohort's active partnership's provider
    lead_provider_name: str | None
    school_urn: str | None
    school_name: str | None
    status: str
    training_status: str
    schedule_identifier: str
    schedule_cohort: int
    cohort: int
    pupil_premium_uplift: bool
    sparsity_uplift: bool
    created_at: datetime
    updated_at: datetime
    induction_records: tuple[FinanceInductionRecord, ...]  # newest start first

    @property
    def heading(self) -> str:
        return "ECT" if self.participant_type == ECT else "Mentor"


@dataclass(frozen=True)
class DeclarationStateRow:
    state: str
    changed_at: datetime
    reason: str | None


@dataclass(frozen=True)
class FinanceDeclaration:
    id: str
    profile_id: str
    course_identifier: str
    declaration_type: str
    declaration_date: datetime
    evidence_held: str | None
    lead_provider_id: str
    lead_provider_name: str
    delivery_partner_id: str | None
    delivery_partner_name: str | None
    state: str
    state_reason: str | None
    statement_id: str | None
    statement_name: str | None
    line_state: str | None
    clawback_statement_id: str | None
    clawback_statement_name: str | None
    created_at: datetime
    updated_at: datetime
    state_history: tuple[DeclarationStateRow, ...]


@dataclass(frozen=True)
class FinanceParticipant:
    query: str
    matched_by: str  # participant_id | declaration_id
    participant_id: str
    full_name: str
    email: str
    trn: str | None
    created_at: datetime
    updated_at: datetime
    profiles: tuple[FinanceProfile, ...]
    declarations: tuple[FinanceDeclaration, ...]  # oldest first
