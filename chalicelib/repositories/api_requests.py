"""The API request audit trail's storage (``models.api_requests``): records in, records out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pynamodb.expressions.condition import Condition

from chalicelib.domain.api_requests import ApiRequest, ApiRequestSummary, StatusRange
from chalicelib.domain.clock import iso_millis
from chalicelib.models.api_requests import ApiRequestItem

QUERY_PAGE = 500  # index entries a list Query reads at a time (each ~150 bytes)


def created_key(record: ApiRequest) -> str:
    """The index's sort key: fixed-width time, then the id, so keys sort by time and never collide."""
    return f"{iso_millis(record.requested_at)}#{record.request_id}"


def _item(record: ApiRequest, expires_at: datetime) -> ApiRequestItem:
    return ApiRequestItem(
        request_id=record.request_id,
        lead_provider_id=record.lead_provider_id,
        created_key=created_key(record) if record.lead_provider_id else None,
        requested_at=record.requested_at,
        method=record.method,
        path=record.path,
        route=record.route,
        query_params=dict(record.query) or None,
        headers=dict(record.headers) or None,
        request_body=record.request_body,
        request_body_truncated=record.request_body_truncated or None,
        status=record.status,
        response_body=record.response_body,
        response_body_truncated=record.response_body_truncated or None,
        duration_ms=record.duration_ms,
        dynamodb_requests=record.dynamodb_requests,
        cold_start=record.cold_start,
        expires_at=expires_at,
    )


def save_all(records: Sequence[tuple[ApiRequest, datetime]]) -> None:
    """Write each record with its expiry time: BatchWriteItem, 25 items a request (PynamoDB re-sends unprocessed
    items). The key is the request id, so writing a record again replaces it with the same item."""
    if not records:
        return
    with ApiRequestItem.batch_write() as batch:
        for record, expires_at in records:
            batch.save(_item(record, expires_at))


def get(request_id: str) -> ApiRequest | None:
    try:
        item = ApiRequestItem.get(request_id)
    except ApiRequestItem.DoesNotExist:
        return None
    return _record(item)


def _record(item: ApiRequestItem) -> ApiRequest:
    return ApiRequest(
        request_id=item.request_id,
        requested_at=item.requested_at,
        method=item.method,
        path=item.path,
        route=item.route,
        status=int(item.status),
        duration_ms=float(item.duration_ms),
        lead_provider_id=item.lead_provider_id,
        query=dict(item.query_params or {}),
        headers=dict(item.headers or {}),
        request_body=item.request_body,
        request_body_truncated=bool(item.request_body_truncated),
        response_body=item.response_body,
        response_body_truncated=bool(item.response_body_truncated),
        dynamodb_requests=int(item.dynamodb_requests) if item.dynamodb_requests is not None else None,
        cold_start=item.cold_start,
    )


def of_lead_provider(
    lead_provider_id: str,
    *,
    since: datetime | None,
    status: StatusRange | None,
    path_prefix: str | None,
    limit: int,
) -> list[ApiRequestSummary]:
    """The provider's requests, newest first, at most ``limit``: one index Query (paged) from now back to
    ``since``; the status and path filters are applied to what the index reads."""
    range_condition = ApiRequestItem.created_key >= iso_millis(since) if since else None
    results = ApiRequestItem.by_lead_provider.query(
        lead_provider_id,
        range_key_condition=range_condition,
        filter_condition=_filters(status, path_prefix),
        scan_index_forward=False,
        page_size=QUERY_PAGE,
    )
    found: list[ApiRequestSummary] = []
    for item in results:
        found.append(_summary(item))
        if len(found) >= limit:
            break
    return found


def _filters(status: StatusRange | None, path_prefix: str | None) -> Condition | None:
    condition: Condition | None = None
    if status is not None:
        condition = ApiRequestItem.status.between(status.low, status.high)
    if path_prefix:
        prefix = ApiRequestItem.path.startswith(path_prefix)
        condition = prefix if condition is None else condition & prefix
    return condition


def _summary(item: ApiRequestItem) -> ApiRequestSummary:
    return ApiRequestSummary(
        request_id=item.request_id,
        requested_at=item.requested_at,
        method=item.method,
        path=item.path,
        status=int(item.status),
        duration_ms=float(item.duration_ms),
    )
