"""Pure rules with fixed inputs: eligibility, the challenge deadline, time parsing, list parameters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.domain.clock import iso, parse_date, parse_timestamp
from chalicelib.domain.partnerships import api_status, challenge_deadline, in_challenge_window
from chalicelib.domain.schools import (
    SchoolFacts,
    in_england,
    is_cip_only,
    is_eligible,
    listed_by_eligibility,
    should_stage,
)


def facts(status=1, type_code=1, district="E09000001", s41=False):
    return SchoolFacts(status_code=status, type_code=type_code, district_code=district, section_41_approved=s41)


@pytest.mark.parametrize(
    ("school", "eligible", "cip_only", "listed"),
    [
        (facts(), True, False, True),
        (facts(status=3), True, False, True),  # open, but proposed to close
        (facts(status=2), False, False, False),
        (facts(status=4), False, False, False),  # proposed to open
        (facts(district="9999"), True, False, True),
        (facts(district="e06000001"), True, False, True),
        (facts(district="W06000001"), False, False, False),
        (facts(district=None), False, False, False),
        (facts(type_code=56), False, False, False),
        (facts(type_code=11), False, True, False),
        (facts(type_code=30, district="W06000001"), False, True, False),
        (facts(type_code=11, s41=True), True, False, False),  # eligible, yet in the list's CIP-only scope
        (facts(type_code=10, status=2), False, False, False),
        (facts(type_code=57), True, False, True),
    ],
)
def test_eligibility(school, eligible, cip_only, listed):
    assert is_eligible(school) is eligible
    assert is_cip_only(school) is cip_only
    assert listed_by_eligibility(school) is listed


def test_in_england_and_staging():
    assert in_england(facts(district="E10000002"))
    assert not in_england(facts(district="S12000033"))
    assert should_stage(facts(type_code=11))
    assert not should_stage(facts(type_code=56))
    assert should_stage(facts(type_code=56, s41=True))
    assert not should_stage(facts(district="W06000001"))


@pytest.mark.parametrize(
    ("now", "start", "expected"),
    [
        (datetime(2023, 5, 1, tzinfo=UTC), datetime(2023, 9, 1, tzinfo=UTC), datetime(2023, 9, 15, tzinfo=UTC)),
        (datetime(2023, 10, 25, 8, tzinfo=UTC), datetime(2023, 9, 1, tzinfo=UTC), datetime(2023, 11, 8, 8, tzinfo=UTC)),
        (datetime(2023, 8, 18, tzinfo=UTC), datetime(2023, 9, 1, tzinfo=UTC), datetime(2023, 9, 15, tzinfo=UTC)),
        (datetime(2023, 9, 5, tzinfo=UTC), datetime(2023, 9, 1, tzinfo=UTC), datetime(2023, 9, 19, tzinfo=UTC)),
        (datetime(2023, 5, 1, tzinfo=UTC), None, datetime(2023, 5, 15, tzinfo=UTC)),
    ],
)
def test_challenge_deadline_is_the_later_of_two_windows(now, start, expected):
    assert challenge_deadline(now, start) == expected


def test_challenge_window_and_status():
    deadline = datetime(2024, 9, 15, tzinfo=UTC)
    assert in_challenge_window(deadline, datetime(2024, 9, 14, tzinfo=UTC))
    assert not in_challenge_window(deadline, deadline)
    assert not in_challenge_window(None, deadline)
    assert api_status(None) == "active"
    assert api_status("mistake") == "challenged"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-07-01T10:00:00Z", datetime(2024, 7, 1, 10, tzinfo=UTC)),
        ("2024-07-01T10:00:00.123Z", datetime(2024, 7, 1, 10, 0, 0, 123000, tzinfo=UTC)),
        ("2024-07-01T11:00:00+01:00", datetime(2024, 7, 1, 10, tzinfo=UTC)),
        ("2024-07-01T11:00:00 01:00", datetime(2024, 7, 1, 10, tzinfo=UTC)),  # a '+' decoded as a space
        ("2024-07-01T11%3A00%3A00%2B01%3A00", datetime(2024, 7, 1, 10, tzinfo=UTC)),
        ("2024-07-01", datetime(2024, 7, 1, tzinfo=UTC)),
        ("2024-02-30T00:00:00Z", None),
        ("tomorrow", None),
        ("", None),
    ],
)
def test_parse_timestamp(raw, expected):
    assert parse_timestamp(raw) == expected


def test_iso_is_fixed_width_milliseconds():
    assert iso(datetime(2024, 7, 1, 10, 0, 0, 123456, tzinfo=UTC)) == "2024-07-01T10:00:00.123Z"
    assert iso(None) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("2024/09/01", (2024, 9, 1)), ("2022-1-25", (2022, 1, 25)), ("", None), ("2024/13/01", None), ("x", None)],
)
def test_parse_csv_date(raw, expected):
    parsed = parse_date(raw)
    assert (parsed.year, parsed.month, parsed.day) == expected if expected else parsed is None
