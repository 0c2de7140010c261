"""Unfunded mentors → v3 JSON:API resources (docs/reference/ecf-declarations-statements.md 3.1)."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.clock import iso
from chalicelib.domain.mentors import MentorPerson


def unfunded_mentor(person: MentorPerson) -> dict[str, Any]:
    """``teacher_reference_number`` is null for a mentor without a TRN, as the real API sends it (the
    reference types it as a non-null string)."""
    return {
        "id": person.user_id,
        "type": "unfunded-mentor",
        "attributes": {
            "full_name": person.full_name,
            "email": person.email,
            "teacher_reference_number": person.trn,
            "created_at": iso(person.created_at),
            "updated_at": iso(person.updated_at),
        },
    }
