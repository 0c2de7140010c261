"""What the guard rails add to every served document (every version): the 429 and the RateLimit headers of the
rate limiter (docs/rate-limits.md), the X-Request-Id header and the 500 that quotes it (docs/observability.md), and
the participant fields the API sends as null that the reference types as strings."""

from __future__ import annotations

from tools.openapi_parts import JSONAPI, errors_response

RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": (
        "RateLimitLimit",
        "Requests allowed in the current window: per token (1000 per 5 minutes), or per address for requests "
        "without a valid token (300 per 5 minutes). Absent only if the limiter could not count the request.",
    ),
    "RateLimit-Remaining": ("RateLimitRemaining", "Requests left in the current window."),
    "RateLimit-Reset": ("RateLimitReset", "Seconds until the current window ends and a new one starts."),
}
RETRY_AFTER = ("RetryAfter", "Seconds to wait before retrying: until the current window ends.")


def _header(description: str) -> dict:
    return {"description": description, "schema": {"type": "integer", "minimum": 0}}


def rate_limits(paths: dict, components: dict) -> None:
    """Every operation may answer 429 (with Retry-After), and every response carries the RateLimit headers."""
    headers = components.setdefault("headers", {})
    for name, description in RATE_LIMIT_HEADERS.values():
        headers[name] = _header(description)
    headers[RETRY_AFTER[0]] = _header(RETRY_AFTER[1])
    limit_headers = {
        header: {"$ref": f"#/components/headers/{name}"} for header, (name, _) in RATE_LIMIT_HEADERS.items()
    }
    for operations in paths.values():
        for operation in operations.values():
            responses = operation["responses"]
            responses["429"] = errors_response(
                "Too many requests: this token's window (or, without a valid token, this address's) is full; retry "
                "after Retry-After seconds"
            )
            responses["429"]["headers"] = {"Retry-After": {"$ref": f"#/components/headers/{RETRY_AFTER[0]}"}}
            for response in responses.values():
                response.setdefault("headers", {}).update(limit_headers)


REQUEST_ID = {
    "description": "This request's id (also in a 500 body, and the id of its audit record): quote it to DfE support",
    "schema": {"type": "string", "example": "c6af9ac6-7b61-11e6-9a41-93e8d7a1b2c3"},
}
INTERNAL_ERROR = {
    "type": "object",
    "required": ["error", "request_id"],
    "properties": {
        "error": {"type": "string", "enum": ["Internal server error"]},
        "request_id": {"type": "string", "description": "This request's id, as in the X-Request-Id header"},
    },
}


def request_ids(paths: dict, components: dict) -> None:
    """The X-Request-Id header on every response, and the 500 every operation may answer with the request's id in
    its body (docs/observability.md)."""
    components.setdefault("headers", {})["RequestId"] = REQUEST_ID
    components["schemas"]["InternalServerError"] = INTERNAL_ERROR
    for operations in paths.values():
        for operation in operations.values():
            operation["responses"]["500"] = {
                "description": "Internal server error: quote the request_id (or the X-Request-Id header) to DfE",
                "content": {JSONAPI: {"schema": {"$ref": "#/components/schemas/InternalServerError"}}},
            }
            for response in operation["responses"].values():
                response.setdefault("headers", {})["X-Request-Id"] = {"$ref": "#/components/headers/RequestId"}


def nullable_trn(schemas: dict) -> None:
    """A participant or unfunded mentor without a TRN has ``teacher_reference_number: null``."""
    for name in ("ECFParticipantAttributes", "UnfundedMentorAttributes"):
        trn = schemas.get(name, {}).get("properties", {}).get("teacher_reference_number")
        if trn is not None:
            trn["nullable"] = True


def guard_rails(paths: dict, components: dict) -> None:
    """Rate limits first, then request ids (so the 429 carries X-Request-Id too); a 500 carries the RateLimit
    headers when the view raised (inside the limiter), not when the observability middleware answered it."""
    nullable_trn(components["schemas"])
    rate_limits(paths, components)
    request_ids(paths, components)
    limit_headers = {
        header: {"$ref": f"#/components/headers/{name}"} for header, (name, _) in RATE_LIMIT_HEADERS.items()
    }
    for operations in paths.values():
        for operation in operations.values():
            # A view's 500 passes back through the limiter, which adds its headers (docs/rate-limits.md).
            operation["responses"]["500"]["headers"].update(limit_headers)
