"""Replaying failed change-feed batches from the dead-letter queue (services.changes.replay_failures and
``ecf-admin changes replay-failures``), against moto's SQS and DynamoDB Streams in process.

Lambda's on-failure destination cannot run here (moto runs no Lambda functions), so the dead-letter messages are
written as Lambda writes them (the invocation record with ``DDBStreamBatchInfo``, domain/stream_failures.py),
naming real records of the schools table's stream.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.config import Config

from admin import cli
from chalicelib.domain import messages as m
from chalicelib.domain.changes import StreamRecord
from chalicelib.models import School
from chalicelib.repositories import changes as change_repo
from chalicelib.repositories import stream_failures
from chalicelib.services import changes

NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)
REGION = "eu-west-2"


def boto(service: str) -> Any:
    return boto3.client(service, region_name=REGION, config=Config(account_id_endpoint_mode="disabled"))


@pytest.fixture
def queue(aws: None) -> str:
    stream_failures._clients.clear()  # a client made under another mock would not be mocked
    url: str = boto("sqs").create_queue(QueueName=stream_failures.queue_name())["QueueUrl"]
    return url


def school_records() -> tuple[str, str, list[dict[str, Any]]]:
    """The schools stream: its ARN, its shard and every record on it (GetRecords from TRIM_HORIZON)."""
    streams = boto("dynamodbstreams")
    arn = streams.list_streams(TableName=School.Meta.table_name)["Streams"][0]["StreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)["Records"]
    return arn, shard, records


def failure_message(arn: str, shard: str, first: str, last: str, size: int) -> str:
    return json.dumps(
        {
            "requestContext": {"requestId": "r", "functionArn": "arn:aws:lambda:eu-west-2:1:function:f",
                               "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 6},
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "version": "1.0",
            "timestamp": "2024-06-01T12:00:00.000Z",
            "DDBStreamBatchInfo": {"shardId": shard, "startSequenceNumber": first, "endSequenceNumber": last,
                                   "approximateArrivalOfFirstRecord": "2024-06-01T12:00:00Z",
                                   "approximateArrivalOfLastRecord": "2024-06-01T12:00:00Z", "batchSize": size,
                                   "streamArn": arn},
        }
    )  # fmt: skip


def counts(url: str) -> tuple[int, int]:
    attributes = boto("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def feed_of(lead_provider_id: str) -> list[tuple[int, str]]:
    return [(e.seq, e.resource_id) for e in change_repo.read_from_head(lead_provider_id, 1000).entries]


def test_a_failed_batch_is_replayed_once_and_its_message_deleted(world: Any, queue: str) -> None:
    lps = [world.lead_provider("A"), world.lead_provider("B")]
    schools = [world.school() for _ in range(4)]
    arn, shard, records = school_records()
    assert [r["dynamodb"]["NewImage"]["id"]["S"] for r in records] == [s.id for s in schools]
    # The first record got through before the batch failed; the rest of the batch (3 records) was dead-lettered.
    first = records[0]
    changes.record([StreamRecord(School.Meta.table_name, first["eventID"], None, first["dynamodb"]["NewImage"])], NOW)
    failed = records[1:]
    sqs = boto("sqs")
    sqs.send_message(QueueUrl=queue, MessageBody=failure_message(arn, shard, failed[0]["dynamodb"]["SequenceNumber"],
                     failed[-1]["dynamodb"]["SequenceNumber"], len(failed)))  # fmt: skip

    outcomes = changes.replay_failures(NOW)
    assert [(o.replayed, o.records, o.appended, o.table, o.problem) for o in outcomes] == [
        (True, 3, 6, School.Meta.table_name, None)  # three schools, two providers
    ]
    for lp in lps:
        assert feed_of(lp.id) == [(n + 1, s.id) for n, s in enumerate(schools)]
    assert counts(queue) == (0, 0)  # deleted

    # The same batch dead-lettered again (a second failure of a retried batch): nothing more is appended.
    sqs.send_message(QueueUrl=queue, MessageBody=failure_message(arn, shard, records[0]["dynamodb"]["SequenceNumber"],
                     records[-1]["dynamodb"]["SequenceNumber"], len(records)))  # fmt: skip
    (again,) = changes.replay_failures(NOW)
    assert (again.replayed, again.records, again.appended) == (True, 4, 0)
    for lp in lps:
        assert len(feed_of(lp.id)) == 4
    assert changes.replay_failures(NOW) == []


def test_messages_that_cannot_be_replayed_stay_on_the_queue(world: Any, queue: str) -> None:
    world.lead_provider("A")
    world.school()
    arn, shard, records = school_records()
    last = int(records[-1]["dynamodb"]["SequenceNumber"])
    sqs = boto("sqs")
    sqs.send_message(QueueUrl=queue, MessageBody="not json")
    sqs.send_message(QueueUrl=queue, MessageBody=failure_message(arn, shard, str(last + 10), str(last + 11), 2))
    outcomes = changes.replay_failures(NOW)
    assert [o.replayed for o in outcomes] == [False, False]
    problems = sorted(str(o.problem) for o in outcomes)
    assert problems[0].startswith("not a DynamoDB stream failure record (JSONDecodeError: ")
    assert (
        problems[1]
        == m.replay_records_missing(0, 2)
        == "the stream gave 0 of the batch's 2 record(s): left on the queue"
    )
    assert counts(queue) == (0, 2)  # received, not deleted: back after the visibility timeout
    assert changes.replay_failures(NOW) == []  # ...not before


def test_the_admin_command(world: Any, queue: str) -> None:
    lp = world.lead_provider("A")
    school = world.school()
    arn, shard, records = school_records()
    sequence = records[0]["dynamodb"]["SequenceNumber"]
    boto("sqs").send_message(QueueUrl=queue, MessageBody=failure_message(arn, shard, sequence, sequence, 1))
    out, err = io.StringIO(), io.StringIO()
    assert cli.run(["changes", "replay-failures", "--max", "5", "--json"], out, err, configure=False, now=NOW) == 0
    document = json.loads(out.getvalue())
    assert document["queue"] == "ecf-lp-api-test-change-feed-dlq"
    (outcome,) = document["outcomes"]
    assert (outcome["replayed"], outcome["records"], outcome["appended"], outcome["first_sequence"]) == (
        True,
        1,
        1,
        sequence,
    )
    out = io.StringIO()
    assert cli.run(["changes", "replay-failures"], out, err, configure=False, now=NOW) == 0
    assert out.getvalue() == "No failed batches waiting in ecf-lp-api-test-change-feed-dlq.\n"
    assert [e.resource_id for e in change_repo.read_from_head(lp.id, 10).entries] == [school.id]


def test_without_the_queue_the_command_says_so(aws: None) -> None:
    stream_failures._clients.clear()
    out, err = io.StringIO(), io.StringIO()
    assert cli.run(["changes", "replay-failures"], out, err, configure=False, now=NOW) == 1
    assert err.getvalue() == "error: no dead-letter queue named ecf-lp-api-test-change-feed-dlq\n"
    out, err = io.StringIO(), io.StringIO()
    assert cli.run(["changes", "replay-failures", "--max", "0"], out, err, configure=False, now=NOW) == 2
    assert "'0' is not a positive whole number" in err.getvalue()
