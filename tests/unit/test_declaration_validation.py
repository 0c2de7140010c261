"""``declarations.validate``: the order and gating of the 422 errors (ecf-declarations-statements.md 1.3).

Each case starts from facts that pass every rule and changes a few of them. The expected errors are listed in the
order the attributes first get an error, with each attribute's messages joined by ", " as the API shows them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import messages as m
from chalicelib.domain.declarations import (
    RFC3339,
    DeclarationDate,
    Errors,
    Facts,
    Milestone,
    ProviderState,
    cast_declaration_date,
    is_npq,
    record_at,
    validate,
    withdrawn_on,
)
from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.participants import Record
from tests.unit.builders import induction_record

NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)
DATE = "2024-05-01T10:00:00Z"
WITHDRAWN_AT = datetime(2024, 4, 1, 9, 0, 0, tzinfo=UTC)
WITHDRAWN = m.declaration_after_withdrawal("2024-04-01T09:00:00Z")
FUNDING_ENDED = m.funding_contract_ended(2024)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def record(
    rid: str = "r1",
    start: datetime = datetime(2023, 9, 1, tzinfo=UTC),
    end: datetime | None = None,
    training: str = "active",
    induction: str = "active",
    programme: str = "prog-1",
) -> Record:
    return induction_record(
        id=rid, programme_id=programme, start_date=start, end_date=end, training_status=training,
        induction_status=induction,
    )  # fmt: skip


def facts(**changes: object) -> Facts:
    """Facts for an ECT ``started`` declaration that passes every rule; ``date`` is the raw declaration_date."""
    raw = changes.pop("date", DATE)
    base = Facts(
        course_identifier="ecf-induction",
        declaration_type="started",
        declaration_date=cast_declaration_date(raw),
        evidence_held=None,
        now=NOW,
        user_resolved=True,
        participant_type="ect",
        profile_found=True,
        user_has_course=True,
        provider_state=None,
        provider_record_at_date=None,
        milestone=Milestone("started", at("2024-01-01T15:00:00Z"), at("2024-12-31T00:00:00Z")),
        schedule_has_milestone=True,
        existing_state=None,
        fundable=True,
        cohort=2024,
        has_output_statement=True,
        mentor_funding=False,
        detailed_evidence=False,
        provider_trains_on_schedule=True,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def unknown_participant(**changes: object) -> Facts:
    """What the service gathers when ``participant_id`` does not resolve: no profile, nothing read."""
    base = {
        "user_resolved": False,
        "profile_found": False,
        "user_has_course": False,
        "milestone": None,
        "schedule_has_milestone": False,
        "fundable": False,
        "cohort": None,
        "has_output_statement": False,
        "provider_trains_on_schedule": False,
    }
    return facts(**{**base, **changes})


def withdrawn(record_at_date: Record | None = None, when: datetime = WITHDRAWN_AT, **changes: object) -> Facts:
    return facts(provider_state=ProviderState("withdrawn", when), provider_record_at_date=record_at_date, **changes)


def shown(errors: dict[str, list[str]]) -> list[tuple[str, str]]:
    """The 422 body's entries: one per attribute, in first-error order, messages joined with ", "."""
    return [(attribute, ", ".join(messages)) for attribute, messages in errors.items()]


CASES = [
    pytest.param(facts(), [], id="valid"),
    # --- rows 1 to 4: presence
    pytest.param(
        unknown_participant(course_identifier=None, declaration_type=None, date=None, participant_type=None),
        [
            ("participant_id", m.PARTICIPANT_NOT_RECOGNISED),
            ("declaration_date", m.DECLARATION_DATE_BLANK),
            ("declaration_type", m.DECLARATION_TYPE_BLANK),
        ],
        id="all-attributes-empty",
    ),
    pytest.param(
        unknown_participant(),
        [("participant_id", m.PARTICIPANT_NOT_RECOGNISED)],
        id="unknown-participant-row-1-once-rows-11-12-gated",
    ),
    pytest.param(
        unknown_participant(evidence_held="bogus", detailed_evidence=True, declaration_type="retained-1"),
        [("participant_id", m.PARTICIPANT_NOT_RECOGNISED)],
        id="unknown-participant-evidence-gated",
    ),
    pytest.param(
        facts(date=""),
        [("declaration_date", m.DECLARATION_DATE_BLANK)],
        id="blank-date-no-format-error",
    ),
    pytest.param(
        facts(date="   "),
        [("declaration_date", m.DECLARATION_DATE_BLANK)],
        id="whitespace-date-is-blank",
    ),
    pytest.param(
        facts(declaration_type=None, schedule_has_milestone=False, milestone=None),
        [("declaration_type", f"{m.DECLARATION_TYPE_BLANK}, {m.DECLARATION_TYPE_NOT_IN_SCHEDULE}")],
        id="missing-type-gets-rows-4-and-8",
    ),
    pytest.param(
        facts(declaration_type="  ", schedule_has_milestone=False, milestone=None),
        [("declaration_type", f"{m.DECLARATION_TYPE_BLANK}, {m.DECLARATION_TYPE_NOT_IN_SCHEDULE}")],
        id="whitespace-type-is-blank",
    ),
    pytest.param(
        facts(
            declaration_type=None,
            schedule_has_milestone=False,
            milestone=None,
            participant_type="mentor",
            course_identifier="ecf-mentor",
            mentor_funding=True,
        ),
        [
            (
                "declaration_type",
                ", ".join(
                    (m.DECLARATION_TYPE_BLANK, m.DECLARATION_TYPE_NOT_IN_SCHEDULE, m.MENTOR_STARTED_OR_COMPLETED_ONLY)
                ),
            )
        ],
        id="missing-type-mentor-funding-gets-rows-4-8-10",
    ),
    # --- rows 3, 5 and 6: the date
    pytest.param(
        facts(date="foo"),
        [("declaration_date", f"{m.DECLARATION_DATE_BLANK}, {m.DECLARATION_DATE_INVALID}")],
        id="unparseable-date-two-messages",
    ),
    pytest.param(
        facts(date="2023-19-01T11:21:55Z"),
        [("declaration_date", f"{m.DECLARATION_DATE_BLANK}, {m.DECLARATION_DATE_INVALID}")],
        id="impossible-month-two-messages",
    ),
    pytest.param(
        facts(date="2024-05-01T29:21:55Z"),
        [("declaration_date", f"{m.DECLARATION_DATE_BLANK}, {m.DECLARATION_DATE_INVALID}")],
        id="impossible-hour-two-messages",
    ),
    pytest.param(
        facts(date="2024-05-01 10:00:00"),
        [("declaration_date", m.DECLARATION_DATE_INVALID)],
        id="space-instead-of-T-casts-but-is-not-rfc3339",
    ),
    pytest.param(
        facts(date="2024-05-01"),
        [("declaration_date", m.DECLARATION_DATE_INVALID)],
        id="bare-date-casts-but-is-not-rfc3339",
    ),
    pytest.param(facts(date="2024-05-01T10:00:00"), [], id="no-offset-is-utc-and-valid"),
    pytest.param(facts(date="2024-05-01T10:00:00.123+01:00"), [], id="fraction-and-offset-valid"),
    pytest.param(facts(date="2024-05-01t10:00:00z"), [], id="lower-case-t-and-z-valid"),
    pytest.param(
        facts(date="2024-06-01T12:00:01Z"),
        [("declaration_date", m.DECLARATION_DATE_FUTURE)],
        id="one-second-in-the-future",
    ),
    pytest.param(facts(date="2024-06-01T12:00:00Z"), [], id="exactly-now-is-not-future"),
    pytest.param(
        facts(date="2024-06-01T13:30:00+01:00"),
        [("declaration_date", m.DECLARATION_DATE_FUTURE)],
        id="future-after-the-offset",
    ),
    pytest.param(facts(date="2024-06-01T12:30:00+01:00"), [], id="past-after-the-offset"),
    pytest.param(
        facts(date="2024-07-01 10:00:00"),
        [("declaration_date", f"{m.DECLARATION_DATE_FUTURE}, {m.DECLARATION_DATE_INVALID}")],
        id="future-and-malformed",
    ),
    pytest.param(
        facts(date="2025-01-01 10:00:00", now=at("2026-01-01T00:00:00Z")),
        [("declaration_date", f"{m.DECLARATION_DATE_INVALID}, {m.DECLARATION_AFTER_MILESTONE_END}")],
        id="malformed-and-after-milestone",
    ),
    pytest.param(
        facts(date="2025-01-01 10:00:00"),
        [
            (
                "declaration_date",
                f"{m.DECLARATION_DATE_FUTURE}, {m.DECLARATION_DATE_INVALID}, {m.DECLARATION_AFTER_MILESTONE_END}",
            )
        ],
        id="future-malformed-and-after-milestone",
    ),
    # --- row 6b/6c: the milestone window
    pytest.param(
        facts(date="2023-12-31T23:59:59Z"),
        [("declaration_date", m.DECLARATION_BEFORE_MILESTONE_START)],
        id="before-milestone-start",
    ),
    pytest.param(facts(date="2024-01-01T00:00:00Z"), [], id="milestone-start-is-its-beginning-of-day"),
    pytest.param(
        facts(milestone=Milestone("started", at("2024-01-01T00:00:00Z"), at("2024-04-30T08:00:00Z"))),
        [("declaration_date", m.DECLARATION_AFTER_MILESTONE_END)],
        id="after-milestone-end",
    ),
    pytest.param(
        facts(
            date="2024-04-30T23:59:59Z",
            milestone=Milestone("started", at("2024-01-01T00:00:00Z"), at("2024-04-30T08:00:00Z")),
        ),
        [],
        id="milestone-end-is-its-end-of-day",
    ),
    pytest.param(
        facts(
            date="2024-04-30T23:59:59.999999Z",
            milestone=Milestone("started", at("2024-01-01T00:00:00Z"), at("2024-04-30T08:00:00Z")),
        ),
        [("declaration_date", m.DECLARATION_AFTER_MILESTONE_END)],
        id="exactly-the-milestone-end-of-day-is-too-late",
    ),
    pytest.param(
        facts(date="2030-01-01T00:00:00Z", now=at("2031-01-01T00:00:00Z"), milestone=Milestone("started", None, None)),
        [],
        id="open-ended-milestone",
    ),
    pytest.param(
        facts(date="2000-01-01T00:00:00Z", milestone=None, schedule_has_milestone=False),
        [("declaration_type", m.DECLARATION_TYPE_NOT_IN_SCHEDULE)],
        id="no-milestone-no-window-check",
    ),
    pytest.param(
        facts(date="foo", milestone=Milestone("started", at("2030-01-01T00:00:00Z"), None)),
        [("declaration_date", f"{m.DECLARATION_DATE_BLANK}, {m.DECLARATION_DATE_INVALID}")],
        id="no-date-value-no-window-check",
    ),
    # --- row 2: withdrawn
    pytest.param(withdrawn(), [("participant_id", WITHDRAWN)], id="withdrawn-before-the-date"),
    pytest.param(
        withdrawn(when=at(DATE)),
        [("participant_id", m.declaration_after_withdrawal("2024-05-01T10:00:00Z"))],
        id="withdrawn-at-the-date",
    ),
    pytest.param(withdrawn(when=at("2024-05-01T10:00:01Z")), [], id="withdrawn-after-the-date"),
    pytest.param(withdrawn(record(training="active")), [], id="withdrawn-but-resumed-as-of-the-date"),
    pytest.param(
        withdrawn(record(training="deferred")), [("participant_id", WITHDRAWN)], id="withdrawn-deferred-record"
    ),
    pytest.param(
        withdrawn(record(training="withdrawn")), [("participant_id", WITHDRAWN)], id="withdrawn-withdrawn-record"
    ),
    pytest.param(facts(provider_state=ProviderState("deferred", WITHDRAWN_AT)), [], id="deferred-state-not-row-2"),
    pytest.param(
        withdrawn(user_has_course=False, provider_trains_on_schedule=False, evidence_held="x", detailed_evidence=True),
        [("participant_id", WITHDRAWN)],
        id="withdrawn-gates-rows-11-12-13",
    ),
    pytest.param(
        withdrawn(profile_found=False),
        [("participant_id", m.PARTICIPANT_NOT_RECOGNISED)],
        id="withdrawn-needs-a-profile",
    ),
    pytest.param(
        withdrawn(date=None),
        [("declaration_date", m.DECLARATION_DATE_BLANK)],
        id="withdrawn-without-a-date-skips-row-2",
    ),
    pytest.param(
        withdrawn(date="2024-05-01 10:00:00"),
        [("participant_id", WITHDRAWN), ("declaration_date", m.DECLARATION_DATE_INVALID)],
        id="withdrawn-with-a-castable-malformed-date",
    ),
    # --- row 7: the output-fee statement
    pytest.param(
        facts(has_output_statement=False),
        [("cohort", FUNDING_ENDED)],
        id="no-statement-fundable",
    ),
    pytest.param(facts(has_output_statement=False, fundable=False), [], id="no-statement-not-fundable"),
    pytest.param(
        facts(has_output_statement=False, existing_state="submitted"),
        [("base", m.DECLARATION_ALREADY_SUBMITTED)],
        id="no-statement-existing-submitted",
    ),
    pytest.param(
        facts(has_output_statement=False, fundable=False, existing_state="paid"),
        [("cohort", FUNDING_ENDED), ("base", m.DECLARATION_ALREADY_SUBMITTED)],
        id="no-statement-existing-paid-not-fundable",
    ),
    pytest.param(
        facts(has_output_statement=False, cohort=2021),
        [("cohort", m.funding_contract_ended(2021))],
        id="statement-error-names-the-cohort",
    ),
    pytest.param(
        facts(has_output_statement=False, profile_found=False),
        [("participant_id", m.PARTICIPANT_NOT_RECOGNISED)],
        id="no-profile-no-statement-check",
    ),
    # --- row 8: schedule
    pytest.param(
        facts(schedule_has_milestone=False),
        [("declaration_type", m.DECLARATION_TYPE_NOT_IN_SCHEDULE)],
        id="type-not-in-schedule",
    ),
    pytest.param(
        facts(schedule_has_milestone=False, profile_found=False),
        [("participant_id", m.PARTICIPANT_NOT_RECOGNISED)],
        id="no-profile-no-schedule-check",
    ),
    # --- row 9: the slot, across providers; access (row 12) is checked after it
    *(
        pytest.param(
            facts(existing_state=state),
            [("base", m.DECLARATION_ALREADY_SUBMITTED)],
            id=f"slot-held-{state}",
        )
        for state in ("submitted", "eligible", "payable", "paid")
    ),
    pytest.param(
        facts(existing_state="eligible", provider_trains_on_schedule=False, user_has_course=False),
        [("base", m.DECLARATION_ALREADY_SUBMITTED)],
        id="slot-leaks-before-access-check",
    ),
    pytest.param(
        facts(existing_state="eligible", profile_found=False),
        [("participant_id", m.PARTICIPANT_NOT_RECOGNISED)],
        id="no-profile-no-slot-check",
    ),
    # --- row 10: mentors in mentor_funding cohorts
    *(
        pytest.param(
            facts(
                participant_type="mentor",
                course_identifier="ecf-mentor",
                mentor_funding=True,
                declaration_type=declaration_type,
            ),
            [("declaration_type", m.MENTOR_STARTED_OR_COMPLETED_ONLY)],
            id=f"mentor-funding-{declaration_type}",
        )
        for declaration_type in ("retained-1", "retained-4", "extended-2")
    ),
    *(
        pytest.param(
            facts(
                participant_type="mentor",
                course_identifier="ecf-mentor",
                mentor_funding=True,
                declaration_type=declaration_type,
                detailed_evidence=True,
                evidence_held="75-percent-engagement-met" if declaration_type == "completed" else None,
            ),
            [],
            id=f"mentor-funding-{declaration_type}-allowed",
        )
        for declaration_type in ("started", "completed")
    ),
    pytest.param(
        facts(
            participant_type="mentor",
            course_identifier="ecf-mentor",
            declaration_type="retained-1",
            evidence_held="other",
        ),
        [],
        id="mentor-without-mentor-funding",
    ),
    pytest.param(
        facts(mentor_funding=True, declaration_type="retained-1", evidence_held="other"),
        [],
        id="ect-in-mentor-funding-cohort",
    ),
    pytest.param(
        facts(participant_type="mentor", mentor_funding=True, declaration_type="retained-1", profile_found=False),
        [("participant_id", m.PARTICIPANT_NOT_RECOGNISED)],
        id="mentor-rule-needs-a-profile",
    ),
    pytest.param(
        facts(
            participant_type="mentor",
            course_identifier="ecf-mentor",
            mentor_funding=True,
            declaration_type="retained-1",
            user_has_course=False,
        ),
        [("declaration_type", m.MENTOR_STARTED_OR_COMPLETED_ONLY)],
        id="mentor-rule-gates-row-11",
    ),
    # --- row 11: course (gated)
    pytest.param(
        facts(user_has_course=False),
        [("course_identifier", m.COURSE_IDENTIFIER_INVALID)],
        id="course-not-on-an-active-profile",
    ),
    pytest.param(
        facts(user_has_course=False, provider_trains_on_schedule=False, detailed_evidence=True, evidence_held="x"),
        [("course_identifier", m.COURSE_IDENTIFIER_INVALID)],
        id="course-error-gates-rows-12-13",
    ),
    pytest.param(
        facts(
            course_identifier="ecf-mentor",
            participant_type="mentor",
            profile_found=False,
            user_has_course=False,
            schedule_has_milestone=False,
        ),
        [("course_identifier", m.COURSE_IDENTIFIER_INVALID)],
        id="mentor-course-for-an-ect-only-user",
    ),
    pytest.param(
        facts(
            course_identifier="ecf-unknown",
            participant_type=None,
            profile_found=False,
            user_has_course=False,
            schedule_has_milestone=False,
        ),
        [("course_identifier", m.COURSE_IDENTIFIER_INVALID)],
        id="unknown-course",
    ),
    pytest.param(
        facts(course_identifier=None, participant_type=None, profile_found=False, user_has_course=False),
        [("course_identifier", m.COURSE_IDENTIFIER_INVALID)],
        id="missing-course",
    ),
    # --- row 12: access (gated)
    pytest.param(
        facts(provider_trains_on_schedule=False),
        [("participant_id", m.PARTICIPANT_NOT_RECOGNISED)],
        id="provider-does-not-train-on-the-schedule",
    ),
    pytest.param(
        facts(profile_found=False),
        [("participant_id", m.PARTICIPANT_NOT_RECOGNISED)],
        id="user-has-course-but-no-profile",
    ),
    pytest.param(
        facts(provider_trains_on_schedule=False, detailed_evidence=True, declaration_type="retained-1"),
        [("participant_id", m.PARTICIPANT_NOT_RECOGNISED)],
        id="access-error-gates-evidence",
    ),
    # --- row 13: evidence (gated)
    pytest.param(
        facts(detailed_evidence=True, declaration_type="retained-1"),
        [("evidence_held", m.EVIDENCE_HELD_BLANK)],
        id="detailed-evidence-missing",
    ),
    pytest.param(
        facts(detailed_evidence=True, declaration_type="retained-1", evidence_held="75-percent-engagement-met"),
        [("evidence_held", m.EVIDENCE_HELD_INVALID)],
        id="detailed-evidence-wrong-for-the-type",
    ),
    pytest.param(
        facts(declaration_type="retained-1"),
        [("evidence_held", m.EVIDENCE_HELD_BLANK)],
        id="legacy-retained-needs-evidence",
    ),
    pytest.param(facts(evidence_held="test"), [], id="legacy-started-ignores-evidence"),
    pytest.param(facts(detailed_evidence=True), [], id="detailed-started-may-omit-evidence"),
    pytest.param(
        facts(detailed_evidence=True, evidence_held="one-term-induction"),
        [("evidence_held", m.EVIDENCE_HELD_INVALID)],
        id="detailed-started-checks-sent-evidence",
    ),
    pytest.param(
        facts(declaration_type="retained-1", evidence_held="bogus", schedule_has_milestone=False),
        [("declaration_type", m.DECLARATION_TYPE_NOT_IN_SCHEDULE)],
        id="evidence-gated-by-earlier-error",
    ),
    # --- many rows at once: attribute order is first-error order
    pytest.param(
        withdrawn(
            date="2024-07-01T10:00:00Z",
            schedule_has_milestone=False,
            existing_state="paid",
            has_output_statement=False,
            user_has_course=False,
        ),
        [
            ("participant_id", WITHDRAWN),
            ("declaration_date", m.DECLARATION_DATE_FUTURE),
            ("cohort", FUNDING_ENDED),
            ("declaration_type", m.DECLARATION_TYPE_NOT_IN_SCHEDULE),
            ("base", m.DECLARATION_ALREADY_SUBMITTED),
        ],
        id="rows-2-5-7-8-9-in-order",
    ),
    pytest.param(
        facts(
            date="2024-07-01T10:00:00Z",
            declaration_type=None,
            schedule_has_milestone=False,
            existing_state="eligible",
        ),
        [
            ("declaration_type", f"{m.DECLARATION_TYPE_BLANK}, {m.DECLARATION_TYPE_NOT_IN_SCHEDULE}"),
            ("declaration_date", m.DECLARATION_DATE_FUTURE),
            ("base", m.DECLARATION_ALREADY_SUBMITTED),
        ],
        id="type-blank-before-future-date",
    ),
]


@pytest.mark.parametrize(("given", "expected"), CASES)
def test_validate_order_and_gating(given: Facts, expected: list[tuple[str, str]]) -> None:
    assert shown(validate(given)) == expected


def test_validate_does_not_repeat_a_message_on_one_attribute() -> None:
    # Rows 1 and 12 both use the invalid-participant message; row 12 is gated, so it cannot repeat it.
    errors = validate(unknown_participant())
    assert errors == {"participant_id": [m.PARTICIPANT_NOT_RECOGNISED]}


def test_errors_keep_first_order_and_drop_repeats() -> None:
    errors = Errors()
    assert not errors
    errors.add("b", "one")
    errors.add("a", "two")
    errors.add("b", "one")
    errors.add("b", "three")
    assert errors
    assert list(errors.by_attribute.items()) == [("b", ["one", "three"]), ("a", ["two"])]


def test_validation_failed_joins_messages_per_attribute() -> None:
    errors = validate(facts(date="foo", schedule_has_milestone=False))
    error = ValidationFailed(errors)
    assert error.errors is errors
    assert str(error) == (
        f"declaration_date: {m.DECLARATION_DATE_BLANK}, {m.DECLARATION_DATE_INVALID}; "
        f"declaration_type: {m.DECLARATION_TYPE_NOT_IN_SCHEDULE}"
    )


def test_templated_messages_match_the_reference_text() -> None:
    assert WITHDRAWN == (
        "This participant withdrew from this course on 2024-04-01T09:00:00Z. Enter a '#/declaration_date' that's "
        "on or before the withdrawal date."
    )
    assert m.funding_contract_ended(2021) == (
        "You cannot submit or void declarations for the 2021 cohort. The funding contract for this cohort has "
        "ended. Get in touch if you need to discuss this with us"
    )


# --------------------------------------------------------------------------- row 2 on its own


def test_withdrawn_on_reports_the_state_time() -> None:
    assert withdrawn_on(withdrawn()) == WITHDRAWN_AT


@pytest.mark.parametrize(
    "given",
    [
        pytest.param(facts(), id="no-provider-state"),
        pytest.param(facts(provider_state=ProviderState("active", WITHDRAWN_AT)), id="active-state"),
        pytest.param(withdrawn(profile_found=False), id="no-profile"),
        pytest.param(withdrawn(date="foo"), id="no-date"),
        pytest.param(withdrawn(when=at("2024-05-01T10:00:00.000001Z")), id="withdrawn-later"),
        pytest.param(withdrawn(record(training="active")), id="active-record-as-of-the-date"),
    ],
)
def test_withdrawn_on_exemptions(given: Facts) -> None:
    assert withdrawn_on(given) is None


# --------------------------------------------------------------------------- the date cast


@pytest.mark.parametrize(
    ("raw", "value", "blank", "well_formed"),
    [
        ("2024-05-01T10:00:00Z", datetime(2024, 5, 1, 10, tzinfo=UTC), False, True),
        ("2024-05-01T10:00:00", datetime(2024, 5, 1, 10, tzinfo=UTC), False, True),
        ("2024-05-01T10:00:00+01:00", datetime(2024, 5, 1, 9, tzinfo=UTC), False, True),
        ("2024-05-01T10:00:00+0130", datetime(2024, 5, 1, 8, 30, tzinfo=UTC), False, True),
        ("2024-05-01T10:00:00-05", datetime(2024, 5, 1, 15, tzinfo=UTC), False, True),
        ("2024-05-01T10:00:00-05:30", datetime(2024, 5, 1, 15, 30, tzinfo=UTC), False, True),
        ("2024-05-01T10:00:00.5Z", datetime(2024, 5, 1, 10, 0, 0, 500000, tzinfo=UTC), False, True),
        ("2024-05-01T10:00:00,25Z", datetime(2024, 5, 1, 10, 0, 0, 250000, tzinfo=UTC), False, True),
        ("2024-05-01T10:00:00.1234567Z", datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC), False, True),
        ("2024-05-01t10:00:00z", datetime(2024, 5, 1, 10, tzinfo=UTC), False, True),
        ("2024-05-01 10:00:00", datetime(2024, 5, 1, 10, tzinfo=UTC), False, False),
        ("2024-05-01", datetime(2024, 5, 1, tzinfo=UTC), False, False),
        ("2024-5-1", datetime(2024, 5, 1, tzinfo=UTC), False, False),
        (" 2024-05-01T10:00:00Z ", datetime(2024, 5, 1, 10, tzinfo=UTC), False, False),
        ("2023-19-01T11:21:55Z", None, False, False),
        ("2024-05-01T29:21:55Z", None, False, False),
        ("2024-02-30T10:00:00Z", None, False, False),
        ("2024-02-30", None, False, False),
        ("foo", None, False, False),
        ("2024-05-01T10:00Z", None, False, False),
        ("", None, True, False),
        ("  ", None, True, False),
        (None, None, True, False),
        (20240501, None, False, False),
    ],
)
def test_cast_declaration_date(raw: object, value: datetime | None, blank: bool, well_formed: bool) -> None:
    cast = cast_declaration_date(raw)
    assert cast == DeclarationDate(raw, value)
    assert cast.blank is blank
    assert cast.well_formed is well_formed


def test_rfc3339_pattern_is_the_reference_regex() -> None:
    assert RFC3339.match("2021-05-31T02:21:32.123+01:00")
    assert RFC3339.match("2021-05-31T02:21:32")
    assert not RFC3339.match("2021-05-31T02:21:32\n")
    assert not RFC3339.match("2021-05-31 02:21:32")
    assert not RFC3339.match("2021-05-31T02:21")


@pytest.mark.parametrize(
    ("course", "expected"),
    [("npq-leading-teaching", True), ("npq-", True), ("ecf-induction", False), ("NPQ-x", False), (None, False)],
)
def test_is_npq(course: object, expected: bool) -> None:
    assert is_npq(course) is expected


# --------------------------------------------------------------------------- record_at


def test_record_at_takes_the_latest_record_started_on_or_before_the_date() -> None:
    when = at("2024-05-01T10:00:00Z")
    early = record("early", start=at("2023-09-01T00:00:00Z"), end=at("2024-03-01T00:00:00Z"))
    middle = record("middle", start=at("2024-03-01T00:00:00Z"), end=at("2024-04-01T00:00:00Z"))
    on_the_date = record("on", start=when, end=at("2024-05-02T00:00:00Z"))
    later = record("later", start=when + timedelta(seconds=1))
    records = [early, middle, on_the_date, later]
    assert record_at(records, when, None) == on_the_date
    assert record_at(records, when - timedelta(seconds=1), None) == middle
    assert record_at(records, at("2023-08-31T00:00:00Z"), None) is None
    assert record_at([], when, None) is None


def test_record_at_prefers_an_open_record() -> None:
    when = at("2024-05-01T10:00:00Z")
    closed = record("closed", start=at("2024-04-01T00:00:00Z"), end=at("2024-04-15T00:00:00Z"))
    open_earlier = record("open", start=at("2024-01-01T00:00:00Z"))
    assert record_at([closed, open_earlier], when, None) == open_earlier


def test_record_at_applies_a_filter() -> None:
    when = at("2024-05-01T10:00:00Z")
    mine = record("mine", start=at("2024-01-01T00:00:00Z"), programme="mine")
    theirs = record("theirs", start=at("2024-02-01T00:00:00Z"), programme="theirs")
    assert record_at([mine, theirs], when, lambda r: r.programme_id == "mine") == mine
    assert record_at([mine, theirs], when, None) == theirs
