"""Idempotency-Key on every write (docs/idempotency.md).

``auth.authenticated`` wraps every route, so it hands each authenticated view to ``guarded``: a POST or PUT with
the header runs through ``services.idempotency``; anything else runs as it always has (no extra request). Auth has
run by then, so the key is the caller's own and a 401 is never stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from chalice.app import Blueprint, Request, Response

from chalicelib.api import http
from chalicelib.domain import messages as m
from chalicelib.domain.errors import BadRequest
from chalicelib.domain.idempotency import (
    HEADER,
    REPLAYED_HEADER,
    WRITE_METHODS,
    StoredResponse,
    WriteRequest,
    is_valid_key,
)
from chalicelib.domain.tokens import Caller


def guarded(blueprint: Blueprint, caller: Caller, view: Callable[[], Response]) -> Response:
    """The view's response; for a keyed write, the first response to this provider's key."""
    request = blueprint.current_request
    key = request.headers.get(HEADER.lower()) if request.headers and request.method in WRITE_METHODS else None
    if key is None:
        return view()
    if not is_valid_key(key):
        raise BadRequest(m.IDEMPOTENCY_KEY_INVALID)
    # Powertools and boto3 (~30 ms) load on the first keyed write, not on every cold start.
    from chalicelib.services import idempotency as service  # noqa: PLC0415

    sent: list[Response] = []

    def execute() -> StoredResponse:
        sent.append(http.handle_errors(view)())  # errors become responses here, so 4xx answers are kept too
        return _stored(sent[0])

    outcome = service.run_once(_write(request, caller, key), execute, blueprint.lambda_context)
    if not outcome.replayed:
        return sent[0]
    stored = outcome.response
    headers: dict[str, str | list[str]] = {"Content-Type": stored.content_type, REPLAYED_HEADER: "true"}
    return Response(body=stored.body, status_code=stored.status, headers=headers)


def _write(request: Request, caller: Caller, key: str) -> WriteRequest:
    raw = request.raw_body or b""
    return WriteRequest(
        provider_id=caller.lead_provider_id,
        key=key,
        method=request.method,
        route=str((request.context or {}).get("resourcePath", "")),
        path_parameters=dict(request.uri_params or {}),
        body=raw.encode() if isinstance(raw, str) else raw,
    )


def _stored(response: Response) -> StoredResponse:
    body: Any = response.body
    if isinstance(body, bytes):
        body = body.decode()
    elif not isinstance(body, str):
        body = json.dumps(body)
    headers = response.headers or {}
    return StoredResponse(status=response.status_code, body=body, content_type=str(headers.get("Content-Type", "")))
