"""Cohort facts the rules need (docs/reference/ecf-domain.md 1.2, 4)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CohortRules:
    start_year: int
    mentor_funding: bool  # mentors are funded for started and completed only
    detailed_evidence_types: bool  # the 2025 evidence values apply


# Lists without ``filter[cohort]`` show the cohorts after this one (docs/reference/ecf-domain.md 2.1, "the default
# is all years > 2020").
LAST_UNLISTED_COHORT = 2020


def listed_by_default(year: int) -> bool:
    """True for a cohort a list without ``filter[cohort]`` includes."""
    return year > LAST_UNLISTED_COHORT
