"""The admin and finance view of one participant (``ecf-admin participants show``).

Read-only. A participant id is the user id the API uses; the view lists every
profile of the user with its current training (record → programme →
partnership → lead provider and delivery partner), the induction history and
the profile states (docs/reference/partnerships-seed.md, "Viewing partnership records (finance)").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.errors import NotFound
from chalicelib.domain.participants import (
    COURSE_OF,
    Profile,
    ProfileState,
    Record,
    Trainer,
    latest,
    latest_first,
    participant_status,
)
from chalicelib.repositories import participant_graph as graph
from chalicelib.repositories import participants as repo
from chalicelib.repositories import providers as provider_repo
from chalicelib.services.ids import is_uuid


@dataclass(frozen=True)
class InductionRecordRow:
    """One induction record with what its programme and partnership say about it."""

    id: str
    start_date: datetime
    end_date: datetime | None
    induction_status: str
    training_status: str
    participant_status: str  # v3 participant_status at ``now``: active, joining, leaving, left, withdrawn
    school_urn: str
    school_transfer: bool
    schedule_identifier: str
    schedule_cohort: int
    appropriate_body: str | None
    mentor_participant_id: str | None
    programme_id: str
    training_programme: str | None
    partnership_id: str | None
    lead_provider_id: str | None
    lead_provider_name: str | None
    delivery_partner_id: str | None
    delivery_partner_name: str | None
    relationship: bool
    challenged: bool
    challenge_reason: str | None
    created_at: datetime


@dataclass(frozen=True)
class ProfileStateRow:
    state: str
    reason: str | None
    lead_provider_id: str | None
    lead_provider_name: str | None
    created_at: datetime


@dataclass(frozen=True)
class ProfileAdminView:
    """A participant profile (its id is the API's ``training_record_id``).

    The current training comes from the latest induction record (docs/reference/ecf-domain.md
    1.10 order). Its lead provider and delivery partner names are hidden when that
    partnership is challenged (1.9), as the school view does; the history rows
    keep them, marked ``challenged``.
    """

    training_record_id: str
    participant_type: str
    course_identifier: str
    cohort: int
    schedule_identifier: str
    schedule_cohort: int
    training_status: str
    status: str
    mentor_profile_id: str | None
    mentor_participant_id: str | None  # the mentor's user id, from the current record
    induction_start_date: datetime | None
    current_record_id: str | None
    school_urn: str | None
    training_programme: str | None
    partnership_id: str | None
    lead_provider_id: str | None
    lead_provider_name: str | None
    delivery_partner_id: str | None
    delivery_partner_name: str | None
    induction_records: tuple[InductionRecordRow, ...]
    states: tuple[ProfileStateRow, ...]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ParticipantAdminView:
    id: str  # the participant id (user id)
    full_name: str
    email: str
    trn: str | None
    created_at: datetime
    updated_at: datetime
    profiles: tuple[ProfileAdminView, ...]


def _row(
    record: Record, trainers: Mapping[str, Trainer], names: Mapping[str, str], now: datetime
) -> InductionRecordRow:
    trainer = trainers.get(record.programme_id)
    partnered = trainer if trainer is not None and trainer.partnership_id else None
    lead_provider_id = partnered.lead_provider_id if partnered else None
    return InductionRecordRow(
        id=record.id,
        start_date=record.start_date,
        end_date=record.end_date,
        induction_status=record.induction_status,
        training_status=record.training_status,
        participant_status=participant_status(record, now),
        school_urn=record.school_urn,
        school_transfer=record.school_transfer,
        schedule_identifier=record.schedule_identifier,
        schedule_cohort=record.schedule_cohort,
        appropriate_body=record.appropriate_body,
        mentor_participant_id=record.mentor_user_id,
        programme_id=record.programme_id,
        training_programme=trainer.training_programme if trainer else None,
        partnership_id=partnered.partnership_id if partnered else None,
        lead_provider_id=lead_provider_id,
        lead_provider_name=names.get(lead_provider_id) if lead_provider_id else None,
        delivery_partner_id=partnered.delivery_partner_id if partnered else None,
        delivery_partner_name=partnered.delivery_partner_name if partnered else None,
        relationship=bool(partnered and partnered.relationship),
        challenged=bool(partnered and partnered.challenged),
        challenge_reason=partnered.challenge_reason if partnered else None,
        created_at=record.created_at,
    )


def _state(state: ProfileState, names: Mapping[str, str]) -> ProfileStateRow:
    lp = state.lead_provider_id
    return ProfileStateRow(
        state=state.state,
        reason=state.reason,
        lead_provider_id=lp,
        lead_provider_name=names.get(lp) if lp else None,
        created_at=state.created_at,
    )


def _profile(
    profile: Profile, trainers: Mapping[str, Trainer], names: Mapping[str, str], now: datetime
) -> ProfileAdminView:
    rows = tuple(_row(r, trainers, names, now) for r in latest_first(profile.records))
    current_record = latest(profile.records)
    current = next((row for row in rows if current_record and row.id == current_record.id), None)
    # The current partnership's provider and delivery partner are hidden while it is challenged.
    shown = current if current is not None and current.partnership_id is not None and not current.challenged else None
    states = repo.states_of(profile.id)  # in the order they were recorded
    return ProfileAdminView(
        training_record_id=profile.id,
        participant_type=profile.participant_type,
        course_identifier=COURSE_OF.get(profile.participant_type, profile.participant_type),
        cohort=profile.cohort,
        schedule_identifier=profile.schedule_identifier,
        schedule_cohort=profile.schedule_cohort,
        training_status=profile.training_status,
        status=profile.status,
        mentor_profile_id=profile.mentor_profile_id,
        mentor_participant_id=current.mentor_participant_id if current else None,
        induction_start_date=profile.induction_start_date,
        current_record_id=current.id if current else None,
        school_urn=current.school_urn if current else None,
        training_programme=current.training_programme if current else None,
        partnership_id=current.partnership_id if current else None,
        lead_provider_id=shown.lead_provider_id if shown else None,
        lead_provider_name=shown.lead_provider_name if shown else None,
        delivery_partner_id=shown.delivery_partner_id if shown else None,
        delivery_partner_name=shown.delivery_partner_name if shown else None,
        induction_records=rows,
        states=tuple(_state(s, names) for s in states),
        created_at=profile.created_at,
        updated_at=profile.updated_at,
    )


def participant_admin_view(participant_id: str, now: datetime) -> ParticipantAdminView:
    """The user, then each profile (ECT first): current training, induction history, states. NotFound if unknown."""
    participant = graph.load_one(participant_id) if is_uuid(participant_id) else None
    if participant is None:
        raise NotFound(participant_id)
    names = {lp.id: lp.name for lp in provider_repo.list_lead_providers()}
    return ParticipantAdminView(
        id=participant.id,
        full_name=participant.full_name,
        email=participant.email,
        trn=participant.trn,
        created_at=participant.created_at,
        updated_at=participant.updated_at,
        profiles=tuple(_profile(p, participant.trainers, names, now) for p in participant.profiles),
    )
