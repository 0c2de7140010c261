"""Lead providers, delivery partners, provider relationships and API tokens."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import TransactWriteError

from chalicelib.domain.errors import Conflict
from chalicelib.models import ApiToken, DeliveryPartner, LeadProvider, ProviderRelationship
from chalicelib.repositories.common import condition_failed, transaction

LP_KIND = "lead_provider"
DP_KIND = "delivery_partner"


# --------------------------------------------------------------------------- lead providers


def get_lead_provider(lead_provider_id: str) -> LeadProvider | None:
    try:
        return LeadProvider.get(lead_provider_id)
    except LeadProvider.DoesNotExist:
        return None


def find_lead_provider_by_name(name: str) -> LeadProvider | None:
    for item in LeadProvider.by_name.query(LP_KIND, LeadProvider.name == name, limit=1):
        return item
    return None


def list_lead_providers() -> list[LeadProvider]:
    return list(LeadProvider.by_name.query(LP_KIND))


def create_lead_provider(provider: LeadProvider) -> None:
    """Insert; the name is unique (a guard item keyed by the name makes it a condition)."""
    guard = LeadProvider(id=f"name#{provider.name.casefold()}", name=provider.name, kind="name_guard")
    guard.created_at = provider.created_at
    guard.updated_at = provider.updated_at
    try:
        with transaction() as tx:
            tx.save(guard, condition=LeadProvider.id.does_not_exist())
            tx.save(provider, condition=LeadProvider.id.does_not_exist())
    except TransactWriteError as error:
        if condition_failed(error):
            raise Conflict(f"A lead provider named {provider.name!r} already exists") from error
        raise


# --------------------------------------------------------------------------- delivery partners


def get_delivery_partner(delivery_partner_id: str) -> DeliveryPartner | None:
    try:
        partner = DeliveryPartner.get(delivery_partner_id)
    except DeliveryPartner.DoesNotExist:
        return None
    return None if partner.discarded_at else partner


def create_delivery_partner(partner: DeliveryPartner) -> None:
    partner.save(condition=DeliveryPartner.id.does_not_exist())


def relationship_key(delivery_partner_id: str, cohort: int) -> str:
    return f"{delivery_partner_id}#{cohort:04d}"


def get_relationship(lead_provider_id: str, delivery_partner_id: str, cohort: int) -> ProviderRelationship | None:
    try:
        rel = ProviderRelationship.get(lead_provider_id, relationship_key(delivery_partner_id, cohort))
    except ProviderRelationship.DoesNotExist:
        return None
    return None if rel.discarded_at else rel


def relationships_of_lead_provider(lead_provider_id: str) -> list[ProviderRelationship]:
    """Every live relationship of one LP: one Query (150 partners x 6 cohorts fits one page)."""
    return [r for r in ProviderRelationship.query(lead_provider_id) if not r.discarded_at]


def relationships_between(lead_provider_id: str, delivery_partner_id: str) -> list[ProviderRelationship]:
    return [
        r
        for r in ProviderRelationship.query(
            lead_provider_id, ProviderRelationship.delivery_partner_cohort.startswith(f"{delivery_partner_id}#")
        )
        if not r.discarded_at
    ]


def relationships_of_delivery_partner(delivery_partner_id: str) -> list[ProviderRelationship]:
    return [r for r in ProviderRelationship.by_delivery_partner.query(delivery_partner_id) if not r.discarded_at]


def upsert_relationship(relationship: ProviderRelationship, now: datetime) -> bool:
    """Create the relationship, or revive a discarded one. False if it was already live."""
    existing = get_relationship(
        relationship.lead_provider_id, relationship.delivery_partner_id, int(relationship.cohort)
    )
    if existing is not None:
        return False
    relationship.discarded_at = None
    relationship.updated_at = now
    relationship.save()
    return True


# --------------------------------------------------------------------------- tokens


def get_token(hashed_token: str) -> ApiToken | None:
    try:
        return ApiToken.get(hashed_token)
    except ApiToken.DoesNotExist:
        return None


def create_token(token: ApiToken) -> None:
    token.save(condition=ApiToken.hashed_token.does_not_exist())


def tokens_of(lead_provider_id: str) -> list[ApiToken]:
    return list(ApiToken.by_lead_provider.query(lead_provider_id))


def touch_token(hashed_token: str, now: datetime, not_since: datetime) -> None:
    """Record use, at most once per interval (a condition, so concurrent requests write once)."""
    from pynamodb.exceptions import UpdateError

    token = ApiToken(hashed_token=hashed_token)
    try:
        token.update(
            actions=[ApiToken.last_used_at.set(now)],
            condition=ApiToken.hashed_token.exists()
            & (ApiToken.last_used_at.does_not_exist() | (ApiToken.last_used_at < not_since)),
        )
    except UpdateError as error:
        if not condition_failed(error):
            raise


def delete_token(hashed_token: str) -> None:
    ApiToken(hashed_token=hashed_token).delete()
