"""The audit record's pure rules (chalicelib/domain/api_requests.py): the log line both ways, the caps, the header
whitelist, status filters."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from chalicelib.domain import api_requests as audit
from chalicelib.domain.api_requests import ApiRequest, StatusRange

AT = datetime(2025, 6, 1, 9, 30, 15, 123000, tzinfo=UTC)


def record(**changes: object) -> ApiRequest:
    fields: dict[str, object] = {
        "request_id": "c0ffee00-0000-4000-8000-000000000001",
        "requested_at": AT,
        "method": "POST",
        "path": "/api/v3/participant-declarations",
        "route": "/api/v3/participant-declarations",
        "status": 422,
        "duration_ms": 12.5,
        "lead_provider_id": "lp-1",
        "query": {"filter[cohort]": "2025"},
        "headers": {"user-agent": "curl/8", "idempotency-key": "k-1"},
        "request_body": '{"data":{}}',
        "response_body": '{"errors":[]}',
        "dynamodb_requests": 7,
        "cold_start": False,
    }
    fields.update(changes)
    return ApiRequest(**fields)  # type: ignore[arg-type]


def as_line(fields: dict[str, object]) -> dict[str, object]:
    """What Powertools writes: the fields plus its own keys, through JSON."""
    return json.loads(json.dumps({"level": "INFO", "message": audit.AUDIT_MESSAGE, "service": "ecf-lp-api", **fields}))


def test_the_log_line_reads_back_as_the_same_record() -> None:
    original = record()
    fields = audit.to_log_fields(original)
    assert fields["time"] == "2025-06-01T09:30:15.123Z"
    assert "request_body_truncated" not in fields  # False is left out, like None
    assert audit.from_log_fields(as_line(fields)) == original
    cut = record(request_body="x", request_body_truncated=True, lead_provider_id=None, response_body=None)
    fields = audit.to_log_fields(cut)
    assert fields["request_body_truncated"] is True
    assert "lead_provider_id" not in fields
    assert "response_body" not in fields
    assert audit.from_log_fields(as_line(fields)) == cut


@pytest.mark.parametrize(
    "change",
    [
        {"message": "invocation"},
        {"message": "unhandled error"},
        {"request_id": ""},
        {"request_id": 12},
        {"time": "yesterday"},
        {"status": "422"},
        {"status": True},
        {"duration_ms": "fast"},
        {"duration_ms": float("nan")},
        {"method": None},
    ],
)
def test_other_lines_and_broken_records_are_not_records(change: dict[str, object]) -> None:
    fields = {"message": audit.AUDIT_MESSAGE, **audit.to_log_fields(record())}
    fields.update(change)
    assert audit.from_log_fields(fields) is None


def test_optional_fields_of_the_wrong_type_are_dropped() -> None:
    fields = as_line(audit.to_log_fields(record()))
    fields.update(query="a=b", headers=["x"], request_body=5, dynamodb_requests="7", cold_start="yes")
    parsed = audit.from_log_fields(fields)
    assert parsed is not None
    assert (parsed.query, parsed.headers, parsed.request_body) == ({}, {}, None)
    assert (parsed.dynamodb_requests, parsed.cold_start) == (None, None)


def test_bodies_are_capped_in_bytes_and_never_inside_a_character() -> None:
    assert audit.capped("short", 10) == ("short", False)
    assert audit.capped("x" * 10, 10) == ("x" * 10, False)
    assert audit.capped("x" * 11, 10) == ("x" * 10, True)
    text, cut = audit.capped("é" * 6, 11)  # two bytes each: 5 whole characters fit in 11 bytes
    assert (text, cut) == ("é" * 5, True)
    body = "€" * 30_000  # 90,000 bytes
    text, cut = audit.capped(body, audit.REQUEST_BODY_LIMIT)
    assert cut
    assert len(text.encode()) <= audit.REQUEST_BODY_LIMIT
    assert body.startswith(text)


def test_the_header_whitelist_never_keeps_credentials() -> None:
    assert "authorization" not in audit.HEADER_WHITELIST
    assert set(audit.REFERENCE_HEADERS) <= set(audit.HEADER_WHITELIST)
    headers = {
        "Authorization": "Bearer secret-token",
        "Cookie": "session=1",
        "X-Api-Key": "k",
        "User-Agent": "lp-client/2.1",
        "Accept": "application/vnd.api+json",
        "Idempotency-Key": "retry-1",
        "X-With-Server-Date": "2025-01-01T00:00:00Z",
        "X-Something-Else": "dropped",
    }
    assert audit.whitelisted(headers) == {
        "user-agent": "lp-client/2.1",
        "accept": "application/vnd.api+json",
        "x-with-server-date": "2025-01-01T00:00:00Z",
        "idempotency-key": "retry-1",
    }


def test_what_is_kept_of_which_request() -> None:
    assert audit.is_api_path("/api/v3/schools/ecf")
    assert not audit.is_api_path("/apix")
    assert [m for m in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD") if audit.keeps_request_body(m)] == [
        "POST",
        "PUT",
        "PATCH",
        "DELETE",
    ]
    assert [s for s in (200, 204, 299, 300, 401, 500) if audit.keeps_response_body(s)] == [300, 401, 500]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("4xx", StatusRange(400, 499)), ("5XX", StatusRange(500, 599)), ("422", StatusRange(422, 422)),
     (" 200 ", StatusRange(200, 200)), ("429", StatusRange(429, 429))],
)  # fmt: skip
def test_status_filters(text: str, expected: StatusRange) -> None:
    assert audit.status_range(text) == expected


@pytest.mark.parametrize("text", ["4x", "4xxx", "600", "6xx", "x22", "abc", "", "42", "0xx"])
def test_bad_status_filters(text: str) -> None:
    assert audit.status_range(text) is None


def test_status_ranges_hold_their_statuses() -> None:
    assert [s for s in (399, 400, 422, 499, 500) if s in audit.CLIENT_ERRORS] == [400, 422, 499]
    assert 429 in audit.TOO_MANY_REQUESTS
    assert 430 not in audit.TOO_MANY_REQUESTS
    assert "500" not in audit.SERVER_ERRORS
    assert (str(StatusRange(400, 499)), str(StatusRange(422, 422))) == ("4xx", "422")
