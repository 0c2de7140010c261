"""Domain records for the unit tests: every field filled, any of them overridden by keyword."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.participants import Record

START = datetime(2023, 9, 1, tzinfo=UTC)


def induction_record(**fields: Any) -> Record:
    """An active induction record at school-1 on the standard September schedule; ``created_at`` and
    ``updated_at`` default to ``start_date``."""
    start = fields.get("start_date", START)
    defaults: dict[str, Any] = {
        "id": "r1", "programme_id": "prog-1", "school_id": "school-1", "school_urn": "100001",
        "start_date": start, "end_date": None, "training_status": "active", "induction_status": "active",
        "email": None, "mentor_profile_id": None, "mentor_user_id": None,
        "schedule_identifier": "ecf-standard-september", "schedule_cohort": 2024, "school_transfer": False,
        "appropriate_body": None, "created_at": start, "updated_at": start,
    }  # fmt: skip
    return Record(**{**defaults, **fields})
