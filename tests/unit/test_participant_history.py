"""Induction records and the participant graph (ecf-domain.md 1.10, 3.10, 3.11), with fixed times."""

from __future__ import annotations

import uuid
from dataclasses import FrozenInstanceError, replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.participants import (
    COURSE_OF,
    COURSES,
    SCHEDULE_IDENTIFIERS,
    TRANSITIONS,
    Participant,
    Profile,
    Record,
    Trainer,
    change,
    is_active,
    is_current,
    latest,
    latest_first,
    participant_status,
    v1_status,
)
from tests.unit.builders import induction_record

NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def record(
    rid: str,
    start: datetime = NOW - 30 * DAY,
    end: datetime | None = None,
    induction: str = "active",
    training: str = "active",
    created: datetime | None = None,
    transfer: bool = False,
    programme: str = "prog-a",
) -> Record:
    return induction_record(
        id=rid, programme_id=programme, start_date=start, end_date=end, training_status=training,
        induction_status=induction, email="ect@example.com", mentor_profile_id="mentor-profile",
        mentor_user_id="mentor-user", school_transfer=transfer, appropriate_body="ab-1",
        created_at=created or start, updated_at=created or start,
    )  # fmt: skip


def profile(
    pid: str = "profile-1", participant_type: str = "ect", status: str = "active", records: tuple[Record, ...] = ()
) -> Profile:
    return Profile(
        id=pid,
        user_id="user-1",
        participant_type=participant_type,
        status=status,
        training_status="active",
        school_id="school-1",
        cohort=2024,
        schedule_identifier="ecf-standard-september",
        schedule_cohort=2024,
        mentor_profile_id=None,
        pupil_premium_uplift=False,
        sparsity_uplift=False,
        records=records,
        created_at=NOW - 60 * DAY,
        updated_at=NOW - 60 * DAY,
    )


def trainer(programme: str, lead_provider: str | None, challenged: bool = False) -> Trainer:
    return Trainer(
        programme_id=programme,
        partnership_id=f"partnership-{programme}" if lead_provider else None,
        lead_provider_id=lead_provider,
        delivery_partner_id="dp-1" if lead_provider else None,
        challenged=challenged,
        relationship=False,
    )


def participant(profiles: tuple[Profile, ...], trainers: tuple[Trainer, ...] = ()) -> Participant:
    return Participant(
        id="user-1",
        full_name="Ann Example",
        email="ect@example.com",
        trn="1234567",
        has_declarations=False,
        created_at=NOW - 60 * DAY,
        updated_at=NOW - 60 * DAY,
        profiles=profiles,
        trainers={t.programme_id: t for t in trainers},
    )


def ids(records: list[Record]) -> list[str]:
    return [r.id for r in records]


# --------------------------------------------------------------------------- latest order


def test_latest_first_puts_open_records_first_whatever_their_start() -> None:
    closed_recent = record("closed", start=NOW - DAY, end=NOW + 10 * DAY)
    open_old = record("open", start=NOW - 100 * DAY)
    assert ids(latest_first([closed_recent, open_old])) == ["open", "closed"]


def test_latest_first_orders_by_start_then_end_then_created() -> None:
    a = record("a", start=NOW - 10 * DAY)
    b = record("b", start=NOW - 5 * DAY)
    c = record("c", start=NOW - 20 * DAY, end=NOW - 2 * DAY)
    d = record("d", start=NOW - 20 * DAY, end=NOW - 1 * DAY)
    e = record("e", start=NOW - 20 * DAY, end=NOW - 1 * DAY, created=NOW - 3 * DAY)
    f = record("f", start=NOW - 15 * DAY, end=NOW - 12 * DAY)
    assert ids(latest_first([a, b, c, d, e, f])) == ["b", "a", "f", "e", "d", "c"]


def test_latest_first_keeps_input_order_for_full_ties_and_does_not_mutate() -> None:
    x = record("x")
    y = record("y")
    records = [x, y]
    assert ids(latest_first(records)) == ["x", "y"]
    assert ids(latest_first([y, x])) == ["y", "x"]
    assert records == [x, y]
    assert latest_first([]) == []


def test_latest_first_uses_created_at_among_open_records_with_one_start() -> None:
    older = record("older", created=NOW - 5 * DAY)
    newer = record("newer", created=NOW - 4 * DAY)
    assert ids(latest_first([older, newer])) == ["newer", "older"]


def test_latest_with_and_without_a_filter() -> None:
    current = record("current", start=NOW - DAY, programme="prog-b")
    previous = record("previous", start=NOW - 10 * DAY, end=NOW - DAY)
    assert latest([previous, current]) == current
    assert latest([previous, current], lambda r: r.programme_id == "prog-a") == previous
    assert latest([previous, current], lambda r: False) is None
    assert latest([]) is None


# --------------------------------------------------------------------------- derived states


@pytest.mark.parametrize(
    ("given", "active", "current"),
    [
        pytest.param(record("r"), True, True, id="open-active"),
        pytest.param(record("r", end=NOW + DAY), True, True, id="ends-in-future"),
        pytest.param(record("r", end=NOW), False, False, id="ends-now"),
        pytest.param(record("r", end=NOW - DAY), False, False, id="ended"),
        pytest.param(record("r", start=NOW + DAY), True, True, id="future-start"),
        pytest.param(record("r", start=NOW + DAY, transfer=True), False, False, id="transferring-in"),
        pytest.param(record("r", start=NOW, transfer=True), True, True, id="transfer-started-now"),
        pytest.param(record("r", transfer=True), True, True, id="transferred-in"),
        pytest.param(record("r", induction="leaving", end=NOW + DAY), False, True, id="leaving-future-end"),
        pytest.param(
            record("r", induction="leaving", end=NOW + DAY, transfer=True), False, True, id="transferring-out"
        ),
        pytest.param(record("r", induction="leaving", end=NOW), False, False, id="leaving-ends-now"),
        pytest.param(record("r", induction="leaving", end=NOW - DAY), False, False, id="transferred"),
        pytest.param(record("r", induction="leaving"), False, False, id="leaving-no-end"),
        pytest.param(record("r", induction="completed"), False, False, id="completed"),
        pytest.param(record("r", induction="changed", end=NOW + DAY), False, False, id="changed"),
        pytest.param(record("r", induction="withdrawn"), False, False, id="withdrawn"),
        pytest.param(record("r", training="withdrawn"), True, True, id="training-status-is-not-looked-at"),
    ],
)
def test_is_active_and_is_current(given: Record, active: bool, current: bool) -> None:
    assert is_active(given, NOW) is active
    assert is_current(given, NOW) is current


@pytest.mark.parametrize(
    ("given", "v3", "v1"),
    [
        pytest.param(record("r"), "active", "active", id="active"),
        pytest.param(record("r", induction="completed"), "active", "active", id="completed"),
        pytest.param(record("r", induction="leaving", end=NOW + DAY), "leaving", "active", id="leaving"),
        pytest.param(record("r", induction="leaving", end=NOW), "left", "active", id="leaving-ends-now-left"),
        pytest.param(record("r", induction="leaving", end=NOW - DAY), "left", "active", id="left"),
        pytest.param(record("r", induction="leaving"), "active", "active", id="leaving-without-end"),
        pytest.param(record("r", start=NOW + DAY), "joining", "active", id="joining"),
        pytest.param(
            record("r", start=NOW + DAY, induction="leaving", end=NOW + 2 * DAY),
            "leaving",
            "active",
            id="leaving-wins-over-joining",
        ),
        pytest.param(record("r", start=NOW + DAY, induction="changed"), "joining", "withdrawn", id="future-changed"),
        pytest.param(record("r", induction="withdrawn"), "withdrawn", "withdrawn", id="withdrawn"),
        pytest.param(record("r", induction="changed", end=NOW - DAY), "withdrawn", "withdrawn", id="changed"),
        pytest.param(record("r", start=NOW), "active", "active", id="starts-now"),
    ],
)
def test_participant_status_and_v1_status(given: Record, v3: str, v1: str) -> None:
    assert participant_status(given, NOW) == v3
    assert v1_status(given) == v1


# --------------------------------------------------------------------------- the history rule


def test_change_closes_a_started_record_and_opens_a_copy_from_now() -> None:
    other = record("other", start=NOW - 90 * DAY, end=NOW - 30 * DAY, induction="changed")
    current = record("current", start=NOW - 30 * DAY, created=NOW - 30 * DAY)
    records = [other, current]
    out = change(records, current, NOW, training_status="deferred")

    assert records == [other, current]  # the input is left alone
    assert len(out) == 3
    assert out[0] == other
    closed, opened = out[1], out[2]
    assert closed == replace(current, induction_status="changed", end_date=NOW, updated_at=NOW)
    assert closed.training_status == "active"
    assert opened == replace(
        current,
        id=opened.id,
        start_date=NOW,
        end_date=None,
        created_at=NOW,
        updated_at=NOW,
        training_status="deferred",
    )
    assert opened.id not in ("current", "other")
    assert str(uuid.UUID(opened.id)) == opened.id
    # The copy becomes the latest, and it is what the derived states read.
    assert latest(out) == opened
    assert participant_status(opened, NOW) == "active"


def test_change_of_a_record_starting_now_also_closes_it() -> None:
    current = record("current", start=NOW)
    closed, opened = change([current], current, NOW, schedule_identifier="ecf-extended-september")
    assert (closed.id, closed.start_date, closed.end_date, closed.induction_status) == ("current", NOW, NOW, "changed")
    assert closed.schedule_identifier == "ecf-standard-september"
    assert (opened.start_date, opened.end_date, opened.schedule_identifier) == (NOW, None, "ecf-extended-september")


def test_change_edits_a_future_record_in_place() -> None:
    other = record("other", start=NOW - 90 * DAY, end=NOW - 30 * DAY)
    future = record("future", start=NOW + DAY, transfer=True)
    out = change([future, other], future, NOW, programme_id="prog-b", school_id="school-2")
    assert out == [
        other,
        replace(future, programme_id="prog-b", school_id="school-2", updated_at=NOW),
    ]


def test_change_carries_every_other_field_to_the_copy() -> None:
    current = record("current")
    (_, opened) = change([current], current, NOW, training_status="withdrawn")
    for name in (
        "programme_id",
        "school_id",
        "school_urn",
        "email",
        "mentor_profile_id",
        "mentor_user_id",
        "schedule_identifier",
        "schedule_cohort",
        "school_transfer",
        "appropriate_body",
        "induction_status",
    ):
        assert getattr(opened, name) == getattr(current, name), name


def test_records_are_frozen() -> None:
    with pytest.raises(FrozenInstanceError):
        record("r").end_date = NOW  # type: ignore[misc]


# --------------------------------------------------------------------------- constants the rules use


def test_training_status_state_machine() -> None:
    assert TRANSITIONS == {
        "defer": {"active": "deferred"},
        "resume": {"deferred": "active", "withdrawn": "active"},
        "withdraw": {"active": "withdrawn", "deferred": "withdrawn"},
    }


def test_courses_and_schedules() -> None:
    assert COURSES == {"ecf-induction": "ect", "ecf-mentor": "mentor"}
    assert {v: k for k, v in COURSES.items()} == COURSE_OF
    assert len(SCHEDULE_IDENTIFIERS) == 12
    assert SCHEDULE_IDENTIFIERS[0] == "ecf-standard-september"
    assert "ecf-replacement-april" in SCHEDULE_IDENTIFIERS
    assert profile(participant_type="ect").course_identifier == "ecf-induction"
    assert profile(participant_type="mentor").course_identifier == "ecf-mentor"


# --------------------------------------------------------------------------- the participant graph


def graph() -> tuple[Participant, Profile, Profile]:
    ect = profile(
        "ect-profile",
        records=(
            record("with-a", programme="prog-a", start=NOW - 300 * DAY, end=NOW - 100 * DAY),
            record("with-b", programme="prog-b", start=NOW - 100 * DAY),
            record("school-led", programme="prog-cip", start=NOW - 400 * DAY, end=NOW - 300 * DAY),
            record("challenged-a", programme="prog-a2", start=NOW - 500 * DAY, end=NOW - 400 * DAY),
            record("unknown", programme="prog-gone", start=NOW - 600 * DAY, end=NOW - 500 * DAY),
        ),
    )
    mentor = profile("mentor-profile", participant_type="mentor", records=(record("m", programme="prog-b"),))
    person = participant(
        (ect, mentor),
        (
            trainer("prog-a", "lp-a"),
            trainer("prog-a2", "lp-a", challenged=True),
            trainer("prog-b", "lp-b"),
            trainer("prog-cip", None),
        ),
    )
    return person, ect, mentor


def test_provider_and_trainer_of_a_record() -> None:
    person, ect, _ = graph()
    by_id = {r.id: r for r in ect.records}
    assert person.provider_of(by_id["with-a"]) == "lp-a"
    assert person.provider_of(by_id["with-b"]) == "lp-b"
    assert person.provider_of(by_id["challenged-a"]) == "lp-a"
    assert person.provider_of(by_id["school-led"]) is None
    assert person.provider_of(by_id["unknown"]) is None
    assert person.trainer_of(by_id["with-a"]) == trainer("prog-a", "lp-a")
    assert person.trainer_of(by_id["school-led"]) == trainer("prog-cip", None)
    assert person.trainer_of(by_id["unknown"]) is None


def test_records_with_a_provider_include_challenged_ones_in_profile_order() -> None:
    person, ect, mentor = graph()
    assert ids(person.records_with(ect, "lp-a")) == ["with-a", "challenged-a"]
    assert ids(person.records_with(ect, "lp-b")) == ["with-b"]
    assert ids(person.records_with(mentor, "lp-b")) == ["m"]
    assert person.records_with(mentor, "lp-a") == []
    assert person.records_with(ect, "lp-z") == []


def test_providers_of_a_profile_skip_school_led_and_unknown_programmes() -> None:
    person, ect, mentor = graph()
    assert person.providers(ect) == {"lp-a", "lp-b"}
    assert person.providers(mentor) == {"lp-b"}
    assert person.providers(profile("empty")) == set()


def test_active_profile_is_the_first_active_one_of_the_type() -> None:
    withdrawn_ect = profile("withdrawn-ect", status="withdrawn")
    first_ect = profile("first-ect")
    second_ect = profile("second-ect")
    mentor = profile("mentor", participant_type="mentor")
    person = participant((withdrawn_ect, mentor, first_ect, second_ect))
    assert person.active_profile("ect") == first_ect
    assert person.active_profile("mentor") == mentor
    assert person.active_profile(None) is None
    assert person.active_profile("npq") is None
    assert participant((withdrawn_ect,)).active_profile("ect") is None
