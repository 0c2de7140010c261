"""The change feed's storage (docs/change-feed.md): what the source tables' stream images say, appending entries
exactly once with contiguous sequence numbers, and reading a provider's feed.

Appending, for one provider and up to 49 changes: read the head (a consistent GetItem), then one
TransactWriteItems that puts each entry at the next sequence numbers, puts each change's receipt on the condition
that it does not exist yet, and moves the head on the condition that it is still what was read. A cancelled
transaction says which of its items failed: an existing receipt means that change was appended before (a
redelivered stream record) and is dropped; a moved head means another appender won the race, so the head is
read again. Either way the rest is tried again, a bounded number of times.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from chalicelib import config
from chalicelib.domain.changes import (
    DECLARATION,
    ENTRY_LIFETIME,
    PARTICIPANT,
    PARTNERSHIP,
    RECEIPT_LIFETIME,
    SCHOOL,
    STATEMENT,
    Change,
    Entry,
    Head,
    Mark,
    NewEntry,
    Read,
    UnknownSource,
    Version,
    chunks,
    next_marks,
)
from chalicelib.domain.clock import parse_timestamp
from chalicelib.models import Partnership, School
from chalicelib.models.changes import HEAD_SEQ, ChangeItem, ChangeReceipt
from chalicelib.models.finance import ProviderDeclarationItem, StatementItem
from chalicelib.models.participants import ProviderParticipant
from chalicelib.repositories import providers as provider_repo
from chalicelib.repositories.common import transaction

# Appenders racing for one provider's head: each lost race means another appender moved the feed on, so a few
# attempts (with jitter) suffice; past that the stream batch fails and Lambda retries it.
MAX_LOST_RACES = 12
BACKOFF_SECONDS = 0.01
MAX_BACKOFF_SECONDS = 0.5
CONDITION_FAILED = "ConditionalCheckFailed"
TRANSACTION_CONFLICT = "TransactionConflict"


class AppendContention(Exception):
    """The head moved under every attempt: the batch fails and the event source mapping retries it."""


# --------------------------------------------------------------------------- what the stream images say


def _participant(item: ProviderParticipant) -> Version:
    """The participants list shows a provider's views with ``vis`` (its sparse indexes)."""
    return Version(PARTICIPANT, item.user_id, item.lead_provider_id, item.updated_at, item.visible_to is not None)


def _partnership(item: Partnership) -> Version:
    """The partnerships list shows rows with ``lpv``: reported rows, not relationship rows."""
    shown = item.lead_provider_visible is not None
    return Version(PARTNERSHIP, item.id, item.lead_provider_id, item.updated_at, shown)


def _school(item: School) -> Version:
    """The schools list (any cohort) shows schools with ``lst``; every lead provider sees the same list."""
    return Version(SCHOOL, item.id, None, item.updated_at, item.listed is not None)


def _declaration(item: ProviderDeclarationItem) -> Version:
    """The declarations list shows every read-model item of the provider; its time is in ``uk`` (time#id)."""
    updated_at = parse_timestamp(item.updated_key.split("#", 1)[0])
    if updated_at is None:
        raise ValueError(f"provider declaration {item.declaration_id}: no time in its updated key")
    return Version(DECLARATION, item.declaration_id, item.lead_provider_id, updated_at, True)


def _statement(item: StatementItem) -> Version:
    """The statements list shows the provider's output-fee statements."""
    return Version(STATEMENT, item.id, item.lead_provider_id, item.updated_at, bool(item.output_fee))


_SOURCES: tuple[tuple[type[Model], Callable[[Any], Version]], ...] = (
    (ProviderParticipant, _participant),
    (Partnership, _partnership),
    (School, _school),
    (ProviderDeclarationItem, _declaration),
    (StatementItem, _statement),
)


def source_models() -> tuple[type[Model], ...]:
    """The tables whose streams feed the change feed."""
    return tuple(model for model, _ in _SOURCES)


def versions(
    table_name: str, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None
) -> tuple[Version | None, Version | None]:
    """The old and new versions a stream record of ``table_name`` carries (images in DynamoDB JSON)."""
    for model, decode in _SOURCES:
        if model.Meta.table_name == table_name:
            return (
                decode(model.from_raw_data(dict(old))) if old else None,
                decode(model.from_raw_data(dict(new))) if new else None,
            )
    raise UnknownSource(table_name)


_providers_cache: list[tuple[float, tuple[str, ...]]] = []


def lead_provider_ids() -> tuple[str, ...]:
    """Every lead provider (a school change goes to each), cached per process for REFERENCE_CACHE_SECONDS: a
    provider added meanwhile starts its feed with a full sync anyway (docs/change-feed.md)."""
    ttl = config.current().reference_cache_seconds
    if _providers_cache and ttl > 0 and _providers_cache[0][0] > time.monotonic():
        return _providers_cache[0][1]
    ids = tuple(provider.id for provider in provider_repo.list_lead_providers())
    _providers_cache.clear()
    if ttl > 0:
        _providers_cache.append((time.monotonic() + ttl, ids))
    return ids


def clear_cache() -> None:
    _providers_cache.clear()


# --------------------------------------------------------------------------- items <-> records


def _entry(item: ChangeItem) -> Entry:
    return Entry(
        seq=int(item.seq),
        resource_type=str(item.resource_type),
        resource_id=str(item.resource_id),
        change=str(item.change),
        updated_at=item.updated_at,
        recorded_at=item.recorded_at,
    )


def _marks(raw: Any) -> tuple[Mark, ...]:
    return tuple((date.fromisoformat(str(day)), int(seq)) for day, seq in raw or ())


def _head(item: ChangeItem) -> Head:
    return Head(seq=int(item.head or 0), started_at=item.started_at, marks=_marks(item.marks))


def _entry_item(lead_provider_id: str, seq: int, change: Change, now: datetime) -> ChangeItem:
    return ChangeItem(
        lead_provider_id=lead_provider_id,
        seq=seq,
        resource_type=change.resource_type,
        resource_id=change.resource_id,
        change=change.change,
        updated_at=change.updated_at,
        recorded_at=now,
        expires_at=now + ENTRY_LIFETIME,
    )


# --------------------------------------------------------------------------- reading


def get_head(lead_provider_id: str) -> Head | None:
    try:
        return _head(ChangeItem.get(lead_provider_id, HEAD_SEQ, consistent_read=True))
    except ChangeItem.DoesNotExist:
        return None


def _query(lead_provider_id: str, condition: Any, limit: int) -> tuple[list[ChangeItem], bool]:
    """One consistent Query (never more, whatever DynamoDB's 1 MB page holds); and whether it stopped early."""
    response = ChangeItem._get_connection().query(
        lead_provider_id, range_key_condition=condition, limit=limit, consistent_read=True
    )
    items = [ChangeItem.from_raw_data(raw) for raw in response.get("Items", [])]
    return items, bool(response.get("LastEvaluatedKey"))


def read_from_head(lead_provider_id: str, limit: int) -> Read:
    """The head and the first ``limit`` entries after it (one Query)."""
    items, more = _query(lead_provider_id, ChangeItem.seq >= HEAD_SEQ, limit + 1)
    head = _head(items.pop(0)) if items and int(items[0].seq) == HEAD_SEQ else None
    return Read([_entry(item) for item in items], more, head)


def read_after(lead_provider_id: str, after: int, limit: int) -> Read:
    """Up to ``limit`` entries with sequence numbers above ``after``, in order (one Query)."""
    items, more = _query(lead_provider_id, ChangeItem.seq > after, limit)
    return Read([_entry(item) for item in items], more)


# --------------------------------------------------------------------------- appending


def append(lead_provider_id: str, entries: Sequence[NewEntry], now: datetime) -> int:
    """Append the changes not appended before, in order, at the next sequence numbers. Returns how many."""
    return sum(_append_chunk(lead_provider_id, chunk, now) for chunk in chunks(entries))


@dataclass
class _Refusal:
    """Why a transaction was cancelled: which changes were appended before, and whether the head moved."""

    recorded: set[int] = field(default_factory=set)  # indexes into the changes tried
    lost_race: bool = False
    head: Head | None = None  # the head the transaction found, when DynamoDB returned it


def _append_chunk(lead_provider_id: str, chunk: Sequence[NewEntry], now: datetime) -> int:
    pending = list(chunk)
    head = get_head(lead_provider_id)
    lost = 0
    while pending:
        try:
            _transact(lead_provider_id, head, pending, now)
        except TransactWriteError as error:
            refusal = _refusal(error, len(pending))
            pending = [entry for i, entry in enumerate(pending) if i not in refusal.recorded]
            if refusal.lost_race:
                lost += 1
                if lost > MAX_LOST_RACES:
                    raise AppendContention(f"feed {lead_provider_id}: lost {lost} races for its head") from error
                time.sleep(random.uniform(0, min(MAX_BACKOFF_SECONDS, BACKOFF_SECONDS * 2**lost)))
                head = refusal.head or get_head(lead_provider_id)
            continue
        return len(pending)
    return 0


def _transact(lead_provider_id: str, head: Head | None, pending: Sequence[NewEntry], now: datetime) -> None:
    """One transaction. PynamoDB sends puts before updates, so its items are, in order: the entries, the
    receipts, the head (``_refusal`` reads the cancellation reasons in that order)."""
    old = head.seq if head is not None else HEAD_SEQ
    with transaction() as tx:
        for offset, new in enumerate(pending, start=1):
            item = _entry_item(lead_provider_id, old + offset, new.change, now)
            tx.save(item, condition=ChangeItem.seq.does_not_exist())
        for offset, new in enumerate(pending, start=1):
            receipt = ChangeReceipt(receipt=new.receipt, seq=old + offset, expires_at=now + RECEIPT_LIFETIME)
            tx.save(receipt, condition=ChangeReceipt.receipt.does_not_exist())
        actions: list[Action] = [
            ChangeItem.head.set(old + len(pending)),
            ChangeItem.started_at.set(ChangeItem.started_at | now),
        ]
        marks = next_marks(head.marks if head is not None else (), old + 1, now)
        if marks is not None:
            actions.append(ChangeItem.marks.set([[day.isoformat(), seq] for day, seq in marks]))
        tx.update(
            ChangeItem(lead_provider_id=lead_provider_id, seq=HEAD_SEQ),
            actions=actions,
            condition=ChangeItem.head == old if head is not None else ChangeItem.head.does_not_exist(),
            return_values="ALL_OLD",
        )


def _refusal(error: TransactWriteError, count: int) -> _Refusal:
    """Read a cancelled transaction's reasons (entries ``0..count-1``, receipts ``count..2*count-1``, then the
    head). Anything but a failed condition or a conflict with another transaction is raised again."""
    reasons = error.cancellation_reasons
    if not reasons:
        raise error
    refusal = _Refusal()
    for index, reason in enumerate(reasons):
        if reason is None:
            continue
        if reason.code == CONDITION_FAILED and count <= index < 2 * count:
            refusal.recorded.add(index - count)
        elif reason.code == CONDITION_FAILED and index == 2 * count:
            refusal.lost_race = True
            refusal.head = _head(ChangeItem.from_raw_data(reason.raw_item)) if reason.raw_item else None
        elif reason.code in (CONDITION_FAILED, TRANSACTION_CONFLICT):
            refusal.lost_race = True  # an entry's number taken, or a concurrent transaction: read the head again
        else:
            raise error
    return refusal
