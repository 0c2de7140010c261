"""Partnership rules that need no storage: deadline, statuses, choices."""

from __future__ import annotations

from datetime import datetime, timedelta

CHALLENGE_WINDOW = timedelta(days=14)

CHALLENGE_REASONS = ("another_provider", "not_confirmed", "do_not_recognise", "no_ects", "mistake")

# School cohort induction programme choices (ecf-domain.md 1.7).
FIP = "full_induction_programme"
CIP = "core_induction_programme"
DIY = "design_our_own"
SCHOOL_FUNDED_FIP = "school_funded_fip"
NO_ECTS = "no_early_career_teachers"
NOT_YET_KNOWN = "not_yet_known"
PROGRAMME_CHOICES = (FIP, CIP, DIY, SCHOOL_FUNDED_FIP, NO_ECTS, NOT_YET_KNOWN)

# The SIT's answers as the mission text names them, and what they store.
SIT_CHOICES = {
    "provider_led": FIP,
    "school_led": CIP,
    "not_yet_known": NOT_YET_KNOWN,
    "no_early_career_teachers": NO_ECTS,
}

# What the v3 schools endpoint shows for a stored choice (2025 value mapping).
API_CHOICE = {
    FIP: "provider_led",
    SCHOOL_FUNDED_FIP: "provider_led",
    CIP: "school_led",
    DIY: "school_led",
    NO_ECTS: "no_early_career_teachers",
    NOT_YET_KNOWN: "not_yet_known",
}


def challenge_deadline(now: datetime, academic_year_start: datetime | None) -> datetime:
    """The seed's rule: the later of now + 14 days and the academic year start + 14 days."""
    deadline = now + CHALLENGE_WINDOW
    if academic_year_start is not None:
        deadline = max(deadline, academic_year_start + CHALLENGE_WINDOW)
    return deadline


def api_status(challenge_reason: str | None) -> str:
    return "challenged" if challenge_reason else "active"


def in_challenge_window(deadline: datetime | None, now: datetime) -> bool:
    return deadline is not None and deadline > now
