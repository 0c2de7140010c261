"""Rate-limit counters (docs/rate-limits.md): one item per subject and window.

``key`` is ``<kind>#<subject>#<window start>`` (``chalicelib.domain.rate_limits.Window.key``): a token's public id
or a source IP, never a token or its hash. ``requests`` only grows within a window, by one conditional ``ADD`` per
request that never takes it past the limit (``repositories.rate_limits``, which writes it through the botocore
client with these attribute names). DynamoDB's TTL deletes a counter some time after ``expires``.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute

from chalicelib.models.base import BaseMeta, BaseModel, register


@register
class RateLimitCounter(BaseModel):
    class Meta(BaseMeta):
        table_suffix = "rate-limits"

    key = UnicodeAttribute(hash_key=True, attr_name="k")
    requests = NumberAttribute(attr_name="n")  # requests counted in the window (never more than its limit)
    expires = TTLAttribute(attr_name="ttl")  # epoch seconds: the window's end + a margin
