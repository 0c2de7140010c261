"""Participant rules (ecf-domain.md 1.10, 1.11, 3.10, 3.11, 3.13). Pure: no storage, no clock."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

ECT = "ect"
MENTOR = "mentor"
COURSES = {"ecf-induction": ECT, "ecf-mentor": MENTOR}
COURSE_OF = {ECT: "ecf-induction", MENTOR: "ecf-mentor"}

DEFERRAL_REASONS = ("bereavement", "long-term-sickness", "parental-leave", "career-break", "other")
WITHDRAWAL_REASONS = (
    "left-teaching-profession",
    "moved-school",
    "mentor-no-longer-being-mentor",
    "switched-to-school-led",
    "school-left-fip",
    "other",
)
TRAINING_STATUSES = ("active", "deferred", "withdrawn")
SCHEDULE_IDENTIFIERS = tuple(
    f"ecf-{kind}-{month}"
    for kind in ("standard", "reduced", "extended", "replacement")
    for month in ("september", "january", "april")
)

# The state machine of training_status (ecf-domain.md 3.11).
TRANSITIONS = {
    "defer": {"active": "deferred"},
    "resume": {"deferred": "active", "withdrawn": "active"},
    "withdraw": {"active": "withdrawn", "deferred": "withdrawn"},
}


@dataclass(frozen=True)
class Record:
    """An induction record. ``partnership`` fields are derived at read time from its programme."""

    id: str
    programme_id: str
    school_id: str
    school_urn: str
    start_date: datetime
    end_date: datetime | None
    training_status: str
    induction_status: str
    email: str | None
    mentor_profile_id: str | None
    mentor_user_id: str | None
    schedule_identifier: str
    schedule_cohort: int
    school_transfer: bool
    appropriate_body: str | None
    created_at: datetime
    updated_at: datetime


def latest_first(records: Sequence[Record]) -> list[Record]:
    """The real service's 'latest' order: open records first, then start desc, end desc, created desc."""

    def key(r: Record) -> tuple:
        return (
            r.end_date is None,
            r.start_date,
            r.end_date or datetime.min.replace(tzinfo=r.start_date.tzinfo),
            r.created_at,
        )

    return sorted(records, key=key, reverse=True)


def latest(records: Sequence[Record], keep: Callable[[Record], bool] = lambda r: True) -> Record | None:
    for record in latest_first(records):
        if keep(record):
            return record
    return None


def is_active(record: Record, now: datetime) -> bool:
    return (
        record.induction_status == "active"
        and (record.end_date is None or record.end_date > now)
        and not (record.start_date > now and record.school_transfer)
    )


def is_current(record: Record, now: datetime) -> bool:
    """Active, transferring out, or claimed by another school."""
    if is_active(record, now):
        return True
    return record.induction_status == "leaving" and record.end_date is not None and record.end_date > now


def change(records: Sequence[Record], record: Record, now: datetime, **changes: object) -> list[Record]:
    """``Induction::ChangeInductionRecord``: a future-dated record changes in place; otherwise the record
    ends now as ``changed`` and a copy with the changes starts now."""
    out = [r for r in records if r.id != record.id]
    if record.start_date > now:
        out.append(replace(record, updated_at=now, **changes))  # type: ignore[arg-type]
        return out
    out.append(replace(record, induction_status="changed", end_date=now, updated_at=now))
    out.append(
        replace(
            record,
            id=str(uuid.uuid4()),
            start_date=now,
            end_date=None,
            created_at=now,
            updated_at=now,
            **changes,  # type: ignore[arg-type]
        )
    )
    return out


def participant_status(record: Record, now: datetime) -> str:
    """v3 ``participant_status``."""
    if record.induction_status == "leaving" and record.end_date is not None:
        return "leaving" if record.end_date > now else "left"
    if record.start_date > now:
        return "joining"
    if record.induction_status in ("active", "completed", "leaving"):
        return "active"
    return "withdrawn"


def v1_status(record: Record) -> str:
    """v1/v2 ``status``: active/completed/leaving → active; withdrawn/changed → withdrawn."""
    return "active" if record.induction_status in ("active", "completed", "leaving") else "withdrawn"


# --------------------------------------------------------------------------- the participant graph


@dataclass(frozen=True)
class Trainer:
    """Who trains the records of one induction programme: its partnership's provider and delivery partner."""

    programme_id: str
    partnership_id: str | None
    lead_provider_id: str | None
    delivery_partner_id: str | None
    challenged: bool
    relationship: bool


@dataclass(frozen=True)
class Profile:
    id: str
    user_id: str
    participant_type: str
    status: str
    training_status: str
    school_id: str
    cohort: int
    schedule_identifier: str
    schedule_cohort: int
    mentor_profile_id: str | None
    pupil_premium_uplift: bool
    sparsity_uplift: bool
    records: tuple[Record, ...]
    created_at: datetime
    updated_at: datetime

    @property
    def course_identifier(self) -> str:
        return COURSE_OF[self.participant_type]


@dataclass(frozen=True)
class Participant:
    """A user with their profiles and the trainers of every programme their records are in."""

    id: str
    full_name: str
    email: str
    trn: str | None
    has_declarations: bool
    created_at: datetime
    updated_at: datetime
    profiles: tuple[Profile, ...]
    trainers: dict[str, Trainer]

    def provider_of(self, record: Record) -> str | None:
        """The lead provider whose partnership a record's programme has (None for a school-led programme)."""
        trainer = self.trainers.get(record.programme_id)
        return trainer.lead_provider_id if trainer else None

    def trainer_of(self, record: Record) -> Trainer | None:
        return self.trainers.get(record.programme_id)

    def records_with(self, profile: Profile, lead_provider_id: str) -> list[Record]:
        """The profile's records in programmes partnered with the provider, challenged or not."""
        return [r for r in profile.records if self.provider_of(r) == lead_provider_id]

    def active_profile(self, participant_type: str | None) -> Profile | None:
        """The first active-status profile of that type."""
        return next((p for p in self.profiles if p.participant_type == participant_type and p.status == "active"), None)

    def providers(self, profile: Profile) -> set[str]:
        return {lp for r in profile.records if (lp := self.provider_of(r))}
