"""The change feed's pure rules (chalicelib/domain/changes.py, domain/stream_failures.py): what a stream record
means to each provider, how a page is cut from stored entries, where a reader without a cursor starts."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.domain import changes as feed
from chalicelib.domain import messages as m
from chalicelib.domain.changes import Entry, Head, Position, Read, Version
from chalicelib.domain.stream_failures import Unreplayable, in_range, parse_failure, table_of_stream

NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)
T1, T2 = NOW - timedelta(hours=2), NOW - timedelta(hours=1)


def version(kind: str = feed.PARTICIPANT, *, shown: bool = True, at: datetime = T1, lp: str | None = "lp") -> Version:
    return Version(kind, "id-1", lp, at, shown)


def entry(seq: int, kind: str = feed.PARTICIPANT, *, recorded: datetime = NOW) -> Entry:
    return Entry(seq, kind, f"id-{seq}", feed.UPDATED, T1, recorded)


# --------------------------------------------------------------------------- what a record means


@pytest.mark.parametrize(
    ("kind", "old", "new", "expected"),
    [
        (feed.PARTICIPANT, None, True, feed.VISIBLE),  # a new view, visible
        (feed.PARTICIPANT, False, True, feed.VISIBLE),  # became visible (a partnership reported again)
        (feed.PARTICIPANT, True, False, feed.HIDDEN),  # challenged partnership
        (feed.PARTICIPANT, True, None, feed.HIDDEN),  # REMOVE
        (feed.PARTICIPANT, False, False, None),  # hidden before and after
        (feed.PARTICIPANT, None, False, None),  # a view that was never shown
        (feed.PARTNERSHIP, None, True, feed.CREATED),
        (feed.PARTNERSHIP, None, False, None),  # a relationship row
        (feed.SCHOOL, None, True, feed.VISIBLE),  # listed from the start
        (feed.SCHOOL, True, False, feed.HIDDEN),  # left the list (challenge of its only partnership)
        (feed.DECLARATION, None, True, feed.CREATED),
        (feed.DECLARATION, True, None, feed.HIDDEN),  # another provider's declaration no longer visible
        (feed.STATEMENT, None, True, feed.CREATED),
        (feed.STATEMENT, None, False, None),  # not an output-fee statement
    ],
)
def test_appearing_and_disappearing(kind: str, old: bool | None, new: bool | None, expected: str | None) -> None:
    before = None if old is None else version(kind, shown=old)
    after = None if new is None else version(kind, shown=new, at=T2)
    assert feed.change_kind(kind, before, after) == expected


def test_a_shown_resource_is_updated_only_when_its_updated_at_moves() -> None:
    assert feed.change_kind(feed.PARTICIPANT, version(at=T1), version(at=T2)) == feed.UPDATED
    # moto's identical put, a write of something the list does not show, a transfers-only change: nothing
    assert feed.change_kind(feed.PARTICIPANT, version(at=T1), version(at=T1)) is None


def test_a_change_goes_to_its_provider_and_a_school_change_to_every_provider() -> None:
    (change,) = feed.changes_of(version(at=T1), version(at=T2), ["other"])
    assert change == feed.Change("lp", feed.PARTICIPANT, "id-1", feed.UPDATED, T2)
    school = version(feed.SCHOOL, lp=None, at=T2)
    assert feed.needs_all_providers(None, school)
    assert not feed.needs_all_providers(None, version())
    assert [c.lead_provider_id for c in feed.changes_of(None, school, ["a", "b", "c"])] == ["a", "b", "c"]
    assert {c.change for c in feed.changes_of(None, school, ["a", "b"])} == {feed.VISIBLE}
    assert feed.changes_of(None, None) == []
    # The hidden entry names the version that disappeared (a REMOVE has no new image).
    (hidden,) = feed.changes_of(version(at=T1), None)
    assert (hidden.change, hidden.updated_at) == (feed.HIDDEN, T1)


def test_receipts_are_per_provider_and_stream_record() -> None:
    """The same record for another provider, or another record for the same provider, is another receipt; the
    same record delivered again is the same receipt whatever its content says (a hide and re-show of a
    participant within one millisecond are two records, so both are appended)."""
    assert feed.receipt_key("lp", "e1") == "lp#e1"
    assert len({feed.receipt_key("lp", "e1"), feed.receipt_key("lp2", "e1"), feed.receipt_key("lp", "e2")}) == 3


def test_chunks_of_a_transaction() -> None:
    entries = [feed.NewEntry(f"r{i}", feed.Change("lp", feed.SCHOOL, str(i), feed.UPDATED, T1)) for i in range(100)]
    assert [len(c) for c in feed.chunks(entries)] == [49, 49, 2]
    assert feed.chunks([]) == []


# --------------------------------------------------------------------------- reading


def test_contiguous_stops_before_the_first_missing_number() -> None:
    assert [e.seq for e in feed.contiguous([entry(5), entry(6), entry(8)], 4)] == [5, 6]
    assert feed.contiguous([entry(6)], 4) == []  # 5 is a transaction the Query saw only part of
    assert feed.contiguous([], 4) == []


def test_a_page_of_a_feed_that_has_more() -> None:
    read = Read([entry(1, recorded=T1), entry(2, recorded=T2), entry(3)], more=True)
    result = feed.page(read, Position(0, T1), None, 2, NOW)
    assert [e.seq for e in result.entries] == [1, 2]
    assert result.next == Position(2, T2)  # the last consumed entry's recording time
    assert not result.caught_up


def test_a_page_that_reaches_the_end_moves_the_cursor_time_to_now() -> None:
    read = Read([entry(4, recorded=T1), entry(5, recorded=T1)], more=False)
    result = feed.page(read, Position(3, T1 - timedelta(days=3)), None, 100, NOW)
    assert [e.seq for e in result.entries] == [4, 5]
    assert result.next == Position(5, NOW)
    assert result.caught_up


def test_a_page_stops_at_a_gap_and_keeps_its_cursor() -> None:
    start = Position(3, T1)
    result = feed.page(Read([entry(5), entry(6)], more=False), start, None, 100, NOW)
    assert result.entries == []
    assert result.next == start  # the next read starts at 4 again
    assert not result.caught_up
    result = feed.page(Read([entry(4, recorded=T2), entry(6)], more=False), start, None, 100, NOW)
    assert [e.seq for e in result.entries] == [4]
    assert result.next == Position(4, T2)
    assert not result.caught_up


def test_the_type_filter_consumes_what_it_skips() -> None:
    read = Read(
        [entry(1, feed.SCHOOL), entry(2), entry(3, feed.SCHOOL), entry(4), entry(5), entry(6, feed.SCHOOL)],
        more=False,
    )
    only = frozenset({feed.PARTICIPANT})
    first = feed.page(read, Position(0, T1), only, 2, NOW)
    assert [e.seq for e in first.entries] == [2, 4]
    assert first.next.seq == 4  # the school at 3 is consumed; the participant at 5 is not
    assert not first.caught_up
    rest = Read([e for e in read.entries if e.seq > first.next.seq], more=False)
    second = feed.page(rest, first.next, only, 2, NOW)
    assert [e.seq for e in second.entries] == [5]
    assert second.next == Position(6, NOW)  # the trailing school consumed too: the end
    assert second.caught_up


def test_expired_cursors() -> None:
    assert not feed.expired(Position(1, NOW - feed.RETENTION), NOW)
    assert feed.expired(Position(1, NOW - feed.RETENTION - timedelta(seconds=1)), NOW)
    assert timedelta(days=1) <= feed.ENTRY_LIFETIME - feed.RETENTION  # an accepted cursor never meets an expiry


def test_a_reader_without_a_cursor_starts_inside_the_retention() -> None:
    assert feed.start_of_feed(None, NOW) == Position(0, NOW)  # nothing recorded yet
    young = Head(seq=500, started_at=NOW - timedelta(days=29))
    assert feed.start_of_feed(young, NOW) == Position(0, young.started_at)  # nothing has expired
    days = [(NOW - timedelta(days=d)).date() for d in (32, 31, 30, 29, 2)]
    old = Head(
        seq=900, started_at=NOW - timedelta(days=40), marks=tuple(zip(days, (100, 200, 300, 400, 800), strict=True))
    )
    # The first day starting inside the last 30 days is 29 days ago: start before its first entry.
    day = datetime(days[3].year, days[3].month, days[3].day, tzinfo=UTC)
    assert feed.start_of_feed(old, NOW) == Position(399, day)
    idle = Head(seq=900, started_at=NOW - timedelta(days=90), marks=((date(2024, 1, 1), 100),))
    assert feed.start_of_feed(idle, NOW) == Position(900, NOW)  # nothing recorded in 30 days: start at the end


def test_marks_record_each_days_first_number_and_forget_old_days() -> None:
    assert feed.next_marks((), 1, NOW) == ((NOW.date(), 1),)
    assert feed.next_marks(((NOW.date(), 1),), 7, NOW) is None  # today already has its mark
    old = ((date(2024, 1, 1), 1), ((NOW - timedelta(days=3)).date(), 50))
    assert feed.next_marks(old, 99, NOW) == (((NOW - timedelta(days=3)).date(), 50), (NOW.date(), 99))


def test_latest_is_the_head() -> None:
    assert feed.latest(Head(7, T1), NOW) == Position(7, NOW)
    assert feed.latest(None, NOW) == Position(0, NOW)


def test_resource_type_filter() -> None:
    assert feed.parse_types(None) is None
    assert feed.parse_types(" ") is None
    assert feed.parse_types("participant, school") == frozenset({feed.PARTICIPANT, feed.SCHOOL})
    with pytest.raises(ValueError, match="schools"):
        feed.parse_types("participant,schools")
    assert m.CHANGES_RESOURCE_TYPE_INVALID == (
        "The filter '#/resource_type' must be a comma-separated list of "
        '["participant", "partnership", "school", "participant-declaration", "statement"]'
    )
    assert json.loads(m.CHANGES_RESOURCE_TYPE_INVALID.split(" of ", 1)[1]) == list(feed.RESOURCE_TYPES)


# --------------------------------------------------------------------------- dead-letter messages

ARN = "arn:aws:dynamodb:eu-west-2:123456789012:table/ecf-lp-api-dev-schools/stream/2024-06-01T00:00:00.000"


def failure(**info: object) -> str:
    batch = {
        "shardId": "shardId-1",
        "startSequenceNumber": "100",
        "endSequenceNumber": "102",
        "batchSize": 3,
        "streamArn": ARN,
        **info,
    }
    return json.dumps({"requestContext": {"condition": "RetryAttemptsExhausted"}, "DDBStreamBatchInfo": batch})


def test_a_dead_letter_message_names_its_batch() -> None:
    batch = parse_failure("m1", "h1", failure())
    assert (batch.table, batch.shard_id, batch.first_sequence, batch.last_sequence, batch.size) == (
        "ecf-lp-api-dev-schools",
        "shardId-1",
        "100",
        "102",
        3,
    )
    assert batch.condition == "RetryAttemptsExhausted"
    assert [in_range(s, batch) for s in ("99", "100", "102", "1000")] == [False, True, True, False]
    assert table_of_stream(ARN) == "ecf-lp-api-dev-schools"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("not json", "not a DynamoDB stream failure record (JSONDecodeError: "),
        (json.dumps({"requestContext": {}}), "not a DynamoDB stream failure record (KeyError: 'DDBStreamBatchInfo')"),
        (failure(streamArn="arn:aws:sqs:eu-west-2:1:q"), m.replay_not_a_stream("arn:aws:sqs:eu-west-2:1:q")),
        (failure(startSequenceNumber="x"), m.REPLAY_BAD_SEQUENCE_NUMBERS),
    ],
)
def test_unreadable_dead_letter_messages(body: str, message: str) -> None:
    with pytest.raises(Unreplayable) as raised:
        parse_failure("m1", "h1", body)
    assert str(raised.value).startswith(message)
