"""The per-provider change feed: what a stream record means to each lead provider, and how a page of the feed is
cut from the stored entries (docs/change-feed.md).

Pure rules only. The repositories turn stream images into ``Version`` records (one stored version of something a
provider may see, ``shown`` when the provider's list shows it) and store ``Entry`` records; the services decide,
with the functions here, which entries a stream record appends and which entries a page returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib.domain.clock import start_of_day

PARTICIPANT = "participant"
PARTNERSHIP = "partnership"
SCHOOL = "school"
DECLARATION = "participant-declaration"
STATEMENT = "statement"
RESOURCE_TYPES = (PARTICIPANT, PARTNERSHIP, SCHOOL, DECLARATION, STATEMENT)

CREATED = "created"
UPDATED = "updated"
VISIBLE = "visible"
HIDDEN = "hidden"
CHANGES = (CREATED, UPDATED, VISIBLE, HIDDEN)

# The word for "the provider's list starts showing it": things a provider makes or is given are created;
# things that come into its view (a participant, a listed school) become visible.
APPEARS = {PARTICIPANT: VISIBLE, SCHOOL: VISIBLE, PARTNERSHIP: CREATED, DECLARATION: CREATED, STATEMENT: CREATED}

# A cursor older than RETENTION is refused (410): entries live ENTRY_LIFETIME, so a cursor that is accepted never
# points past an expired entry, with a day to spare for clock skew and DynamoDB's TTL.
RETENTION = timedelta(days=30)
ENTRY_LIFETIME = timedelta(days=31)
# A receipt outlives every redelivery of its stream record: a stream keeps records 24 hours, the event source
# mapping gives up after 12 (infra/template.json MaximumRecordAgeInSeconds), a replay reads the stream too.
RECEIPT_LIFETIME = timedelta(days=3)
# One transaction: the head, and an entry and a receipt per change (DynamoDB allows 100 items a transaction).
ENTRIES_PER_TRANSACTION = 49


class UnknownSource(ValueError):
    """A stream record from a table that does not feed the change feed (a wiring mistake: the batch fails)."""


@dataclass(frozen=True)
class StreamRecord:
    """A stream record as the change feed needs it: its table, its event id (the same however often it is
    delivered), and its images in DynamoDB JSON as the stream carries them (read only by the repositories)."""

    table: str
    event_id: str
    old_image: Mapping[str, Any] | None
    new_image: Mapping[str, Any] | None


@dataclass(frozen=True)
class Version:
    """One stored version of something a provider may see, as a stream image shows it."""

    resource_type: str
    resource_id: str
    lead_provider_id: str | None  # None: every lead provider (schools are listed to all)
    updated_at: datetime
    shown: bool  # the provider's list shows it (in the list's index)


@dataclass(frozen=True)
class Change:
    """One change a provider can see."""

    lead_provider_id: str
    resource_type: str
    resource_id: str
    change: str
    updated_at: datetime


@dataclass(frozen=True)
class NewEntry:
    """A change to append, with the receipt that makes appending it idempotent."""

    receipt: str
    change: Change


@dataclass(frozen=True)
class Entry:
    """A change as the feed stores it: its sequence number and when it was recorded."""

    seq: int
    resource_type: str
    resource_id: str
    change: str
    updated_at: datetime
    recorded_at: datetime


Mark = tuple[date, int]  # (a day, the first sequence number appended on it)
MARKS_KEPT = ENTRY_LIFETIME + timedelta(days=3)


@dataclass(frozen=True)
class Head:
    """A provider's feed: the last sequence number used, when the feed started, and for each recent day the first
    sequence number appended on it (so a reader without a cursor can start inside the retention)."""

    seq: int
    started_at: datetime
    marks: tuple[Mark, ...] = ()


@dataclass(frozen=True)
class Position:
    """Where a reader is: the last sequence number it consumed, and a time no later than the recording of the
    entries after it (what the retention rule compares with)."""

    seq: int
    since: datetime


@dataclass(frozen=True)
class Read:
    """What one Query of a provider's feed found, in sequence order."""

    entries: list[Entry]
    more: bool  # the Query stopped at its limit: more entries may follow
    head: Head | None = None  # when the Query started at the head item (the first page)


@dataclass(frozen=True)
class FeedPage:
    entries: list[Entry]
    next: Position
    latest: Position | None  # None: the same as ``next`` (the page reached the end)
    caught_up: bool


# --------------------------------------------------------------------------- appending


def change_kind(resource_type: str, old: Version | None, new: Version | None) -> str | None:
    """What a change from ``old`` to ``new`` (None: absent) is to a provider, or None when it sees no change."""
    was = old is not None and old.shown
    now = new is not None and new.shown
    if now and not was:
        return APPEARS[resource_type]
    if was and not now:
        return HIDDEN
    if was and now and old is not None and new is not None and old.updated_at != new.updated_at:
        return UPDATED
    return None


def changes_of(old: Version | None, new: Version | None, lead_providers: Iterable[str] = ()) -> list[Change]:
    """The entries a stream record appends: one for its provider, or one per lead provider for what every
    provider sees (``lead_provider_id`` None)."""
    version = new or old
    if version is None:
        return []
    kind = change_kind(version.resource_type, old, new)
    if kind is None:
        return []
    providers = [version.lead_provider_id] if version.lead_provider_id is not None else list(lead_providers)
    return [
        Change(provider, version.resource_type, version.resource_id, kind, version.updated_at) for provider in providers
    ]


def needs_all_providers(old: Version | None, new: Version | None) -> bool:
    version = new or old
    return version is not None and version.lead_provider_id is None


def receipt_key(lead_provider_id: str, event_id: str) -> str:
    """A stream record's change for one provider: the same record delivered again (a retry, a bisected batch, a
    replay from the dead-letter queue) has the same event id, so it appends nothing more."""
    return f"{lead_provider_id}#{event_id}"


def chunks(entries: Sequence[NewEntry], size: int = ENTRIES_PER_TRANSACTION) -> list[list[NewEntry]]:
    return [list(entries[start : start + size]) for start in range(0, len(entries), size)]


# --------------------------------------------------------------------------- reading


def expired(position: Position, now: datetime) -> bool:
    """A cursor the feed can no longer serve: entries after it may have expired."""
    return now - position.since > RETENTION


def contiguous(entries: Sequence[Entry], after: int) -> list[Entry]:
    """The entries ``after + 1, after + 2, ...`` up to the first gap.

    Sequence numbers are handed out without holes, each with its entry in one transaction, so a missing number
    is a transaction a Query saw only part of: the reader stops before it and the next read continues there.
    """
    run: list[Entry] = []
    expected = after + 1
    for entry in entries:
        if entry.seq != expected:
            break
        run.append(entry)
        expected += 1
    return run


@dataclass(frozen=True)
class Cut:
    """A page cut from a contiguous run: the entries to show, and the last sequence number consumed."""

    entries: list[Entry]
    last_seq: int
    last_recorded_at: datetime | None
    consumed_run: bool  # every entry of the run was consumed (shown, or skipped by the filter)


def cut(run: Sequence[Entry], after: int, types: frozenset[str] | None, per_page: int) -> Cut:
    """Up to ``per_page`` entries of the run that pass the type filter. Entries the filter skips are consumed
    too (the cursor moves past them), so every reader sees the same sequence whatever its filter."""
    shown: list[Entry] = []
    last_seq, last_at = after, None
    for entry in run:
        wanted = types is None or entry.resource_type in types
        if wanted and len(shown) == per_page:
            return Cut(shown, last_seq, last_at, consumed_run=False)
        if wanted:
            shown.append(entry)
        last_seq, last_at = entry.seq, entry.recorded_at
    return Cut(shown, last_seq, last_at, consumed_run=True)


def page(read: Read, start: Position, types: frozenset[str] | None, per_page: int, now: datetime) -> FeedPage:
    """The page a reader at ``start`` gets from what one Query read.

    ``next.since``: now when the page reached the end of the feed (entries recorded later are recorded after
    now), otherwise the recording time of the last entry consumed (the entries after it were recorded later).
    """
    run = contiguous(read.entries, start.seq)
    taken = cut(run, start.seq, types, per_page)
    at_end = taken.consumed_run and len(run) == len(read.entries) and not read.more
    if at_end:
        following = Position(taken.last_seq, now)
        return FeedPage(taken.entries, following, None, caught_up=True)
    since = taken.last_recorded_at or start.since
    return FeedPage(taken.entries, Position(taken.last_seq, since), None, caught_up=False)


def start_of_feed(head: Head | None, now: datetime) -> Position:
    """Where a reader without a cursor starts: before sequence number 1 while the feed is younger than the
    retention (nothing has expired); in an older feed, before the first entry of the first day inside the
    retention (older entries are expiring: a cursor among them would be refused), or at the end if there is none.
    """
    if head is None:
        return Position(0, now)
    if now - head.started_at <= RETENTION:
        return Position(0, head.started_at)
    cutoff = now - RETENTION
    for day, seq in head.marks:
        if start_of_day(day) >= cutoff:
            return Position(seq - 1, start_of_day(day))
    return Position(head.seq, now)


def next_marks(marks: Sequence[Mark], first_seq: int, now: datetime) -> tuple[Mark, ...] | None:
    """The head's marks after appending from ``first_seq`` at ``now``; None when they stay as they are."""
    today = now.date()
    if marks and marks[-1][0] >= today:
        return None
    kept = [(day, seq) for day, seq in marks if start_of_day(day) >= now - MARKS_KEPT]
    return (*kept, (today, first_seq))


def latest(head: Head | None, now: datetime) -> Position:
    """A cursor at the feed's current end (``links.latest``)."""
    return Position(head.seq if head is not None else 0, now)


def parse_types(raw: str | None) -> frozenset[str] | None:
    """``filter[resource_type]=participant,school``: None when absent or blank; ValueError naming an unknown one."""
    if raw is None or not raw.strip():
        return None
    names = [part.strip() for part in raw.split(",") if part.strip()]
    unknown = [name for name in names if name not in RESOURCE_TYPES]
    if unknown:
        raise ValueError(unknown[0])
    return frozenset(names) or None
