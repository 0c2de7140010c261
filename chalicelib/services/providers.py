"""Lead providers, delivery partners and their relationships; the v3 delivery-partners endpoints."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from chalicelib.domain import messages as m
from chalicelib.domain.cohorts import listed_by_default
from chalicelib.domain.errors import Conflict, InputError, NotFound
from chalicelib.domain.paging import Listing, Order, Page, page_of, time_key
from chalicelib.domain.providers import DeliveryPartner, LeadProvider, NoCohortsGiven, ProviderRelationship, clean_name
from chalicelib.domain.records import DeliveryPartnerRecord
from chalicelib.repositories import cohorts as cohort_repo
from chalicelib.repositories import providers as repo
from chalicelib.services.ids import is_uuid


def _clean_name(name: str) -> str:
    cleaned = clean_name(name)
    if not cleaned:
        raise InputError(m.NAME_REQUIRED)
    return cleaned


def add_lead_provider(name: str, now: datetime) -> LeadProvider:
    provider = LeadProvider(
        id=str(uuid.uuid4()), name=_clean_name(name), vat_chargeable=True, created_at=now, updated_at=now
    )
    try:
        repo.create_lead_provider(provider)
    except Conflict as error:
        raise InputError(m.lead_provider_name_taken(provider.name)) from error
    return provider


def lead_provider_named(name: str) -> LeadProvider:
    provider = repo.find_lead_provider_by_name(_clean_name(name))
    if provider is None:
        raise InputError(m.lead_provider_unknown(name))
    return provider


def list_lead_providers() -> list[LeadProvider]:
    return repo.list_lead_providers()


def _check_cohorts(years: Sequence[int]) -> list[int]:
    if not years:
        raise NoCohortsGiven()
    for year in years:
        if cohort_repo.get_cohort(year) is None:
            raise InputError(m.cohort_not_imported(year))
    return sorted(set(years))


def add_delivery_partner(name: str, lead_provider_name: str, years: Sequence[int], now: datetime) -> DeliveryPartner:
    """Suppliers → Add a new delivery partner: the partner and its relationships with one LP."""
    provider = lead_provider_named(lead_provider_name)
    cohorts = _check_cohorts(years)
    partner = DeliveryPartner(id=str(uuid.uuid4()), name=_clean_name(name), created_at=now, updated_at=now)
    repo.create_delivery_partner(partner)
    for year in cohorts:
        repo.upsert_relationship(_relationship(provider, partner, year, now), now)
    return partner


def relate_delivery_partner(
    delivery_partner_id: str, lead_provider_name: str, years: Sequence[int], now: datetime
) -> list[int]:
    """Add relationships to an existing partner. Returns the cohorts newly related."""
    partner = repo.get_delivery_partner(delivery_partner_id) if is_uuid(delivery_partner_id) else None
    if partner is None:
        raise InputError(m.delivery_partner_unknown(delivery_partner_id))
    provider = lead_provider_named(lead_provider_name)
    added = []
    for year in _check_cohorts(years):
        if repo.upsert_relationship(_relationship(provider, partner, year, now), now):
            added.append(year)
    return added


def _relationship(provider: LeadProvider, partner: DeliveryPartner, year: int, now: datetime) -> ProviderRelationship:
    return ProviderRelationship(
        lead_provider_id=provider.id,
        delivery_partner_id=partner.id,
        cohort=year,
        delivery_partner_name=partner.name,
        delivery_partner_created_at=partner.created_at,
        delivery_partner_updated_at=partner.updated_at,
        created_at=now,
        updated_at=now,
    )


def delivery_partner_relationships(delivery_partner_id: str) -> list[ProviderRelationship]:
    return repo.relationships_of_delivery_partner(delivery_partner_id)


# --------------------------------------------------------------------------- v3 API


def _records(
    relationships: Sequence[ProviderRelationship], cohorts: Sequence[int] | None
) -> list[DeliveryPartnerRecord]:
    by_partner: dict[str, list[ProviderRelationship]] = {}
    for rel in relationships:
        by_partner.setdefault(rel.delivery_partner_id, []).append(rel)
    wanted = set(cohorts) if cohorts else None
    records = []
    for partner_id, rels in by_partner.items():
        years = sorted(r.cohort for r in rels)
        if wanted is not None and not wanted.intersection(years):
            continue
        first = rels[0]
        records.append(
            DeliveryPartnerRecord(
                id=partner_id,
                name=first.delivery_partner_name,
                cohorts=tuple(str(y) for y in years),
                created_at=first.delivery_partner_created_at,
                updated_at=max(r.delivery_partner_updated_at for r in rels),
            )
        )
    return records


def list_delivery_partners(
    lead_provider_id: str, *, cohorts: Sequence[int] | None, order: Order, page: Page
) -> Listing[DeliveryPartnerRecord]:
    """GET /api/v3/delivery-partners: one Query of the LP's relationships, ordered and paged here."""
    years = list(cohorts) if cohorts else None
    records = _records(repo.relationships_of_lead_provider(lead_provider_id), years)
    if years is None:
        records = [r for r in records if any(listed_by_default(int(y)) for y in r.cohorts)]
    field = order.field

    def key(record: DeliveryPartnerRecord) -> str:
        return time_key(record.updated_at if field == "updated_at" else record.created_at, record.id)

    records.sort(key=key, reverse=order.descending)
    return page_of(records, page, key, descending=order.descending)


def get_delivery_partner(lead_provider_id: str, delivery_partner_id: str) -> DeliveryPartnerRecord:
    if not is_uuid(delivery_partner_id):
        raise NotFound(delivery_partner_id)
    records = _records(repo.relationships_between(lead_provider_id, delivery_partner_id), None)
    if not records:
        raise NotFound(delivery_partner_id)
    return records[0]
