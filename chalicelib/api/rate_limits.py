"""Rate limits on every ``/api/`` request (docs/rate-limits.md), as a Chalice HTTP middleware.

Per token: ``RATE_LIMIT_PER_TOKEN`` requests per ``RATE_LIMIT_WINDOW_SECONDS`` (1000 per 5 minutes), counted by the
token's public id. Requests without a valid token (none, unknown, revoked) are counted per source IP instead
(``RATE_LIMIT_PER_IP``, 300), so a bad token never spends a good token's window. A refused request gets a JSON:API
429 with ``Retry-After``; every counted response carries ``RateLimit-Limit``, ``RateLimit-Remaining`` and
``RateLimit-Reset`` (seconds until the window ends). The OpenAPI document and the docs pages are not limited.

Windows follow the real clock, never ``X-With-Server-Date``: moving the date must not move a client to another
window. The caller resolved here is kept on the request for ``auth.authenticated`` (one token lookup per request).

Token guessing is bounded: once this process has seen an address's window full, it stops looking up tokens from
that address, except tokens it looked up lately and found valid (``tokens.cached_caller``); other requests from it
get the 429 without a lookup until the window ends.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from http import HTTPStatus

from chalice.app import Request, Response

from chalicelib.api import docs, http
from chalicelib.api.auth import remember_caller, request_token
from chalicelib.domain import messages as m
from chalicelib.domain.clock import utcnow
from chalicelib.domain.rate_limits import Decision, Kind, Subject, describe_seconds
from chalicelib.services import rate_limits, tokens

LIMITED_PREFIX = "/api/"
LIMIT = "RateLimit-Limit"
REMAINING = "RateLimit-Remaining"
RESET = "RateLimit-Reset"
RETRY_AFTER = "Retry-After"
UNKNOWN_ADDRESS = "unknown"

log = logging.getLogger("ecf.api")


def middleware(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """Count the request; serve it (with the rate-limit headers) or answer 429."""
    if not is_limited(event):
        return get_response(event)
    try:
        decision = decide(event, utcnow())
    except Exception:  # e.g. the token lookup failed: the view looks it up again and answers for itself
        log.exception("rate limiter failed, request served uncounted")
        return get_response(event)
    response = get_response(event) if decision.allowed else too_many_requests(decision)
    return with_headers(response, decision)


def is_limited(request: Request) -> bool:
    path = request.path or ""
    return path.startswith(LIMITED_PREFIX) and path not in docs.PUBLIC_PATHS


def decide(request: Request, now: datetime) -> Decision:
    """Resolve the caller (kept on the request for ``authenticated``) and count the request against its window:
    the token's with a valid token, the source address's otherwise."""
    address = Subject(Kind.IP, source_ip(request))
    token = request_token(request)
    if token is None:
        remember_caller(request, None)
        return rate_limits.check(address, now)
    address_full = rate_limits.known_full(address, now)
    caller = tokens.cached_caller(token) if address_full else tokens.authenticate(token, now)
    remember_caller(request, caller)
    if caller is not None:
        return rate_limits.check(Subject(Kind.TOKEN, caller.token_id), now)
    return address_full or rate_limits.check(address, now)


def source_ip(request: Request) -> str:
    """The client's address as API Gateway saw it (``requestContext.identity.sourceIp``; never X-Forwarded-For,
    which the client writes)."""
    identity = (request.context or {}).get("identity") or {}
    return str(identity.get("sourceIp") or UNKNOWN_ADDRESS)


def too_many_requests(decision: Decision) -> Response:
    window = decision.window
    text = m.RATE_LIMITED_TOKEN if window.subject.kind is Kind.TOKEN else m.RATE_LIMITED_ADDRESS
    detail = text.format(limit=window.limit, window=describe_seconds(window.seconds), seconds=decision.reset)
    return http.errors(m.TOO_MANY_REQUESTS, detail, HTTPStatus.TOO_MANY_REQUESTS)


def with_headers(response: Response, decision: Decision) -> Response:
    """The response with the window's headers (none when the request could not be counted), and ``Retry-After`` on
    a refusal."""
    if not decision.counted:
        return response
    headers = dict(response.headers or {})
    headers.update({LIMIT: str(decision.window.limit), REMAINING: str(decision.remaining), RESET: str(decision.reset)})
    if not decision.allowed:
        headers[RETRY_AFTER] = str(decision.reset)
    response.headers = headers
    return response
