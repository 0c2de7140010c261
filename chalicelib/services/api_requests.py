"""The API request audit trail (docs/observability.md): recording the API's log lines, and reading them back for
support staff (``ecf-admin api-requests``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib import config
from chalicelib.domain.api_requests import ApiRequest, ApiRequestSummary, StatusRange, from_log_fields
from chalicelib.repositories import api_requests as repo
from chalicelib.services.providers import lead_provider_named

DEFAULT_LIST_LIMIT = 50


@dataclass(frozen=True)
class Recorded:
    recorded: int  # distinct requests written (a request id seen twice in a batch is written once)
    skipped: int  # lines that are not audit records (another message, or not well formed)


def expires_at(record: ApiRequest) -> datetime:
    """When DynamoDB's TTL may delete the record: ``AUDIT_RETENTION_DAYS`` after the request."""
    return record.requested_at + timedelta(days=config.current().audit_retention_days)


def parse_line(line: str) -> ApiRequest | None:
    """The audit record in one log line (a JSON object whose message is ``api_request``), or None."""
    try:
        fields = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return from_log_fields(fields) if isinstance(fields, dict) else None


def record_lines(lines: Iterable[str]) -> Recorded:
    """Store the audit records among ``lines``. Idempotent: a record is keyed by its request id, so lines delivered
    again (a subscription retries a failed batch) write the same items."""
    records: dict[str, ApiRequest] = {}
    skipped = 0
    for line in lines:
        record = parse_line(line)
        if record is None:
            skipped += 1
            continue
        records[record.request_id] = record
    repo.save_all([(record, expires_at(record)) for record in records.values()])
    return Recorded(recorded=len(records), skipped=skipped)


def list_requests(
    lead_provider_name: str,
    *,
    since: datetime | None = None,
    status: StatusRange | None = None,
    path_prefix: str | None = None,
    limit: int = DEFAULT_LIST_LIMIT,
) -> list[ApiRequestSummary]:
    """A lead provider's recorded requests, newest first."""
    provider = lead_provider_named(lead_provider_name)
    return repo.of_lead_provider(provider.id, since=since, status=status, path_prefix=path_prefix, limit=limit)


def get_request(request_id: str) -> ApiRequest | None:
    return repo.get(request_id.strip())
