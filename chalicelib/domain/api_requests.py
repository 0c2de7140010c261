"""The API request audit record (docs/observability.md): what is kept of every ``/api/`` request, and its log line.

The API's one structured log line per request *is* the record: ``to_log_fields`` writes it, a CloudWatch Logs
subscription selects the lines whose ``message`` is ``AUDIT_MESSAGE``, and ``from_log_fields`` reads them back
before they are stored. One schema, so the log line and the stored record cannot drift.

What is kept is the real service's ``api_requests`` row (docs/reference/ecf-declarations-statements.md, section 4:
``ApiRequestMiddleware``): path, method, a whitelist of headers (never ``Authorization``), the body of writes, the
status, the response body when the status is above 299; plus the query, the lead provider, the duration and this
service's request id. Bodies are capped so that a line stays well inside CloudWatch Logs' 256 KB event limit even
when JSON escaping doubles it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.domain.clock import iso_millis, parse_timestamp

AUDIT_MESSAGE = "api_request"  # the log line's message; the subscription filter selects it (infra/template.json)
API_PREFIX = "/api/"

# The real service's whitelist (HTTP_VERSION aside: API Gateway does not pass the protocol as a header) without
# Authorization, plus the headers that change what this service does or that a provider quotes to support.
REFERENCE_HEADERS = ("host", "user-agent", "accept", "accept-encoding", "connection", "cache-control")
OWN_HEADERS = ("content-type", "content-length", "x-with-server-date", "idempotency-key", "x-forwarded-for")
HEADER_WHITELIST = REFERENCE_HEADERS + OWN_HEADERS
NEVER_LOGGED_HEADERS = frozenset({"authorization", "cookie", "x-api-key"})

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REQUEST_BODY_LIMIT = 64 * 1024  # bytes of UTF-8
RESPONSE_BODY_LIMIT = 16 * 1024  # error bodies are a few hundred bytes; a 5xx from a proxy may be a page
RECORDED_STATUS_ABOVE = 299  # response bodies are kept only above this, as the real service does


@dataclass(frozen=True)
class ApiRequest:
    """One ``/api/`` request as the audit trail keeps it."""

    request_id: str
    requested_at: datetime
    method: str
    path: str
    route: str
    status: int
    duration_ms: float
    lead_provider_id: str | None = None
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    request_body: str | None = None
    request_body_truncated: bool = False
    response_body: str | None = None
    response_body_truncated: bool = False
    dynamodb_requests: int | None = None
    cold_start: bool | None = None


@dataclass(frozen=True)
class ApiRequestSummary:
    """A line of ``ecf-admin api-requests list``: what the provider index holds."""

    request_id: str
    requested_at: datetime
    method: str
    path: str
    status: int
    duration_ms: float


@dataclass(frozen=True)
class StatusRange:
    """``--status 4xx`` (400-499) or ``--status 422`` (422-422)."""

    low: int
    high: int

    def __str__(self) -> str:
        if self.low == self.high:
            return str(self.low)
        return f"{self.low // 100}xx"

    def __contains__(self, status: object) -> bool:
        return isinstance(status, int) and self.low <= status <= self.high


CLIENT_ERRORS = StatusRange(400, 499)
SERVER_ERRORS = StatusRange(500, 599)
TOO_MANY_REQUESTS = StatusRange(429, 429)


STATUS_DIGITS = 3
STATUS_CLASSES = "12345"


def status_range(text: str) -> StatusRange | None:
    """``4xx``/``4XX`` → 400-499, ``422`` → 422; anything else None."""
    text = text.strip().lower()
    if len(text) != STATUS_DIGITS:
        return None
    if text[0] in STATUS_CLASSES and text[1:] == "xx":
        low = int(text[0]) * 100
        return StatusRange(low, low + 99)
    if text.isdigit() and text[0] in STATUS_CLASSES:
        return StatusRange(int(text), int(text))
    return None


def capped(text: str, limit: int) -> tuple[str, bool]:
    """The text cut to at most ``limit`` bytes of UTF-8 (never inside a character), and whether it was cut."""
    encoded = text.encode()
    if len(encoded) <= limit:
        return text, False
    return encoded[:limit].decode(errors="ignore"), True


def whitelisted(headers: Mapping[str, str]) -> dict[str, str]:
    """The request headers the audit keeps, by lower-case name, in the whitelist's order."""
    lowered = {str(name).lower(): str(value) for name, value in headers.items()}
    return {name: lowered[name] for name in HEADER_WHITELIST if name in lowered and name not in NEVER_LOGGED_HEADERS}


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIX)


def keeps_request_body(method: str) -> bool:
    return method.upper() in WRITE_METHODS


def keeps_response_body(status: int) -> bool:
    return status > RECORDED_STATUS_ABOVE


# --------------------------------------------------------------------------- the log line

_TEXT_FIELDS = ("request_id", "method", "path", "route")


def to_log_fields(record: ApiRequest) -> dict[str, Any]:
    """The log line's fields (Powertools adds level, location, message, timestamp, service and, on AWS with tracing,
    xray_trace_id). Unknown values are left out, as Powertools leaves out None."""
    fields: dict[str, Any] = {
        "request_id": record.request_id,
        "time": iso_millis(record.requested_at),
        "lead_provider_id": record.lead_provider_id,
        "method": record.method,
        "path": record.path,
        "route": record.route,
        "query": dict(record.query),
        "headers": dict(record.headers),
        "request_body": record.request_body,
        "request_body_truncated": record.request_body_truncated or None,
        "status": record.status,
        "response_body": record.response_body,
        "response_body_truncated": record.response_body_truncated or None,
        "duration_ms": record.duration_ms,
        "dynamodb_requests": record.dynamodb_requests,
        "cold_start": record.cold_start,
    }
    return {name: value for name, value in fields.items() if value is not None}


def from_log_fields(fields: Mapping[str, Any]) -> ApiRequest | None:
    """The record in an audit log line; None for any other line or one that is not well formed."""
    if fields.get("message") != AUDIT_MESSAGE:
        return None
    if not all(isinstance(fields.get(name), str) and fields[name] for name in _TEXT_FIELDS):
        return None
    requested_at = parse_timestamp(str(fields.get("time", "")))
    status, duration = _int(fields.get("status")), _number(fields.get("duration_ms"))
    if requested_at is None or status is None or duration is None:
        return None
    return ApiRequest(
        request_id=fields["request_id"],
        requested_at=requested_at,
        method=fields["method"],
        path=fields["path"],
        route=fields["route"],
        status=status,
        duration_ms=duration,
        lead_provider_id=_text_or_none(fields.get("lead_provider_id")),
        query=_text_map(fields.get("query")),
        headers=_text_map(fields.get("headers")),
        request_body=_text_or_none(fields.get("request_body")),
        request_body_truncated=fields.get("request_body_truncated") is True,
        response_body=_text_or_none(fields.get("response_body")),
        response_body_truncated=fields.get("response_body_truncated") is True,
        dynamodb_requests=_int(fields.get("dynamodb_requests")),
        cold_start=fields["cold_start"] if isinstance(fields.get("cold_start"), bool) else None,
    )


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _text_map(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(name): str(text) for name, text in value.items()}
