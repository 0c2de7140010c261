"""The per-provider change feed (docs/change-feed.md): recording what the source tables' streams say, reading a
page of a provider's feed, and replaying failed stream batches from the dead-letter queue.

Recording runs in the ``record_changes`` stream handler only: the API's writes do no extra work for the feed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from chalicelib.domain import messages as m
from chalicelib.domain.changes import (
    FeedPage,
    NewEntry,
    Position,
    Read,
    StreamRecord,
    changes_of,
    expired,
    latest,
    needs_all_providers,
    page,
    receipt_key,
    start_of_feed,
)
from chalicelib.domain.errors import Gone
from chalicelib.domain.stream_failures import FailedBatch, ReplayOutcome, Unreplayable
from chalicelib.repositories import changes as repo
from chalicelib.repositories import stream_failures as failures

log = logging.getLogger("ecf.changes")

# A page filtered by resource type reads up to this many entries (about 260 KB) in its one Query, so a rare type
# still fills pages; an unfiltered page reads one more than it shows (to know whether it reached the end).
FILTERED_READ = 1000
REPLAY_MAX_DEFAULT = 10
KEPT_MESSAGES_RETURN_AFTER = failures.VISIBILITY_SECONDS  # a message not replayed is received again after this


# --------------------------------------------------------------------------- recording


def record(records: Sequence[StreamRecord], now: datetime) -> int:
    """Append, for each provider, the changes a batch of stream records carries, in the records' order. A record
    delivered again appends nothing. Returns the entries appended."""
    by_provider: dict[str, list[NewEntry]] = {}
    for stream_record in records:
        old, new = repo.versions(stream_record.table, stream_record.old_image, stream_record.new_image)
        providers = repo.lead_provider_ids() if needs_all_providers(old, new) else ()
        for change in changes_of(old, new, providers):
            receipt = receipt_key(change.lead_provider_id, stream_record.event_id)
            by_provider.setdefault(change.lead_provider_id, []).append(NewEntry(receipt, change))
    return sum(repo.append(provider, entries, now) for provider, entries in by_provider.items())


# --------------------------------------------------------------------------- reading


def read_feed(
    lead_provider_id: str,
    position: Position | None,
    *,
    types: frozenset[str] | None,
    per_page: int,
    now: datetime,
) -> FeedPage:
    """One page of the provider's feed after ``position`` (None: from the oldest change retained).

    One consistent Query (two for a reader without a cursor on a feed older than the retention); plus one GetItem
    of the head for ``latest`` when the page did not reach the end. ``Gone`` for a cursor older than the retention.
    """
    limit = per_page + 1 if types is None else max(per_page + 1, FILTERED_READ)
    if position is not None:
        if expired(position, now):
            raise Gone(m.CHANGES_CURSOR_EXPIRED, m.CHANGES_CURSOR_EXPIRED_TITLE)
        read, start = repo.read_after(lead_provider_id, position.seq, limit), position
    else:
        read, start = _from_the_start(lead_provider_id, limit, now)
    result = page(read, start, types, per_page, now)
    if result.caught_up:
        return result
    head = read.head if read.head is not None else repo.get_head(lead_provider_id)
    return replace(result, latest=latest(head, now))


def _from_the_start(lead_provider_id: str, limit: int, now: datetime) -> tuple[Read, Position]:
    read = repo.read_from_head(lead_provider_id, limit)
    start = start_of_feed(read.head, now)
    if start.seq == 0:
        return read, start
    # An older feed: its first entries are expiring, so start inside the retention (see start_of_feed).
    return replace(repo.read_after(lead_provider_id, start.seq, limit), head=read.head), start


# --------------------------------------------------------------------------- failed batches


def dead_letter_queue() -> str:
    """The name of the queue failed change-feed batches go to (infra/template.json ChangeFeedDeadLetterQueue)."""
    return failures.queue_name()


def replay_failures(now: datetime, *, max_messages: int = REPLAY_MAX_DEFAULT) -> list[ReplayOutcome]:
    """Replay up to ``max_messages`` failed batches from the change feed's dead-letter queue: read each batch's
    records from the stream again and record them (idempotently: what was appended before is not appended
    again). A message is deleted only when all its records were read and recorded; the others come back to the
    queue for the next run."""
    outcomes = []
    for message in failures.failed_batches(max_messages):
        if isinstance(message, FailedBatch):
            outcomes.append(_replay(message, now))
        else:
            message_id, _, problem = message
            outcomes.append(ReplayOutcome(message_id, None, None, None, None, 0, 0, False, str(problem)))
    return outcomes


def _replay(batch: FailedBatch, now: datetime) -> ReplayOutcome:
    outcome = ReplayOutcome(
        batch.message_id, batch.table, batch.shard_id, batch.first_sequence, batch.last_sequence, 0, 0, False
    )
    try:
        records = failures.records_of(batch)
        if not records or (batch.size and len(records) < batch.size):
            raise Unreplayable(m.replay_records_missing(len(records), batch.size))
        appended = record(records, now)
    except Unreplayable as problem:
        return replace(outcome, problem=str(problem))
    except Exception as error:  # reported and kept on the queue, so one bad batch does not stop the rest
        log.exception("replaying %s failed", batch.message_id)
        return replace(outcome, problem=f"{type(error).__name__}: {error}")
    failures.delete(batch.receipt_handle)
    return replace(outcome, records=len(records), appended=appended, replayed=True)
