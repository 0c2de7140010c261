"""Records → v3 JSON:API resources (attribute sets exactly as docs/reference/ecf-domain.md 2.4)."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.clock import iso
from chalicelib.domain.partnerships import API_CHOICE, NOT_YET_KNOWN, api_status
from chalicelib.domain.records import DeliveryPartnerRecord, PartnershipRecord, SchoolListing


def school(record: SchoolListing) -> dict[str, Any]:
    return {
        "id": record.id,
        "type": "school",
        "attributes": {
            "name": record.name,
            "urn": record.urn,
            "cohort": str(record.cohort),
            "in_partnership": record.in_partnership,
            "induction_programme_choice": API_CHOICE.get(
                record.induction_programme_choice or NOT_YET_KNOWN, "not_yet_known"
            ),
            "created_at": iso(record.created_at),
            "updated_at": iso(record.updated_at),
        },
    }


def delivery_partner(record: DeliveryPartnerRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "type": "delivery-partner",
        "attributes": {
            "name": record.name,
            "cohort": list(record.cohorts),
            "created_at": iso(record.created_at),
            "updated_at": iso(record.updated_at),
        },
    }


def partnership(record: PartnershipRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "type": "partnership",
        "attributes": {
            "cohort": str(record.cohort),
            "urn": record.urn,
            "school_id": record.school_id,
            "delivery_partner_id": record.delivery_partner_id,
            "delivery_partner_name": record.delivery_partner_name,
            "status": api_status(record.challenge_reason),
            "challenged_reason": record.challenge_reason,
            "challenged_at": iso(record.challenged_at),
            "induction_tutor_name": record.induction_tutor_name,
            "induction_tutor_email": record.induction_tutor_email,
            "updated_at": iso(record.updated_at),
            "created_at": iso(record.created_at),
        },
    }
