"""Lead providers, delivery partners and provider relationships.

Takes and returns domain records (``chalicelib.domain.providers``); owns the keys (the name guard, the
relationship's ``dp_cohort``/``lp_cohort``, the ``kind`` partition of the name indexes) and the conditions.
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.providers import DeliveryPartner, LeadProvider, ProviderRelationship
from chalicelib.models import DeliveryPartner as DeliveryPartnerItem
from chalicelib.models import LeadProvider as LeadProviderItem
from chalicelib.models import ProviderRelationship as RelationshipItem
from chalicelib.repositories.common import conflicts_as, transaction

LP_KIND = "lead_provider"
DP_KIND = "delivery_partner"
NAME_GUARD_KIND = "name_guard"


def relationship_key(delivery_partner_id: str, cohort: int) -> str:
    return f"{delivery_partner_id}#{cohort:04d}"


def lead_provider_cohort_key(lead_provider_id: str, cohort: int) -> str:
    return f"{lead_provider_id}#{cohort:04d}"


# --------------------------------------------------------------------------- lead providers


def _lead_provider(item: LeadProviderItem) -> LeadProvider:
    return LeadProvider(
        id=item.id,
        name=item.name,
        vat_chargeable=bool(item.vat_chargeable),
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def get_lead_provider(lead_provider_id: str) -> LeadProvider | None:
    try:
        return _lead_provider(LeadProviderItem.get(lead_provider_id))
    except LeadProviderItem.DoesNotExist:
        return None


def find_lead_provider_by_name(name: str) -> LeadProvider | None:
    for item in LeadProviderItem.by_name.query(LP_KIND, LeadProviderItem.name == name, limit=1):
        return _lead_provider(item)
    return None


def list_lead_providers() -> list[LeadProvider]:
    return [_lead_provider(item) for item in LeadProviderItem.by_name.query(LP_KIND)]


def create_lead_provider(provider: LeadProvider) -> None:
    """Insert; the name is unique (a guard item keyed by the name makes it a condition). Conflict if taken."""
    guard = LeadProviderItem(id=f"name#{provider.name.casefold()}", name=provider.name, kind=NAME_GUARD_KIND)
    guard.created_at = provider.created_at
    guard.updated_at = provider.updated_at
    item = LeadProviderItem(
        id=provider.id,
        name=provider.name,
        vat_chargeable=provider.vat_chargeable,
        created_at=provider.created_at,
        updated_at=provider.updated_at,
    )
    with conflicts_as("lead provider name taken"), transaction() as tx:
        tx.save(guard, condition=LeadProviderItem.id.does_not_exist())
        tx.save(item, condition=LeadProviderItem.id.does_not_exist())


# --------------------------------------------------------------------------- delivery partners


def _delivery_partner(item: DeliveryPartnerItem) -> DeliveryPartner:
    return DeliveryPartner(id=item.id, name=item.name, created_at=item.created_at, updated_at=item.updated_at)


def get_delivery_partner(delivery_partner_id: str) -> DeliveryPartner | None:
    """A live (not discarded) delivery partner."""
    try:
        item = DeliveryPartnerItem.get(delivery_partner_id)
    except DeliveryPartnerItem.DoesNotExist:
        return None
    return None if item.discarded_at else _delivery_partner(item)


def delivery_partner_item(partner: DeliveryPartner) -> DeliveryPartnerItem:
    return DeliveryPartnerItem(
        id=partner.id, name=partner.name, created_at=partner.created_at, updated_at=partner.updated_at
    )


def create_delivery_partner(partner: DeliveryPartner) -> None:
    item = delivery_partner_item(partner)
    item.save(condition=DeliveryPartnerItem.id.does_not_exist())


# --------------------------------------------------------------------------- relationships


def _relationship(item: RelationshipItem) -> ProviderRelationship:
    return ProviderRelationship(
        lead_provider_id=item.lead_provider_id,
        delivery_partner_id=item.delivery_partner_id,
        cohort=int(item.cohort),
        delivery_partner_name=item.delivery_partner_name,
        delivery_partner_created_at=item.delivery_partner_created_at,
        delivery_partner_updated_at=item.delivery_partner_updated_at,
        created_at=item.created_at,
        updated_at=item.updated_at,
        discarded_at=item.discarded_at,
    )


def relationship_item(relationship: ProviderRelationship) -> RelationshipItem:
    return RelationshipItem(
        lead_provider_id=relationship.lead_provider_id,
        delivery_partner_cohort=relationship_key(relationship.delivery_partner_id, relationship.cohort),
        lead_provider_cohort=lead_provider_cohort_key(relationship.lead_provider_id, relationship.cohort),
        delivery_partner_id=relationship.delivery_partner_id,
        cohort=relationship.cohort,
        delivery_partner_name=relationship.delivery_partner_name,
        delivery_partner_created_at=relationship.delivery_partner_created_at,
        delivery_partner_updated_at=relationship.delivery_partner_updated_at,
        created_at=relationship.created_at,
        updated_at=relationship.updated_at,
    )


def get_relationship(lead_provider_id: str, delivery_partner_id: str, cohort: int) -> ProviderRelationship | None:
    """The live relationship, or None (never was, or discarded)."""
    try:
        item = RelationshipItem.get(lead_provider_id, relationship_key(delivery_partner_id, cohort))
    except RelationshipItem.DoesNotExist:
        return None
    return None if item.discarded_at else _relationship(item)


def relationships_of_lead_provider(lead_provider_id: str) -> list[ProviderRelationship]:
    """Every live relationship of one LP: one Query (150 partners x 6 cohorts fits one page)."""
    return [_relationship(r) for r in RelationshipItem.query(lead_provider_id) if not r.discarded_at]


def relationships_between(lead_provider_id: str, delivery_partner_id: str) -> list[ProviderRelationship]:
    return [
        _relationship(r)
        for r in RelationshipItem.query(
            lead_provider_id, RelationshipItem.delivery_partner_cohort.startswith(f"{delivery_partner_id}#")
        )
        if not r.discarded_at
    ]


def relationships_of_delivery_partner(delivery_partner_id: str) -> list[ProviderRelationship]:
    return [
        _relationship(r) for r in RelationshipItem.by_delivery_partner.query(delivery_partner_id) if not r.discarded_at
    ]


def upsert_relationship(relationship: ProviderRelationship, now: datetime) -> bool:
    """Create the relationship, or revive a discarded one. False if it was already live."""
    existing = get_relationship(relationship.lead_provider_id, relationship.delivery_partner_id, relationship.cohort)
    if existing is not None:
        return False
    item = relationship_item(relationship)
    item.discarded_at = None
    item.updated_at = now
    item.save()
    return True
