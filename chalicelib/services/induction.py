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

from chalicelib.domain import messages as m
from chalicelib.domain.errors import Conflict, InputError, NotFound
from chalicelib.domain.participants import (
    ECT,
    MENTOR,
    Profile,
    ProfileState,
    Programme,
    Record,
    SchoolCohortSetup,
    SchoolRef,
    TrainingPartnership,
    User,
    change,
    is_active,
    latest,
)
from chalicelib.domain.partnerships import FIP
from chalicelib.repositories import cohorts as cohort_repo
from chalicelib.repositories import participant_graph as graph
from chalicelib.repositories import participants as repo
from chalicelib.repositories import partnerships as partnership_repo
from chalicelib.services import projection

log = logging.getLogger("ecf.induction")
TX_PROFILES = 40  # profiles per transaction (each adds its programme memberships: well under 100 items)
SCHEDULE = "ecf-standard-september"  # the schedule onboarding enrols in
SAVE_ATTEMPTS = 3  # per profile, when a batch lost a race


# --------------------------------------------------------------------------- programmes


def _new_programme(school: SchoolRef, cohort: int, partnership_id: str | None, now: datetime) -> Programme:
    programme = Programme(
        id=str(uuid.uuid4()),
        school_id=school.id,
        school_urn=school.urn,
        cohort=cohort,
        training_programme=FIP,
        partnership_id=partnership_id,
        created_at=now,
        updated_at=now,
    )
    repo.create_programme(programme)
    return programme


def programme_for_partnership(school: SchoolRef, partnership: TrainingPartnership, now: datetime) -> Programme:
    """The school cohort's FIP programme for this partnership (found, or created)."""
    for programme in repo.programmes_of_partnership(partnership.id):
        if programme.school_id == school.id and programme.cohort == partnership.cohort:
            return programme
    return _new_programme(school, partnership.cohort, partnership.id, now)


# --------------------------------------------------------------------------- moving records


def _retarget(profile: Profile, from_programme_id: str, to: Programme, now: datetime) -> Profile | None:
    """The profile with its active records in one programme changed into another; None if it has none."""
    current = [r for r in profile.records if r.programme_id == from_programme_id and is_active(r, now)]
    if not current:
        return None
    records: Sequence[Record] = profile.records
    for record in current:
        records = change(records, record, now, programme_id=to.id, school_id=to.school_id, school_urn=to.school_urn)
    return profile.with_records(records, to.id, updated_at=now)


def _move_one(profile_id: str, from_programme_id: str, to: Programme, now: datetime) -> str | None:
    """Re-read and move one profile, retrying a lost race; the user id if it moved."""
    for _ in range(SAVE_ATTEMPTS):
        fresh = repo.get_profile(profile_id)
        moved = _retarget(fresh, from_programme_id, to, now) if fresh is not None else None
        if moved is None:
            return None
        try:
            repo.save_profiles([moved])
            return moved.user_id
        except Conflict:
            continue
    return None


def _move_chunk(profile_ids: Sequence[str], from_programme_id: str, to: Programme, now: datetime) -> set[str]:
    """One transaction for a chunk of profiles; on a lost race, each profile alone (re-read)."""
    profiles = repo.profiles_by_id(profile_ids)
    batch = [p for p in (_retarget(profile, from_programme_id, to, now) for profile in profiles.values()) if p]
    try:
        repo.save_profiles(batch)
        return {p.user_id for p in batch}
    except Conflict:
        return {uid for p in batch if (uid := _move_one(p.id, from_programme_id, to, now))}


def _move_active_records(from_programme_id: str, to: Programme, now: datetime) -> set[str]:
    """Move the active records of one programme into another, in transactions of TX_PROFILES profiles.

    Returns the user ids moved. Each profile write is conditional on its version,
    so a profile changed meanwhile is re-read and retried alone.
    """
    moved: set[str] = set()
    ids = repo.profile_ids_in_programme(from_programme_id)
    for start in range(0, len(ids), TX_PROFILES):
        moved |= _move_chunk(ids[start : start + TX_PROFILES], from_programme_id, to, now)
    return moved


def _trained_under(partnership_id: str) -> set[str]:
    """Everyone who ever had a record under the partnership (its programmes' members)."""
    users: set[str] = set()
    for programme in repo.programmes_of_partnership(partnership_id):
        users |= set(repo.member_user_ids(programme.id))
    return users


# --------------------------------------------------------------------------- ChangePartnership


@dataclass
class MigrationResult:
    target_programme_id: str | None
    users: set[str]  # everyone re-projected: those moved in, and everyone who trained under the partnership
    skipped: str | None = None
    moved: int = 0  # participants whose training moved into the partnership's programme (the MigrationsRun metric)


def _active(partnership: TrainingPartnership | None) -> bool:
    return partnership is not None and not partnership.challenged


def _target(
    default: Programme | None,
    partnership: TrainingPartnership,
    partnerships: dict[str, TrainingPartnership],
    school: SchoolRef,
    now: datetime,
) -> tuple[Programme, set[str]] | None:
    """The programme the partnership's participants go to, and who moved into it on the way; None when the
    default programme has another active partnership (nothing to do)."""
    if default is not None and default.training_programme == FIP and not default.partnership_id:
        repo.attach_partnership(default.id, partnership.id, now)
        return replace(default, partnership_id=partnership.id), set(repo.member_user_ids(default.id))
    if default is not None and default.training_programme == FIP and default.partnership_id != partnership.id:
        if _active(partnerships.get(str(default.partnership_id))):
            return None
        target = programme_for_partnership(school, partnership, now)
        return target, _move_active_records(default.id, target, now)
    if default is not None and default.training_programme == FIP:
        return default, set()
    target = programme_for_partnership(school, partnership, now)
    return target, _move_active_records(default.id, target, now) if default is not None else set()


def _migrate_orphans(
    programmes: dict[str, Programme], target: Programme, partnerships: dict[str, TrainingPartnership], now: datetime
) -> set[str]:
    """FIP programmes with active records and no (or a challenged) partnership move to the target."""
    users: set[str] = set()
    for programme in programmes.values():
        if programme.id == target.id or programme.training_programme != FIP:
            continue
        owner = partnerships.get(programme.partnership_id) if programme.partnership_id else None
        if programme.partnership_id and _active(owner):
            continue
        users |= _move_active_records(programme.id, target, now)
    return users


def change_partnership(partnership_id: str, now: datetime) -> MigrationResult:
    """Induction::ChangePartnership for a reported partnership (docs/reference/ecf-domain.md 3.5). Idempotent.

    Reads the current state, not the stream image, so a late or repeated
    delivery can never put back an older state.
    """
    partnership = repo.get_partnership(partnership_id)
    if partnership is None or partnership.relationship or partnership.challenged:
        return MigrationResult(None, set(), skipped="not an active partnership")
    school = repo.get_school(partnership.school_id)
    school_cohort = repo.school_cohort(partnership.school_id, partnership.cohort)
    if school is None or school_cohort is None or school_cohort.active_partnership_id != partnership.id:
        return MigrationResult(None, set(), skipped="not the school cohort's active partnership")
    programmes = {p.id: p for p in repo.programmes_of_school_cohort(school.id, partnership.cohort)}
    partnerships = repo.partnerships_by_id(sorted({p.partnership_id for p in programmes.values() if p.partnership_id}))
    default = programmes.get(school_cohort.default_programme_id or "")
    chosen = _target(default, partnership, partnerships, school, now)
    if chosen is None:
        assert default is not None
        return MigrationResult(default.id, set(), skipped="default programme has another active partnership")
    target, users = chosen
    programmes[target.id] = target
    if school_cohort.default_programme_id != target.id:
        repo.set_default_programme(school_cohort.school_id, school_cohort.cohort, target.id, now)
    users |= _migrate_orphans(programmes, target, partnerships, now)
    moved = len(users)
    # Everyone who ever trained under this partnership is re-projected (delivery partner, status, visibility).
    users |= _trained_under(partnership.id)
    projection.reproject(users, now)
    return MigrationResult(target.id, users, moved=moved)


def reproject_partnership(partnership_id: str, now: datetime) -> set[str]:
    """A partnership changed (delivery partner, challenge, un-challenge): re-project its participants."""
    partnership = repo.get_partnership(partnership_id)
    users = _trained_under(partnership_id)
    projection.reproject(users, now, also_providers=[partnership.lead_provider_id] if partnership else [])
    return users


# --------------------------------------------------------------------------- onboarding


@dataclass(frozen=True)
class Onboarded:
    user_id: str
    profile_id: str
    programme_id: str | None


def _checked_email(participant_type: str, full_name: str, email: str) -> str:
    if participant_type not in (ECT, MENTOR):
        raise InputError(m.PARTICIPANT_TYPE_INVALID)
    email = (email or "").strip()
    if "@" not in email or not (full_name or "").strip():
        raise InputError(m.NAME_AND_EMAIL_REQUIRED)
    return email


def _school_cohort_of(urn: str, cohort: int) -> tuple[SchoolRef, SchoolCohortSetup]:
    school = repo.school_by_urn(urn)
    if school is None:
        raise InputError(m.no_school_with_urn(urn))
    if cohort_repo.get_cohort(cohort) is None:
        raise InputError(m.no_cohort(cohort))
    school_cohort = repo.school_cohort(school.id, cohort)
    if school_cohort is None:
        raise InputError(m.no_programme_choice(urn, cohort))
    return school, school_cohort


def _enrolment_programme(
    school: SchoolRef, school_cohort: SchoolCohortSetup, partnership_id: str | None, now: datetime
) -> Programme | None:
    """The programme to enrol in: the chosen partnership's, or the school cohort's default."""
    cohort = school_cohort.cohort
    if partnership_id:
        partnership = repo.get_partnership(partnership_id)
        if partnership is None or partnership.school_id != school.id or partnership.cohort != cohort:
            raise InputError(m.not_a_partnership_of_school(partnership_id, cohort, school.urn))
        return programme_for_partnership(school, partnership, now)
    programme = repo.get_programme(school_cohort.default_programme_id)
    if programme is None and school_cohort.induction_programme_choice == FIP:
        # A provider-led school cohort without a default yet: its FIP programme, partnered if it has one.
        programme = _new_programme(school, cohort, school_cohort.active_partnership_id, now)
        repo.set_default_programme(school.id, cohort, programme.id, now)
    return programme


def _mentor_profile(mentor_email: str | None) -> Profile | None:
    if not mentor_email:
        return None
    user_id = repo.user_id_for_email(mentor_email)
    mentors = repo.profiles_of_user(user_id) if user_id else []
    mentor = next((p for p in mentors if p.participant_type == MENTOR), None)
    if mentor is None:
        raise InputError(m.no_mentor_with_email(mentor_email))
    return mentor


def _user_for(email: str, full_name: str, trn: str | None, now: datetime) -> User:
    """The user the email belongs to, created if it is new (a concurrent creation wins: its user is used)."""
    user_id = repo.user_id_for_email(email)
    if user_id is None:
        user = User(id=str(uuid.uuid4()), full_name=" ".join(full_name.split()), email=email, trn=trn,
                    created_at=now, updated_at=now)  # fmt: skip
        try:
            repo.create_user(user)
        except Conflict:
            user_id = repo.user_id_for_email(email)
        if user_id is None:
            return user
    existing = repo.get_user(user_id)
    assert existing is not None
    return existing


def first_record(
    school: SchoolRef, programme: Programme, school_cohort: SchoolCohortSetup, mentor: Profile | None, email: str,
    appropriate_body: str | None, now: datetime, *, record_id: str | None = None,
) -> Record:  # fmt: skip
    """The induction record a new participant starts with on the school cohort's programme (pure; the
    benchmark builds its participants' records with it too, passing its own seeded ``record_id``)."""
    return Record(
        id=record_id or str(uuid.uuid4()),
        programme_id=programme.id,
        school_id=school.id,
        school_urn=school.urn,
        start_date=now,
        end_date=None,
        training_status="active",
        induction_status="active",
        email=email,
        mentor_profile_id=mentor.id if mentor else None,
        mentor_user_id=mentor.user_id if mentor else None,
        schedule_identifier=SCHEDULE,
        schedule_cohort=school_cohort.cohort,
        school_transfer=False,
        appropriate_body=appropriate_body or school_cohort.appropriate_body,
        created_at=now,
        updated_at=now,
    )


def _new_profile(user: User, participant_type: str, school_cohort: SchoolCohortSetup, mentor: Profile | None,
                 now: datetime) -> Profile:  # fmt: skip
    return Profile(
        id=str(uuid.uuid4()),
        user_id=user.id,
        participant_type=participant_type,
        status="active",
        training_status="active",
        school_id=school_cohort.school_id,
        cohort=school_cohort.cohort,
        schedule_identifier=SCHEDULE,
        schedule_cohort=school_cohort.cohort,
        mentor_profile_id=mentor.id if mentor else None,
        pupil_premium_uplift=False,
        sparsity_uplift=False,
        records=(),
        created_at=now,
        updated_at=now,
        induction_start_date=now,
    )


def add_participant(  # noqa: PLR0913 - keyword-only fields of the admin command; callers in admin/, localdev/, bench/ and tests pass them by name
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
    """EarlyCareerTeachers::Create then Induction::Enrol (docs/reference/ecf-domain.md 3.6)."""
    email = _checked_email(participant_type, full_name, email)
    school, school_cohort = _school_cohort_of(urn, cohort)
    programme = _enrolment_programme(school, school_cohort, partnership_id, now)
    mentor = _mentor_profile(mentor_email)
    if not any(s.schedule_identifier == SCHEDULE for s in cohort_repo.schedules_of(cohort)):
        raise InputError(m.no_schedule(cohort, SCHEDULE))
    user = _user_for(email, full_name, trn, now)
    if any(p.participant_type == participant_type for p in repo.profiles_of_user(user.id)):
        raise InputError(m.already_has_profile(email.lower(), participant_type))
    profile = _new_profile(user, participant_type, school_cohort, mentor, now)
    records = (
        [first_record(school, programme, school_cohort, mentor, email, appropriate_body, now)] if programme else []
    )
    profile = profile.with_records(records, programme.id if programme is not None else None)
    owner = repo.get_partnership(programme.partnership_id) if programme and programme.partnership_id else None
    state = ProfileState(profile.id, "active", None, owner.lead_provider_id if owner else None, now)
    repo.save_profiles([profile], states=[state])
    projection.reproject([user.id], now)
    return Onboarded(user_id=user.id, profile_id=profile.id, programme_id=programme.id if programme else None)


# --------------------------------------------------------------------------- transfer


def resolve_profile(participant_id: str) -> tuple[str, Profile]:
    """A participant id (user id) → the user id and the profile the admin means (the ECT one wins)."""
    participant = graph.load_one(participant_id, with_trainers=False)
    if participant is None or not participant.profiles:
        raise NotFound(participant_id)
    return participant.id, participant.profiles[0]


def _transfer_programme(
    school: SchoolRef, cohort: int, current: Record, keep_provider: bool, now: datetime
) -> Programme:
    """The programme at the new school: a relationship partnership's (keeping the provider), or the default."""
    old_programme = repo.get_programme(current.programme_id)
    old = repo.get_partnership(old_programme.partnership_id) if old_programme and old_programme.partnership_id else None
    if keep_provider:
        if old is None:
            raise InputError(m.KEEP_PROVIDER_NEEDS_PARTNERSHIP)
        return programme_for_partnership(school, _relationship_partnership(school, old, cohort, now), now)
    school_cohort = repo.school_cohort(school.id, cohort)
    default = repo.get_programme(school_cohort.default_programme_id) if school_cohort else None
    if default is None:
        raise InputError(m.no_default_programme(school.urn, cohort))
    return default


def _transferred(
    profile: Profile, current: Record, school: SchoolRef, programme: Programme, start_date: datetime, now: datetime
) -> Profile:
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
    records = [r for r in profile.records if r.id != current.id] + [leaving, joining]
    return profile.with_records(records, programme.id, school_id=school.id, updated_at=now)


def transfer_participant(
    participant_id: str, *, to_urn: str, start_date: datetime, keep_provider: bool, now: datetime
) -> Onboarded:
    """Move a participant to another school (TransferAndContinueExistingFip with ``keep_provider``)."""
    user_id, profile = resolve_profile(participant_id)
    school = repo.school_by_urn(to_urn)
    if school is None:
        raise InputError(m.no_school_with_urn(to_urn))
    current = latest(profile.records, lambda r: r.end_date is None or r.end_date > now)
    if current is None:
        raise InputError(m.NO_CURRENT_RECORD_TO_TRANSFER)
    if current.school_id == school.id:
        raise InputError(m.ALREADY_AT_THAT_SCHOOL)
    programme = _transfer_programme(school, profile.cohort, current, keep_provider, now)
    repo.save_profiles([_transferred(profile, current, school, programme, start_date, now)])
    projection.reproject([user_id], now)
    return Onboarded(user_id=user_id, profile_id=profile.id, programme_id=programme.id)


def _relationship_partnership(
    school: SchoolRef, old: TrainingPartnership, cohort: int, now: datetime
) -> TrainingPartnership:
    """Induction::CreateRelationship: a relationship row for the same LP and DP at the new school."""
    for row in repo.partnership_rows_for_school_cohort(school.id, cohort):
        if row.lead_provider_id == old.lead_provider_id and row.delivery_partner_id == old.delivery_partner_id:
            return row
    return repo.create_relationship(str(uuid.uuid4()), school, old, cohort, now)


def pending_migrations(limit: int = 100) -> Sequence[str]:
    return partnership_repo.pending_migration_ids(limit)
