"""Participant read models → JSON:API resources (attribute sets exactly as docs/reference/ecf-domain.md 2.4).

The projection (``ParticipantView.enrolments``) holds every enrolment attribute, plus a few internal
keys (``partnership_id``, ``record_id``, ``course_identifier``, ``status``); each serializer picks the
attributes of its version and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chalicelib.domain.clock import iso
from chalicelib.domain.participants import ParticipantView

# v3 ``ECFEnrolment`` attributes, in the reference order.
V3_ENROLMENT = (
    "training_record_id",
    "email",
    "mentor_id",
    "school_urn",
    "participant_type",
    "cohort",
    "training_status",
    "participant_status",
    "teacher_reference_number_validated",
    "eligible_for_funding",
    "pupil_premium_uplift",
    "sparsity_uplift",
    "schedule_identifier",
    "delivery_partner_id",
    "withdrawal",
    "deferral",
    "created_at",
    "induction_end_date",
    "mentor_funding_end_date",
    "cohort_changed_after_payments_frozen",
    "mentor_ineligible_for_funding_reason",
)

# Under ``programme_type_changes_2025`` the legacy withdrawal reason is shown with its new name
# (docs/reference/ecf-domain.md 1.11).
SHOWN_REASON = {"school-left-fip": "switched-to-school-led"}


def _reason(detail: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if detail is None:
        return None
    return {"reason": SHOWN_REASON.get(detail["reason"], detail["reason"]), "date": detail["date"]}


# --------------------------------------------------------------------------- v1 / v2: flat, one row per profile


def flat(view: ParticipantView, enrolment: Mapping[str, Any]) -> dict[str, Any]:
    """One v1/v2 ``participant`` row: the user's id, one profile's enrolment."""
    return {
        "id": view.user_id,
        "type": "participant",
        "attributes": {
            "email": enrolment["email"],
            "full_name": view.full_name,
            "mentor_id": enrolment["mentor_id"],
            "school_urn": enrolment["school_urn"],
            "participant_type": enrolment["participant_type"],
            "cohort": enrolment["cohort"],
            "status": enrolment["status"],
            "teacher_reference_number": view.trn,
            "teacher_reference_number_validated": enrolment["teacher_reference_number_validated"],
            "eligible_for_funding": enrolment["eligible_for_funding"],
            "pupil_premium_uplift": enrolment["pupil_premium_uplift"],
            "sparsity_uplift": enrolment["sparsity_uplift"],
            "training_status": enrolment["training_status"],
            "training_record_id": enrolment["training_record_id"],
            "schedule_identifier": enrolment["schedule_identifier"],
            "updated_at": iso(view.updated_at),
        },
    }


def flat_rows(views: Sequence[ParticipantView], cohorts: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """Every enrolment of every view as a flat row (ECT first), keeping only the filtered cohorts."""
    wanted = {str(year) for year in cohorts} if cohorts else None
    return [
        flat(view, enrolment)
        for view in views
        for enrolment in view.enrolments
        if wanted is None or enrolment["cohort"] in wanted
    ]


def flat_show(view: ParticipantView, participant_type: str | None = None) -> dict[str, Any]:
    """The row of one profile: ``participant_type`` if given and present, else the first (the ECT one wins)."""
    enrolments = list(view.enrolments)
    chosen = next((e for e in enrolments if e["participant_type"] == participant_type), None)
    return flat(view, chosen or enrolments[0])


# --------------------------------------------------------------------------- v3: nested, one per user


def enrolment_v3(enrolment: Mapping[str, Any]) -> dict[str, Any]:
    out = {key: enrolment.get(key) for key in V3_ENROLMENT}
    out["withdrawal"] = _reason(enrolment.get("withdrawal"))
    out["deferral"] = _reason(enrolment.get("deferral"))
    return out


def nested(view: ParticipantView) -> dict[str, Any]:
    return {
        "id": view.user_id,
        "type": "participant",
        "attributes": {
            "full_name": view.full_name,
            "teacher_reference_number": view.trn,
            "updated_at": iso(view.updated_at),
            "ecf_enrolments": [enrolment_v3(e) for e in view.enrolments],
            # Participant id changes (dedupes) are not modelled: always empty.
            "participant_id_changes": [],
        },
    }


# --------------------------------------------------------------------------- v3 transfers


def _transfer(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "training_record_id": item["training_record_id"],
        "transfer_type": item["transfer_type"],
        "status": item["status"],
        "leaving": item["leaving"],
        "joining": item["joining"],
        "created_at": iso(item["created_at"]),
    }


def transfer(user_id: str, transfers: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """``participant-transfer``: ``updated_at`` is the latest change to any of the transfers' records."""
    return {
        "id": user_id,
        "type": "participant-transfer",
        "attributes": {
            "updated_at": iso(max(t["updated_at"] for t in transfers)),
            "transfers": [_transfer(t) for t in transfers],
        },
    }
