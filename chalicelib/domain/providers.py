"""Lead providers, delivery partners and their relationships (lead provider, delivery partner, cohort)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain import messages as m
from chalicelib.domain.errors import InputError


@dataclass(frozen=True)
class LeadProvider:
    id: str
    name: str
    vat_chargeable: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class DeliveryPartner:
    id: str
    name: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ProviderRelationship:
    """A lead provider works with a delivery partner in a cohort. The partner's name and times are copied here."""

    lead_provider_id: str
    delivery_partner_id: str
    cohort: int
    delivery_partner_name: str
    delivery_partner_created_at: datetime
    delivery_partner_updated_at: datetime
    created_at: datetime
    updated_at: datetime
    discarded_at: datetime | None = None


class NoCohortsGiven(InputError):
    """A relationship needs at least one cohort. The caller may word it its own way (the CLI names its option)."""

    def __init__(self) -> None:
        super().__init__(m.COHORTS_REQUIRED)


def clean_name(name: str | None) -> str:
    """A provider's name as stored: runs of whitespace become one space, no leading or trailing space."""
    return " ".join((name or "").split())
