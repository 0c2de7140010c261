"""``record_api_requests``: the API's audit log lines, delivered by a CloudWatch Logs subscription, into the
``api-requests`` table (docs/observability.md). Registered by ``app.py``.

Chalice has no decorator for log subscriptions, so this is a plain ``@app.lambda_function``; ``infra/template.json``
subscribes it to the API function's log group with the filter pattern ``SUBSCRIPTION_FILTER_PATTERN`` and allows
CloudWatch Logs to invoke it. The event is ``{"awslogs": {"data": <base64 of gzip of JSON>}}``, the JSON being
``{"messageType": "DATA_MESSAGE", "logGroup", "logStream", "subscriptionFilters", "logEvents": [{"id",
"timestamp", "message"}]}``; a ``CONTROL_MESSAGE`` (sent once to check the destination) carries no records.
Logs invokes the function asynchronously: a failure (DynamoDB unreachable) raises, so Lambda retries the batch
twice and then sends it to the function's dead-letter queue; a line that is not a record is counted and skipped
(it would fail every retry).
"""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

from chalice.app import Chalice

from chalicelib.domain.api_requests import AUDIT_MESSAGE
from chalicelib.events.invocations import Counts, observed
from chalicelib.services import api_requests

RECORD_API_REQUESTS = "record_api_requests"
SUBSCRIPTION_FILTER_PATTERN = f'{{ $.message = "{AUDIT_MESSAGE}" }}'
DATA_MESSAGE = "DATA_MESSAGE"


class MalformedLogEvent(ValueError):
    """The event is not a CloudWatch Logs subscription event."""


def log_messages(event: dict[str, Any]) -> list[str]:
    """The messages of a subscription event's log events (none for a control message)."""
    try:
        payload = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    except (KeyError, TypeError, ValueError, OSError) as error:  # OSError: gzip's BadGzipFile
        raise MalformedLogEvent(str(error)) from error
    if payload.get("messageType") != DATA_MESSAGE:
        return []
    return [str(entry.get("message", "")) for entry in payload.get("logEvents") or []]


def register(app: Chalice) -> None:
    @app.lambda_function(name=RECORD_API_REQUESTS)
    @observed(RECORD_API_REQUESTS)
    def record_api_requests(event: dict[str, Any], context: Any) -> Counts:
        """Write the audit records among the log events to the ``api-requests`` table (idempotent)."""
        done = api_requests.record_lines(log_messages(event))
        return {"ApiRequestsRecorded": done.recorded, "LogLinesSkipped": done.skipped}
