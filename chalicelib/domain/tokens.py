"""API tokens and the caller a token resolves to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ApiToken:
    """A stored token: only its keyed hash (HMAC-SHA256, hex), never the token."""

    hashed_token: str
    lead_provider_id: str
    lead_provider_name: str
    created_at: datetime
    token_id: str  # public: what admins list and revoke by
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class IssuedToken:
    """A new token, shown once to the admin who created it."""

    token: str
    lead_provider_id: str
    lead_provider_name: str
    token_id: str


@dataclass(frozen=True)
class Caller:
    """The lead provider an API request is made for, and the public id of the token it came with (what its rate
    limit is counted by: docs/rate-limits.md)."""

    lead_provider_id: str
    lead_provider_name: str
    token_id: str
