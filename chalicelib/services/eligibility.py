"""Funding eligibility: recording a check (admin), and what follows it (stream, reconciled by schedule).

Recording writes the profile's eligibility row with a new ``change_id`` and a pending flag. The table's stream
hands the change to ``apply``: when the profile is eligible its submitted declarations become eligible and
attach to the next output-fee statement, and every provider's view of the participant shows the new
``eligible_for_funding``. ``apply`` reads the current state, so redelivery changes nothing twice; the flag is
cleared only for the change that was applied, and ``reconcile`` finishes any change a stream batch did not.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.errors import InputError, NotFound
from chalicelib.domain.statements import ELIGIBILITY_REASONS, ELIGIBILITY_STATUSES, Eligibility
from chalicelib.repositories import eligibility as repo
from chalicelib.repositories import participant_graph as graph
from chalicelib.services import declarations, projection
from chalicelib.services.ids import is_uuid

log = logging.getLogger("ecf.eligibility")
RECONCILE_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class Recorded:
    eligibility: Eligibility
    participant_id: str
    participant_type: str


def record(
    participant_id: str, status: str, reason: str | None, now: datetime, *, course: str | None = None
) -> Recorded:
    """Record the eligibility check of a participant's profile (the ECT one unless ``course`` says mentor)."""
    if status not in ELIGIBILITY_STATUSES:
        raise InputError(f"status must be one of {', '.join(ELIGIBILITY_STATUSES)}")
    if reason is not None and reason not in ELIGIBILITY_REASONS:
        raise InputError(f"reason must be one of {', '.join(ELIGIBILITY_REASONS)}")
    participant = graph.get(participant_id) if is_uuid(participant_id) else None
    if participant is None or not participant.profiles:
        raise NotFound(participant_id)
    course = course or "ecf-induction"
    wanted = {"ecf-induction": "ect", "ecf-mentor": "mentor"}.get(course)
    profile = next((p for p in participant.profiles if p.participant_type == wanted), None)
    if profile is None:
        raise InputError(f"Participant {participant_id} has no {course} profile")
    existing = repo.get(profile.id)
    eligibility = Eligibility(
        profile_id=profile.id,
        user_id=participant.id,
        status=status,
        reason=reason or ("none" if status == "eligible" else None),
        change_id=str(uuid.uuid4()),
        pending=True,
        created_at=existing.created_at if existing else now,
        updated_at=now,
    )
    repo.save(eligibility)
    return Recorded(eligibility, participant.id, profile.participant_type)


def apply(profile_id: str, now: datetime) -> int:
    """Apply the profile's current eligibility. Returns the number of declarations made eligible."""
    eligibility = repo.get(profile_id)
    if eligibility is None:
        return 0
    moved = declarations.make_eligible(profile_id, eligibility.user_id, now) if eligibility.fundable else 0
    projection.reproject([eligibility.user_id], now)
    repo.mark_applied(profile_id, eligibility.change_id)
    if moved:
        log.info("profile %s eligible: %d declaration(s) now eligible", profile_id, moved)
    return moved


def on_change(old: dict[str, Any] | None, new: dict[str, Any] | None, now: datetime) -> str:
    """A stream record of the eligibility table: the record is only the trigger; ``apply`` reads the row."""
    if new is None or not new.get("pe"):
        return "ignored"
    apply(str(new["profile_id"]), now)
    return "applied"


def reconcile(now: datetime, limit: int = 100) -> list[str]:
    """Apply changes still pending ``RECONCILE_AFTER`` after they were recorded (a lost or failed batch)."""
    done = []
    for profile_id in repo.pending(older_than=now - RECONCILE_AFTER, limit=limit):
        apply(profile_id, now)
        done.append(profile_id)
    return done
