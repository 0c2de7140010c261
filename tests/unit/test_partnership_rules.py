"""The pure parts of the partnership create/update validation (partnerships-seed.md; ecf-domain.md 1.6, 3.1, 3.3).

The order of the POST and PUT checks (``_plan_report``, ``_school_problem``, ``update_partnership`` in
``chalicelib/services/partnerships.py``) is decided inside the service, interleaved with DynamoDB reads, so it is not
tested here. What is tested: the messages word for word against the seed, the school rules the school check relies on,
the identifier parsing that decides "invalid" before any read, the challenge deadline and window, and the pure
mapping helpers of the service.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chalicelib.domain import messages as m
from chalicelib.domain import partnerships as rules
from chalicelib.domain.records import PartnershipRecord
from chalicelib.domain.schools import (
    CIP_ONLY_TYPE_CODES,
    ELIGIBLE_TYPE_CODES,
    SchoolFacts,
    in_cip_only_scope,
    in_england,
    is_cip_only,
    is_eligible,
    is_open,
)
from chalicelib.services.ids import is_uuid, parse_year

SEED = Path(__file__).resolve().parents[3] / "shared" / "reference" / "partnerships-seed.md"
T0 = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)
UUID = "24b61d1c-ad95-4000-aee0-afbdd542294a"


def school_facts(
    status: int | None = 1, type_code: int | None = 1, district: str | None = "E09000001", s41: bool = False
) -> SchoolFacts:
    return SchoolFacts(status_code=status, type_code=type_code, district_code=district, section_41_approved=s41)


# --------------------------------------------------------------------------- messages, word for word

CREATE_MESSAGES = {
    "Cohort not specified": m.COHORT_BLANK,
    "Cohort not found": m.COHORT_INVALID,
    "School not specified": m.SCHOOL_BLANK,
    "School not found": m.SCHOOL_INVALID,
    "School is CIP only": m.SCHOOL_CIP_ONLY,
    "School is not eligible": m.SCHOOL_INELIGIBLE,
    "Partnership already exists with school and lead provider": m.ALREADY_CONFIRMED,
    "Partnership already exists with school and different lead provider": m.RECRUITED_BY_OTHER_PROVIDER,
    "School has not specified funding type for academic year": m.SCHOOL_PROGRAMME_NOT_YET_CONFIRMED,
    "Lead provider not specified": m.LEAD_PROVIDER_BLANK,
    "Lead provider not found": m.LEAD_PROVIDER_INVALID,
    "Delivery partner not specified": m.DELIVERY_PARTNER_BLANK,
    "Delivery partner not found": m.DELIVERY_PARTNER_INVALID,
    "Delivery partner not setup for cohort": m.DELIVERY_PARTNER_NO_RELATIONSHIP,
}
UPDATE_MESSAGES = {
    "Delivery partner not specified": m.DELIVERY_PARTNER_BLANK,
    "Delivery partner not found": m.DELIVERY_PARTNER_INVALID,
    "Delivery partner not setup for cohort": m.DELIVERY_PARTNER_NO_RELATIONSHIP,
    "Partnership not found": m.PARTNERSHIP_BLANK,
    "Partnership is currently challenged": m.PARTNERSHIP_CHALLENGED,
    "Lead provider already has a **relationship** partnership with the school and delivery partner": (
        m.RELATIONSHIP_ALREADY_EXISTS
    ),
}


def seed_messages(heading: str) -> dict[str, str]:
    """The ``- Label: `text``` bullets of one seed section."""
    text = SEED.read_text(encoding="utf-8")
    section = text.split(f"### {heading}", 1)[1].split("\n### ", 1)[0]
    return dict(re.findall(r"^- (.+?): `([^`]+)`$", section, flags=re.MULTILINE))


@pytest.mark.skipif(not SEED.exists(), reason="shared/reference/partnerships-seed.md is not beside the worktree")
@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("Creating a partnership (lead provider)", CREATE_MESSAGES),
        ("Updating a partnership (lead provider)", UPDATE_MESSAGES),
    ],
)
def test_messages_are_the_seed_texts(heading: str, expected: dict[str, str]) -> None:
    assert seed_messages(heading) == expected


def test_messages_literal() -> None:
    # The same texts without the seed file, so a change to messages.py fails here too.
    assert m.COHORT_BLANK == "Enter a '#/cohort'."
    assert m.SCHOOL_BLANK == "Enter a '#/school_id'."
    assert m.DELIVERY_PARTNER_BLANK == "Enter a '#/delivery_partner_id'."
    assert m.ALREADY_CONFIRMED == "You are already in a confirmed partnership with this school for the entered cohort."
    assert m.SCHOOL_INVALID == (
        "The '#/school_id' you have entered is invalid. Check school details and try again. Contact the DfE for "
        "support if you are unable to find the '#/school_id'."
    )
    assert m.PARTNERSHIP_CHALLENGED.endswith("using the endpoint POST /api/v3/partnerships/ecf.")


def test_challenge_messages() -> None:
    assert m.CHALLENGE_REASON_REQUIRED == "Select a reason why you think this confirmation is incorrect"
    assert m.CHALLENGE_ALREADY_CHALLENGED == "This partnership has already been challenged"
    assert m.CHALLENGE_DEADLINE_PASSED == "The challenge deadline for this partnership has passed"


# --------------------------------------------------------------------------- identifiers: "invalid" before any read


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (UUID, True),
        (UUID.upper(), True),
        ("db2fbf67-b7b7-454f-a1b7-0020411e2314", True),
        (UUID + "0", False),
        (UUID[:-1], False),
        (UUID.replace("-", ""), False),
        ("{" + UUID + "}", False),
        (f" {UUID}", False),
        pytest.param(f"{UUID}\n", False, id="trailing-newline"),
        ("24b61d1c-ad95-4000-aee0-afbdd542294g", False),
        ("", False),
        (None, False),
        (12345, False),
    ],
)
def test_is_uuid(value: object, expected: bool) -> None:
    assert is_uuid(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024", 2024),
        (" 2024 ", 2024),
        (2024, 2024),
        (1901, 1901),
        (2999, 2999),
        (1900, None),
        (3000, None),
        ("24", None),
        ("20245", None),
        ("2024.0", None),
        ("-2024", None),
        (2024.0, None),
        (True, None),
        (False, None),
        ("", None),
        (None, None),
        ([2024], None),
    ],
)
def test_parse_year(value: object, expected: int | None) -> None:
    assert parse_year(value) == expected


# --------------------------------------------------------------------------- the school rules behind step 3


@pytest.mark.parametrize("code", sorted(ELIGIBLE_TYPE_CODES))
def test_every_eligible_type_is_eligible_when_open_in_england(code: int) -> None:
    assert is_eligible(school_facts(type_code=code))
    assert not is_cip_only(school_facts(type_code=code))


@pytest.mark.parametrize("code", [10, 11, 24, 25, 26, 27, 29, 30, 37, 49, 56, None])
def test_other_types_need_section_41(code: int | None) -> None:
    assert not is_eligible(school_facts(type_code=code))
    assert is_eligible(school_facts(type_code=code, s41=True))


def test_eligible_type_codes_are_the_reference_list() -> None:
    assert len(ELIGIBLE_TYPE_CODES) == 30
    assert {10, 11, 30, 37} == CIP_ONLY_TYPE_CODES
    assert not ELIGIBLE_TYPE_CODES & CIP_ONLY_TYPE_CODES


@pytest.mark.parametrize(("status", "expected"), [(1, True), (3, True), (2, False), (4, False), (None, False)])
def test_is_open(status: int | None, expected: bool) -> None:
    assert is_open(school_facts(status=status)) is expected


@pytest.mark.parametrize(
    ("district", "expected"),
    [
        ("E09000001", True),
        ("e06000001", True),
        ("9999", True),
        ("99999", True),
        ("  E10000002 ", True),
        ("W06000001", False),
        ("S12000033", False),
        ("N09000001", False),
        ("999", False),
        ("", False),
        (None, False),
    ],
)
def test_in_england(district: str | None, expected: bool) -> None:
    assert in_england(school_facts(district=district)) is expected


@pytest.mark.parametrize(
    ("given", "cip_only", "eligible"),
    [
        # The first failing school check wins: CIP-only comes before ineligible.
        pytest.param(school_facts(type_code=11), True, False, id="open-cip-only-type"),
        pytest.param(school_facts(type_code=30, district="W06000001"), True, False, id="welsh-cip-only-type"),
        pytest.param(school_facts(type_code=11, s41=True), False, True, id="section-41-independent"),
        pytest.param(school_facts(type_code=11, status=2), False, False, id="closed-cip-type-is-ineligible"),
        pytest.param(school_facts(type_code=56), False, False, id="ineligible-type"),
        pytest.param(school_facts(district="W06000001"), False, False, id="outside-england"),
        pytest.param(school_facts(), False, True, id="eligible"),
    ],
)
def test_cip_only_and_eligibility(given: SchoolFacts, cip_only: bool, eligible: bool) -> None:
    assert is_cip_only(given) is cip_only
    assert is_eligible(given) is eligible
    # never both: the school check reports one of the two at most
    assert not (is_cip_only(given) and is_eligible(given))


def test_cip_only_scope_differs_from_the_model_rule() -> None:
    section_41 = school_facts(type_code=11, s41=True)
    assert in_cip_only_scope(section_41)
    assert not is_cip_only(section_41)


# --------------------------------------------------------------------------- challenge deadline and window


@pytest.mark.parametrize(
    ("now", "start", "expected"),
    [
        pytest.param(T0, None, T0 + timedelta(days=14), id="no-academic-start"),
        pytest.param(
            datetime(2024, 5, 1, tzinfo=UTC),
            datetime(2024, 9, 1, tzinfo=UTC),
            datetime(2024, 9, 15, tzinfo=UTC),
            id="start-window-later",
        ),
        pytest.param(
            datetime(2024, 10, 1, 8, 30, tzinfo=UTC),
            datetime(2024, 9, 1, tzinfo=UTC),
            datetime(2024, 10, 15, 8, 30, tzinfo=UTC),
            id="now-window-later",
        ),
        pytest.param(
            datetime(2024, 9, 1, tzinfo=UTC),
            datetime(2024, 9, 1, tzinfo=UTC),
            datetime(2024, 9, 15, tzinfo=UTC),
            id="equal-windows",
        ),
    ],
)
def test_challenge_deadline(now: datetime, start: datetime | None, expected: datetime) -> None:
    assert rules.challenge_deadline(now, start) == expected


def test_challenge_window_is_strictly_before_the_deadline() -> None:
    deadline = T0 + timedelta(days=14)
    assert rules.in_challenge_window(deadline, T0)
    assert rules.in_challenge_window(deadline, deadline - timedelta(microseconds=1))
    assert not rules.in_challenge_window(deadline, deadline)
    assert not rules.in_challenge_window(deadline, deadline + timedelta(days=1))
    assert not rules.in_challenge_window(None, T0)


@pytest.mark.parametrize(("reason", "status"), [(None, "active"), ("", "active"), ("mistake", "challenged")])
def test_api_status(reason: str | None, status: str) -> None:
    assert rules.api_status(reason) == status


def test_choices() -> None:
    assert rules.CHALLENGE_REASONS == ("another_provider", "not_confirmed", "do_not_recognise", "no_ects", "mistake")
    assert timedelta(days=14) == rules.CHALLENGE_WINDOW
    assert rules.SIT_CHOICES == {
        "provider_led": "full_induction_programme",
        "school_led": "core_induction_programme",
        "not_yet_known": "not_yet_known",
        "no_early_career_teachers": "no_early_career_teachers",
    }
    assert set(rules.API_CHOICE) == set(rules.PROGRAMME_CHOICES)
    assert rules.API_CHOICE["design_our_own"] == "school_led"
    assert rules.API_CHOICE["school_funded_fip"] == "provider_led"
    # Every SIT answer reads back as itself.
    assert all(rules.API_CHOICE[stored] == answer for answer, stored in rules.SIT_CHOICES.items())


# --------------------------------------------------------------------------- the domain's pure mapping


def test_partnership_record_shows_the_row_and_the_schools_contact() -> None:
    """``partnership_record`` builds what the API shows from two domain records; no table is touched."""
    from chalicelib.domain.partnerships import Partnership, partnership_record
    from chalicelib.domain.schools import School

    school = School(
        id="school-1",
        urn="100001",
        name="A School",
        facts=SchoolFacts(3, 11, "E09000001", True),
        status_name=None,
        type_name=None,
        primary_contact_email=None,
        secondary_contact_email="office@school.example",
        listed_by_eligibility=True,
        partnered_cohorts=frozenset({2024}),
        created_at=T0,
        updated_at=T0,
    )
    partnership = Partnership(
        id="partnership-1",
        school_id="school-1",
        urn="100001",
        lead_provider_id="lp-a",
        delivery_partner_id="dp-1",
        delivery_partner_name="Partner One",
        cohort=2024,
        relationship=False,
        pending=False,
        challenged_at=T0,
        challenge_reason="mistake",
        challenge_deadline=T0 + timedelta(days=14),
        report_id="report-1",
        created_at=T0 - timedelta(days=1),
        updated_at=T0,
    )
    assert partnership_record(partnership, school) == PartnershipRecord(
        id="partnership-1",
        cohort=2024,
        urn="100001",
        school_id="school-1",
        lead_provider_id="lp-a",
        delivery_partner_id="dp-1",
        delivery_partner_name="Partner One",
        challenge_reason="mistake",
        challenged_at=T0,
        challenge_deadline=T0 + timedelta(days=14),
        relationship=False,
        induction_tutor_name=None,
        induction_tutor_email="office@school.example",
        created_at=T0 - timedelta(days=1),
        updated_at=T0,
    )
    assert school.listed_for(2025)
    assert school.contact_email == "office@school.example"
    head = replace(school, primary_contact_email="head@school.example")
    assert partnership_record(partnership, head).induction_tutor_email == "head@school.example"
