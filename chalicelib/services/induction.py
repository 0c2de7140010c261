"""Induction programmes and records: onboarding (EarlyCareerTeachers::Create + Induction::Enrol),
moving participants into a new partnership (Induction::ChangePartnership +
MigrateParticipantsToNewProgramme, run from the partnerships stream), and transfers.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from chalicelib.domain.errors import Conflict, InputError, NotFound
from chalicelib.domain.participants import ECT, MENTOR, Record, change, is_active, latest
from chalicelib.domain.partnerships import FIP
from chalicelib.models import Partnership, School, SchoolCohort
from chalicelib.models.participants import InductionProgramme, ParticipantProfile, User
from chalicelib.repositories import cohorts as cohort_repo
from chalicelib.repositories import participants as repo
from chalicelib.repositories import partnerships as partnership_repo
from chalicelib.repositories import schools as school_repo
from chalicelib.services import projection

log = logging.getLogger("ecf.induction")
TX_PROFILES = 40  # profiles per transaction (each adds its programme memberships: well under 100 items)


def _unchallenged(partnership: Partnership | None) -> bool:
    return partnership is not None and not partnership.challenge_reason and partnership.challenged_at is None


# --------------------------------------------------------------------------- programmes


def _new_programme(school: School, cohort: int, partnership_id: str | None, now: datetime) -> InductionProgramme:
    programme = InductionProgramme(
        id=str(uuid.uuid4()),
        school_id=school.id,
        school_urn=school.urn,
        cohort=cohort,
        school_cohort=repo.school_cohort_key(school.id, cohort),
        training_programme=FIP,
        partnership_id=partnership_id,
        created_at=now,
        updated_at=now,
    )
    repo.create_programme(programme)
    return programme


def programme_for_partnership(school: School, partnership: Partnership, now: datetime) -> InductionProgramme:
    """The school cohort's FIP programme for this partnership (found, or created)."""
    for programme in repo.programmes_of_partnership(partnership.id):
        if programme.school_id == school.id and int(programme.cohort) == int(partnership.cohort):
            return programme
    return _new_programme(school, int(partnership.cohort), partnership.id, now)


# --------------------------------------------------------------------------- moving records


def _move_active_records(from_programme_id: str, to: InductionProgramme, now: datetime) -> set[str]:
    """Move the active records of one programme into another, in transactions of TX_PROFILES profiles.

    Returns the user ids moved. Each profile write is conditional on its version,
    so a profile changed meanwhile is re-read and retried alone.
    """
    moved: set[str] = set()
    ids = repo.profile_ids_in_programme(from_programme_id)
    for start in range(0, len(ids), TX_PROFILES):
        chunk = ids[start : start + TX_PROFILES]
        profiles = repo.profiles_by_id(chunk)
        batch = []
        for profile in profiles.values():
            if _retarget(profile, from_programme_id, to, now):
                batch.append(profile)
        try:
            repo.save_profiles([(p, False) for p in batch])
            moved |= {p.user_id for p in batch}
        except Conflict:
            for profile in batch:  # one at a time, re-read
                for _ in range(3):
                    fresh = repo.get_profile(profile.id)
                    if fresh is None or not _retarget(fresh, from_programme_id, to, now):
                        break
                    try:
                        repo.save_profiles([(fresh, False)])
                        moved.add(fresh.user_id)
                        break
                    except Conflict:
                        continue
    return moved


def _retarget(profile: ParticipantProfile, from_programme_id: str, to: InductionProgramme, now: datetime) -> bool:
    records = repo.records_of(profile)
    current = [r for r in records if r.programme_id == from_programme_id and is_active(r, now)]
    if not current:
        return False
    for record in current:
        records = change(records, record, now, programme_id=to.id, school_id=to.school_id, school_urn=to.school_urn)
    repo.set_records(profile, records, to.id)
    profile.updated_at = now
    return True


# --------------------------------------------------------------------------- ChangePartnership


@dataclass
class MigrationResult:
    target_programme_id: str | None
    users: set[str]
    skipped: str | None = None


def change_partnership(partnership_id: str, now: datetime) -> MigrationResult:
    """Induction::ChangePartnership for a reported partnership (ecf-domain.md 3.5). Idempotent.

    Reads the current state, not the stream image, so a late or repeated
    delivery can never put back an older state.
    """
    partnership = partnership_repo.get_partnership(partnership_id)
    if partnership is None or partnership.relationship or not _unchallenged(partnership):
        return MigrationResult(None, set(), skipped="not an active partnership")
    cohort = int(partnership.cohort)
    school = school_repo.get_school(partnership.school_id)
    school_cohort = school_repo.get_school_cohort(partnership.school_id, cohort)
    if school is None or school_cohort is None or school_cohort.active_partnership_id != partnership.id:
        return MigrationResult(None, set(), skipped="not the school cohort's active partnership")
    programmes = {p.id: p for p in repo.programmes_of_school_cohort(school.id, cohort)}
    partnership_ids = sorted({p.partnership_id for p in programmes.values() if p.partnership_id})
    partnerships = partnership_repo.partnerships_by_id(partnership_ids)
    default = programmes.get(school_cohort.default_induction_programme_id or "")
    users: set[str] = set()

    if default is not None and default.training_programme == FIP and not default.partnership_id:
        repo.attach_partnership(default, partnership.id, now)
        default.partnership_id = partnership.id
        target = default
        users |= {uid for _, uid in repo.member_profile_ids(default.id)}
    elif default is not None and default.training_programme == FIP and default.partnership_id != partnership.id:
        previous = partnerships.get(str(default.partnership_id))
        if _unchallenged(previous):
            return MigrationResult(default.id, set(), skipped="default programme has another active partnership")
        target = programme_for_partnership(school, partnership, now)
        users |= _move_active_records(default.id, target, now)
    elif default is not None and default.training_programme == FIP:
        target = default
    else:
        target = programme_for_partnership(school, partnership, now)
        if default is not None:
            users |= _move_active_records(default.id, target, now)
    programmes[target.id] = target
    if school_cohort.default_induction_programme_id != target.id:
        _set_default_programme(school_cohort, target.id, now)

    # Migrate: FIP programmes with active records and no (or a challenged) partnership move to the target.
    for programme in programmes.values():
        if programme.id == target.id or programme.training_programme != FIP:
            continue
        owner = partnerships.get(str(programme.partnership_id)) if programme.partnership_id else None
        if programme.partnership_id and _unchallenged(owner):
            continue
        users |= _move_active_records(programme.id, target, now)
    # Everyone who ever trained under this partnership is re-projected (delivery partner, status, visibility).
    for programme in repo.programmes_of_partnership(partnership.id):
        users |= {uid for _, uid in repo.member_profile_ids(programme.id)}
    projection.reproject(users, now)
    return MigrationResult(target.id, users)


def _set_default_programme(school_cohort: SchoolCohort, programme_id: str, now: datetime) -> None:
    school_cohort.update(
        actions=[
            SchoolCohort.default_induction_programme_id.set(programme_id),
            SchoolCohort.updated_at.set(now),
        ]
    )


def reproject_partnership(partnership_id: str, now: datetime) -> set[str]:
    """A partnership changed (delivery partner, challenge, un-challenge): re-project its participants."""
    users: set[str] = set()
    partnership = partnership_repo.get_partnership(partnership_id)
    for programme in repo.programmes_of_partnership(partnership_id):
        users |= {uid for _, uid in repo.member_profile_ids(programme.id)}
    projection.reproject(users, now, also_providers=[partnership.lead_provider_id] if partnership else [])
    return users


# --------------------------------------------------------------------------- onboarding


@dataclass(frozen=True)
class Onboarded:
    user_id: str
    profile_id: str
    programme_id: str | None


def add_participant(
    *,
    urn: str,
    cohort: int,
    full_name: str,
    email: str,
    participant_type: str,
    trn: str | None,
    mentor_email: str | None,
    appropriate_body: str | None,
    partnership_id: str | None,
    now: datetime,
) -> Onboarded:
    """EarlyCareerTeachers::Create then Induction::Enrol (ecf-domain.md 3.6)."""
    if participant_type not in (ECT, MENTOR):
        raise InputError("--type must be ect or mentor")
    email = (email or "").strip()
    if "@" not in email or not (full_name or "").strip():
        raise InputError("A full name and a valid email are required")
    school = school_repo.get_school_by_urn(urn)
    if school is None:
        raise InputError(f"No school with URN {urn}")
    if cohort_repo.get_cohort(cohort) is None:
        raise InputError(f"No cohort {cohort}: import it first")
    school_cohort = school_repo.get_school_cohort(school.id, cohort)
    if school_cohort is None:
        raise InputError(f"School {urn} has not chosen an induction programme for {cohort} (use 'schools programme')")

    # The programme: the chosen partnership's, or the school cohort's default.
    programme: InductionProgramme | None
    if partnership_id:
        partnership = partnership_repo.get_partnership(partnership_id)
        if partnership is None or partnership.school_id != school.id or int(partnership.cohort) != cohort:
            raise InputError(f"Partnership {partnership_id} is not a {cohort} partnership of school {urn}")
        programme = programme_for_partnership(school, partnership, now)
    else:
        programme = repo.get_programme(school_cohort.default_induction_programme_id)
        if programme is None and school_cohort.induction_programme_choice == FIP:
            # A provider-led school cohort without a default yet: its FIP programme, partnered if it has one.
            programme = _new_programme(school, cohort, school_cohort.active_partnership_id, now)
            _set_default_programme(school_cohort, programme.id, now)

    mentor_profile = None
    if mentor_email:
        mentor_identity = repo.get_identity(mentor_email)
        mentors = [p for p in repo.profiles_of_user(mentor_identity.user_id)] if mentor_identity else []
        mentor_profile = next((p for p in mentors if p.participant_type == MENTOR), None)
        if mentor_profile is None:
            raise InputError(f"No mentor onboarded with email {mentor_email}")

    schedule_identifier = "ecf-standard-september"
    if not any(s.schedule_identifier == schedule_identifier for s in cohort_repo.schedules_of(cohort)):
        raise InputError(f"Cohort {cohort} has no {schedule_identifier} schedule: import the cohort's schedules")
    identity = repo.get_identity(email)
    if identity is None:
        user = User(id=str(uuid.uuid4()), full_name=" ".join(full_name.split()), email=email, trn=trn,
                    created_at=now, updated_at=now)  # fmt: skip
        try:
            repo.create_user(user, now)
        except Conflict:
            identity = repo.get_identity(email)
    if identity is not None:
        existing_user = repo.get_user(identity.user_id)
        assert existing_user is not None
        user = existing_user
    profiles = repo.profiles_of_user(user.id)
    if participant_type == ECT and any(p.participant_type == ECT for p in profiles):
        raise InputError(f"{email.lower()} already has an ECT profile")
    if participant_type == MENTOR and any(p.participant_type == MENTOR for p in profiles):
        raise InputError(f"{email.lower()} already has a mentor profile")

    profile = ParticipantProfile(
        id=str(uuid.uuid4()),
        user_id=user.id,
        participant_type=participant_type,
        school_id=school.id,
        cohort=cohort,
        schedule_identifier=schedule_identifier,
        schedule_cohort=cohort,
        mentor_profile_id=mentor_profile.id if mentor_profile else None,
        induction_start_date=now,
        created_at=now,
        updated_at=now,
    )
    records: list[Record] = []
    if programme is not None:
        records.append(
            Record(
                id=str(uuid.uuid4()),
                programme_id=programme.id,
                school_id=school.id,
                school_urn=school.urn,
                start_date=now,
                end_date=None,
                training_status="active",
                induction_status="active",
                email=email,
                mentor_profile_id=mentor_profile.id if mentor_profile else None,
                mentor_user_id=mentor_profile.user_id if mentor_profile else None,
                schedule_identifier=schedule_identifier,
                schedule_cohort=cohort,
                school_transfer=False,
                appropriate_body=appropriate_body or school_cohort.appropriate_body,
                created_at=now,
                updated_at=now,
            )
        )
    repo.set_records(profile, records, programme.id if programme is not None else None)
    owner = (
        partnership_repo.get_partnership(programme.partnership_id) if programme and programme.partnership_id else None
    )
    state = repo.new_state(profile.id, "active", None, owner.lead_provider_id if owner else None, now)
    repo.save_profiles([(profile, True)], states=[state])
    projection.reproject([user.id], now)
    return Onboarded(user_id=user.id, profile_id=profile.id, programme_id=programme.id if programme else None)


# --------------------------------------------------------------------------- transfer


def resolve_profile(participant_id: str) -> tuple[User, ParticipantProfile]:
    """A participant id (user id) → the user and the profile the admin means (the ECT one wins)."""
    user = repo.get_user(participant_id)
    if user is None:
        raise NotFound(participant_id)
    profiles = sorted(repo.profiles_of_user(user.id), key=lambda p: (p.participant_type != ECT, p.created_at))
    if not profiles:
        raise NotFound(participant_id)
    return user, profiles[0]


def transfer_participant(
    participant_id: str, *, to_urn: str, start_date: datetime, keep_provider: bool, now: datetime
) -> Onboarded:
    """Move a participant to another school (TransferAndContinueExistingFip with ``keep_provider``)."""
    user, profile = resolve_profile(participant_id)
    school = school_repo.get_school_by_urn(to_urn)
    if school is None:
        raise InputError(f"No school with URN {to_urn}")
    records = repo.records_of(profile)
    current = latest(records, lambda r: r.end_date is None or r.end_date > now)
    if current is None:
        raise InputError("The participant has no current induction record to transfer from")
    if current.school_id == school.id:
        raise InputError("The participant is already at that school")
    cohort = int(profile.cohort)
    old_programme = repo.get_programme(current.programme_id)
    old_partnership = (
        partnership_repo.get_partnership(old_programme.partnership_id)
        if old_programme is not None and old_programme.partnership_id
        else None
    )
    if keep_provider:
        if old_partnership is None:
            raise InputError("--keep-provider needs the participant's current programme to have a partnership")
        partnership = _relationship_partnership(school, old_partnership, cohort, now)
        programme = programme_for_partnership(school, partnership, now)
    else:
        school_cohort = school_repo.get_school_cohort(school.id, cohort)
        default = repo.get_programme(school_cohort.default_induction_programme_id) if school_cohort else None
        if default is None:
            raise InputError(f"School {to_urn} has no default induction programme for {cohort}")
        programme = default
    leaving = replace(current, induction_status="leaving", end_date=start_date, school_transfer=True, updated_at=now)
    joining = replace(
        current,
        id=str(uuid.uuid4()),
        programme_id=programme.id,
        school_id=school.id,
        school_urn=school.urn,
        start_date=start_date,
        end_date=None,
        induction_status="active",
        school_transfer=True,
        created_at=now,
        updated_at=now,
    )
    records = [r for r in records if r.id != current.id] + [leaving, joining]
    repo.set_records(profile, records, programme.id)
    profile.school_id = school.id
    profile.updated_at = now
    repo.save_profiles([(profile, False)])
    projection.reproject([user.id], now)
    return Onboarded(user_id=user.id, profile_id=profile.id, programme_id=programme.id)


def _relationship_partnership(school: School, old: Partnership, cohort: int, now: datetime) -> Partnership:
    """Induction::CreateRelationship: a relationship row for the same LP and DP at the new school."""
    for row in partnership_repo.rows_for_school_cohort(school.id, cohort):
        if row.lead_provider_id == old.lead_provider_id and row.delivery_partner_id == old.delivery_partner_id:
            return row
    row = Partnership(
        id=str(uuid.uuid4()),
        school_id=school.id,
        urn=school.urn,
        lead_provider_id=old.lead_provider_id,
        delivery_partner_id=old.delivery_partner_id,
        delivery_partner_name=old.delivery_partner_name,
        cohort=cohort,
        relationship=True,
        pending=False,
        report_id=str(uuid.uuid4()),
        challenge_deadline=now,
        created_at=now,
    )
    partnership_repo.save_relationship(row, now)
    return row


def pending_migrations(limit: int = 100) -> Sequence[str]:
    return partnership_repo.pending_migration_ids(limit)
