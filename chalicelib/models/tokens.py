"""API tokens: only a keyed hash of each token is stored."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, KeysOnlyProjection

from chalicelib.models.base import BaseMeta, BaseModel, GlobalIndex, register


class TokensByLeadProvider(GlobalIndex["ApiToken"]):
    class Meta:
        index_name = "by_lead_provider"
        projection = AllProjection()

    lead_provider_id = UnicodeAttribute(hash_key=True)


class TokensById(GlobalIndex["ApiToken"]):
    """A token by its public id (what ``tokens list`` shows and ``tokens revoke`` takes)."""

    class Meta:
        index_name = "by_token_id"
        projection = KeysOnlyProjection()

    token_id = UnicodeAttribute(hash_key=True, attr_name="tid")


@register
class ApiToken(BaseModel):
    """Only the keyed hash of a token is stored (HMAC-SHA256, hex). ``token_id`` is a public id (neither the token
    nor its hash) for listing and revoking; a revoked token keeps its row, with ``revoked_at``, and no longer
    authenticates."""

    class Meta(BaseMeta):
        table_suffix = "api-tokens"

    hashed_token = UnicodeAttribute(hash_key=True)
    lead_provider_id = UnicodeAttribute()
    lead_provider_name = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    last_used_at = UTCDateTimeAttribute(null=True)
    token_id = UnicodeAttribute(attr_name="tid")
    revoked_at = UTCDateTimeAttribute(null=True)

    by_lead_provider = TokensByLeadProvider()
    by_token_id = TokensById()
