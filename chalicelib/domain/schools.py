"""School eligibility rules (docs/reference/ecf-domain.md 1.6) and the school records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

OPEN_STATUS_CODES = frozenset({1, 3})
ELIGIBLE_TYPE_CODES = frozenset(
    {1, 2, 3, 5, 6, 7, 8, 12, 14, 15, 18, 28, 31, 32, 33, 34, 35, 36, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 57}
)
CIP_ONLY_TYPE_CODES = frozenset({10, 11, 30, 37})


@dataclass(frozen=True)
class SchoolFacts:
    status_code: int | None
    type_code: int | None
    district_code: str | None
    section_41_approved: bool


def is_open(facts: SchoolFacts) -> bool:
    return facts.status_code in OPEN_STATUS_CODES


def in_england(facts: SchoolFacts) -> bool:
    code = (facts.district_code or "").strip()
    return code[:1] in ("E", "e") or code.startswith("9999")


def is_eligible(facts: SchoolFacts) -> bool:
    return (
        is_open(facts) and in_england(facts) and (facts.type_code in ELIGIBLE_TYPE_CODES or facts.section_41_approved)
    )


def in_cip_only_scope(facts: SchoolFacts) -> bool:
    """The schools list's CIP-only scope: open and a CIP-only type (D4)."""
    return is_open(facts) and facts.type_code in CIP_ONLY_TYPE_CODES


def is_cip_only(facts: SchoolFacts) -> bool:
    """The model rule: not eligible, open, and a CIP-only type."""
    return not is_eligible(facts) and in_cip_only_scope(facts)


def listed_by_eligibility(facts: SchoolFacts) -> bool:
    """Listed by ``GET schools/ecf`` for every cohort: eligible and not in the CIP-only scope."""
    return is_eligible(facts) and not in_cip_only_scope(facts)


def should_stage(facts: SchoolFacts) -> bool:
    """GIAS rows the importer keeps: English, and eligible type, CIP-only type or section 41."""
    return in_england(facts) and (
        facts.type_code in ELIGIBLE_TYPE_CODES or facts.type_code in CIP_ONLY_TYPE_CODES or facts.section_41_approved
    )


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class School:
    """A school as the rules and the API see it (GIAS details, listing facts)."""

    id: str
    urn: str
    name: str
    facts: SchoolFacts
    status_name: str | None
    type_name: str | None
    primary_contact_email: str | None
    secondary_contact_email: str | None
    listed_by_eligibility: bool  # listed for every cohort (see ``listed_by_eligibility()``)
    partnered_cohorts: frozenset[int]  # cohorts with an active (confirmed) partnership
    created_at: datetime
    updated_at: datetime

    @property
    def contact_email(self) -> str | None:
        return self.primary_contact_email or self.secondary_contact_email

    def listed_for(self, cohort: int) -> bool:
        """Shown by the v3 schools list for the cohort: listed by eligibility, or partnered in that cohort."""
        return self.listed_by_eligibility or cohort in self.partnered_cohorts


@dataclass(frozen=True)
class SchoolCohort:
    """The school's induction programme choice for one cohort, and its active partnership (if any)."""

    school_id: str
    cohort: int
    induction_programme_choice: str
    active_partnership_id: str | None
    active_lead_provider_id: str | None
    relationship_partnership_ids: frozenset[str]
    default_induction_programme_id: str | None
    appropriate_body: str | None
    opt_out_of_updates: bool
    created_at: datetime
    updated_at: datetime

    @property
    def in_partnership(self) -> bool:
        return bool(self.active_partnership_id or self.relationship_partnership_ids)
