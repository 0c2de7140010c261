"""The participants API: list, show, transfers, and the provider's actions (defer, resume, withdraw,
change schedule) with the real service's validation order (ecf-domain.md 3.10, 3.11)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from chalicelib.domain import messages as m
from chalicelib.domain.errors import Conflict, NotFound, ValidationFailed
from chalicelib.domain.paging import Order, Page
from chalicelib.domain.participants import (
    COURSES,
    DEFERRAL_REASONS,
    SCHEDULE_IDENTIFIERS,
    TRANSITIONS,
    WITHDRAWAL_REASONS,
    Record,
    change,
    latest,
)
from chalicelib.models.participants import ParticipantProfile, ProviderParticipant
from chalicelib.repositories import cohorts as cohort_repo
from chalicelib.repositories import participants as repo
from chalicelib.repositories import partnerships as partnership_repo
from chalicelib.services import projection
from chalicelib.services.ids import is_uuid, parse_year

ATTEMPTS = 3


def list_participants(
    lead_provider_id: str,
    *,
    cohorts: Sequence[int] | None,
    training_status: str | None,
    updated_since: datetime | None,
    order: Order,
    page: Page,
) -> list[ProviderParticipant]:
    ids = repo.view_page(
        lead_provider_id,
        cohorts=cohorts,
        training_status=training_status,
        updated_since=updated_since,
        order=order.field,
        descending=order.descending,
        offset=page.offset,
        limit=page.per_page,
    )
    views = repo.views_for([(lead_provider_id, uid) for uid in ids])
    return [views[(lead_provider_id, uid)] for uid in ids if (lead_provider_id, uid) in views]


def get_participant(lead_provider_id: str, participant_id: str) -> ProviderParticipant:
    view = repo.get_view(lead_provider_id, participant_id) if is_uuid(participant_id) else None
    if view is None or not view.visible_to:
        raise NotFound(participant_id)
    return view


# --------------------------------------------------------------------------- actions


def _resolve(
    lead_provider_id: str, participant_id: str, attributes: Mapping[str, Any]
) -> tuple[ParticipantProfile, Record]:
    """Steps 1-3: the participant, the course, and the provider's latest record on that profile."""
    user = repo.get_user(participant_id) if is_uuid(participant_id) else None
    if user is None:
        raise ValidationFailed({"participant_id": [m.PARTICIPANT_NOT_RECOGNISED]})
    course = attributes.get("course_identifier")
    if course is None or (isinstance(course, str) and not course.strip()):
        raise ValidationFailed({"course_identifier": [m.COURSE_IDENTIFIER_BLANK]})
    participant_type = COURSES.get(course) if isinstance(course, str) else None
    profiles = [p for p in repo.profiles_of_user(user.id) if p.participant_type == participant_type]
    profile = next((p for p in profiles if p.status == "active"), None)
    if profile is None:
        raise ValidationFailed({"course_identifier": [m.COURSE_IDENTIFIER_INVALID]})
    record = _provider_record(profile, lead_provider_id)
    if record is None:
        raise ValidationFailed({"participant_id": [m.PARTICIPANT_NOT_RECOGNISED]})
    return profile, record


def _provider_record(profile: ParticipantProfile, lead_provider_id: str) -> Record | None:
    """The provider's latest record on the profile. Challenged partnerships are NOT excluded (3.11 step 3)."""
    records = repo.records_of(profile)
    programmes = repo.programmes_by_id(sorted({r.programme_id for r in records}))
    partnerships = partnership_repo.partnerships_by_id(
        sorted({p.partnership_id for p in programmes.values() if p.partnership_id})
    )

    def mine(record: Record) -> bool:
        programme = programmes.get(record.programme_id)
        partnership = (
            partnerships.get(str(programme.partnership_id)) if programme and programme.partnership_id else None
        )
        return partnership is not None and partnership.lead_provider_id == lead_provider_id

    return latest(records, mine)


def change_training_status(
    lead_provider_id: str, participant_id: str, action: str, attributes: Mapping[str, Any], now: datetime
) -> ProviderParticipant:
    """defer | resume | withdraw. Optimistic locking on the profile: a concurrent action makes this one retry,
    re-validate against the new state, and fail with 'already ...' if it no longer applies."""
    for _ in range(ATTEMPTS):
        profile, record = _resolve(lead_provider_id, participant_id, attributes)
        reason = attributes.get("reason")
        if action in ("defer", "withdraw"):
            allowed = DEFERRAL_REASONS if action == "defer" else WITHDRAWAL_REASONS
            if reason is None or (isinstance(reason, str) and not reason.strip()):
                raise ValidationFailed({"reason": [m.REASON_BLANK]})
            if reason not in allowed:
                raise ValidationFailed({"reason": [m.REASON_INVALID]})
        else:
            reason = None
        target = TRANSITIONS[action].get(record.training_status)
        if target is None:
            message = {"deferred": m.ALREADY_DEFERRED, "withdrawn": m.ALREADY_WITHDRAWN, "active": m.ALREADY_ACTIVE}
            already = record.training_status if action != "resume" else "active"
            if action == "defer" and record.training_status == "withdrawn":
                already = "withdrawn"
            raise ValidationFailed({"participant_profile": [message[already]]})
        records = change(repo.records_of(profile), record, now, training_status=target)
        current = latest(records, lambda r: r.end_date is None)
        repo.set_records(profile, records, profile.current_programme_id if current is None else current.programme_id)
        profile.training_status = target
        profile.updated_at = now
        state = repo.new_state(profile.id, target, reason if isinstance(reason, str) else None, lead_provider_id, now)
        try:
            repo.save_profiles([(profile, False)], states=[state])
        except Conflict:
            continue
        projection.reproject([profile.user_id], now)
        return _fresh_view(lead_provider_id, profile, now)
    raise Conflict("The participant changed concurrently; try again")


def change_schedule(
    lead_provider_id: str, participant_id: str, attributes: Mapping[str, Any], now: datetime
) -> ProviderParticipant:
    for _ in range(ATTEMPTS):
        profile, record = _resolve(lead_provider_id, participant_id, attributes)
        identifier = attributes.get("schedule_identifier")
        if identifier is None or (isinstance(identifier, str) and not identifier.strip()):
            raise ValidationFailed({"schedule_identifier": [m.SCHEDULE_BLANK]})
        cohort_raw = attributes.get("cohort")
        cohort = record.schedule_cohort if cohort_raw in (None, "") else parse_year(cohort_raw)
        if cohort is None or cohort_repo.get_cohort(cohort) is None:
            raise ValidationFailed({"cohort": [m.COHORT_INVALID]})
        if cohort != record.schedule_cohort:
            raise ValidationFailed({"cohort": ["The property '#/cohort' cannot be changed"]})
        known = {s.schedule_identifier for s in cohort_repo.schedules_of(cohort)}
        if identifier not in SCHEDULE_IDENTIFIERS or identifier not in known:
            raise ValidationFailed({"schedule_identifier": [m.SCHEDULE_INVALID]})
        if identifier == record.schedule_identifier:
            return _fresh_view(lead_provider_id, profile, now)
        records = change(repo.records_of(profile), record, now, schedule_identifier=identifier)
        current = latest(records, lambda r: r.end_date is None)
        repo.set_records(profile, records, profile.current_programme_id if current is None else current.programme_id)
        profile.schedule_identifier = identifier
        profile.updated_at = now
        try:
            repo.save_profiles([(profile, False)])
        except Conflict:
            continue
        projection.reproject([profile.user_id], now)
        return _fresh_view(lead_provider_id, profile, now)
    raise Conflict("The participant changed concurrently; try again")


def _fresh_view(lead_provider_id: str, profile: ParticipantProfile, now: datetime) -> ProviderParticipant:
    """The participant as the provider sees it after the action. When GET hides the profile acted on (its
    partnership is challenged, 3.11 step 3), the response is built from the provider's latest record anyway."""
    view = repo.get_view(lead_provider_id, profile.user_id)
    if view is not None and any(e["training_record_id"] == profile.id for e in view.enrolments or []):
        return view
    built = projection.provider_view(lead_provider_id, profile.user_id, now)
    if built is None:
        raise NotFound(profile.user_id)
    return built


# --------------------------------------------------------------------------- transfers


def transfers_of(lead_provider_id: str, user_id: str) -> list[dict[str, Any]]:
    """Leaving/joining pairs of the user's profiles that involve this provider (ecf-domain.md 2.4)."""
    from chalicelib.repositories import providers as provider_repo

    out: list[dict[str, Any]] = []
    names = {lp.id: lp.name for lp in provider_repo.list_lead_providers()}
    for profile in repo.profiles_of_user(user_id):
        records = sorted(repo.records_of(profile), key=lambda r: (r.created_at, r.id))
        programmes = repo.programmes_by_id(sorted({r.programme_id for r in records}))
        partnerships = partnership_repo.partnerships_by_id(
            sorted({p.partnership_id for p in programmes.values() if p.partnership_id})
        )

        def provider(record: Record | None, programmes=programmes, partnerships=partnerships) -> str | None:  # type: ignore[no-untyped-def]
            programme = programmes.get(record.programme_id) if record else None
            row = partnerships.get(str(programme.partnership_id)) if programme and programme.partnership_id else None
            return row.lead_provider_id if row else None

        leavings = [r for r in records if r.induction_status == "leaving" and r.school_transfer]
        for leaving in leavings:
            joining = next(
                (r for r in records if r.school_transfer and r.id != leaving.id and r.created_at >= leaving.created_at
                 and r.induction_status != "leaving"),
                None,
            )  # fmt: skip
            involved = {provider(leaving), provider(joining)}
            if lead_provider_id not in involved:
                continue
            from_lp, to_lp = provider(leaving), provider(joining)
            transfer_type = "unknown" if joining is None else ("new_school" if from_lp == to_lp else "new_provider")
            latest_date = max(d for d in (leaving.end_date, joining.start_date if joining else None) if d is not None)
            out.append(
                {
                    "training_record_id": profile.id,
                    "transfer_type": transfer_type,
                    "status": "complete" if latest_date <= datetime.now(latest_date.tzinfo) else "incomplete",
                    "created_at": leaving.updated_at,
                    "leaving": {
                        "school_urn": leaving.school_urn,
                        "provider": names.get(from_lp or ""),
                        "date": leaving.end_date.date().isoformat() if leaving.end_date else None,
                    },
                    "joining": None
                    if joining is None
                    else {
                        "school_urn": joining.school_urn,
                        "provider": names.get(to_lp or ""),
                        "date": joining.start_date.date().isoformat(),
                    },
                    "updated_at": max(leaving.updated_at, joining.updated_at if joining else leaving.updated_at),
                }
            )
    return out
