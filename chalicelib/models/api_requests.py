"""The API request audit trail (docs/observability.md): one item per ``/api/`` request, written by the
``record_api_requests`` function from the API's log lines, read by ``ecf-admin api-requests``.

Keyed by the request id, so a log batch delivered again writes the same items. ``by_lead_provider`` (sparse: a
401 has no provider) lists a provider's requests by time, newest first, with what the list shows and filters on
(method, path, status, duration); ``show`` reads the whole item. Items expire (DynamoDB TTL) ``AUDIT_RETENTION_DAYS``
(default 90) after the request.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import IncludeProjection

from chalicelib.models.base import BaseMeta, BaseModel, GlobalIndex, register


class ApiRequestsByLeadProvider(GlobalIndex["ApiRequestItem"]):
    class Meta:
        index_name = "by_lead_provider"
        projection = IncludeProjection(["method", "path", "status", "duration_ms", "requested_at"])

    lead_provider_id = UnicodeAttribute(hash_key=True, attr_name="lp")
    created_key = UnicodeAttribute(range_key=True, attr_name="ck")  # "<RFC 3339 ms time>#<request id>"


@register
class ApiRequestItem(BaseModel):
    class Meta(BaseMeta):
        table_suffix = "api-requests"

    request_id = UnicodeAttribute(hash_key=True)
    lead_provider_id = UnicodeAttribute(null=True, attr_name="lp")
    created_key = UnicodeAttribute(null=True, attr_name="ck")  # set with the provider (the index is sparse)
    requested_at = UTCDateTimeAttribute()
    method = UnicodeAttribute()
    path = UnicodeAttribute()
    route = UnicodeAttribute()
    query_params = JSONAttribute(null=True, attr_name="query")  # not ``query``: that is Model.query
    headers = JSONAttribute(null=True)
    request_body = UnicodeAttribute(null=True)
    request_body_truncated = BooleanAttribute(null=True)
    status = NumberAttribute()
    response_body = UnicodeAttribute(null=True)
    response_body_truncated = BooleanAttribute(null=True)
    duration_ms = NumberAttribute()
    dynamodb_requests = NumberAttribute(null=True)
    cold_start = BooleanAttribute(null=True)
    expires_at = TTLAttribute()

    by_lead_provider = ApiRequestsByLeadProvider()
