"""One structured log line and one set of EMF metrics per stream, schedule or log-subscription invocation
(docs/observability.md), as ``api.observability`` does for requests.

``@observed(NAME)`` goes under Chalice's decorator. The handler returns its counts (metric name → count, e.g.
``{"ChangesRecorded": 12}``) or None; the line says the handler, the invocation's request id (the Lambda context's
``aws_request_id``, which Lambda also writes on its own START/END/REPORT lines), the records it was given (stream
batches), how long it took, the DynamoDB requests it made, the counts, whether it was a cold start and its outcome
(``ok`` or ``error``, with the traceback). Metrics, dimensions service, stage and handler: the counts,
``DynamoDBRequests`` and, for a stream batch, ``StreamBatchFailures`` (1 when the batch failed and will be retried,
else 0). A failure is logged and raised again, so the event source still retries, bisects and dead-letters the
batch.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from chalice.app import DynamoDBEvent

from chalicelib import telemetry
from chalicelib.repositories import metering

INVOCATION_MESSAGE = "invocation"
Counts = Mapping[str, int]
Handler = Callable[..., Counts | None]


def observed(name: str) -> Callable[[Handler], Callable[..., None]]:
    def decorator(handler: Handler) -> Callable[..., None]:
        @functools.wraps(handler)
        def wrapper(*args: Any) -> None:
            invocation = Invocation(name, _request_id(args), _records(args[0] if args else None))
            started = time.perf_counter()
            with metering.measure() as meter:
                try:
                    counts = handler(*args) or {}
                except Exception:
                    _emit(invocation, _elapsed(started), meter.total, {}, failed=True)
                    raise
                _emit(invocation, _elapsed(started), meter.total, counts, failed=False)

        return wrapper

    return decorator


@dataclass(frozen=True)
class Invocation:
    handler: str
    request_id: str | None
    records: int | None  # the stream batch's records; None for other events


def _request_id(args: tuple[Any, ...]) -> str | None:
    """The Lambda context's ``aws_request_id``: a plain ``@app.lambda_function`` gets ``(event, context)``, a Chalice
    event handler one event object that holds the context (``BaseLambdaEvent.context``)."""
    context = args[1] if len(args) > 1 else getattr(args[0], "context", None) if args else None
    value = getattr(context, "aws_request_id", None)
    return value if isinstance(value, str) and value else None


def _records(event: Any) -> int | None:
    """The records of a stream batch; None for other events."""
    if isinstance(event, DynamoDBEvent):
        return len(event.to_dict().get("Records") or [])
    return None


def _elapsed(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _emit(invocation: Invocation, duration_ms: float, dynamodb_requests: int, counts: Counts, *, failed: bool) -> None:
    fields: dict[str, Any] = {
        "handler": invocation.handler,
        "request_id": invocation.request_id,
        "records": invocation.records,
        "duration_ms": duration_ms,
        "dynamodb_requests": dynamodb_requests,
        "counts": dict(counts),
        "cold_start": telemetry.cold_start(),
        "outcome": "error" if failed else "ok",
    }
    if failed:
        telemetry.logger.exception(INVOCATION_MESSAGE, extra=fields)  # called in the except block: the traceback
    else:
        telemetry.logger.info(INVOCATION_MESSAGE, extra=fields)
    metrics = {metric: (value, telemetry.COUNT) for metric, value in counts.items()}
    metrics["DynamoDBRequests"] = (dynamodb_requests, telemetry.COUNT)
    if invocation.records is not None:
        metrics["StreamBatchFailures"] = (int(failed), telemetry.COUNT)
    telemetry.emit_metrics(metrics, {"handler": invocation.handler})
