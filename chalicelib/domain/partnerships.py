"""Partnership rules that need no storage (deadline, statuses, choices) and the partnership record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.domain.records import PartnershipRecord
from chalicelib.domain.schools import School

CHALLENGE_WINDOW = timedelta(days=14)

CHALLENGE_REASONS = ("another_provider", "not_confirmed", "do_not_recognise", "no_ects", "mistake")

# School cohort induction programme choices (docs/reference/ecf-domain.md 1.7).
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


def programme_choice_after_challenge(reason: str) -> str | None:
    """The school cohort's new programme choice when a challenge releases it, or None to keep the choice.

    A school that says it has no early career teachers (``no_ects``) chooses no programme: it opts out of
    updates and loses its default induction programme.
    """
    return NO_ECTS if reason == "no_ects" else None


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Partnership:
    """One partnership row of a school cohort: reported by a lead provider, or a relationship row.

    ``migration_pending``: the participants of the school cohort have not been moved into this report yet.
    ``version`` is the stored row's version (None for a row not saved yet): a save of a read row
    succeeds only if nobody changed the row since it was read.
    """

    id: str
    school_id: str
    urn: str
    lead_provider_id: str
    delivery_partner_id: str
    delivery_partner_name: str
    cohort: int
    relationship: bool
    pending: bool
    challenged_at: datetime | None
    challenge_reason: str | None
    challenge_deadline: datetime | None
    report_id: str
    created_at: datetime
    updated_at: datetime
    migration_pending: bool = False
    version: int | None = None
    # The school's contact email when the row was last written (reports, delivery-partner changes, and every
    # GIAS import that changes the school write it), so a list page needs no read of the schools.
    induction_tutor_email: str | None = None


def partnership_record(partnership: Partnership, school: School | None = None) -> PartnershipRecord:
    """What the API and the CLI show of a partnership: the row, and the school's contact as induction tutor
    (the school's when it was read, else the copy on the row)."""
    return PartnershipRecord(
        id=partnership.id,
        cohort=partnership.cohort,
        urn=partnership.urn,
        school_id=partnership.school_id,
        lead_provider_id=partnership.lead_provider_id,
        delivery_partner_id=partnership.delivery_partner_id,
        delivery_partner_name=partnership.delivery_partner_name,
        challenge_reason=partnership.challenge_reason,
        challenged_at=partnership.challenged_at,
        challenge_deadline=partnership.challenge_deadline,
        relationship=partnership.relationship,
        induction_tutor_name=None,
        induction_tutor_email=school.contact_email if school is not None else partnership.induction_tutor_email,
        created_at=partnership.created_at,
        updated_at=partnership.updated_at,
    )
