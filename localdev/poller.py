"""A DynamoDB Streams poller that stands in for Lambda's event source mapping.

For each stream handler (``chalicelib.events.handlers.stream_handlers()``: handler
name -> the models whose tables feed it), the poller reads those tables' streams from
the moto server, turns the records into the event Lambda would send, and calls the
handler's Lambda entry point (``app.handler_map[name]``). Each (handler, table) pair is
read on its own, as Lambda runs one event source mapping per pair. As with Lambda:

- it starts at TRIM_HORIZON, so records written before it started are delivered too (``skip`` starts a
  handler at LATEST instead);
- a batch holds at most ``batch_size`` records, in order, from one shard;
- a child shard is read only after its parent shard is finished;
- if the handler raises, the batch is not acknowledged: the shard iterator stays where
  it was and the same records are delivered again after a backoff (exponential, capped),
  for as long as it takes. Records after a failing batch wait, as they do on Lambda.

``poll_once()`` does one pass over every shard and returns the number of records
delivered, so tests can drive the poller step by step; ``start()``/``stop()`` run it
in a background thread every ``interval`` seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

log = logging.getLogger("localdev.poller")

MAX_BATCH = 100  # Lambda's default (and our handlers' configured) batch size for DynamoDB streams


@dataclass
class _Shard:
    handler: str
    stream_arn: str
    shard_id: str
    parent_id: str | None
    iterator: str | None = None
    last_sequence: str | None = None
    finished: bool = False
    failures: int = 0
    retry_at: float = 0.0
    start: str = "TRIM_HORIZON"  # where reading starts before anything was delivered (``skip``: LATEST)


ARN_COLONS = 5  # arn:partition:service:region:account-id:resource


def lambda_record(record: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    """A ``GetRecords`` record in the shape Lambda delivers (what chalice's ``DynamoDBRecord`` reads).

    GetRecords has no ``eventSourceARN`` and gives ``ApproximateCreationDateTime`` as a
    time; Lambda adds the stream ARN and sends epoch seconds.
    """
    dynamodb = dict(record.get("dynamodb") or {})
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        dynamodb["ApproximateCreationDateTime"] = float(int(created.timestamp()))
    elif created is None:
        dynamodb["ApproximateCreationDateTime"] = float(int(time.time()))
    region = stream_arn.split(":")[3] if stream_arn.count(":") >= ARN_COLONS else record.get("awsRegion", "")
    return {
        "eventID": record.get("eventID"),
        "eventName": record.get("eventName"),
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": region,  # moto says us-east-1 whatever the table's region; the ARN is right
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }


class StreamPoller:
    """Deliver DynamoDB stream records to the app's stream handlers, Lambda-style (``endpoint`` None: the default
    endpoint, e.g. in-process moto under ``mock_aws``)."""

    def __init__(  # noqa: PLR0913 - keyword-only settings with defaults, each set alone (the stack sets region, the tests backoff=0)
        self,
        app: Any,
        endpoint: str | None,
        *,
        region: str | None = None,
        handlers: Mapping[str, Sequence[type]] | None = None,
        batch_size: int = MAX_BATCH,
        interval: float = 0.2,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        refresh_interval: float = 5.0,
        context_factory: Callable[[str], Any] | None = None,
        client: Any = None,
    ) -> None:
        if handlers is None:
            from chalicelib.events.handlers import stream_handlers

            handlers = stream_handlers()
        if region is None:
            from chalicelib import config

            region = config.current().region
        self.app = app
        self.endpoint = endpoint
        self.region = region
        self.handlers = {name: tuple(models) for name, models in handlers.items()}
        self.batch_size = max(1, min(batch_size, 1000))
        self.interval = interval
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.refresh_interval = refresh_interval
        self.context_factory = context_factory or _lambda_context
        self._client = client
        self._shards: dict[tuple[str, str, str], _Shard] = {}
        self._refreshed_at: float | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.delivered = 0
        self.failed_batches = 0

    # ------------------------------------------------------------------ AWS side

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.session.Session().client(
                "dynamodbstreams",
                endpoint_url=self.endpoint,
                region_name=self.region,
                # botocore otherwise builds an account-specific endpoint that moto does not serve.
                config=Config(account_id_endpoint_mode="disabled", retries={"max_attempts": 2, "mode": "standard"}),
            )
        return self._client

    def streams(self) -> dict[str, list[str]]:
        """Handler name -> stream ARNs of its tables (one per table)."""
        return {
            name: [arn for model in models for arn in self._table_streams(model.Meta.table_name)]  # type: ignore[attr-defined]  # a PynamoDB model, a name localdev may not import
            for name, models in self.handlers.items()
        }

    def _table_streams(self, table: str) -> list[str]:
        arns: list[str] = []
        kwargs: dict[str, Any] = {"TableName": table}
        while True:
            page = self.client.list_streams(**kwargs)
            arns += [s["StreamArn"] for s in page.get("Streams", [])]
            if not page.get("LastEvaluatedStreamArn"):
                return arns
            kwargs["ExclusiveStartStreamArn"] = page["LastEvaluatedStreamArn"]

    def refresh(self) -> None:
        """Find streams and shards not seen yet (a table created later, a shard split)."""
        for name, arns in self.streams().items():
            for arn in arns:
                kwargs: dict[str, Any] = {"StreamArn": arn}
                while True:
                    description = self.client.describe_stream(**kwargs)["StreamDescription"]
                    for shard in description.get("Shards", []):
                        key = (name, arn, shard["ShardId"])
                        if key not in self._shards:
                            self._shards[key] = _Shard(name, arn, shard["ShardId"], shard.get("ParentShardId"))
                            log.debug("reading %s for %s", shard["ShardId"], name)
                    last = description.get("LastEvaluatedShardId")
                    if not last:
                        break
                    kwargs["ExclusiveStartShardId"] = last
        self._refreshed_at = time.monotonic()

    def _iterator(self, shard: _Shard) -> str:
        kwargs: dict[str, Any] = {"StreamArn": shard.stream_arn, "ShardId": shard.shard_id}
        if shard.last_sequence is not None:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=shard.last_sequence)
        else:
            kwargs.update(ShardIteratorType=shard.start)
        iterator: str = self.client.get_shard_iterator(**kwargs)["ShardIterator"]
        return iterator

    def _parent_pending(self, shard: _Shard) -> bool:
        if not shard.parent_id:
            return False
        parent = self._shards.get((shard.handler, shard.stream_arn, shard.parent_id))
        return parent is not None and not parent.finished

    # ------------------------------------------------------------------ delivery

    def poll_once(self) -> int:
        """One pass over every shard: read at most one batch each and deliver it. Returns records delivered."""
        with self._lock:
            if self._refreshed_at is None or time.monotonic() - self._refreshed_at >= self.refresh_interval:
                self.refresh()
            delivered = 0
            for shard in list(self._shards.values()):
                if shard.finished or self._parent_pending(shard) or shard.retry_at > time.monotonic():
                    continue
                delivered += self._poll_shard(shard)
            return delivered

    def _get_records(self, shard: _Shard) -> dict[str, Any] | None:
        """The shard's next batch, or None when the read failed in a way the next pass recovers from."""
        from botocore.exceptions import ClientError

        if shard.iterator is None:
            shard.iterator = self._iterator(shard)
        try:
            response: dict[str, Any] = self.client.get_records(ShardIterator=shard.iterator, Limit=self.batch_size)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code in ("ExpiredIteratorException", "TrimmedDataAccessException"):
                shard.iterator = None  # start again from the last delivered record
                if code == "TrimmedDataAccessException":
                    shard.last_sequence = None
                return None
            if code == "ResourceNotFoundException":  # the table (and its stream) went away
                shard.finished = True
                return None
            raise
        return response

    def _poll_shard(self, shard: _Shard) -> int:
        response = self._get_records(shard)
        if response is None:
            return 0
        records = response.get("Records", [])
        following = response.get("NextShardIterator")
        if not records:
            # Nothing new: keep the current iterator. (moto keeps every iterator it hands out,
            # so taking a new one five times a second would grow the server's memory for ever.)
            if following is None:
                shard.finished = True
            return 0
        event = {"Records": [lambda_record(r, shard.stream_arn) for r in records]}
        try:
            self.app.handler_map[shard.handler](event, self.context_factory(shard.handler))
        except Exception:
            shard.failures += 1
            delay = min(self.max_backoff, self.backoff * 2 ** (shard.failures - 1)) if self.backoff else 0.0
            shard.retry_at = time.monotonic() + delay
            self.failed_batches += 1
            log.exception(
                "%s failed on %d record(s) from %s (attempt %d); retrying the same batch in %.1fs",
                shard.handler,
                len(records),
                shard.shard_id,
                shard.failures,
                delay,
            )
            return 0
        if shard.failures:
            log.info("%s succeeded after %d failed attempt(s)", shard.handler, shard.failures)
        shard.failures = 0
        shard.retry_at = 0.0
        shard.last_sequence = records[-1]["dynamodb"]["SequenceNumber"]
        shard.iterator = following
        if following is None:
            shard.finished = True
        self.delivered += len(records)
        log.debug("%s: delivered %d record(s)", shard.handler, len(records))
        return len(records)

    def skip(self, handler: str) -> int:
        """Start the handler's shards after every record written so far, without delivering those (an event source
        mapping created at LATEST). The position is taken now: records written later are delivered. Returns the
        number of shards moved."""
        with self._lock:
            self.refresh()
            shards = [s for s in self._shards.values() if s.handler == handler and s.last_sequence is None]
            for shard in shards:
                shard.start = "LATEST"
                shard.iterator = self._iterator(shard)
            return len(shards)

    def drain(self, timeout: float = 120.0) -> int:
        """Deliver until the streams are quiet, a batch fails (the thread retries it) or ``timeout`` passes."""
        total = 0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            delivered = self.poll_once()
            if delivered == 0:
                break
            total += delivered
        return total

    def pending_retries(self) -> int:
        """Shards whose last batch failed and waits to be delivered again."""
        return sum(1 for s in self._shards.values() if s.failures)

    # ------------------------------------------------------------------ thread

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="stream-poller", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                delivered = self.poll_once()
            except Exception:
                log.exception("stream poller: reading the streams failed; trying again shortly")
                self._stop.wait(max(1.0, self.interval))
                continue
            if delivered < self.batch_size:  # a full batch suggests more is waiting: go straight on
                self._stop.wait(self.interval)


def _lambda_context(handler: str) -> Any:
    """A Lambda context like the one chalice local passes to views (function name, remaining time)."""
    from chalice.local import LambdaContext

    return LambdaContext(function_name=handler, memory_size=1024, max_runtime_ms=29_000)
