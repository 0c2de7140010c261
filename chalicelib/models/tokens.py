"""API tokens: only a keyed hash of each token is stored."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection

from chalicelib.models.base import BaseMeta, BaseModel, GlobalIndex, register


class TokensByLeadProvider(GlobalIndex["ApiToken"]):
    class Meta:
        index_name = "by_lead_provider"
        projection = AllProjection()

    lead_provider_id = UnicodeAttribute(hash_key=True)


@register
class ApiToken(BaseModel):
    """Only the keyed hash of a token is stored (HMAC-SHA256, hex)."""

    class Meta(BaseMeta):
        table_suffix = "api-tokens"

    hashed_token = UnicodeAttribute(hash_key=True)
    lead_provider_id = UnicodeAttribute()
    lead_provider_name = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    last_used_at = UTCDateTimeAttribute(null=True)

    by_lead_provider = TokensByLeadProvider()
