"""The audit log written from the partnerships stream: reported, delivery partner changed, challenged.

Event keys derive from the row's own values (report id, challenge time), so a
batch delivered twice writes each event once.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain.clock import parse_timestamp
from chalicelib.repositories import events


def _when(image: dict[str, Any], name: str) -> Any:
    value = image.get(name)
    return parse_timestamp(str(value).replace("+0000", "+00:00")) if value else None


def partnership_changed(*, event_name: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[str]:
    """Append the events a change implies. Returns the event types written (for tests and logs)."""
    if new is None:
        return []
    written = []
    pid = str(new["id"])
    common = {
        "school_id": new.get("school_id"),
        "lead_provider_id": new.get("lead_provider_id"),
        "delivery_partner_id": new.get("delivery_partner_id"),
        "cohort": int(new["cohort"]) if new.get("cohort") is not None else None,
        "relationship": bool(new.get("relationship")),
    }
    updated = _when(new, "updated_at")
    if old is None or old.get("report_id") != new.get("report_id"):
        kind = "reported"
        if (
            old is not None
            and old.get("delivery_partner_id") != new.get("delivery_partner_id")
            and not old.get("challenge_reason")
        ):
            kind = "delivery_partner_changed"
        if events.append(
            entity_type="partnership",
            entity_id=pid,
            event_type=kind,
            key=f"{kind}#{new.get('report_id')}",
            at=updated,
            data={**common, "challenge_deadline": str(new.get("challenge_deadline"))},
            actor=str(new.get("lead_provider_id")),
        ):
            written.append(kind)
    if new.get("challenge_reason") and not (old or {}).get("challenge_reason"):
        challenged_at = _when(new, "challenged_at") or updated
        if events.append(
            entity_type="partnership",
            entity_id=pid,
            event_type="challenged",
            key=f"challenged#{new.get('report_id')}",
            at=challenged_at,
            data={**common, "reason": new.get("challenge_reason")},
        ):
            written.append("challenged")
    return written
