"""The local stack's log subscription: the API's audit log lines, delivered to ``record_api_requests`` as
CloudWatch Logs would deliver them on AWS (docs/observability.md), so ``ecf-admin api-requests`` works against
``make run``.

A logging handler on the app's structured logger (``chalicelib.telemetry``) keeps each line whose message is
the audit message (what the subscription filter selects on AWS), formatted exactly as Powertools writes it; a
thread sends them in batches, every ``interval`` seconds, as a subscription event (base64 of gzip of the
``DATA_MESSAGE`` JSON) to the function's Lambda entry point (``app.handler_map``). A batch whose call raises is
sent again, unchanged, after a backoff (Lambda retries an asynchronous invocation too, twice); ``stop`` sends what
is left.
"""

from __future__ import annotations

import base64
import gzip
import json
import logging
import queue
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any

log = logging.getLogger("localdev.logship")

LOG_GROUP = "/aws/lambda/ecf-lp-api-local"
FILTER_NAME = "api-requests"
MAX_BATCH = 1000
MAX_BACKOFF = 30.0


def subscription_event(
    messages: Sequence[tuple[int, str]], *, log_group: str = LOG_GROUP, log_stream: str = "local"
) -> dict[str, Any]:
    """The event CloudWatch Logs sends a subscribed function for log events ``(epoch ms, message)``."""
    payload = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": log_group,
        "logStream": log_stream,
        "subscriptionFilters": [FILTER_NAME],
        "logEvents": [
            {"id": str(uuid.uuid4().int)[:56], "timestamp": timestamp, "message": message}
            for timestamp, message in messages
        ],
    }
    data = base64.b64encode(gzip.compress(json.dumps(payload).encode(), mtime=0)).decode()
    return {"awslogs": {"data": data}}


class _Collector(logging.Handler):
    """Keeps the audit lines, formatted by the logger's own (Powertools) formatter."""

    def __init__(self, lines: queue.Queue[tuple[int, str]], message: str, formatter: logging.Formatter) -> None:
        super().__init__()
        self.lines = lines
        self.message = message
        self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() != self.message:
            return
        try:
            self.lines.put((int(record.created * 1000), self.format(record)))
        except Exception:  # noqa: BLE001 - logging must never fail the request
            self.handleError(record)


class LogShipper:
    """Collect the app's audit lines and deliver them to ``record_api_requests`` in batches."""

    def __init__(
        self,
        app: Any,
        *,
        interval: float = 0.5,
        backoff: float = 1.0,
        context_factory: Callable[[str], Any] | None = None,
    ) -> None:
        from chalicelib import telemetry
        from chalicelib.domain.api_requests import AUDIT_MESSAGE
        from chalicelib.events.api_requests import RECORD_API_REQUESTS

        self.app = app
        self.handler_name = RECORD_API_REQUESTS
        self.interval = interval
        self.backoff = backoff
        self.context_factory = context_factory or _lambda_context
        self.lines: queue.Queue[tuple[int, str]] = queue.Queue()
        self._logger = logging.getLogger(telemetry.SERVICE)
        self._collector = _Collector(self.lines, AUDIT_MESSAGE, telemetry.logger.registered_formatter)
        self._pending: list[tuple[int, str]] = []
        self._event: dict[str, Any] | None = None  # the pending batch's event, sent again as it was if it failed
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.delivered = 0
        self.failures = 0  # failed attempts, in all
        self._failing = 0  # failed attempts in a row (the backoff)

    def install(self) -> None:
        """Start collecting (idempotent)."""
        if self._collector not in self._logger.handlers:
            self._logger.addHandler(self._collector)

    def uninstall(self) -> None:
        self._logger.removeHandler(self._collector)

    def ship_once(self) -> int:
        """Deliver one batch of what was collected (the same event again if the last attempt failed); the lines
        delivered (0 when nothing was waiting). Raises what the function raised."""
        if self._event is None:
            while len(self._pending) < MAX_BATCH:
                try:
                    self._pending.append(self.lines.get_nowait())
                except queue.Empty:
                    break
            if not self._pending:
                return 0
            self._event = subscription_event(self._pending)
        handler = self.app.handler_map[self.handler_name]
        handler(self._event, self.context_factory(self.handler_name))
        shipped, self._pending, self._event = len(self._pending), [], None
        self.delivered += shipped
        return shipped

    def drain(self) -> int:
        """Deliver everything collected so far."""
        total = 0
        while shipped := self.ship_once():
            total += shipped
        return total

    def start(self) -> None:
        self.install()
        self._thread = threading.Thread(target=self._run, name="log-shipper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        self.uninstall()
        try:
            self.drain()
        except Exception:  # stopping: say what was lost, do not fail the shutdown
            log.exception("%d audit line(s) were not recorded", len(self._pending) + self.lines.qsize())

    def _run(self) -> None:
        wait = self.interval
        while not self._stop.wait(wait):
            try:
                self.drain()
                self._failing, wait = 0, self.interval
            except Exception:  # the batch is kept and sent again, as Lambda retries
                self.failures += 1
                self._failing += 1
                wait = min(self.backoff * 2 ** min(self._failing, 5), MAX_BACKOFF)
                log.exception("record_api_requests failed; the batch is sent again in %.1fs", wait)


def _lambda_context(function_name: str) -> Any:
    from chalice.local import LambdaContext

    return LambdaContext(function_name=function_name, memory_size=256, max_runtime_ms=60_000)


def quiet(stream: Any) -> None:
    """Send the app's structured lines to ``stream`` (the local stack keeps stdout for its banner) and its EMF
    metrics nowhere (there is no CloudWatch locally)."""
    from chalicelib import telemetry

    handler = telemetry.logger.registered_handler
    if isinstance(handler, logging.StreamHandler):
        handler.setStream(stream)
    telemetry.send_metrics_to(None)
