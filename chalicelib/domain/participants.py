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
