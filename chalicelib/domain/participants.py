"""Participant rules (docs/reference/ecf-domain.md 1.10, 1.11, 3.10, 3.11, 3.13). Pure: no storage, no clock."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from chalicelib.domain.clock import iso, parse_timestamp

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

# The state machine of training_status (docs/reference/ecf-domain.md 3.11).
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

    def key(r: Record) -> tuple[bool, datetime, datetime, datetime]:
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
        out.append(replace(record, updated_at=now, **changes))  # type: ignore[arg-type]  # Record fields by name; replace() checks them
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
            **changes,  # type: ignore[arg-type]  # Record fields by name; replace() checks them
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


# --------------------------------------------------------------------------- partnerships, as participants see them


def is_challenged(challenge_reason: str | None, challenged_at: datetime | None) -> bool:
    """A partnership is challenged once it has a challenge reason or a challenge time (docs/reference/ecf-domain.md
    1.9)."""
    return bool(challenge_reason) or challenged_at is not None


@dataclass(frozen=True)
class TrainingPartnership:
    """What the participant rules need of a partnership row (a reported partnership or a relationship)."""

    id: str
    school_id: str
    urn: str
    cohort: int
    lead_provider_id: str
    delivery_partner_id: str
    delivery_partner_name: str
    relationship: bool
    challenge_reason: str | None
    challenged: bool
    report_id: str


@dataclass(frozen=True)
class SchoolRef:
    id: str
    urn: str


@dataclass(frozen=True)
class SchoolCohortSetup:
    """A school's programme choice for one cohort, as onboarding and migration read it."""

    school_id: str
    cohort: int
    induction_programme_choice: str
    default_programme_id: str | None
    active_partnership_id: str | None
    appropriate_body: str | None


@dataclass(frozen=True)
class Programme:
    """An induction programme of one school cohort (provider-led ones have a partnership)."""

    id: str
    school_id: str
    school_urn: str
    cohort: int
    training_programme: str
    partnership_id: str | None
    created_at: datetime
    updated_at: datetime


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
    training_programme: str | None = None
    delivery_partner_name: str | None = None
    challenge_reason: str | None = None


def provider_of(trainers: Mapping[str, Trainer], record: Record | None) -> str | None:
    """The lead provider whose partnership a record's programme has (None for a school-led programme)."""
    trainer = trainers.get(record.programme_id) if record is not None else None
    return trainer.lead_provider_id if trainer else None


def trains(trainer: Trainer | None, lead_provider_id: str, *, include_challenged: bool = False) -> bool:
    """The visibility rule (docs/reference/ecf-domain.md 3.10): the record's partnership is the provider's and, unless
    ``include_challenged`` (what actions look at, 3.11 step 3), not challenged. Relationships count."""
    return (
        trainer is not None
        and trainer.lead_provider_id == lead_provider_id
        and (include_challenged or not trainer.challenged)
    )


def shown_record(
    records: Sequence[Record], trainers: Mapping[str, Trainer], lead_provider_id: str, *, include_challenged: bool
) -> Record | None:
    """The provider's latest record on a profile: what its view of the profile shows."""
    return latest(
        records, lambda r: trains(trainers.get(r.programme_id), lead_provider_id, include_challenged=include_challenged)
    )


@dataclass(frozen=True)
class User:
    """A participant's user (the API's participant id)."""

    id: str
    full_name: str
    email: str
    trn: str | None
    created_at: datetime
    updated_at: datetime
    has_declarations: bool = False
    profile_ids: frozenset[str] = frozenset()


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
    induction_start_date: datetime | None = None
    current_programme_id: str | None = None  # the programme of the current record (indexed)
    version: int | None = None  # None: not stored yet

    @property
    def course_identifier(self) -> str:
        return COURSE_OF[self.participant_type]

    def with_records(self, records: Iterable[Record], current_programme_id: str | None, **changes: Any) -> Profile:
        """The profile holding these records (in creation order) with the given current programme."""
        ordered = tuple(sorted(records, key=lambda r: (r.created_at, r.id)))
        return replace(self, records=ordered, current_programme_id=current_programme_id, **changes)


def ect_first(profiles: Iterable[Profile]) -> list[Profile]:
    """Profiles in the order every view lists them: the ECT one first, then by creation."""
    return sorted(profiles, key=lambda p: (p.participant_type != ECT, p.created_at, p.id))


@dataclass(frozen=True)
class ProfileState:
    """One state change of a profile (active, deferred, withdrawn) with the provider's reason."""

    profile_id: str
    state: str
    reason: str | None
    lead_provider_id: str | None
    created_at: datetime


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
        return provider_of(self.trainers, record)

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

    def all_providers(self) -> set[str]:
        """Every provider that has (or had) a record of the participant, challenged or not."""
        return {lp for profile in self.profiles for lp in self.providers(profile)}


# --------------------------------------------------------------------------- the provider read model


@dataclass(frozen=True)
class ParticipantView:
    """What one lead provider sees of one participant (the read model the participants API pages over).

    ``enrolments`` are the projected v3 enrolments (plus internal keys); ``transfers`` the transfers that
    involve the provider, as ``transfers_involving`` builds them (provider ids, not names).
    """

    lead_provider_id: str
    user_id: str
    visible: bool
    full_name: str
    trn: str | None
    enrolments: list[dict[str, Any]]
    user_created_at: datetime
    updated_at: datetime
    digest: str
    transfers: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class ParticipantTransfers:
    """A participant's transfers as one provider's transfers list shows them (``transfer_rows``)."""

    user_id: str
    transfers: list[dict[str, Any]]


def content_digest(content: Mapping[str, Any]) -> str:
    """Of the projected content: unchanged content keeps its ``updated_at``."""
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


# ------------------------------------------------------------------ transfers (docs/reference/ecf-domain.md 2.4)


def _joining(records: Sequence[Record], leaving: Record) -> Record | None:
    return next(
        (r for r in records if r.school_transfer and r.id != leaving.id and r.created_at >= leaving.created_at
         and r.induction_status != "leaving"),
        None,
    )  # fmt: skip


def transfers_involving(
    profiles: Iterable[Profile], trainers: Mapping[str, Trainer], lead_provider_id: str
) -> list[dict[str, Any]]:
    """The leaving/joining pairs of the profiles that involve the provider, as the read model stores them:
    provider ids (names are looked up when shown) and times, so the status can be worked out at read time."""
    out: list[dict[str, Any]] = []
    for profile in sorted(profiles, key=lambda p: p.id):
        records = sorted(profile.records, key=lambda r: (r.created_at, r.id))
        for leaving in (r for r in records if r.induction_status == "leaving" and r.school_transfer):
            joining = _joining(records, leaving)
            from_lp, to_lp = provider_of(trainers, leaving), provider_of(trainers, joining)
            if lead_provider_id not in {from_lp, to_lp}:
                continue
            transfer_type = "unknown" if joining is None else ("new_school" if from_lp == to_lp else "new_provider")
            updated_at = max(leaving.updated_at, joining.updated_at if joining else leaving.updated_at)
            out.append(
                {
                    "training_record_id": profile.id,
                    "transfer_type": transfer_type,
                    "created_at": iso(leaving.updated_at),
                    "updated_at": iso(updated_at),
                    "leaving": {
                        "school_urn": leaving.school_urn,
                        "lead_provider_id": from_lp,
                        "date": leaving.end_date.date().isoformat() if leaving.end_date else None,
                        "at": iso(leaving.end_date) if leaving.end_date else None,
                    },
                    "joining": None
                    if joining is None
                    else {
                        "school_urn": joining.school_urn,
                        "lead_provider_id": to_lp,
                        "date": joining.start_date.date().isoformat(),
                        "at": iso(joining.start_date),
                    },
                }
            )
    return out


def _side(side: Mapping[str, Any] | None, names: Mapping[str, str]) -> dict[str, Any] | None:
    if side is None:
        return None
    return {
        "school_urn": side["school_urn"],
        "provider": names.get(side["lead_provider_id"] or ""),
        "date": side["date"],
    }


def _at(value: str | None) -> datetime | None:
    return parse_timestamp(value) if value else None


def transfer_rows(stored: Sequence[Mapping[str, Any]], names: Mapping[str, str], now: datetime) -> list[dict[str, Any]]:
    """Stored transfers as shown: provider names, and complete once the later of the two dates has passed."""
    rows: list[dict[str, Any]] = []
    for transfer in stored:
        leaving, joining = transfer["leaving"], transfer["joining"]
        dates = (_at(leaving["at"]), _at(joining["at"]) if joining else None)
        latest_date = max(d for d in dates if d is not None)
        rows.append(
            {
                "training_record_id": transfer["training_record_id"],
                "transfer_type": transfer["transfer_type"],
                "status": "complete" if latest_date <= now else "incomplete",
                "created_at": _at(transfer["created_at"]),
                "leaving": _side(leaving, names),
                "joining": _side(joining, names),
                "updated_at": _at(transfer["updated_at"]),
            }
        )
    return rows
