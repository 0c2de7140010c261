"""Declarations and statements → JSON:API resources (docs/reference/ecf-declarations-statements.md 1.8, 2.1).

Attribute order is the real service's (jsonapi-serializer keeps the first-definition order).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.clock import iso
from chalicelib.domain.declarations import Declaration, dasherised
from chalicelib.domain.statements import Statement

DECLARATION = "participant-declaration"


def _time(value: Any) -> str | None:
    """RFC 3339 with milliseconds, as every other time the API shows (so ``updated_since`` compares exactly)."""
    return iso(value)


def v1(declaration: Declaration) -> dict[str, Any]:
    return {
        "id": declaration.id,
        "type": DECLARATION,
        "attributes": {
            "participant_id": declaration.user_id,
            "declaration_type": declaration.declaration_type,
            "course_identifier": declaration.course_identifier,
            "eligible_for_payment": declaration.state in ("eligible", "payable"),
            "declaration_date": _time(declaration.declaration_date),
            "updated_at": _time(declaration.updated_at),
            "voided": declaration.state == "voided",
            "state": dasherised(declaration.state),
            "has_passed": None,
        },
    }


def v2(declaration: Declaration) -> dict[str, Any]:
    body = v1(declaration)
    attributes = body["attributes"]
    del attributes["eligible_for_payment"], attributes["voided"]
    return body


def v3(declaration: Declaration) -> dict[str, Any]:
    return {
        "id": declaration.id,
        "type": DECLARATION,
        "attributes": {
            "participant_id": declaration.user_id,
            "declaration_type": declaration.declaration_type,
            "course_identifier": declaration.course_identifier,
            "declaration_date": _time(declaration.declaration_date),
            "mentor_id": declaration.mentor_user_id,
            "state": dasherised(declaration.state),
            "updated_at": _time(declaration.updated_at),
            "created_at": _time(declaration.created_at),
            "delivery_partner_id": declaration.delivery_partner_id,
            "statement_id": declaration.billable_statement_id,
            "clawback_statement_id": declaration.clawback_statement_id,
            "ineligible_for_funding_reason": declaration.ineligible_for_funding_reason,
            "uplift_paid": declaration.uplift_paid,
            "evidence_held": declaration.evidence_held,
            "has_passed": None,
            "lead_provider_name": declaration.lead_provider_name,
        },
    }


BY_VERSION = {"v1": v1, "v2": v2, "v3": v3}


def csv_columns(version: str) -> tuple[str, ...]:
    """The v1/v2 CSV header: ``id`` and the version's attribute keys, in order
    (docs/reference/ecf-declarations-statements.md 1.7)."""
    sample = BY_VERSION[version](_SAMPLE)
    return ("id", *sample["attributes"].keys())


def csv_row(version: str, declaration: Declaration) -> list[str]:
    """Values as the real CSV writes them: ``to_s`` (nil → empty, booleans ``true``/``false``)."""
    body = BY_VERSION[version](declaration)
    values = [body["id"], *body["attributes"].values()]
    return ["" if v is None else ("true" if v is True else "false" if v is False else str(v)) for v in values]


def statement(item: Statement) -> dict[str, Any]:
    return {
        "id": item.id,
        "type": "statement",
        "attributes": {
            "month": item.month,
            "year": item.year,
            "type": "ecf",
            "cohort": str(item.cohort),
            "cut_off_date": item.deadline_date.isoformat(),
            "payment_date": item.payment_date.isoformat(),
            "paid": item.paid,
            "created_at": _time(item.created_at),
            "updated_at": _time(item.updated_at),
        },
    }


def _sample() -> Declaration:
    at = datetime(2000, 1, 1, tzinfo=UTC)
    return Declaration(
        id="", user_id="", profile_id="", participant_type="ect", lead_provider_id="", lead_provider_name="",
        cohort=2000, course_identifier="", declaration_type="", declaration_date=at, evidence_held=None,
        state="submitted", state_reason=None, delivery_partner_id=None, mentor_user_id=None, superseded_by_id=None,
        pupil_premium_uplift=False, sparsity_uplift=False, statement_id=None, line_state=None,
        clawback_statement_id=None, viewers=frozenset(), voided_at=None, created_at=at, updated_at=at,
    )  # fmt: skip


_SAMPLE = _sample()
