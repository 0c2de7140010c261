"""The admin and finance view of one participant (``ecf-admin participants show``).

Read-only. A participant id is the user id the API uses; the view lists every
profile of the user with its current training (record → programme →
partnership → lead provider and delivery partner), the induction history and
the profile states (partnerships-seed.md, "Viewing partnership records (finance)").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.errors import NotFound
from chalicelib.domain.participants import COURSE_OF, ECT, Record, latest, latest_first, participant_status
from chalicelib.models import Partnership
from chalicelib.models.participants import InductionProgramme, ParticipantProfile, ProfileState
from chalicelib.repositories import participants as repo
from chalicelib.repositories import partnerships as partnership_repo
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

    The current training comes from the latest induction record (ecf-domain.md
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


def _challenged(partnership: Partnership) -> bool:
    return bool(partnership.challenge_reason) or partnership.challenged_at is not None


def _row(
    record: Record,
    programmes: dict[str, InductionProgramme],
    partnerships: dict[str, Partnership],
    names: dict[str, str],
    now: datetime,
) -> InductionRecordRow:
    programme = programmes.get(record.programme_id)
    partnership = partnerships.get(programme.partnership_id) if programme and programme.partnership_id else None
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
        training_programme=programme.training_programme if programme else None,
        partnership_id=partnership.id if partnership else None,
        lead_provider_id=partnership.lead_provider_id if partnership else None,
        lead_provider_name=names.get(partnership.lead_provider_id) if partnership else None,
        delivery_partner_id=partnership.delivery_partner_id if partnership else None,
        delivery_partner_name=partnership.delivery_partner_name if partnership else None,
        relationship=bool(partnership and partnership.relationship),
        challenged=bool(partnership and _challenged(partnership)),
        challenge_reason=partnership.challenge_reason if partnership else None,
        created_at=record.created_at,
    )


def _state(state: ProfileState, names: dict[str, str]) -> ProfileStateRow:
    lp = state.lead_provider_id
    return ProfileStateRow(
        state=state.state,
        reason=state.reason,
        lead_provider_id=lp,
        lead_provider_name=names.get(lp) if lp else None,
        created_at=state.created_at,
    )


def _profile(
    profile: ParticipantProfile,
    programmes: dict[str, InductionProgramme],
    partnerships: dict[str, Partnership],
    names: dict[str, str],
    now: datetime,
) -> ProfileAdminView:
    records = repo.records_of(profile)
    rows = tuple(_row(r, programmes, partnerships, names, now) for r in latest_first(records))
    current_record = latest(records)
    current = next((row for row in rows if current_record and row.id == current_record.id), None)
    shown = current is not None and current.partnership_id is not None and not current.challenged
    states = sorted(repo.states_of(profile.id), key=lambda s: s.sk)
    return ProfileAdminView(
        training_record_id=profile.id,
        participant_type=profile.participant_type,
        course_identifier=COURSE_OF.get(profile.participant_type, profile.participant_type),
        cohort=int(profile.cohort),
        schedule_identifier=profile.schedule_identifier,
        schedule_cohort=int(profile.schedule_cohort),
        training_status=profile.training_status,
        status=profile.status,
        mentor_profile_id=profile.mentor_profile_id,
        mentor_participant_id=current.mentor_participant_id if current else None,
        induction_start_date=profile.induction_start_date,
        current_record_id=current.id if current else None,
        school_urn=current.school_urn if current else None,
        training_programme=current.training_programme if current else None,
        partnership_id=current.partnership_id if current else None,
        lead_provider_id=current.lead_provider_id if current and shown else None,
        lead_provider_name=current.lead_provider_name if current and shown else None,
        delivery_partner_id=current.delivery_partner_id if current and shown else None,
        delivery_partner_name=current.delivery_partner_name if current and shown else None,
        induction_records=rows,
        states=tuple(_state(s, names) for s in states),
        created_at=profile.created_at,
        updated_at=profile.updated_at,
    )


def participant_admin_view(participant_id: str, now: datetime) -> ParticipantAdminView:
    """The user, then each profile (ECT first): current training, induction history, states. NotFound if unknown."""
    user = repo.get_user(participant_id) if is_uuid(participant_id) else None
    if user is None:
        raise NotFound(participant_id)
    profiles = sorted(repo.profiles_of_user(user.id), key=lambda p: (p.participant_type != ECT, p.created_at, p.id))
    programme_ids = sorted({r.programme_id for p in profiles for r in p.records or []})
    programmes = repo.programmes_by_id(programme_ids)
    partnership_ids = sorted({p.partnership_id for p in programmes.values() if p.partnership_id})
    partnerships = partnership_repo.partnerships_by_id(partnership_ids)
    names = {lp.id: lp.name for lp in provider_repo.list_lead_providers()}
    return ParticipantAdminView(
        id=user.id,
        full_name=user.full_name,
        email=user.email,
        trn=user.trn,
        created_at=user.created_at,
        updated_at=user.updated_at,
        profiles=tuple(_profile(p, programmes, partnerships, names, now) for p in profiles),
    )
