"""API tokens, stored by their keyed hash. Takes and returns ``chalicelib.domain.tokens.ApiToken`` records."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime

from chalicelib.domain.errors import Conflict
from chalicelib.domain.tokens import ApiToken
from chalicelib.models import ApiToken as ApiTokenItem
from chalicelib.repositories.common import conflicts_as


def _record(item: ApiTokenItem) -> ApiToken:
    return ApiToken(
        hashed_token=item.hashed_token,
        lead_provider_id=item.lead_provider_id,
        lead_provider_name=item.lead_provider_name,
        created_at=item.created_at,
        token_id=item.token_id,
        last_used_at=item.last_used_at,
        revoked_at=item.revoked_at,
    )


def get_token(hashed_token: str) -> ApiToken | None:
    try:
        return _record(ApiTokenItem.get(hashed_token))
    except ApiTokenItem.DoesNotExist:
        return None


def create_token(token: ApiToken) -> None:
    item = ApiTokenItem(
        hashed_token=token.hashed_token,
        lead_provider_id=token.lead_provider_id,
        lead_provider_name=token.lead_provider_name,
        created_at=token.created_at,
        token_id=token.token_id,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
    )
    item.save(condition=ApiTokenItem.hashed_token.does_not_exist())


def find_by_id(token_id: str) -> ApiToken | None:
    """The token with this public id (one Query of the keys-only index, then a GetItem)."""
    for entry in ApiTokenItem.by_token_id.query(token_id, limit=1):
        return get_token(entry.hashed_token)
    return None


def revoke(hashed_token: str, now: datetime) -> None:
    """Mark a token revoked, once (``Conflict`` if it was revoked already or is gone)."""
    with conflicts_as("token revoked already"):
        ApiTokenItem(hashed_token=hashed_token).update(
            actions=[ApiTokenItem.revoked_at.set(now)],
            condition=ApiTokenItem.hashed_token.exists() & ApiTokenItem.revoked_at.does_not_exist(),
        )


def tokens_of(lead_provider_id: str) -> list[ApiToken]:
    return [_record(item) for item in ApiTokenItem.by_lead_provider.query(lead_provider_id)]


def touch_token(hashed_token: str, now: datetime, not_since: datetime) -> None:
    """Record use, at most once per interval (a condition, so concurrent requests write once)."""
    with suppress(Conflict), conflicts_as("token used recently, or gone"):
        ApiTokenItem(hashed_token=hashed_token).update(
            actions=[ApiTokenItem.last_used_at.set(now)],
            condition=ApiTokenItem.hashed_token.exists()
            & (ApiTokenItem.last_used_at.does_not_exist() | (ApiTokenItem.last_used_at < not_since)),
        )


def delete_token(hashed_token: str) -> None:
    ApiTokenItem(hashed_token=hashed_token).delete()
