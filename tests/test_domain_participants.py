"""Induction record rules with fixed times: latest order, the history rule, derived statuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.domain.participants import (
    TRANSITIONS,
    Record,
    change,
    is_active,
    latest,
    latest_first,
    participant_status,
    v1_status,
)

NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)
DAY = timedelta(days=1)


def record(rid, start, end=None, status="active", created=None, transfer=False, training="active"):
    return Record(
        id=rid, programme_id="p", school_id="s", school_urn="100000", start_date=start, end_date=end,
        training_status=training, induction_status=status, email=None, mentor_profile_id=None, mentor_user_id=None,
        schedule_identifier="ecf-standard-september", schedule_cohort=2024, school_transfer=transfer,
        appropriate_body=None, created_at=created or start, updated_at=created or start,
    )  # fmt: skip


def test_latest_prefers_open_records_then_later_starts():
    closed_late = record("a", NOW - DAY, NOW)
    open_early = record("b", NOW - 10 * DAY)
    open_late = record("c", NOW - 2 * DAY)
    assert [r.id for r in latest_first([closed_late, open_early, open_late])] == ["c", "b", "a"]
    assert latest([closed_late, open_early], lambda r: r.id != "b").id == "a"
    assert latest([], lambda r: True) is None


def test_change_closes_the_current_record_and_opens_a_copy():
    current = record("a", NOW - 10 * DAY)
    out = change([current], current, NOW, training_status="deferred")
    old = next(r for r in out if r.id == "a")
    new = next(r for r in out if r.id != "a")
    assert (old.induction_status, old.end_date, old.training_status) == ("changed", NOW, "active")
    assert (new.start_date, new.end_date, new.training_status, new.induction_status) == (
        NOW,
        None,
        "deferred",
        "active",
    )


def test_change_edits_a_future_record_in_place():
    future = record("a", NOW + 5 * DAY)
    (out,) = change([future], future, NOW, training_status="withdrawn")
    assert out.id == "a"
    assert out.training_status == "withdrawn"
    assert out.start_date == NOW + 5 * DAY


def test_statuses():
    assert participant_status(record("a", NOW - DAY), NOW) == "active"
    assert participant_status(record("a", NOW + DAY), NOW) == "joining"
    assert participant_status(record("a", NOW - DAY, NOW + DAY, status="leaving"), NOW) == "leaving"
    assert participant_status(record("a", NOW - 9 * DAY, NOW - DAY, status="leaving"), NOW) == "left"
    assert participant_status(record("a", NOW - DAY, status="withdrawn"), NOW) == "withdrawn"
    assert v1_status(record("a", NOW, status="changed")) == "withdrawn"
    assert v1_status(record("a", NOW, status="completed")) == "active"
    assert is_active(record("a", NOW - DAY), NOW)
    assert not is_active(record("a", NOW + DAY, transfer=True), NOW)
    assert not is_active(record("a", NOW - 9 * DAY, NOW - DAY), NOW)


def test_training_status_state_machine():
    assert TRANSITIONS["defer"] == {"active": "deferred"}
    assert TRANSITIONS["resume"] == {"deferred": "active", "withdrawn": "active"}
    assert TRANSITIONS["withdraw"] == {"active": "withdrawn", "deferred": "withdrawn"}
