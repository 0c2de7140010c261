"""The change feed's dead-letter queue and the stream records its messages name (docs/change-feed.md).

SQS and DynamoDB Streams clients are created once per process, on first use (only the admin CLI's replay needs
them; the API and the stream handler never do). Locally (stages local and test) both talk to the moto server that
serves DynamoDB.
"""

from __future__ import annotations

from typing import Any

from chalicelib import config
from chalicelib.domain import messages as m
from chalicelib.domain.changes import StreamRecord
from chalicelib.domain.stream_failures import FailedBatch, Unreplayable, in_range, parse_failure

QUEUE_SUFFIX = "change-feed-dlq"  # infra/template.json: ChangeFeedDeadLetterQueue, ecf-lp-api-${Stage}-change-feed-dlq
RECEIVE_MAX = 10  # SQS's most messages a ReceiveMessage returns
# A message being replayed stays invisible this long; one the replay keeps comes back after it for the next run.
VISIBILITY_SECONDS = 300
GET_RECORDS_MAX = 1000
# GetRecords on an open shard may return empty pages before the records it points at: give up after this many.
EMPTY_READS_MAX = 10
GONE = ("TrimmedDataAccessException", "ExpiredIteratorException", "ResourceNotFoundException")
LOCAL_STAGES = config.NON_SECRET_KEY_STAGES

_clients: dict[tuple[str, str, str | None], Any] = {}


def queue_name() -> str:
    return f"{config.current().table_prefix}-{QUEUE_SUFFIX}"


def _client(service: str) -> Any:
    settings = config.current()
    local = settings.stage in LOCAL_STAGES
    endpoint = settings.dynamodb_endpoint if (service == "dynamodbstreams" or local) else None
    key = (service, settings.region, endpoint)
    if key not in _clients:
        import boto3  # noqa: PLC0415 - only the admin CLI's replay creates these clients
        from botocore.config import Config  # noqa: PLC0415

        _clients[key] = boto3.session.Session().client(
            service,
            region_name=settings.region,
            endpoint_url=endpoint,
            # The standard regional endpoint (moto does not serve account-based DynamoDB endpoints).
            config=Config(account_id_endpoint_mode="disabled", retries={"max_attempts": 3, "mode": "standard"}),
        )
    return _clients[key]


def _queue_url() -> str:
    from botocore.exceptions import ClientError  # noqa: PLC0415

    sqs = _client("sqs")
    try:
        url: str = sqs.get_queue_url(QueueName=queue_name())["QueueUrl"]
    except ClientError as error:
        if "NonExistentQueue" in str(error.response.get("Error", {}).get("Code", "")):
            raise Unreplayable(m.replay_no_queue(queue_name())) from error
        raise
    return url


def failed_batches(limit: int) -> list[FailedBatch | tuple[str, str, Unreplayable]]:
    """Up to ``limit`` dead-letter messages, each hidden from other readers for VISIBILITY_SECONDS: the batch it
    names, or (message id, receipt handle, why it cannot be read)."""
    url = _queue_url()
    found: list[FailedBatch | tuple[str, str, Unreplayable]] = []
    while len(found) < limit:
        response = _client("sqs").receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=min(RECEIVE_MAX, limit - len(found)),
            VisibilityTimeout=VISIBILITY_SECONDS,
            WaitTimeSeconds=0,
        )
        messages = response.get("Messages", [])
        if not messages:
            break
        for message in messages:
            try:
                found.append(parse_failure(message["MessageId"], message["ReceiptHandle"], message["Body"]))
            except Unreplayable as problem:
                found.append((message["MessageId"], message["ReceiptHandle"], problem))
    return found


def delete(receipt_handle: str) -> None:
    _client("sqs").delete_message(QueueUrl=_queue_url(), ReceiptHandle=receipt_handle)


def records_of(batch: FailedBatch) -> list[StreamRecord]:
    """The batch's records, read again from the stream: GetShardIterator AT_SEQUENCE_NUMBER of its first record,
    then GetRecords until past its last. ``Unreplayable`` when the stream no longer has them."""
    from botocore.exceptions import ClientError  # noqa: PLC0415

    streams = _client("dynamodbstreams")
    table = batch.table
    try:
        iterator: str | None = streams.get_shard_iterator(
            StreamArn=batch.stream_arn,
            ShardId=batch.shard_id,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=batch.first_sequence,
        )["ShardIterator"]
        return _read(streams, iterator, batch, table)
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in GONE:
            raise Unreplayable(m.replay_records_gone(code)) from error
        raise


def _read(streams: Any, iterator: str | None, batch: FailedBatch, table: str) -> list[StreamRecord]:
    records: list[StreamRecord] = []
    empty = 0
    while iterator is not None and empty < EMPTY_READS_MAX:
        response = streams.get_records(ShardIterator=iterator, Limit=GET_RECORDS_MAX)
        page = response.get("Records", [])
        empty = 0 if page else empty + 1
        for raw in page:
            sequence = raw["dynamodb"]["SequenceNumber"]
            if int(sequence) > int(batch.last_sequence):
                return records
            if in_range(sequence, batch):
                records.append(_stream_record(raw, table))
        if batch.size and len(records) >= batch.size:
            return records
        iterator = response.get("NextShardIterator")
    return records


def _stream_record(raw: dict[str, Any], table: str) -> StreamRecord:
    dynamodb = raw.get("dynamodb") or {}
    return StreamRecord(
        table=table,
        event_id=str(raw["eventID"]),
        old_image=dynamodb.get("OldImage"),
        new_image=dynamodb.get("NewImage"),
    )
