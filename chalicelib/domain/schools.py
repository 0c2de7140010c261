"""School eligibility rules (ecf-domain.md 1.6)."""

from __future__ import annotations

from dataclasses import dataclass

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
