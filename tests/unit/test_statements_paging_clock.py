"""Statements and eligibility (ecf-declarations-statements.md 2, ecf-domain.md 1.11, 4), list paging, and times."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from chalicelib.domain import clock
from chalicelib.domain.paging import DEFAULT_PER_PAGE, MAX_PER_PAGE, Order, Page
from chalicelib.domain.statements import (
    OPEN,
    PAID,
    PAYABLE,
    STATEMENT_TYPES,
    Eligibility,
    Statement,
    initial_type,
    trn_validated,
)

T0 = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)
TODAY = date(2024, 6, 1)
D = timedelta(days=1)


def statement(**changes: object) -> Statement:
    base = Statement(
        id="s1",
        lead_provider_id="lp-a",
        cohort=2024,
        name="November 2024",
        statement_type=OPEN,
        deadline_date=date(2024, 10, 31),
        payment_date=date(2024, 11, 30),
        output_fee=True,
        marked_as_paid_at=None,
        created_at=T0,
        updated_at=T0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def eligibility(status: str, reason: str | None = None) -> Eligibility:
    return Eligibility(
        profile_id="p1",
        user_id="u1",
        status=status,
        reason=reason,
        change_id="c1",
        pending=False,
        created_at=T0,
        updated_at=T0,
    )


# --------------------------------------------------------------------------- statements


def test_statement_types() -> None:
    assert STATEMENT_TYPES == ("ECF", "ECF::Payable", "ECF::Paid")


@pytest.mark.parametrize(
    ("deadline", "payment", "expected"),
    [
        pytest.param(TODAY + D, TODAY + 10 * D, OPEN, id="before-deadline"),
        pytest.param(TODAY, TODAY + 10 * D, PAYABLE, id="deadline-today"),
        pytest.param(TODAY - D, TODAY + D, PAYABLE, id="inside-window"),
        pytest.param(TODAY - 10 * D, TODAY, PAYABLE, id="payment-today"),
        pytest.param(TODAY - 10 * D, TODAY - D, PAID, id="paid-yesterday"),
        pytest.param(None, TODAY - D, PAID, id="paid-without-deadline"),
        pytest.param(None, TODAY + D, OPEN, id="no-deadline-future-payment"),
        pytest.param(TODAY - D, None, OPEN, id="no-payment-date"),
        pytest.param(None, None, OPEN, id="no-dates"),
        pytest.param(TODAY + 5 * D, TODAY - D, PAID, id="payment-before-deadline-still-paid"),
    ],
)
def test_initial_type(deadline: date | None, payment: date | None, expected: str) -> None:
    assert initial_type(deadline, payment, TODAY) == expected


@pytest.mark.parametrize(
    ("statement_type", "is_open", "payable", "paid"),
    [(OPEN, True, False, False), (PAYABLE, False, True, False), (PAID, False, False, True)],
)
def test_statement_type_flags(statement_type: str, is_open: bool, payable: bool, paid: bool) -> None:
    given = statement(statement_type=statement_type)
    assert (given.is_open, given.payable, given.paid) == (is_open, payable, paid)


@pytest.mark.parametrize(
    ("name", "month", "year"),
    [
        ("November 2021", "November", "2021"),
        ("  January   2025 ", "January", "2025"),
        ("March", "March", ""),
        ("2023", "2023", "2023"),
        ("", "", ""),
    ],
)
def test_statement_month_and_year_come_from_the_name(name: str, month: str, year: str) -> None:
    given = statement(name=name)
    assert (given.month, given.year) == (month, year)


def test_statement_contract_versions_default() -> None:
    assert (statement().contract_version, statement().mentor_contract_version) == ("0.0.1", "0.0.1")


# --------------------------------------------------------------------------- eligibility


@pytest.mark.parametrize(
    ("status", "fundable", "eligible_for_funding"),
    [("eligible", True, True), ("ineligible", False, False), ("matched", False, None), ("manual_check", False, None)],
)
def test_eligibility_flags(status: str, fundable: bool, eligible_for_funding: bool | None) -> None:
    given = eligibility(status)
    assert given.fundable is fundable
    assert given.eligible_for_funding is eligible_for_funding


@pytest.mark.parametrize(
    ("trn", "given", "expected"),
    [
        ("1234567", eligibility("eligible", "none"), True),
        ("1234567", eligibility("ineligible", "no_qts"), True),
        ("1234567", eligibility("manual_check", None), True),
        ("1234567", eligibility("manual_check", "different_trn"), False),
        ("1234567", None, False),
        (None, eligibility("eligible", "none"), False),
        ("", eligibility("eligible", "none"), False),
    ],
)
def test_trn_validated(trn: str | None, given: Eligibility | None, expected: bool) -> None:
    assert trn_validated(trn, given) is expected


# --------------------------------------------------------------------------- paging


def test_page_defaults_and_offsets() -> None:
    assert (DEFAULT_PER_PAGE, MAX_PER_PAGE) == (100, 3000)
    assert Page() == Page(1, 100)
    assert Page().offset == 0
    assert Page(2).offset == 100
    assert Page(3, 50).offset == 100
    assert Page(1, 3000).offset == 0
    assert Page(4, 7).offset == 21


def test_order_defaults() -> None:
    assert Order() == Order("created_at", False)
    assert Order("updated_at", True).descending is True


def test_paging_values_are_frozen() -> None:
    with pytest.raises(FrozenInstanceError):
        Page().number = 2  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        Order().field = "id"  # type: ignore[misc]


# --------------------------------------------------------------------------- clock

PLUS_ONE = timezone(timedelta(hours=1))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2024, 5, 31, 2, 22, 32, 123456, tzinfo=UTC), datetime(2024, 5, 31, 2, 22, 32, 123000, tzinfo=UTC)),
        (datetime(2024, 5, 31, 2, 22, 32, 999999, tzinfo=UTC), datetime(2024, 5, 31, 2, 22, 32, 999000, tzinfo=UTC)),
        (datetime(2024, 5, 31, 2, 22, 32, 456), datetime(2024, 5, 31, 2, 22, 32, tzinfo=UTC)),
        (datetime(2024, 5, 31, 3, 0, 0, 1500, tzinfo=PLUS_ONE), datetime(2024, 5, 31, 2, 0, 0, 1000, tzinfo=UTC)),
    ],
)
def test_truncate(value: datetime, expected: datetime) -> None:
    result = clock.truncate(value)
    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (datetime(2024, 5, 31, 2, 22, 32, 123456, tzinfo=UTC), "2024-05-31T02:22:32.123Z"),
        (datetime(2024, 5, 31, 2, 22, 32, tzinfo=UTC), "2024-05-31T02:22:32.000Z"),
        (datetime(2024, 5, 31, 2, 22, 32, 7000), "2024-05-31T02:22:32.007Z"),
        (datetime(2024, 5, 31, 0, 30, 0, 42000, tzinfo=PLUS_ONE), "2024-05-30T23:30:00.042Z"),
    ],
)
def test_iso(value: datetime | None, expected: str | None) -> None:
    assert clock.iso(value) == expected


def test_iso_strings_sort_as_times() -> None:
    times = [
        datetime(2024, 5, 31, 2, 22, 32, 100000, tzinfo=UTC),
        datetime(2024, 5, 31, 2, 22, 32, 20000, tzinfo=UTC),
        datetime(2024, 5, 31, 2, 22, 3, tzinfo=UTC),
        datetime(2023, 12, 1, tzinfo=UTC),
    ]
    assert sorted(times, key=lambda t: clock.iso(t) or "") == sorted(times)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-01-01T10:00:00Z", datetime(2024, 1, 1, 10, tzinfo=UTC)),
        ("2024-01-01t10:00:00z", datetime(2024, 1, 1, 10, tzinfo=UTC)),
        ("2024-01-01T10:00:00+01:00", datetime(2024, 1, 1, 9, tzinfo=UTC)),
        ("2024-01-01T10:00:00+0100", datetime(2024, 1, 1, 9, tzinfo=UTC)),
        ("2024-01-01T10:00:00-05:30", datetime(2024, 1, 1, 15, 30, tzinfo=UTC)),
        ("2024-01-01T10:00:00 01:00", datetime(2024, 1, 1, 9, tzinfo=UTC)),  # a "+" decoded to a space
        ("2024-01-01T10:00:00%2B01:00", datetime(2024, 1, 1, 9, tzinfo=UTC)),  # still URL-encoded
        ("2024-01-01T10:00:00.5Z", datetime(2024, 1, 1, 10, 0, 0, 500000, tzinfo=UTC)),
        ("2024-01-01T10:00", datetime(2024, 1, 1, 10, tzinfo=UTC)),
        ("2024-01-01 10:00:00", datetime(2024, 1, 1, 10, tzinfo=UTC)),
        ("2024-01-01", datetime(2024, 1, 1, tzinfo=UTC)),
        (" 2024-01-01T10:00:00Z ", datetime(2024, 1, 1, 10, tzinfo=UTC)),
        ("2024-13-01T10:00:00Z", None),
        ("2024-02-30", None),
        ("2024-01-01T10", None),
        ("01/01/2024", None),
        ("foo", None),
        ("", None),
    ],
)
def test_parse_timestamp(raw: str, expected: datetime | None) -> None:
    parsed = clock.parse_timestamp(raw)
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo == UTC


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024/09/01", date(2024, 9, 1)),
        ("2024-09-01", date(2024, 9, 1)),
        ("2022-1-25", date(2022, 1, 25)),
        (" 2024-09-01 ", date(2024, 9, 1)),
        ("2024/02/30", None),
        ("2024-09", None),
        ("2024-09-01-01", None),
        ("a/b/c", None),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_parse_date(raw: str, expected: date | None) -> None:
    assert clock.parse_date(raw) == expected


def test_start_of_day_and_day() -> None:
    assert clock.start_of_day(date(2024, 9, 1)) == datetime(2024, 9, 1, tzinfo=UTC)
    assert timedelta(days=1) == clock.DAY


def test_utcnow_is_utc_and_millisecond_precise() -> None:
    before = datetime.now(UTC) - timedelta(milliseconds=1)
    now = clock.utcnow()
    after = datetime.now(UTC)
    assert now.tzinfo is UTC
    assert now.microsecond % 1000 == 0
    assert before <= now <= after
