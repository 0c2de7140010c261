"""Participants storage: users and identities, profiles (records inside), programmes, states, the read model,
and the school cohort and partnership rows as the participant rules see them.

Takes and returns domain records (``chalicelib.domain.participants``); owns every key, index key and condition.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from chalicelib.domain.clock import iso
from chalicelib.domain.errors import Conflict
from chalicelib.domain.paging import KeyPage, Listing, Page
from chalicelib.domain.participants import (
    ParticipantView,
    Profile,
    ProfileState,
    Programme,
    Record,
    SchoolCohortSetup,
    SchoolRef,
    TrainingPartnership,
    User,
    is_challenged,
)
from chalicelib.models import Partnership, School, SchoolCohort
from chalicelib.models.participants import (
    Identity,
    InductionProgramme,
    InductionRecordAttribute,
    ParticipantProfile,
    ProgrammeMember,
    ProviderParticipant,
)
from chalicelib.models.participants import ProfileState as ProfileStateItem
from chalicelib.models.participants import User as UserItem
from chalicelib.repositories import partnerships as partnership_repo
from chalicelib.repositories import schools as school_repo
from chalicelib.repositories.common import (
    IndexPartition,
    OrderedList,
    batch_get,
    conflicts_as,
    keyset_query,
    ordered_page,
    read_all_keys,
    read_index_keys,
    read_keyset,
    transaction,
)
from chalicelib.repositories.schools import sort_key

# --------------------------------------------------------------------------- items ↔ records


def _user(item: UserItem) -> User:
    return User(
        id=item.id,
        full_name=item.full_name,
        email=item.email,
        trn=item.trn,
        created_at=item.created_at,
        updated_at=item.updated_at,
        has_declarations=bool(item.has_declarations),
        profile_ids=frozenset(item.profile_ids or ()),
    )


def _record(item: InductionRecordAttribute) -> Record:
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


def _record_item(record: Record) -> InductionRecordAttribute:
    fields = {k: getattr(record, k) for k in Record.__dataclass_fields__}
    return InductionRecordAttribute(**fields)  # type: ignore[no-untyped-call]  # PynamoDB's MapAttribute.__init__ is unannotated


def _profile(item: ParticipantProfile) -> Profile:
    return Profile(
        id=item.id,
        user_id=item.user_id,
        participant_type=item.participant_type,
        status=item.status,
        training_status=item.training_status,
        school_id=item.school_id,
        cohort=int(item.cohort),
        schedule_identifier=item.schedule_identifier,
        schedule_cohort=int(item.schedule_cohort),
        mentor_profile_id=item.mentor_profile_id,
        pupil_premium_uplift=bool(item.pupil_premium_uplift),
        sparsity_uplift=bool(item.sparsity_uplift),
        records=tuple(_record(r) for r in item.records or []),
        created_at=item.created_at,
        updated_at=item.updated_at,
        induction_start_date=item.induction_start_date,
        current_programme_id=item.current_programme_id,
        version=item.version,
    )


def profile_item(profile: Profile) -> ParticipantProfile:
    """The stored item of a profile (also what bulk loaders write)."""
    item = ParticipantProfile(
        id=profile.id,
        user_id=profile.user_id,
        participant_type=profile.participant_type,
        school_id=profile.school_id,
        cohort=profile.cohort,
        schedule_identifier=profile.schedule_identifier,
        schedule_cohort=profile.schedule_cohort,
        mentor_profile_id=profile.mentor_profile_id,
        status=profile.status,
        training_status=profile.training_status,
        pupil_premium_uplift=profile.pupil_premium_uplift,
        sparsity_uplift=profile.sparsity_uplift,
        induction_start_date=profile.induction_start_date,
        records=[_record_item(r) for r in profile.records],
        current_programme_id=profile.current_programme_id,
        created_at=profile.created_at,
        updated_at=profile.updated_at,
    )
    if profile.version is not None:
        item.version = profile.version
    return item


def _programme(item: InductionProgramme) -> Programme:
    return Programme(
        id=item.id,
        school_id=item.school_id,
        school_urn=item.school_urn,
        cohort=int(item.cohort),
        training_programme=item.training_programme,
        partnership_id=item.partnership_id,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def _state(item: ProfileStateItem) -> ProfileState:
    return ProfileState(
        profile_id=item.profile_id,
        state=item.state,
        reason=item.reason,
        lead_provider_id=item.lead_provider_id,
        created_at=item.created_at,
    )


def state_item(state: ProfileState) -> ProfileStateItem:
    return ProfileStateItem(
        profile_id=state.profile_id,
        sort_key=f"{iso(state.created_at)}#{uuid.uuid4()}",
        state=state.state,
        reason=state.reason,
        lead_provider_id=state.lead_provider_id,
        created_at=state.created_at,
    )


def training_partnership(row: Partnership) -> TrainingPartnership:
    """A partnership row as the participant rules see it (the one place that reads the row for them)."""
    return TrainingPartnership(
        id=row.id,
        school_id=row.school_id,
        urn=row.urn,
        cohort=int(row.cohort),
        lead_provider_id=row.lead_provider_id,
        delivery_partner_id=row.delivery_partner_id,
        delivery_partner_name=row.delivery_partner_name,
        relationship=bool(row.relationship),
        challenge_reason=row.challenge_reason,
        challenged=is_challenged(row.challenge_reason, row.challenged_at),
        report_id=row.report_id,
    )


# --------------------------------------------------------------------------- users


def get_user(user_id: str) -> User | None:
    try:
        return _user(UserItem.get(user_id))
    except UserItem.DoesNotExist:
        return None


def users_by_id(ids: Sequence[str]) -> dict[str, User]:
    return {key: _user(item) for key, item in batch_get(UserItem, ids).items()}


def user_id_for_email(email: str) -> str | None:
    """The user an email belongs to (emails are kept lower-cased)."""
    try:
        return Identity.get(email.strip().lower()).user_id
    except Identity.DoesNotExist:
        return None


def user_item(user: User) -> UserItem:
    """The stored user: what ``create_user`` writes (no profiles yet) and what later saves leave."""
    return UserItem(
        id=user.id,
        full_name=user.full_name,
        email=user.email,
        trn=user.trn,
        profile_ids=set(user.profile_ids) or None,
        has_declarations=True if user.has_declarations else None,
        created_at=user.created_at,
        updated_at=user.updated_at,
    )


def identity_item(user: User) -> Identity:
    """The lookup of a user by email (lower-cased): one per email, so an email belongs to one user."""
    return Identity(email=user.email.strip().lower(), user_id=user.id, created_at=user.created_at)


def create_user(user: User) -> None:
    """A new user and the identity of their email, or Conflict if the email is taken."""
    item = user_item(user)
    identity = identity_item(user)
    with conflicts_as("email already in use"), transaction() as tx:
        tx.save(item, condition=UserItem.id.does_not_exist())
        tx.save(identity, condition=Identity.email.does_not_exist())


# --------------------------------------------------------------------------- profiles


def get_profile(profile_id: str) -> Profile | None:
    try:
        return _profile(ParticipantProfile.get(profile_id))
    except ParticipantProfile.DoesNotExist:
        return None


def profiles_by_id(ids: Sequence[str]) -> dict[str, Profile]:
    return {key: _profile(item) for key, item in batch_get(ParticipantProfile, ids).items()}


def profiles_of_user(user_id: str) -> list[Profile]:
    return [_profile(item) for item in ParticipantProfile.by_user.query(user_id)]


def profiles_of_users(users: Mapping[str, User]) -> dict[str, list[Profile]]:
    """Profiles of many users: BatchGets through each user's ``profile_ids``, a Query only for a user without them."""
    wanted = sorted({pid for user in users.values() for pid in user.profile_ids})
    found = profiles_by_id(wanted)
    out: dict[str, list[Profile]] = {}
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


def member_user_ids(programme_id: str) -> list[str]:
    """User ids of everyone who has ever had a record in the programme."""
    return [m.user_id for m in ProgrammeMember.query(programme_id)]


def save_profiles(profiles: Sequence[Profile], *, states: Sequence[ProfileState] = ()) -> None:
    """Write profiles (new ones: ``version`` None; changed ones are guarded by their version) with their programme
    memberships and any new profile states, in one transaction. Conflict if anything moved meanwhile."""
    with conflicts_as("participant changed concurrently"), transaction() as tx:
        for profile in profiles:
            item = profile_item(profile)
            is_new = profile.version is None
            if is_new:
                tx.save(item, condition=ParticipantProfile.id.does_not_exist())
                tx.update(
                    UserItem(id=profile.user_id),
                    actions=[UserItem.profile_ids.add({profile.id}), UserItem.updated_at.set(profile.created_at)],
                    condition=UserItem.id.exists(),
                )
            else:
                tx.save(item)
            # Earlier programmes were recorded when their records were written; a change adds at most
            # the current one (an idempotent put), so a profile costs two transaction items.
            programme_ids = {r.programme_id for r in profile.records} if is_new else {profile.current_programme_id}
            for programme_id in sorted(p for p in programme_ids if p):
                tx.save(member_item(programme_id, profile))
        for state in states:
            tx.save(state_item(state), condition=ProfileStateItem.sort_key.does_not_exist())


def states_of(profile_id: str) -> list[ProfileState]:
    """The profile's states in the order they were recorded."""
    return [_state(item) for item in ProfileStateItem.query(profile_id)]


# --------------------------------------------------------------------------- programmes


def school_cohort_key(school_id: str, cohort: int) -> str:
    return f"{school_id}#{cohort:04d}"


def get_programme(programme_id: str | None) -> Programme | None:
    if not programme_id:
        return None
    try:
        return _programme(InductionProgramme.get(programme_id))
    except InductionProgramme.DoesNotExist:
        return None


def programmes_by_id(ids: Sequence[str]) -> dict[str, Programme]:
    return {key: _programme(item) for key, item in batch_get(InductionProgramme, ids).items()}


def programmes_of_school_cohort(school_id: str, cohort: int) -> list[Programme]:
    rows = [_programme(p) for p in InductionProgramme.by_school_cohort.query(school_cohort_key(school_id, cohort))]
    rows.sort(key=lambda p: (p.created_at, p.id))
    return rows


def programmes_of_partnership(partnership_id: str) -> list[Programme]:
    return [_programme(p) for p in InductionProgramme.by_partnership.query(partnership_id)]


def member_item(programme_id: str, profile: Profile) -> ProgrammeMember:
    """The profile's membership of the programme (the programme's participants are one Query)."""
    return ProgrammeMember(programme_id=programme_id, profile_id=profile.id, user_id=profile.user_id)


def programme_item(programme: Programme) -> InductionProgramme:
    return InductionProgramme(
        id=programme.id,
        school_id=programme.school_id,
        school_urn=programme.school_urn,
        cohort=programme.cohort,
        school_cohort=school_cohort_key(programme.school_id, programme.cohort),
        training_programme=programme.training_programme,
        partnership_id=programme.partnership_id,
        created_at=programme.created_at,
        updated_at=programme.updated_at,
    )


def create_programme(programme: Programme) -> None:
    item = programme_item(programme)
    item.save(condition=InductionProgramme.id.does_not_exist())


def attach_partnership(programme_id: str, partnership_id: str, now: datetime) -> bool:
    """Give a programme without a partnership this one. False if it already has one."""
    try:
        with conflicts_as("programme already has a partnership"):
            InductionProgramme(id=programme_id).update(
                actions=[InductionProgramme.partnership_id.set(partnership_id), InductionProgramme.updated_at.set(now)],
                condition=InductionProgramme.partnership_id.does_not_exist(),
            )
    except Conflict:
        return False
    return True


# --------------------------------------------------------------------------- schools and partnerships


def school_by_urn(urn: str) -> SchoolRef | None:
    return _school(school_repo.get_school_by_urn(urn))


def get_school(school_id: str) -> SchoolRef | None:
    return _school(school_repo.get_school(school_id))


def _school(item: School | None) -> SchoolRef | None:
    return SchoolRef(id=item.id, urn=item.urn) if item is not None else None


def school_cohort(school_id: str, cohort: int) -> SchoolCohortSetup | None:
    item = school_repo.get_school_cohort(school_id, cohort)
    if item is None:
        return None
    return SchoolCohortSetup(
        school_id=item.school_id,
        cohort=int(item.cohort),
        induction_programme_choice=item.induction_programme_choice,
        default_programme_id=item.default_induction_programme_id,
        active_partnership_id=item.active_partnership_id,
        appropriate_body=item.appropriate_body,
    )


def set_default_programme(school_id: str, cohort: int, programme_id: str, now: datetime) -> None:
    SchoolCohort(school_id=school_id, cohort=cohort).update(
        actions=[
            SchoolCohort.default_induction_programme_id.set(programme_id),
            SchoolCohort.updated_at.set(now),
        ]
    )


def get_partnership(partnership_id: str) -> TrainingPartnership | None:
    row = partnership_repo.get_partnership(partnership_id)
    return training_partnership(row) if row is not None else None


def partnerships_by_id(ids: Sequence[str]) -> dict[str, TrainingPartnership]:
    return {key: training_partnership(row) for key, row in partnership_repo.partnerships_by_id(ids).items()}


def partnership_rows_for_school_cohort(school_id: str, cohort: int) -> list[TrainingPartnership]:
    return [training_partnership(row) for row in partnership_repo.rows_for_school_cohort(school_id, cohort)]


def create_relationship(
    partnership_id: str, school: SchoolRef, like: TrainingPartnership, cohort: int, now: datetime
) -> TrainingPartnership:
    """Induction::CreateRelationship: a relationship row for ``like``'s provider and delivery partner at a school."""
    row = Partnership(
        id=partnership_id,
        school_id=school.id,
        urn=school.urn,
        lead_provider_id=like.lead_provider_id,
        delivery_partner_id=like.delivery_partner_id,
        delivery_partner_name=like.delivery_partner_name,
        cohort=cohort,
        relationship=True,
        pending=False,
        report_id=str(uuid.uuid4()),
        challenge_deadline=now,
        created_at=now,
    )
    partnership_repo.save_relationship(row, now)
    return training_partnership(row)


# --------------------------------------------------------------------------- the read model


def _view(item: ProviderParticipant) -> ParticipantView:
    return ParticipantView(
        lead_provider_id=item.lead_provider_id,
        user_id=item.user_id,
        visible=bool(item.visible_to),
        full_name=item.full_name,
        trn=item.trn,
        enrolments=list(item.enrolments or []),
        user_created_at=item.user_created_at,
        updated_at=item.updated_at,
        digest=item.digest,
        transfers=list(item.transfers or []),
    )


def view_item(view: ParticipantView) -> ProviderParticipant:
    """The stored item of a view, with its index keys (also what bulk loaders write)."""
    enrolments = view.enrolments
    lead_provider_id = view.lead_provider_id
    return ProviderParticipant(
        lead_provider_id=lead_provider_id,
        user_id=view.user_id,
        visible_to=lead_provider_id if view.visible else None,
        created_key=sort_key(view.user_created_at, view.user_id),
        updated_key=sort_key(view.updated_at, view.user_id),
        cohorts={int(e["cohort"]) for e in enrolments} or None,
        statuses={e["training_status"] for e in enrolments} or None,
        full_name=view.full_name,
        trn=view.trn,
        enrolments=enrolments,
        user_created_at=view.user_created_at,
        updated_at=view.updated_at,
        digest=view.digest,
        transfers=view.transfers or None,
        transfers_visible_to=lead_provider_id if view.visible and view.transfers else None,
    )


def get_view(lead_provider_id: str, user_id: str) -> ParticipantView | None:
    try:
        return _view(ProviderParticipant.get(lead_provider_id, user_id))
    except ProviderParticipant.DoesNotExist:
        return None


def views_for(pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], ParticipantView]:
    return {key: _view(item) for key, item in batch_get(ProviderParticipant, pairs).items()}


def save_views(views: Sequence[ParticipantView]) -> None:
    """BatchWriteItem, 25 a request."""
    with ProviderParticipant.batch_write() as batch:
        for view in views:
            batch.save(view_item(view))


_LISTING = OrderedList(
    ProviderParticipant,
    by_created=ProviderParticipant.visible_by_created.Meta.index_name,
    by_updated=ProviderParticipant.visible_by_updated.Meta.index_name,
    updated_key=ProviderParticipant.updated_key,
    key_name="user_id",
)


def view_listing(
    lead_provider_id: str,
    *,
    cohorts: Sequence[int] | None,
    training_status: str | None,
    updated_since: datetime | None,
    order: str,
    descending: bool,
    page: Page,
) -> Listing[ParticipantView]:
    """One page of the provider's visible participants. A cursor page in ``updated_at`` order (a sync) reads
    whole views from the ``visible_sync`` index in its one Query; any other page reads keys, then BatchGets."""
    condition = _view_filter(cohorts, training_status)
    if page.cursor and order == "updated_at":
        partition = IndexPartition(
            ProviderParticipant, ProviderParticipant.visible_sync.Meta.index_name, lead_provider_id
        )
        raw_items, following = keyset_query(
            partition,
            after=page.after,
            limit=page.per_page,
            forward=not descending,
            range_condition=ProviderParticipant.updated_key >= iso(updated_since) if updated_since else None,
            filter_condition=condition,
            keys_only=False,
        )
        return Listing([_view(ProviderParticipant.from_raw_data(raw)) for raw in raw_items], following)
    keys = view_page(
        lead_provider_id,
        cohorts=cohorts,
        training_status=training_status,
        updated_since=updated_since,
        order=order,
        descending=descending,
        page=page,
    )
    views = views_for([(lead_provider_id, uid) for uid in keys.keys])
    return Listing([views[(lead_provider_id, uid)] for uid in keys.keys if (lead_provider_id, uid) in views], keys.next)


def _view_filter(cohorts: Sequence[int] | None, training_status: str | None) -> Any:
    """``filter[cohort]`` (any of the years) and ``filter[training_status]`` on the projected sets."""
    condition: Any = None
    if cohorts:
        condition = ProviderParticipant.cohorts.contains(cohorts[0])
        for year in cohorts[1:]:
            condition = condition | ProviderParticipant.cohorts.contains(year)
    if training_status:
        status_condition = ProviderParticipant.statuses.contains(training_status)
        condition = status_condition if condition is None else condition & status_condition
    return condition


def view_page(
    lead_provider_id: str,
    *,
    cohorts: Sequence[int] | None,
    training_status: str | None,
    updated_since: datetime | None,
    order: str,
    descending: bool,
    page: Page,
) -> KeyPage:
    """User ids of one page of the provider's visible participants."""
    return ordered_page(
        _LISTING,
        lead_provider_id,
        order=order,
        descending=descending,
        page=page,
        updated_since=updated_since,
        filter_condition=_view_filter(cohorts, training_status),
    )


def transfer_page(lead_provider_id: str, *, updated_since: datetime | None, page: Page) -> KeyPage:
    """User ids of one page of the provider's visible participants with transfers (the sparse ``transfers``
    index): by the user's creation, or by the view's last update when ``updated_since`` is given. Keyset pages
    keep the creation order and take ``updated_since`` as a filter."""
    index = ProviderParticipant.with_transfers.Meta.index_name
    partition = IndexPartition(ProviderParticipant, index, lead_provider_id, "user_id")
    if page.cursor:
        since = ProviderParticipant.updated_key >= iso(updated_since) if updated_since is not None else None
        return read_keyset(partition, after=page.after, limit=page.per_page, filter_condition=since)
    offset, limit = page.offset, page.per_page
    if updated_since is None:
        return KeyPage(read_index_keys(partition, offset=offset, limit=limit))
    rows = read_all_keys(
        ProviderParticipant,
        index,
        lead_provider_id,
        filter_condition=ProviderParticipant.updated_key >= iso(updated_since),
        attributes=["user_id", "uk"],
    )
    rows.sort(key=lambda raw: raw["uk"]["S"])
    return KeyPage([raw["user_id"]["S"] for raw in rows[offset : offset + limit]])
