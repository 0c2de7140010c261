"""Bulk loading of finished records: for the benchmark and demo data only.

Every function here writes with ``BatchWriteItem`` (25 items a request) and no conditions, into tables nobody
else is writing, the items the product's own writes would have left behind. The items come from the
repositories' own record → item mappings and key functions (``providers.relationship_item``,
``imports.new_school_item``, ``partnerships.partnership_item`` and ``stamp``, ``participants.profile_item``,
``state_item``, ``view_item``, ``user_item``, ``identity_item``, ``programme_item``, ``school_cohort_key``,
``providers.delivery_partner_item``, ``schools.sort_key``; only the school cohort item is built here, as the
product only ever updates one), so a change there reaches the
benchmark's data too. Nothing in the product calls these functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pynamodb.models import Model

from chalicelib.domain.clock import iso
from chalicelib.domain.imports import GiasSchool
from chalicelib.domain.participants import ParticipantView, Profile, ProfileState, Programme, User
from chalicelib.domain.partnerships import Partnership
from chalicelib.domain.providers import DeliveryPartner, ProviderRelationship
from chalicelib.domain.schools import SchoolCohort
from chalicelib.models import ApiToken as ApiTokenItem
from chalicelib.models import DeliveryPartner as DeliveryPartnerItem
from chalicelib.models import Partnership as PartnershipItem
from chalicelib.models import ProviderRelationship as RelationshipItem
from chalicelib.models import School as SchoolItem
from chalicelib.models import SchoolCohort as SchoolCohortItem
from chalicelib.models.participants import (
    Identity,
    InductionProgramme,
    ParticipantProfile,
    ProgrammeMember,
    ProviderParticipant,
)
from chalicelib.models.participants import ProfileState as ProfileStateItem
from chalicelib.models.participants import User as UserItem
from chalicelib.repositories import participants as participant_repo
from chalicelib.repositories import partnerships as partnership_repo
from chalicelib.repositories import providers as provider_repo
from chalicelib.repositories import schools as school_repo
from chalicelib.repositories.imports import new_school_item

FIRST_VERSION = 1  # what the first conditional save of a versioned item leaves


def _write(model: type[Model], items: Iterable[Model]) -> int:
    written = 0
    with model.batch_write() as batch:
        for item in items:
            batch.save(item)
            written += 1
    return written


# --------------------------------------------------------------------------- providers


def seed_delivery_partners(partners: Sequence[DeliveryPartner], relationships: Sequence[ProviderRelationship]) -> int:
    """Benchmark and demo data only: delivery partners as ``providers.create_delivery_partner`` writes them and
    their live relationships as ``providers.upsert_relationship`` does. Returns the number of relationships."""
    _write(
        DeliveryPartnerItem,
        (provider_repo.delivery_partner_item(p) for p in partners),
    )
    return _write(
        RelationshipItem,
        (provider_repo.relationship_item(relationship) for relationship in relationships),
    )


# --------------------------------------------------------------------------- schools and partnerships


def seed_schools(
    schools: Sequence[tuple[str, GiasSchool, datetime]],
    reported: Sequence[Partnership],
    touched: Mapping[str, datetime] | None = None,
) -> int:
    """Benchmark and demo data only: schools ``(id, GIAS fields, created at)`` as the GIAS import creates them
    (``imports.new_school_item``), then moved as ``partnerships.save_reported`` (and a later delivery partner
    change) moves them for each of the ``reported`` partnerships: the cohort partnered, the school listed, and
    ``updated_at`` and its key at the latest report, or at its ``touched`` time (school id -> a programme
    choice's time, as ``schools.save_programme_choice`` touches it) if later. Returns the number of schools
    written."""
    partnered: dict[str, set[float]] = {}  # NumberSetAttribute; the cohorts stay ints
    latest = dict(touched or {})
    for partnership in reported:
        if partnership.relationship or partnership.challenge_reason:
            raise ValueError("seed_schools takes reported (active) partnerships only")
        partnered.setdefault(partnership.school_id, set()).add(partnership.cohort)
        previous = latest.get(partnership.school_id)
        if previous is None or partnership.updated_at > previous:
            latest[partnership.school_id] = partnership.updated_at
    items: list[SchoolItem] = []
    for school_id, gias, created_at in schools:
        item = new_school_item(school_id, gias, created_at)
        if school_id in partnered:
            item.partnered_cohorts = partnered[school_id]
            item.listed = school_repo.LISTED
        if school_id in latest and latest[school_id] > item.updated_at:
            item.updated_at = latest[school_id]
            item.updated_key = school_repo.sort_key(latest[school_id], school_id)
        items.append(item)
    return _write(SchoolItem, items)


def _school_cohort_item(record: SchoolCohort) -> SchoolCohortItem:
    return SchoolCohortItem(
        school_id=record.school_id,
        cohort=record.cohort,
        induction_programme_choice=record.induction_programme_choice,
        active_partnership_id=record.active_partnership_id,
        active_lead_provider_id=record.active_lead_provider_id,
        relationship_partnership_ids=set(record.relationship_partnership_ids) or None,
        default_induction_programme_id=record.default_induction_programme_id,
        appropriate_body=record.appropriate_body,
        opt_out_of_updates=record.opt_out_of_updates,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def seed_partnerships(partnerships: Sequence[Partnership], school_cohorts: Sequence[SchoolCohort]) -> int:
    """Benchmark and demo data only: new partnership rows as ``partnerships.save_reported`` leaves them (keys
    stamped at ``updated_at``, version 1; ``migration_pending`` only if the record says so, i.e. settled rows
    have had their migration) and the school cohorts. Returns the number of partnerships written."""
    _write(SchoolCohortItem, (_school_cohort_item(record) for record in school_cohorts))
    items = []
    for partnership in partnerships:
        if partnership.version is not None:
            raise ValueError("seed_partnerships takes new partnerships only")
        item = partnership_repo.partnership_item(partnership)
        partnership_repo.stamp(item, partnership.updated_at)
        item.version = FIRST_VERSION
        items.append(item)
    return _write(PartnershipItem, items)


# --------------------------------------------------------------------------- participants


def _state_item(state: ProfileState, unique: str) -> ProfileStateItem:
    """``participants.state_item`` with a given unique part of the sort key (a seed gives the same keys)."""
    item = participant_repo.state_item(state)
    item.sort_key = f"{iso(state.created_at)}#{unique}"
    return item


def _profile_item(profile: Profile) -> ParticipantProfile:
    item = participant_repo.profile_item(profile)
    if profile.version is None:
        item.version = FIRST_VERSION
    return item


def seed_participants(
    *,
    programmes: Sequence[Programme],
    users: Sequence[User],
    profiles: Sequence[Profile],
    states: Sequence[tuple[ProfileState, str]],
    views: Sequence[ParticipantView],
) -> int:
    """Benchmark and demo data only: new participants as ``induction.add_participant`` leaves them.

    Programmes as ``create_programme`` writes them; each user with the identity of its email
    (``create_user``); new profiles (version 1) with their programme memberships (``save_profiles``);
    profile states (each with the unique part of its sort key); the read model (``save_views``).
    Returns the number of items written.
    """
    members = [
        participant_repo.member_item(programme_id, profile)
        for profile in profiles
        for programme_id in sorted({r.programme_id for r in profile.records})
    ]
    return (
        _write(InductionProgramme, (participant_repo.programme_item(p) for p in programmes))
        + _write(UserItem, (participant_repo.user_item(u) for u in users))
        + _write(Identity, (participant_repo.identity_item(u) for u in users))
        + _write(ParticipantProfile, (_profile_item(p) for p in profiles))
        + _write(ProgrammeMember, members)
        + _write(ProfileStateItem, (_state_item(state, unique) for state, unique in states))
        + _write(ProviderParticipant, (participant_repo.view_item(v) for v in views))
    )


def participant_items(
    *, user_id: str, email: str, profile_id: str, programme_id: str, lead_provider_id: str
) -> Mapping[str, dict[str, Any]]:
    """Benchmark only (its shape check): one participant's stored items as DynamoDB attribute maps, by kind."""
    state = next(iter(ProfileStateItem.query(profile_id)))
    return {
        "User": UserItem.get(user_id).serialize(),
        "Identity": Identity.get(email.strip().lower()).serialize(),
        "ParticipantProfile": ParticipantProfile.get(profile_id).serialize(),
        "ProgrammeMember": ProgrammeMember.get(programme_id, profile_id).serialize(),
        "ProfileState": state.serialize(),
        "ProviderParticipant": ProviderParticipant.get(lead_provider_id, user_id).serialize(),
    }


def tokens_table() -> str:
    """Benchmark only: the API tokens table's name (the cold-auth requests are reported apart)."""
    return str(ApiTokenItem.Meta.table_name)
