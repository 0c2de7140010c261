"""Failed stream batches: what the event source mapping's on-failure destination records, and what replaying one
did (docs/change-feed.md, "Failed batches").

When a batch still fails after its retries (bisected on error), Lambda puts an invocation record on the function's
dead-letter queue. It names the batch, not its contents::

    {"requestContext": {"condition": "RetryAttemptsExhausted", ...}, "responseContext": {...},
     "DDBStreamBatchInfo": {"shardId": "...", "startSequenceNumber": "...", "endSequenceNumber": "...",
                            "batchSize": 3, "streamArn": "arn:aws:dynamodb:...:table/<table>/stream/<label>", ...}}

so a replay reads those records from the stream again (they stay 24 hours) and hands them to the same code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chalicelib.domain import messages as m
from chalicelib.domain.errors import DomainError

ARN_PARTS = 6  # arn:partition:service:region:account:resource


@dataclass(frozen=True)
class FailedBatch:
    """One dead-letter message: the stream, shard and sequence-number range of a batch that failed."""

    message_id: str
    receipt_handle: str
    stream_arn: str
    shard_id: str
    first_sequence: str
    last_sequence: str
    size: int
    condition: str | None = None

    @property
    def table(self) -> str:
        return table_of_stream(self.stream_arn)


@dataclass(frozen=True)
class ReplayOutcome:
    """What replaying one dead-letter message did. The message is deleted only when ``replayed``."""

    message_id: str
    table: str | None
    shard_id: str | None
    first_sequence: str | None
    last_sequence: str | None
    records: int
    appended: int
    replayed: bool
    problem: str | None = None


class Unreplayable(DomainError):
    """A message or a batch that cannot be replayed (unreadable, or its records no longer in the stream)."""


def table_of_stream(stream_arn: str) -> str:
    """``arn:aws:dynamodb:eu-west-2:123:table/<table>/stream/<label>`` -> ``<table>``."""
    parts = stream_arn.split(":", ARN_PARTS - 1)
    resource = parts[-1].split("/") if len(parts) == ARN_PARTS else []
    if len(resource) < 2 or resource[0] != "table":  # noqa: PLR2004 - "table/<name>"
        raise Unreplayable(m.replay_not_a_stream(stream_arn))
    return resource[1]


def parse_failure(message_id: str, receipt_handle: str, body: str) -> FailedBatch:
    """The batch an on-failure invocation record names; ``Unreplayable`` when the body is not one."""
    try:
        record: Any = json.loads(body)
        info = record["DDBStreamBatchInfo"]
        batch = FailedBatch(
            message_id=message_id,
            receipt_handle=receipt_handle,
            stream_arn=str(info["streamArn"]),
            shard_id=str(info["shardId"]),
            first_sequence=str(info["startSequenceNumber"]),
            last_sequence=str(info["endSequenceNumber"]),
            size=int(info.get("batchSize") or 0),
            condition=(record.get("requestContext") or {}).get("condition"),
        )
    except (ValueError, KeyError, TypeError) as error:
        raise Unreplayable(m.replay_not_a_failure_record(f"{type(error).__name__}: {error}")) from error
    table_of_stream(batch.stream_arn)
    if not (batch.first_sequence.isdigit() and batch.last_sequence.isdigit()):
        raise Unreplayable(m.REPLAY_BAD_SEQUENCE_NUMBERS)
    return batch


def in_range(sequence_number: str, batch: FailedBatch) -> bool:
    """Sequence numbers are decimal strings of up to 40 digits: compare them as numbers."""
    return int(batch.first_sequence) <= int(sequence_number) <= int(batch.last_sequence)
