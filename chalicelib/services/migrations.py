"""What a partnership change sets off: participant migration and re-projection (stream), and the
scheduled reconciliation of any migration that has not completed."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from chalicelib.repositories import participants as participant_repo
from chalicelib.repositories import partnerships as partnership_repo
from chalicelib.services import induction

log = logging.getLogger("ecf.migrations")
RECONCILE_AFTER = timedelta(minutes=5)


def on_partnership_change(old: dict[str, Any] | None, new: dict[str, Any] | None, now: datetime) -> int:
    """Decide from a stream record what to do; the work itself reads the current state. Returns how many
    participants moved into the partnership (0 unless it was reported and migrated)."""
    if new is None:
        return 0
    pid = str(new["id"])
    reported = old is None or old.get("report_id") != new.get("report_id")
    challenged_changed = bool((old or {}).get("challenge_reason")) != bool(new.get("challenge_reason"))
    if new.get("relationship"):
        return 0
    if reported and not new.get("challenge_reason"):
        return migrate(pid, str(new.get("report_id")), now)
    if challenged_changed:
        induction.reproject_partnership(pid, now)
    return 0


def migrate(partnership_id: str, report_id: str, now: datetime) -> int:
    """Run the partnership's migration; the participants it moved."""
    result = induction.change_partnership(partnership_id, now)
    if result.skipped:
        log.info("partnership %s: migration skipped (%s)", partnership_id, result.skipped)
        induction.reproject_partnership(partnership_id, now)
    partnership_repo.mark_migrated(partnership_id, report_id)
    return result.moved


def reconcile(now: datetime, limit: int = 100) -> dict[str, int]:
    """Finish migrations still pending RECONCILE_AFTER after their report (a lost or failed stream batch).
    Returns the partnerships finished, each with the participants it moved."""
    done: dict[str, int] = {}
    for partnership_id in partnership_repo.pending_migration_ids(limit, older_than=now - RECONCILE_AFTER):
        partnership = participant_repo.get_partnership(partnership_id)
        if partnership is None:
            continue
        done[partnership_id] = migrate(partnership_id, partnership.report_id, now)
    return done
