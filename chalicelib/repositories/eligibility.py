"""Participant funding eligibility: one item per profile, streamed so its consequences follow it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from chalicelib.domain.clock import iso
from chalicelib.domain.errors import Conflict
from chalicelib.domain.statements import Eligibility
from chalicelib.models.finance import EligibilityItem
from chalicelib.repositories.common import batch_get, conflicts_as

PENDING = "Y"


def _record(item: EligibilityItem) -> Eligibility:
    return Eligibility(
        profile_id=item.profile_id,
        user_id=item.user_id,
        status=item.status,
        reason=item.reason,
        change_id=item.change_id,
        pending=item.pending == PENDING,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def get(profile_id: str) -> Eligibility | None:
    try:
        return _record(EligibilityItem.get(profile_id))
    except EligibilityItem.DoesNotExist:
        return None


def by_profiles(profile_ids: Sequence[str]) -> dict[str, Eligibility]:
    return {key: _record(item) for key, item in batch_get(EligibilityItem, profile_ids).items()}


def save(eligibility: Eligibility) -> None:
    """Record a check (a new ``change_id``): pending until its consequences have been applied."""
    EligibilityItem(
        profile_id=eligibility.profile_id,
        user_id=eligibility.user_id,
        status=eligibility.status,
        reason=eligibility.reason,
        change_id=eligibility.change_id,
        pending=PENDING,
        updated_key=f"{iso(eligibility.updated_at)}#{eligibility.profile_id}",
        created_at=eligibility.created_at,
        updated_at=eligibility.updated_at,
    ).save()


def seed(eligibilities: Sequence[Eligibility]) -> int:
    """Bulk-load settled checks (nothing pending) with batch writes: for the benchmark and demo data only."""
    with EligibilityItem.batch_write() as batch:
        for eligibility in eligibilities:
            batch.save(
                EligibilityItem(
                    profile_id=eligibility.profile_id,
                    user_id=eligibility.user_id,
                    status=eligibility.status,
                    reason=eligibility.reason,
                    change_id=eligibility.change_id,
                    updated_key=f"{iso(eligibility.updated_at)}#{eligibility.profile_id}",
                    created_at=eligibility.created_at,
                    updated_at=eligibility.updated_at,
                )
            )
    return len(eligibilities)


def mark_applied(profile_id: str, change_id: str) -> bool:
    """Clear the pending flag, only for the change that was applied (a newer change stays pending)."""
    try:
        with conflicts_as("eligibility changed again"):
            EligibilityItem(profile_id=profile_id).update(
                actions=[EligibilityItem.pending.remove()],
                condition=EligibilityItem.change_id == change_id,
            )
    except Conflict:
        return False
    return True


def pending(older_than: datetime, limit: int) -> list[str]:
    """Profile ids whose latest eligibility change has not been applied, oldest first."""
    rows = EligibilityItem.pending_changes.query(PENDING, EligibilityItem.updated_key < iso(older_than), limit=limit)
    return [row.profile_id for row in rows]
