"""The outer HTTP middleware (registered first in ``app.py``): request ids, the 500 body, and one structured log
line and one set of metrics per ``/api/`` request (docs/observability.md).

Everything inside it (the rate limiter, auth, the view) runs in ``get_response``, so 401s and 429s pass through
here too. Per request it:

- takes the request id: API Gateway's ``requestContext.requestId`` (what API Gateway returns as
  ``x-amzn-RequestId``); ``chalice local`` and the test client have none and pass a Lambda context whose
  ``aws_request_id`` they also return as ``x-amzn-RequestId``, so that one is used; else a new UUID;
- counts the DynamoDB requests made while it runs (``repositories.metering``, this thread only);
- turns an exception that escapes the app, or Chalice's own 500 body, into ``http.internal_error`` (the request id
  in the body), and adds ``X-Request-Id`` to every response;
- logs the audit record (``domain.api_requests``) as one line, message ``api_request``: a CloudWatch Logs
  subscription ships these lines to the ``api-requests`` table (``events.api_requests``), off the request path;
- emits EMF metrics ``Requests``, ``Responses4xx``, ``Responses5xx``, ``Throttled429`` (Count), ``Latency``
  (Milliseconds) and ``DynamoDBRequests`` (Count), dimensions service and stage.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from http import HTTPStatus
from typing import Any

from chalice.app import Request, Response

from chalicelib import telemetry
from chalicelib.api import http, request_context
from chalicelib.domain import api_requests as audit
from chalicelib.domain.clock import utcnow
from chalicelib.repositories import metering

REQUEST_ID_HEADER = "X-Request-Id"
CHALICE_ERROR_KEYS = {"Code", "Message"}  # Chalice's own error body (a view without http.handle_errors)


def middleware(request: Request | None, get_response: Callable[[Request | None], Response]) -> Response:
    if request is None:  # an event without a route (Chalice answers it with its own 500)
        return get_response(request)
    request_id = _request_id(request)
    arrived, started = utcnow(), time.perf_counter()
    request_context.begin(request_id)
    try:
        with metering.measure() as meter:
            response = _response(request, get_response, request_id)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        response.headers[REQUEST_ID_HEADER] = request_id
        if audit.is_api_path(_path(request)):
            cold = telemetry.cold_start()
            record = _record(request, response, request_id=request_id, arrived=arrived, duration_ms=duration_ms)
            _emit(replace(record, dynamodb_requests=meter.total, cold_start=cold))
        return response
    finally:
        request_context.end()


def _response(request: Request, get_response: Callable[[Request | None], Response], request_id: str) -> Response:
    try:
        response = get_response(request)
    except Exception:  # noqa: BLE001 - logged with its traceback (Powertools logger.exception), then a 500
        telemetry.logger.exception("unhandled error", extra={"request_id": request_id})
        return http.internal_error(request_id)
    if response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR and _is_chalice_error(response.body):
        return http.internal_error(request_id)  # Chalice logged the exception itself
    return response


def _is_chalice_error(body: Any) -> bool:
    return isinstance(body, dict) and set(body) == CHALICE_ERROR_KEYS


def _request_id(request: Request) -> str:
    context = request.context or {}
    gateway = context.get("requestId")
    if isinstance(gateway, str) and gateway:
        return gateway
    lambda_id = getattr(request.lambda_context, "aws_request_id", None)
    if isinstance(lambda_id, str) and lambda_id:
        return lambda_id
    return str(uuid.uuid4())


def _path(request: Request) -> str:
    """The path without the stage: the route with its parameters filled in (API Gateway's ``requestContext.path``
    starts with the stage name on the default endpoint)."""
    path = request.path or ""
    for name, value in (request.uri_params or {}).items():
        path = path.replace("{" + name + "}", str(value))
    return path


def _text(body: Any) -> str:
    if body is None:
        return ""
    if isinstance(body, bytes):
        return body.decode(errors="replace")
    if isinstance(body, str):
        return body
    return json.dumps(body, separators=(",", ":"))


def _record(
    request: Request, response: Response, *, request_id: str, arrived: datetime, duration_ms: float
) -> audit.ApiRequest:
    caller = request_context.caller()
    request_body, request_cut = (None, False)
    if audit.keeps_request_body(request.method) and request.raw_body:
        request_body, request_cut = audit.capped(_text(request.raw_body), audit.REQUEST_BODY_LIMIT)
    response_body, response_cut = (None, False)
    if audit.keeps_response_body(response.status_code):
        response_body, response_cut = audit.capped(_text(response.body), audit.RESPONSE_BODY_LIMIT)
    return audit.ApiRequest(
        request_id=request_id,
        requested_at=arrived,
        method=request.method,
        path=_path(request),
        route=request.path or "",
        status=response.status_code,
        duration_ms=duration_ms,
        lead_provider_id=caller.lead_provider_id if caller else None,
        query=http.query(request),
        headers=audit.whitelisted(request.headers or {}),
        request_body=request_body,
        request_body_truncated=request_cut,
        response_body=response_body,
        response_body_truncated=response_cut,
    )


def _emit(record: audit.ApiRequest) -> None:
    telemetry.logger.info(audit.AUDIT_MESSAGE, extra=audit.to_log_fields(record))
    status = record.status
    telemetry.emit_metrics(
        {
            "Requests": (1, telemetry.COUNT),
            "Responses4xx": (int(status in audit.CLIENT_ERRORS), telemetry.COUNT),
            "Responses5xx": (int(status in audit.SERVER_ERRORS), telemetry.COUNT),
            "Throttled429": (int(status in audit.TOO_MANY_REQUESTS), telemetry.COUNT),
            "Latency": (record.duration_ms, telemetry.MILLISECONDS),
            "DynamoDBRequests": (record.dynamodb_requests or 0, telemetry.COUNT),
        }
    )
