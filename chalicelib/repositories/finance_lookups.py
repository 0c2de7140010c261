"""Small reads for the finance views, as domain values: names of schools, delivery partners and lead
providers, programmes' training programmes, school cohorts' active providers, providers' withdrawal reasons.

Every function is BatchGets of 100 keys (``common.batch_get``), whatever the number of keys: the assurance
report calls each once per page of statement lines.
"""

from __future__ import annotations

from collections.abc import Sequence

from chalicelib.domain.finance_reports import SchoolRef
from chalicelib.models import DeliveryPartner, LeadProvider, School, SchoolCohort
from chalicelib.models.participants import InductionProgramme, ProviderParticipant
from chalicelib.repositories.common import batch_get


def schools(ids: Sequence[str]) -> dict[str, SchoolRef]:
    return {key: SchoolRef(id=item.id, urn=item.urn, name=item.name) for key, item in batch_get(School, ids).items()}


def delivery_partner_names(ids: Sequence[str]) -> dict[str, str]:
    return {key: item.name for key, item in batch_get(DeliveryPartner, ids).items()}


def lead_provider_names(ids: Sequence[str]) -> dict[str, str]:
    return {key: item.name for key, item in batch_get(LeadProvider, ids).items()}


def training_programmes(programme_ids: Sequence[str]) -> dict[str, str]:
    """Programme id → its training programme (``full_induction_programme``, ``core_induction_programme``, ...)."""
    return {key: item.training_programme for key, item in batch_get(InductionProgramme, programme_ids).items()}


def active_lead_providers(school_cohorts: Sequence[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """(school id, cohort) → the lead provider of the school cohort's active partnership, where it has one."""
    found = batch_get(SchoolCohort, list(dict.fromkeys(school_cohorts)))
    return {
        (str(school_id), int(cohort)): str(item.active_lead_provider_id)
        for (school_id, cohort), item in found.items()
        if item.active_lead_provider_id
    }


def withdrawal_reasons(pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str | None]:
    """(lead provider id, user id) pairs → {(lead provider id, profile id): reason} for each profile the provider
    sees as withdrawn: the reason of its latest ``withdrawn`` state, as the participants read model holds it."""
    out: dict[tuple[str, str], str | None] = {}
    for (lead_provider_id, _), view in batch_get(ProviderParticipant, list(dict.fromkeys(pairs))).items():
        for enrolment in view.enrolments or []:
            withdrawal = enrolment.get("withdrawal")
            if enrolment.get("training_status") == "withdrawn" and withdrawal:
                out[(str(lead_provider_id), str(enrolment["training_record_id"]))] = withdrawal.get("reason")
    return out
