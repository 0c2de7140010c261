"""The POST partnership validation plan (``services.partnerships.create_partnership``) against fake repositories.

No AWS: the repository functions the service reads are replaced by dictionaries, so the order of the checks,
which errors suppress which, and the exact messages are checked at unit speed. The moto integration tests
(tests/test_api_partnerships.py) keep checking the same behaviour end to end.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.domain import messages as m
from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.partnerships import Partnership
from chalicelib.domain.providers import DeliveryPartner, LeadProvider
from chalicelib.domain.records import Cohort
from chalicelib.domain.schools import School, SchoolCohort, SchoolFacts
from chalicelib.services import partnerships as service

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
LP = "7d6f3a52-3b7e-4c55-9f57-2f7e7d2b1a01"
OTHER_LP = "7d6f3a52-3b7e-4c55-9f57-2f7e7d2b1a02"
SCHOOL = "5a1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c01"
CIP_SCHOOL = "5a1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c02"
CLOSED_SCHOOL = "5a1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c03"
DP = "3b2a1c0d-9e8f-4a7b-8c6d-5e4f3a2b1c01"
UNRELATED_DP = "3b2a1c0d-9e8f-4a7b-8c6d-5e4f3a2b1c02"
MISSING = "00000000-0000-4000-8000-000000000000"

ELIGIBLE = SchoolFacts(status_code=1, type_code=1, district_code="E09000001", section_41_approved=False)
CIP_ONLY = SchoolFacts(status_code=1, type_code=11, district_code="E09000001", section_41_approved=False)
CLOSED = SchoolFacts(status_code=2, type_code=1, district_code="E09000001", section_41_approved=False)


def _school(school_id: str, facts: SchoolFacts) -> School:
    return School(
        id=school_id, urn="100001", name="A School", facts=facts, status_name=None, type_name=None,
        primary_contact_email="head@school.example", secondary_contact_email=None, listed_by_eligibility=True,
        partnered_cohorts=frozenset(), created_at=NOW, updated_at=NOW,
    )  # fmt: skip


def _school_cohort(year: int, *, active_lead_provider_id: str | None) -> SchoolCohort:
    return SchoolCohort(
        school_id=SCHOOL, cohort=year, induction_programme_choice="full_induction_programme",
        active_partnership_id="p-1" if active_lead_provider_id else None,
        active_lead_provider_id=active_lead_provider_id,
        relationship_partnership_ids=frozenset(), default_induction_programme_id=None, appropriate_body=None,
        opt_out_of_updates=False, created_at=NOW, updated_at=NOW,
    )  # fmt: skip


@dataclass
class FakeStorage:
    """What the repositories would return, and what the service asked them to save."""

    cohorts: dict[int, Cohort] = field(default_factory=dict)
    lead_providers: set[str] = field(default_factory=set)
    schools: dict[str, School] = field(default_factory=dict)
    school_cohorts: dict[tuple[str, int], SchoolCohort] = field(default_factory=dict)
    partners: dict[str, DeliveryPartner] = field(default_factory=dict)
    relationships: set[tuple[str, str, int]] = field(default_factory=set)
    rows: dict[tuple[str, int], list[Partnership]] = field(default_factory=dict)
    saved: list[tuple[Partnership, bool]] = field(default_factory=list)


@pytest.fixture
def storage(monkeypatch: pytest.MonkeyPatch) -> FakeStorage:
    fake = FakeStorage()
    fake.cohorts[2024] = Cohort(2024, None, datetime(2024, 9, 1, tzinfo=UTC), None, None, False, False, NOW, NOW)
    fake.lead_providers |= {LP, OTHER_LP}
    fake.schools |= {
        SCHOOL: _school(SCHOOL, ELIGIBLE),
        CIP_SCHOOL: _school(CIP_SCHOOL, CIP_ONLY),
        CLOSED_SCHOOL: _school(CLOSED_SCHOOL, CLOSED),
    }
    fake.partners |= {d: DeliveryPartner(d, f"Partner {d[-2:]}", NOW, NOW) for d in (DP, UNRELATED_DP)}
    fake.relationships.add((LP, DP, 2024))

    def lead_provider(lead_provider_id: str) -> LeadProvider | None:
        known = lead_provider_id in fake.lead_providers
        return LeadProvider(lead_provider_id, "LP", False, NOW, NOW) if known else None

    def save_reported(partnership: Partnership, *, is_new: bool, now: datetime) -> Partnership:
        fake.saved.append((partnership, is_new))
        return replace(partnership, version=1)

    fakes: dict[tuple[Any, str], Any] = {
        (service.cohort_repo, "get_cohort"): fake.cohorts.get,
        (service.provider_repo, "get_lead_provider"): lead_provider,
        (service.school_repo, "find_school"): fake.schools.get,
        (service.school_repo, "find_school_cohort"): lambda school_id, year: fake.school_cohorts.get((school_id, year)),
        (service.provider_repo, "get_delivery_partner"): fake.partners.get,
        (service.provider_repo, "get_relationship"): lambda lp, dp, year: (lp, dp, year) in fake.relationships,
        (service.repo, "find_school_cohort_partnerships"): lambda school_id, year: fake.rows.get((school_id, year), []),
        (service.repo, "save_reported"): save_reported,
    }
    for (module, name), function in fakes.items():
        monkeypatch.setattr(module, name, function)
    return fake


def _post(attributes: dict[str, Any], lead_provider_id: str = LP) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as failed:
        service.create_partnership(lead_provider_id, attributes, NOW)
    return failed.value.errors


def _attributes(**changes: Any) -> dict[str, Any]:
    return {"cohort": "2024", "school_id": SCHOOL, "delivery_partner_id": DP, **changes}


def test_a_valid_report_plans_a_new_row_with_the_challenge_deadline(storage: FakeStorage) -> None:
    record = service.create_partnership(LP, _attributes(), NOW)
    [(saved, is_new)] = storage.saved
    assert is_new
    assert (saved.school_id, saved.lead_provider_id, saved.delivery_partner_id) == (SCHOOL, LP, DP)
    assert saved.delivery_partner_name == "Partner 01"
    assert saved.challenge_deadline == datetime(2024, 9, 15, tzinfo=UTC)  # academic start + 14 days is later
    assert record.induction_tutor_email == "head@school.example"


def test_every_blank_field_is_reported_in_order(storage: FakeStorage) -> None:
    errors = _post({"cohort": " ", "school_id": None, "delivery_partner_id": ""})
    assert list(errors) == ["cohort", "school_id", "delivery_partner_id"]
    assert errors == {
        "cohort": [m.COHORT_BLANK],
        "school_id": [m.SCHOOL_BLANK],
        "delivery_partner_id": [m.DELIVERY_PARTNER_BLANK],
    }
    assert storage.saved == []


def test_an_unknown_cohort_still_checks_the_school_but_not_its_cohort_rules(storage: FakeStorage) -> None:
    storage.school_cohorts[(SCHOOL, 2023)] = _school_cohort(2023, active_lead_provider_id=OTHER_LP)
    assert _post(_attributes(cohort="2023", school_id=CIP_SCHOOL)) == {
        "cohort": [m.COHORT_INVALID],
        "school_id": [m.SCHOOL_CIP_ONLY],
    }
    assert _post(_attributes(cohort="2023")) == {"cohort": [m.COHORT_INVALID]}  # recruitment needs a cohort


@pytest.mark.parametrize(
    ("school_id", "message"),
    [(MISSING, m.SCHOOL_INVALID), ("not-a-uuid", m.SCHOOL_INVALID), (CIP_SCHOOL, m.SCHOOL_CIP_ONLY),
     (CLOSED_SCHOOL, m.SCHOOL_INELIGIBLE)],
)  # fmt: skip
def test_the_first_failing_school_check_is_the_one_reported(storage: FakeStorage, school_id: str, message: str) -> None:
    assert _post(_attributes(school_id=school_id)) == {"school_id": [message]}


def test_recruitment_in_the_cohort(storage: FakeStorage) -> None:
    storage.school_cohorts[(SCHOOL, 2024)] = _school_cohort(2024, active_lead_provider_id=LP)
    assert _post(_attributes()) == {"school_id": [m.ALREADY_CONFIRMED]}
    storage.school_cohorts[(SCHOOL, 2024)] = _school_cohort(2024, active_lead_provider_id=OTHER_LP)
    assert _post(_attributes()) == {"school_id": [m.RECRUITED_BY_OTHER_PROVIDER]}


def test_last_years_partnership_without_this_years_programme_choice(storage: FakeStorage) -> None:
    storage.school_cohorts[(SCHOOL, 2023)] = _school_cohort(2023, active_lead_provider_id=OTHER_LP)
    assert _post(_attributes()) == {"school_id": [m.SCHOOL_PROGRAMME_NOT_YET_CONFIRMED]}


def test_delivery_partner_checks(storage: FakeStorage) -> None:
    assert _post(_attributes(delivery_partner_id=MISSING)) == {"delivery_partner_id": [m.DELIVERY_PARTNER_INVALID]}
    assert _post(_attributes(delivery_partner_id=UNRELATED_DP)) == {
        "delivery_partner_id": [m.DELIVERY_PARTNER_NO_RELATIONSHIP]
    }
    # Without a cohort the relationship cannot be checked: only the cohort error.
    assert _post(_attributes(cohort="1999", delivery_partner_id=UNRELATED_DP)) == {"cohort": [m.COHORT_INVALID]}


def test_an_unknown_lead_provider_is_reported_after_the_cohort(storage: FakeStorage) -> None:
    errors = _post(_attributes(cohort=""), lead_provider_id=MISSING)
    assert list(errors) == ["cohort", "lead_provider_id"]
    assert errors["lead_provider_id"] == [m.LEAD_PROVIDER_INVALID]


def test_our_challenged_row_is_reused_not_duplicated(storage: FakeStorage) -> None:
    challenged = Partnership(
        id="row-1", school_id=SCHOOL, urn="100001", lead_provider_id=LP, delivery_partner_id=UNRELATED_DP,
        delivery_partner_name="Old", cohort=2024, relationship=False, pending=False, challenged_at=NOW,
        challenge_reason="mistake", challenge_deadline=NOW, report_id="r-1", created_at=NOW, updated_at=NOW, version=3,
    )  # fmt: skip
    storage.rows[(SCHOOL, 2024)] = [challenged]
    service.create_partnership(LP, _attributes(), NOW)
    [(saved, is_new)] = storage.saved
    assert not is_new
    assert (saved.id, saved.version, saved.delivery_partner_id) == ("row-1", 3, DP)
    assert saved.challenge_reason is None
    assert saved.challenged_at is None
    assert saved.report_id != "r-1"


def test_our_confirmed_row_appearing_late_is_already_confirmed(storage: FakeStorage) -> None:
    confirmed = Partnership(
        id="row-1", school_id=SCHOOL, urn="100001", lead_provider_id=LP, delivery_partner_id=DP,
        delivery_partner_name="Partner 01", cohort=2024, relationship=False, pending=False, challenged_at=None,
        challenge_reason=None, challenge_deadline=NOW, report_id="r-1", created_at=NOW, updated_at=NOW, version=1,
    )  # fmt: skip
    storage.rows[(SCHOOL, 2024)] = [confirmed]
    assert _post(_attributes()) == {"school_id": [m.ALREADY_CONFIRMED]}
    assert storage.saved == []
