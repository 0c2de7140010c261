"""Participants storage: users and identities, profiles (records inside), programmes, states, read model."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition

from chalicelib.domain.clock import iso
from chalicelib.domain.errors import Conflict
from chalicelib.domain.participants import Record
from chalicelib.models.participants import (
    Identity,
    InductionProgramme,
    InductionRecordAttribute,
    ParticipantProfile,
    ProfileState,
    ProgrammeMember,
    ProviderParticipant,
    User,
)
from chalicelib.repositories.common import batch_get, condition_failed, ordered_page, read_all_keys, transaction

# --------------------------------------------------------------------------- users


def get_user(user_id: str) -> User | None:
    try:
        return User.get(user_id)
    except User.DoesNotExist:
        return None


def users_by_id(ids: Sequence[str]) -> dict[str, User]:
    return batch_get(User, ids)


def get_identity(email: str) -> Identity | None:
    try:
        return Identity.get(email.strip().lower())
    except Identity.DoesNotExist:
        return None


def create_user(user: User, now: datetime) -> None:
    """A new user and the identity of their email, or Conflict if the email is taken."""
    try:
        with transaction() as tx:
            tx.save(user, condition=User.id.does_not_exist())
            tx.save(
                Identity(email=user.email.strip().lower(), user_id=user.id, created_at=now),
                condition=Identity.email.does_not_exist(),
            )
    except TransactWriteError as error:
        if condition_failed(error):
            raise Conflict("email already in use") from error
        raise


# --------------------------------------------------------------------------- profiles


def to_record(item: InductionRecordAttribute) -> Record:
    return Record(
        id=item.id,
        programme_id=item.programme_id,
        school_id=item.school_id,
        school_urn=item.school_urn,
        start_date=item.start_date,
        end_date=item.end_date,
        training_status=item.training_status,
        induction_status=item.induction_status,
        email=item.email,
        mentor_profile_id=item.mentor_profile_id,
        mentor_user_id=item.mentor_user_id,
        schedule_identifier=item.schedule_identifier,
        schedule_cohort=int(item.schedule_cohort),
        school_transfer=bool(item.school_transfer),
        appropriate_body=item.appropriate_body,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def from_record(record: Record) -> InductionRecordAttribute:
    return InductionRecordAttribute(**{k: getattr(record, k) for k in Record.__dataclass_fields__})


def records_of(profile: ParticipantProfile) -> list[Record]:
    return [to_record(r) for r in profile.records or []]


def set_records(profile: ParticipantProfile, records: Iterable[Record], current_programme: str | None) -> None:
    profile.records = [from_record(r) for r in sorted(records, key=lambda r: (r.created_at, r.id))]
    profile.current_programme_id = current_programme


def get_profile(profile_id: str) -> ParticipantProfile | None:
    try:
        return ParticipantProfile.get(profile_id)
    except ParticipantProfile.DoesNotExist:
        return None


def profiles_by_id(ids: Sequence[str]) -> dict[str, ParticipantProfile]:
    return batch_get(ParticipantProfile, ids)


def profiles_of_user(user_id: str) -> list[ParticipantProfile]:
    return list(ParticipantProfile.by_user.query(user_id))


def profiles_of_users(users: dict[str, User]) -> dict[str, list[ParticipantProfile]]:
    """Profiles of many users: BatchGets through each user's ``profile_ids``, a Query only for a user without them."""
    wanted = sorted({pid for user in users.values() for pid in (user.profile_ids or ())})
    found = profiles_by_id(wanted)
    out: dict[str, list[ParticipantProfile]] = {}
    for user_id, user in users.items():
        if user.profile_ids:
            out[user_id] = [found[pid] for pid in sorted(user.profile_ids) if pid in found]
        else:
            out[user_id] = profiles_of_user(user_id)
    return out


def profile_ids_in_programme(programme_id: str) -> list[str]:
    """Profiles whose current record is in the programme (a keys-only index)."""
    rows = read_all_keys(ParticipantProfile, ParticipantProfile.by_current_programme.Meta.index_name, programme_id)
    return [row["id"]["S"] for row in rows]


def member_profile_ids(programme_id: str) -> list[tuple[str, str]]:
    """(profile id, user id) of everyone who has ever had a record in the programme."""
    return [(m.profile_id, m.user_id) for m in ProgrammeMember.query(programme_id)]


def save_profiles(
    profiles: Sequence[tuple[ParticipantProfile, bool]],
    *,
    states: Sequence[ProfileState] = (),
    extra_conditions: Sequence[tuple[Any, str, Condition]] = (),
) -> None:
    """Write profiles (new or changed: the version condition guards changed ones) with their programme
    memberships and any new profile states, in one transaction. Conflict if anything moved meanwhile."""
    try:
        with transaction() as tx:
            for profile, is_new in profiles:
                if is_new:
                    tx.save(profile, condition=ParticipantProfile.id.does_not_exist())
                    tx.update(
                        User(id=profile.user_id),
                        actions=[User.profile_ids.add({profile.id}), User.updated_at.set(profile.created_at)],
                        condition=User.id.exists(),
                    )
                else:
                    tx.save(profile)
                # Earlier programmes were recorded when their records were written; a change adds at most
                # the current one (an idempotent put), so a profile costs two transaction items.
                current = profile.current_programme_id
                programme_ids = {r.programme_id for r in profile.records or []} if is_new else {current}
                for programme_id in sorted(p for p in programme_ids if p):
                    tx.save(ProgrammeMember(programme_id=programme_id, profile_id=profile.id, user_id=profile.user_id))
            for state in states:
                tx.save(state, condition=ProfileState.sort_key.does_not_exist())
            for model, key, condition in extra_conditions:
                tx.condition_check(model, key, condition=condition)
    except TransactWriteError as error:
        if condition_failed(error):
            raise Conflict("participant changed concurrently") from error
        raise


def states_of(profile_id: str) -> list[ProfileState]:
    return list(ProfileState.query(profile_id))


def new_state(
    profile_id: str, state: str, reason: str | None, lead_provider_id: str | None, now: datetime
) -> ProfileState:
    import uuid

    return ProfileState(
        profile_id=profile_id,
        sort_key=f"{iso(now)}#{uuid.uuid4()}",
        state=state,
        reason=reason,
        lead_provider_id=lead_provider_id,
        created_at=now,
    )


# --------------------------------------------------------------------------- programmes


def school_cohort_key(school_id: str, cohort: int) -> str:
    return f"{school_id}#{cohort:04d}"


def get_programme(programme_id: str | None) -> InductionProgramme | None:
    if not programme_id:
        return None
    try:
        return InductionProgramme.get(programme_id)
    except InductionProgramme.DoesNotExist:
        return None


def programmes_by_id(ids: Sequence[str]) -> dict[str, InductionProgramme]:
    return batch_get(InductionProgramme, ids)


def programmes_of_school_cohort(school_id: str, cohort: int) -> list[InductionProgramme]:
    rows = list(InductionProgramme.by_school_cohort.query(school_cohort_key(school_id, cohort)))
    rows.sort(key=lambda p: (p.created_at, p.id))
    return rows


def programmes_of_partnership(partnership_id: str) -> list[InductionProgramme]:
    return list(InductionProgramme.by_partnership.query(partnership_id))


def create_programme(programme: InductionProgramme) -> None:
    programme.save(condition=InductionProgramme.id.does_not_exist())


def attach_partnership(programme: InductionProgramme, partnership_id: str, now: datetime) -> bool:
    """Give a programme without a partnership this one. False if it already has one."""
    from pynamodb.exceptions import UpdateError

    try:
        programme.update(
            actions=[InductionProgramme.partnership_id.set(partnership_id), InductionProgramme.updated_at.set(now)],
            condition=InductionProgramme.partnership_id.does_not_exist(),
        )
    except UpdateError as error:
        if condition_failed(error):
            return False
        raise
    return True


# --------------------------------------------------------------------------- the read model


def get_view(lead_provider_id: str, user_id: str) -> ProviderParticipant | None:
    try:
        return ProviderParticipant.get(lead_provider_id, user_id)
    except ProviderParticipant.DoesNotExist:
        return None


def views_for(pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], ProviderParticipant]:
    return batch_get(ProviderParticipant, pairs)


def save_views(views: Sequence[ProviderParticipant]) -> None:
    """BatchWriteItem, 25 a request."""
    with ProviderParticipant.batch_write() as batch:
        for view in views:
            batch.save(view)


def view_page(
    lead_provider_id: str,
    *,
    cohorts: Sequence[int] | None,
    training_status: str | None,
    updated_since: datetime | None,
    order: str,
    descending: bool,
    offset: int,
    limit: int,
) -> list[str]:
    """User ids of one page of the provider's visible participants."""
    condition = None
    if cohorts:
        condition = ProviderParticipant.cohorts.contains(cohorts[0])
        for year in cohorts[1:]:
            condition = condition | ProviderParticipant.cohorts.contains(year)
    if training_status:
        status_condition = ProviderParticipant.statuses.contains(training_status)
        condition = status_condition if condition is None else condition & status_condition
    return ordered_page(
        ProviderParticipant,
        by_created=ProviderParticipant.visible_by_created.Meta.index_name,
        by_updated=ProviderParticipant.visible_by_updated.Meta.index_name,
        hash_value=lead_provider_id,
        updated_key=ProviderParticipant.updated_key,
        order=order,
        descending=descending,
        offset=offset,
        limit=limit,
        updated_since=updated_since,
        filter_condition=condition,
        key_name="user_id",
    )
