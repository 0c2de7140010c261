"""The participants API: list, show, transfers, and the provider's actions (defer, resume, withdraw,
change schedule) with the real service's validation order (docs/reference/ecf-domain.md 3.10, 3.11)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from chalicelib.domain import messages as m
from chalicelib.domain.errors import Conflict, NotFound, ValidationFailed
from chalicelib.domain.paging import Listing, Order, Page
from chalicelib.domain.participants import (
    COURSES,
    DEFERRAL_REASONS,
    SCHEDULE_IDENTIFIERS,
    TRANSITIONS,
    WITHDRAWAL_REASONS,
    ParticipantTransfers,
    ParticipantView,
    Profile,
    ProfileState,
    Record,
    change,
    latest,
    shown_record,
    transfer_rows,
)
from chalicelib.repositories import cohorts as cohort_repo
from chalicelib.repositories import participant_graph as graph
from chalicelib.repositories import participants as repo
from chalicelib.repositories import providers as provider_repo
from chalicelib.services import projection
from chalicelib.services.ids import is_uuid, parse_year

ATTEMPTS = 3
ALREADY = {"deferred": m.ALREADY_DEFERRED, "withdrawn": m.ALREADY_WITHDRAWN, "active": m.ALREADY_ACTIVE}


def list_participants(
    lead_provider_id: str,
    *,
    cohorts: Sequence[int] | None,
    training_status: str | None,
    updated_since: datetime | None,
    order: Order,
    page: Page,
) -> Listing[ParticipantView]:
    return repo.view_listing(
        lead_provider_id,
        cohorts=cohorts,
        training_status=training_status,
        updated_since=updated_since,
        order=order.field,
        descending=order.descending,
        page=page,
    )


def get_participant(lead_provider_id: str, participant_id: str) -> ParticipantView:
    view = repo.get_view(lead_provider_id, participant_id) if is_uuid(participant_id) else None
    if view is None or not view.visible:
        raise NotFound(participant_id)
    return view


# --------------------------------------------------------------------------- actions


def _resolve(lead_provider_id: str, participant_id: str, attributes: Mapping[str, Any]) -> tuple[Profile, Record]:
    """Steps 1-3: the participant, the course, and the provider's latest record on that profile."""
    participant = graph.load_one(participant_id, with_trainers=False) if is_uuid(participant_id) else None
    if participant is None:
        raise ValidationFailed({"participant_id": [m.PARTICIPANT_NOT_RECOGNISED]})
    course = attributes.get("course_identifier")
    if course is None or (isinstance(course, str) and not course.strip()):
        raise ValidationFailed({"course_identifier": [m.COURSE_IDENTIFIER_BLANK]})
    profile = participant.active_profile(COURSES.get(course) if isinstance(course, str) else None)
    if profile is None:
        raise ValidationFailed({"course_identifier": [m.COURSE_IDENTIFIER_INVALID]})
    # The provider's latest record on the profile. Challenged partnerships are NOT excluded (3.11 step 3).
    trainers = graph.trainers_of(r.programme_id for r in profile.records)
    record = shown_record(profile.records, trainers, lead_provider_id, include_challenged=True)
    if record is None:
        raise ValidationFailed({"participant_id": [m.PARTICIPANT_NOT_RECOGNISED]})
    return profile, record


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _reason(action: str, attributes: Mapping[str, Any]) -> str | None:
    """Step 4: defer and withdraw need a reason of their list; resume takes none."""
    if action not in ("defer", "withdraw"):
        return None
    reason = attributes.get("reason")
    if _blank(reason):
        raise ValidationFailed({"reason": [m.REASON_BLANK]})
    if reason not in (DEFERRAL_REASONS if action == "defer" else WITHDRAWAL_REASONS):
        raise ValidationFailed({"reason": [m.REASON_INVALID]})
    return reason if isinstance(reason, str) else None


def _target_status(action: str, current: str) -> str:
    target = TRANSITIONS[action].get(current)
    if target is None:
        already = current if action != "resume" else "active"
        if action == "defer" and current == "withdrawn":
            already = "withdrawn"
        raise ValidationFailed({"participant_profile": [ALREADY[already]]})
    return target


def _changed(profile: Profile, record: Record, now: datetime, **changes: Any) -> Profile:
    """The profile after ``Induction::ChangeInductionRecord`` of the record and the same profile changes."""
    records = change(profile.records, record, now, **changes)  # changes of fields profiles and records share
    current = latest(records, lambda r: r.end_date is None)
    programme_id = profile.current_programme_id if current is None else current.programme_id
    return profile.with_records(records, programme_id, updated_at=now, **changes)


def _with_retries(attempt: Callable[[], ParticipantView | None]) -> ParticipantView:
    """Optimistic locking on the profile: a concurrent action makes this one retry (``attempt`` returns None),
    re-validate against the new state, and fail with 'already ...' if it no longer applies."""
    for _ in range(ATTEMPTS):
        view = attempt()
        if view is not None:
            return view
    raise Conflict(m.PARTICIPANT_CHANGED_CONCURRENTLY)


def change_training_status(
    lead_provider_id: str, participant_id: str, action: str, attributes: Mapping[str, Any], now: datetime
) -> ParticipantView:
    """defer | resume | withdraw."""

    def attempt() -> ParticipantView | None:
        profile, record = _resolve(lead_provider_id, participant_id, attributes)
        reason = _reason(action, attributes)
        target = _target_status(action, record.training_status)
        state = ProfileState(profile.id, target, reason, lead_provider_id, now)
        return _save(lead_provider_id, _changed(profile, record, now, training_status=target), now, [state])

    return _with_retries(attempt)


def change_schedule(
    lead_provider_id: str, participant_id: str, attributes: Mapping[str, Any], now: datetime
) -> ParticipantView:
    def attempt() -> ParticipantView | None:
        profile, record = _resolve(lead_provider_id, participant_id, attributes)
        identifier = _schedule(attributes, record)
        if identifier == record.schedule_identifier:
            return _fresh_view(lead_provider_id, profile, now)
        return _save(lead_provider_id, _changed(profile, record, now, schedule_identifier=identifier), now, [])

    return _with_retries(attempt)


def _schedule(attributes: Mapping[str, Any], record: Record) -> str:
    """The schedule identifier asked for, checked against the record's cohort and that cohort's schedules."""
    identifier = attributes.get("schedule_identifier")
    if _blank(identifier):
        raise ValidationFailed({"schedule_identifier": [m.SCHEDULE_BLANK]})
    cohort_raw = attributes.get("cohort")
    cohort = record.schedule_cohort if cohort_raw in (None, "") else parse_year(cohort_raw)
    if cohort is None or cohort_repo.get_cohort(cohort) is None:
        raise ValidationFailed({"cohort": [m.COHORT_INVALID]})
    if cohort != record.schedule_cohort:
        raise ValidationFailed({"cohort": [m.COHORT_CANNOT_CHANGE]})
    known = {s.schedule_identifier for s in cohort_repo.schedules_of(cohort)}
    if identifier not in SCHEDULE_IDENTIFIERS or identifier not in known:
        raise ValidationFailed({"schedule_identifier": [m.SCHEDULE_INVALID]})
    return str(identifier)


def _save(
    lead_provider_id: str, profile: Profile, now: datetime, states: Sequence[ProfileState]
) -> ParticipantView | None:
    """Write the changed profile and re-project it; None when a concurrent change won (retry)."""
    try:
        repo.save_profiles([profile], states=states)
    except Conflict:
        return None
    projection.reproject([profile.user_id], now)
    return _fresh_view(lead_provider_id, profile, now)


def _fresh_view(lead_provider_id: str, profile: Profile, now: datetime) -> ParticipantView:
    """The participant as the provider sees it after the action. When GET hides the profile acted on (its
    partnership is challenged, 3.11 step 3), the response is built from the provider's latest record anyway."""
    view = repo.get_view(lead_provider_id, profile.user_id)
    if view is not None and any(e["training_record_id"] == profile.id for e in view.enrolments):
        return view
    built = projection.provider_view(lead_provider_id, profile.user_id, now)
    if built is None:
        raise NotFound(profile.user_id)
    return built


# --------------------------------------------------------------------------- transfers


def _provider_names() -> dict[str, str]:
    return {lp.id: lp.name for lp in provider_repo.list_lead_providers()}


def list_transfers(
    lead_provider_id: str, *, updated_since: datetime | None, page: Page, now: datetime
) -> Listing[ParticipantTransfers]:
    """The provider's visible participants with a transfer involving it: one page of the sparse transfers index
    (by the user's creation, or by the view's last update with ``updated_since``), one BatchGet of their views,
    and the providers' names."""
    keys = repo.transfer_page(lead_provider_id, updated_since=updated_since, page=page)
    views = repo.views_for([(lead_provider_id, uid) for uid in keys.keys])
    found = [views[(lead_provider_id, uid)] for uid in keys.keys if (lead_provider_id, uid) in views]
    names = _provider_names() if found else {}
    rows = [ParticipantTransfers(v.user_id, transfer_rows(v.transfers, names, now)) for v in found if v.transfers]
    return Listing(rows, keys.next)


def transfers_of(lead_provider_id: str, participant_id: str, now: datetime) -> ParticipantTransfers:
    """NotFound unless the participant is visible to the provider and has a transfer involving it."""
    view = get_participant(lead_provider_id, participant_id)
    if not view.transfers:
        raise NotFound(participant_id)
    return ParticipantTransfers(view.user_id, transfer_rows(view.transfers, _provider_names(), now))
