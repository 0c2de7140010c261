"""Rebuild what each lead provider sees of a participant (the participants read model).

The visibility rule (docs/reference/ecf-domain.md 3.10, ``domain.participants.trains``): a provider's records are
those whose
programme's partnership is the provider's and unchallenged (relationship partnerships count); each profile shows
its latest such record, so a provider keeps seeing its last record after the participant leaves it. The rule is
evaluated here, from the profiles themselves, whenever records or the partnerships behind them change; the API
only reads the result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from chalicelib.domain.clock import iso
from chalicelib.domain.participants import (
    COURSE_OF,
    Participant,
    ParticipantView,
    Profile,
    ProfileState,
    Record,
    Trainer,
    content_digest,
    participant_status,
    shown_record,
    transfers_involving,
    v1_status,
)
from chalicelib.domain.statements import Eligibility, trn_validated
from chalicelib.repositories import eligibility as eligibility_repo
from chalicelib.repositories import participant_graph as graph
from chalicelib.repositories import participants as repo
from chalicelib.services import declarations, unfunded_mentors

Content = dict[str, Any]  # {"full_name", "trn", "enrolments"}: what the digest covers


def _withdrawal_and_deferral(
    record: Record, states: Sequence[ProfileState] | None, lead_provider_id: str
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The provider's reason and date for the record's current withdrawal or deferral (its latest such state)."""
    if record.training_status not in ("withdrawn", "deferred") or states is None:
        return None, None
    mine = [s for s in states if s.lead_provider_id == lead_provider_id and s.state == record.training_status]
    if not mine:
        return None, None
    last = mine[-1]  # states come in the order they were recorded
    detail = {"reason": last.reason, "date": iso(last.created_at)}
    return (detail, None) if record.training_status == "withdrawn" else (None, detail)


def _enrolment(
    participant: Participant,
    profile: Profile,
    record: Record,
    trainer: Trainer,
    withdrawal_and_deferral: tuple[dict[str, Any] | None, dict[str, Any] | None],
    eligibility: Eligibility | None,
    now: datetime,
) -> dict[str, Any]:
    withdrawal, deferral = withdrawal_and_deferral
    return {
        "training_record_id": profile.id,
        "email": record.email or participant.email,
        "mentor_id": record.mentor_user_id if profile.participant_type == "ect" else None,
        "school_urn": record.school_urn,
        "participant_type": profile.participant_type,
        "course_identifier": COURSE_OF[profile.participant_type],
        "cohort": str(record.schedule_cohort),
        "training_status": record.training_status,
        "participant_status": participant_status(record, now),
        "status": v1_status(record),
        "teacher_reference_number_validated": trn_validated(participant.trn, eligibility),
        "eligible_for_funding": eligibility.eligible_for_funding if eligibility else None,
        "pupil_premium_uplift": bool(profile.pupil_premium_uplift),
        "sparsity_uplift": bool(profile.sparsity_uplift),
        "schedule_identifier": record.schedule_identifier,
        "delivery_partner_id": trainer.delivery_partner_id,
        "partnership_id": trainer.partnership_id,
        "withdrawal": withdrawal,
        "deferral": deferral,
        "created_at": iso(profile.created_at),
        "induction_end_date": None,
        "mentor_funding_end_date": None,
        "cohort_changed_after_payments_frozen": False,
        "mentor_ineligible_for_funding_reason": None,
        "record_id": record.id,
    }


def build_views(
    participant: Participant,
    states: Mapping[str, Sequence[ProfileState]],
    now: datetime,
    *,
    eligibilities: Mapping[str, Eligibility] | None = None,
    include_challenged: bool = False,
) -> dict[str, Content]:
    """lead provider id → the projected content (enrolments may be empty: hidden).

    ``include_challenged`` counts challenged partnerships too: what an action responds with (3.11 step 3).
    """
    out: dict[str, Content] = {}
    for lead_provider_id in sorted(participant.all_providers()):
        enrolments = []
        for profile in participant.profiles:
            record = shown_record(
                profile.records, participant.trainers, lead_provider_id, include_challenged=include_challenged
            )
            if record is None:
                continue
            trainer = participant.trainers[record.programme_id]
            details = _withdrawal_and_deferral(record, states.get(profile.id), lead_provider_id)
            eligibility = (eligibilities or {}).get(profile.id)
            enrolments.append(_enrolment(participant, profile, record, trainer, details, eligibility, now))
        out[lead_provider_id] = {"full_name": participant.full_name, "trn": participant.trn, "enrolments": enrolments}
    return out


class _Person(Protocol):
    """What a view is named after: a ``Participant``, or a bare ``User`` (the benchmark's onboarding)."""

    @property
    def id(self) -> str: ...
    @property
    def full_name(self) -> str: ...
    @property
    def trn(self) -> str | None: ...
    @property
    def created_at(self) -> datetime: ...


def new_view(lead_provider_id: str, participant: _Person, content: Content, now: datetime) -> ParticipantView:
    """The read-model view of ``content`` for one provider, as ``reproject`` saves it (pure)."""
    return ParticipantView(
        lead_provider_id=lead_provider_id,
        user_id=participant.id,
        visible=bool(content["enrolments"]),
        full_name=participant.full_name,
        trn=participant.trn,
        enrolments=content["enrolments"],
        user_created_at=participant.created_at,
        updated_at=now,
        digest=content_digest(content),
    )


def provider_view(lead_provider_id: str, user_id: str, now: datetime) -> ParticipantView | None:
    """Build, without saving, what the provider's actions see of a user: its latest record on each profile,
    challenged partnerships included (docs/reference/ecf-domain.md 3.11 step 3). None if it has no record at all."""
    participant = graph.load_one(user_id)
    if participant is None:
        return None
    states = {p.id: repo.states_of(p.id) for p in participant.profiles}
    eligibilities = eligibility_repo.by_profiles([p.id for p in participant.profiles])
    content = build_views(participant, states, now, eligibilities=eligibilities, include_challenged=True)
    mine = content.get(lead_provider_id)
    if mine is None:
        return None
    return replace(new_view(lead_provider_id, participant, mine, now), visible=False)


def _states_to_show(participants: Mapping[str, Participant]) -> dict[str, list[ProfileState]]:
    """States are read only for profiles with something other than 'active' to explain (a Query each)."""
    states: dict[str, list[ProfileState]] = {}
    for participant in participants.values():
        for profile in participant.profiles:
            if profile.training_status != "active" or any(r.training_status != "active" for r in profile.records):
                states[profile.id] = repo.states_of(profile.id)
    return states


def _next_view(
    stored: ParticipantView | None, lead_provider_id: str, participant: Participant, content: Content, now: datetime
) -> ParticipantView | None:
    """The view to write, or None when nothing changed. Unchanged content keeps its ``updated_at``; so do
    changed transfers alone (the transfers list filters on the view's update, as the participants list)."""
    visible = bool(content["enrolments"])
    transfers = transfers_involving(participant.profiles, participant.trainers, lead_provider_id) if visible else []
    if stored is not None and stored.digest == content_digest(content):
        return None if stored.transfers == transfers else replace(stored, transfers=transfers)
    if stored is None and not visible:
        return None
    return replace(new_view(lead_provider_id, participant, content, now), transfers=transfers)


def reproject(user_ids: Iterable[str], now: datetime, also_providers: Iterable[str] = ()) -> int:
    """Rebuild the read model of these users for every provider that has (or had) their records.

    Unchanged content keeps its ``updated_at``; changed content gets ``now``, so
    ``filter[updated_since]`` sees exactly the participants a change affected.
    Returns the number of view items written.
    """
    ids = sorted(set(user_ids))
    if not ids:
        return 0
    participants = graph.load(ids)
    states = _states_to_show(participants)
    eligibilities = eligibility_repo.by_profiles([p.id for pt in participants.values() for p in pt.profiles])
    built = {
        uid: build_views(participants[uid], states, now, eligibilities=eligibilities)
        for uid in ids
        if uid in participants
    }
    keys = [(lp, uid) for uid, by_lp in built.items() for lp in by_lp]
    keys += [(lp, uid) for lp in set(also_providers) for uid in built if (lp, uid) not in keys]
    existing = repo.views_for(keys)
    to_save: list[ParticipantView] = []
    for lp, uid in keys:
        participant = participants[uid]
        content = built[uid].get(lp, {"full_name": participant.full_name, "trn": participant.trn, "enrolments": []})
        view = _next_view(existing.get((lp, uid)), lp, participant, content, now)
        if view is not None:
            to_save.append(view)
    repo.save_views(to_save)
    # The unfunded-mentors read model follows the same enrolments (docs/reference/ecf-declarations-statements.md 3.1).
    unfunded_mentors.follow(
        participants,
        before={key: existing[key].enrolments for key in keys if key in existing},
        after={(lp, uid): built[uid].get(lp, {}).get("enrolments", []) for lp, uid in keys},
    )
    # Which providers may see a participant's declarations follows the same records (a transfer, a migration).
    declarations.refresh_visibility([uid for uid, p in participants.items() if p.has_declarations], now)
    return len(to_save)
