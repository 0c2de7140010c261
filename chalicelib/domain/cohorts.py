"""Cohort facts the rules need (docs/reference/ecf-domain.md 1.2, 4)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CohortRules:
    start_year: int
    mentor_funding: bool  # mentors are funded for started and completed only
    detailed_evidence_types: bool  # the 2025 evidence values apply
