"""POST/PUT/GET /api/v3/partnerships/ecf: every rule and message of the seed, validated against the reference."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from chalicelib.domain import messages as m
from chalicelib.services import partnerships as partnership_service
from chalicelib.services import schools as school_service
from tests.api_helpers import Api, error_body, partnership_payload, update_payload

PATH = "/api/v3/partnerships/ecf"


@pytest.fixture
def setup(world, client):
    world.cohort(2023)
    world.cohort(2024)
    world.cohort(2025)
    lp = world.lead_provider("Ambition Institute")
    other = world.lead_provider("Teach First")
    dp = world.delivery_partner(lp, [2024, 2025], name="Alpha Partners")
    dp2 = world.delivery_partner(lp, [2024], name="Beta Partners")
    other_dp = world.delivery_partner(other, [2024], name="Gamma Partners")
    return {
        "world": world,
        "lp": lp,
        "other": other,
        "dp": dp,
        "dp2": dp2,
        "other_dp": other_dp,
        "api": Api(client, world.token(lp)),
        "other_api": Api(client, world.token(other)),
        "client": client,
    }


def post(api, cohort, school_id, dp_id, headers=None):
    return api.send("POST", PATH, partnership_payload(cohort, school_id, dp_id), headers=headers)


def assert_422(response, pairs):
    assert response.status_code == 422, response.body
    assert json.loads(response.body) == error_body(pairs)
    assert response.headers["Content-Type"] == "application/vnd.api+json"


def test_create_returns_the_partnership(setup):
    school = setup["world"].school()
    body = setup["api"].send_ok("POST", PATH, partnership_payload("2024", school.id, setup["dp"].id))
    attrs = body["data"]["attributes"]
    assert body["data"]["type"] == "partnership"
    assert set(attrs) == {
        "cohort", "urn", "school_id", "delivery_partner_id", "delivery_partner_name", "status",
        "challenged_reason", "challenged_at", "induction_tutor_name", "induction_tutor_email",
        "updated_at", "created_at",
    }  # fmt: skip
    assert attrs["cohort"] == "2024"
    assert attrs["urn"] == school.urn
    assert attrs["school_id"] == school.id
    assert attrs["delivery_partner_id"] == setup["dp"].id
    assert attrs["delivery_partner_name"] == "Alpha Partners"
    assert attrs["status"] == "active"
    assert attrs["challenged_reason"] is None
    assert attrs["challenged_at"] is None
    assert attrs["induction_tutor_email"] == school.primary_contact_email


def test_cohort_may_be_a_number(setup):
    school = setup["world"].school()
    setup["api"].send_ok("POST", PATH, partnership_payload(2024, school.id, setup["dp"].id))


def test_presence_errors_for_every_missing_field(setup):
    response = setup["api"].send("POST", PATH, partnership_payload(..., ..., ...))
    assert_422(
        response,
        [("cohort", m.COHORT_BLANK), ("school_id", m.SCHOOL_BLANK), ("delivery_partner_id", m.DELIVERY_PARTNER_BLANK)],
    )


def test_blank_strings_are_missing(setup):
    response = post(setup["api"], " ", "", "")
    assert_422(
        response,
        [("cohort", m.COHORT_BLANK), ("school_id", m.SCHOOL_BLANK), ("delivery_partner_id", m.DELIVERY_PARTNER_BLANK)],
    )


@pytest.mark.parametrize("cohort", ["2019", "abcd", "20244", 2030, True, ["2024"]])
def test_unknown_cohort(setup, cohort):
    school = setup["world"].school()
    assert_422(post(setup["api"], cohort, school.id, setup["dp"].id), [("cohort", m.COHORT_INVALID)])


@pytest.mark.parametrize("school_id", ["5d1c0f0e-8f1e-4a55-9c3e-2f6b8f7f1a10", "not-a-uuid", 12345, {"id": 1}])
def test_unknown_school(setup, school_id):
    assert_422(post(setup["api"], "2024", school_id, setup["dp"].id), [("school_id", m.SCHOOL_INVALID)])


@pytest.mark.parametrize(
    ("trait", "message"),
    [
        ("cip_only", m.SCHOOL_CIP_ONLY),
        ("closed", m.SCHOOL_INELIGIBLE),
        ("welsh", m.SCHOOL_INELIGIBLE),
        ("ineligible_type", m.SCHOOL_INELIGIBLE),
    ],
)
def test_school_funding_checks(setup, trait, message):
    school = setup["world"].school(trait)
    assert_422(post(setup["api"], "2024", school.id, setup["dp"].id), [("school_id", message)])


def test_section_41_independent_school_is_accepted(setup):
    school = setup["world"].school("section_41_independent")
    setup["api"].send_ok("POST", PATH, partnership_payload("2024", school.id, setup["dp"].id))


def test_already_partnered_with_this_provider(setup):
    school = setup["world"].school()
    setup["api"].send_ok("POST", PATH, partnership_payload("2024", school.id, setup["dp"].id))
    assert_422(post(setup["api"], "2024", school.id, setup["dp2"].id), [("school_id", m.ALREADY_CONFIRMED)])


def test_partnered_with_another_provider(setup):
    school = setup["world"].school()
    setup["other_api"].send_ok("POST", PATH, partnership_payload("2024", school.id, setup["other_dp"].id))
    assert_422(post(setup["api"], "2024", school.id, setup["dp"].id), [("school_id", m.RECRUITED_BY_OTHER_PROVIDER)])


def test_school_that_had_a_provider_last_year_must_confirm_this_year(setup):
    school = setup["world"].school()
    setup["other_api"].send_ok("POST", PATH, partnership_payload("2024", school.id, setup["other_dp"].id))
    assert_422(
        post(setup["api"], "2025", school.id, setup["dp"].id), [("school_id", m.SCHOOL_PROGRAMME_NOT_YET_CONFIRMED)]
    )
    # Once the school confirms the new cohort (any choice), a provider can report it.
    school_service.set_programme_choice(school.urn, 2025, "school_led", datetime(2024, 6, 2, tzinfo=UTC))
    body = setup["api"].send_ok("POST", PATH, partnership_payload("2025", school.id, setup["dp"].id))
    assert body["data"]["attributes"]["cohort"] == "2025"
    # ...and the school cohort is switched to provider-led.
    listing = setup["api"].get_ok(f"/api/v3/schools/ecf/{school.id}?filter[cohort]=2025")
    assert listing["data"]["attributes"]["induction_programme_choice"] == "provider_led"


@pytest.mark.parametrize("dp_id", ["7c4e2a1b-0d3f-4b6a-8e9c-1f2a3b4c5d6e", "nope", 7])
def test_unknown_delivery_partner(setup, dp_id):
    school = setup["world"].school()
    assert_422(post(setup["api"], "2024", school.id, dp_id), [("delivery_partner_id", m.DELIVERY_PARTNER_INVALID)])


def test_delivery_partner_without_relationship_for_cohort(setup):
    school = setup["world"].school()
    # dp2 is related to this LP for 2024 only; other_dp only to the other LP.
    assert_422(
        post(setup["api"], "2025", school.id, setup["dp2"].id),
        [("delivery_partner_id", m.DELIVERY_PARTNER_NO_RELATIONSHIP)],
    )
    assert_422(
        post(setup["api"], "2024", school.id, setup["other_dp"].id),
        [("delivery_partner_id", m.DELIVERY_PARTNER_NO_RELATIONSHIP)],
    )


def test_errors_on_several_attributes_come_in_order(setup):
    closed = setup["world"].school("closed")
    response = post(setup["api"], "1999", closed.id, str(uuid.uuid4()))
    assert_422(
        response,
        [
            ("cohort", m.COHORT_INVALID),
            ("school_id", m.SCHOOL_INELIGIBLE),
            ("delivery_partner_id", m.DELIVERY_PARTNER_INVALID),
        ],
    )


def test_failed_validation_writes_nothing(setup):
    from chalicelib.repositories import schools as school_repo

    school = setup["world"].school()
    assert_422(
        post(setup["api"], "2025", school.id, setup["dp2"].id),
        [("delivery_partner_id", m.DELIVERY_PARTNER_NO_RELATIONSHIP)],
    )
    assert setup["api"].get_ok(PATH)["data"] == []
    assert school_repo.get_school_cohort(school.id, 2025) is None
    assert school_repo.get_school(school.id).updated_at == school.updated_at


# --------------------------------------------------------------------------- deadline


def test_challenge_deadline_is_the_later_of_now_and_academic_start_plus_14_days(setup):
    school = setup["world"].school()
    # Reported in May: the academic year start (1 Sept 2024) + 14 days wins.
    record = partnership_service.create_partnership(
        setup["lp"].id,
        {"cohort": "2024", "school_id": school.id, "delivery_partner_id": setup["dp"].id},
        datetime(2024, 5, 1, 9, 30, tzinfo=UTC),
    )
    assert record.challenge_deadline == datetime(2024, 9, 15, tzinfo=UTC)
    # Reported in late October: now + 14 days wins.
    late = setup["world"].school()
    record = partnership_service.create_partnership(
        setup["lp"].id,
        {"cohort": "2024", "school_id": late.id, "delivery_partner_id": setup["dp"].id},
        datetime(2024, 10, 25, 9, 30, tzinfo=UTC),
    )
    assert record.challenge_deadline == datetime(2024, 11, 8, 9, 30, tzinfo=UTC)


def test_server_date_header_sets_now(setup):
    school = setup["world"].school()
    body = setup["api"].send_ok(
        "POST",
        PATH,
        partnership_payload("2024", school.id, setup["dp"].id),
        headers={"X-With-Server-Date": "2024-10-25T09:30:00Z"},
    )
    assert body["data"]["attributes"]["created_at"] == "2024-10-25T09:30:00.000Z"
    response = post(setup["api"], "2024", setup["world"].school().id, setup["dp"].id, {"X-With-Server-Date": "soon"})
    assert response.status_code == 400


# --------------------------------------------------------------------------- challenge and reuse


def test_challenge_releases_the_school_and_hides_nothing_from_the_partnerships_list(setup):
    school = setup["world"].school()
    created = setup["api"].send_ok("POST", PATH, partnership_payload("2024", school.id, setup["dp"].id))
    pid = created["data"]["id"]
    challenged = partnership_service.challenge_partnership(pid, "mistake", datetime(2024, 6, 2, tzinfo=UTC))
    assert challenged.challenge_reason == "mistake"
    shown = setup["api"].get_ok(f"{PATH}/{pid}")["data"]["attributes"]
    assert shown["status"] == "challenged"
    assert shown["challenged_reason"] == "mistake"
    assert shown["challenged_at"] == "2024-06-02T00:00:00.000Z"
    # Another provider can now partner with the school.
    setup["other_api"].send_ok("POST", PATH, partnership_payload("2024", school.id, setup["other_dp"].id))


def test_a_challenged_row_is_reused_and_unchallenged(setup):
    school = setup["world"].school()
    first = setup["api"].send_ok("POST", PATH, partnership_payload("2024", school.id, setup["dp"].id))["data"]
    partnership_service.challenge_partnership(first["id"], "not_confirmed", datetime(2024, 6, 2, tzinfo=UTC))
    again = setup["api"].send_ok("POST", PATH, partnership_payload("2024", school.id, setup["dp2"].id))["data"]
    assert again["id"] == first["id"]
    assert again["attributes"]["status"] == "active"
    assert again["attributes"]["challenged_reason"] is None
    assert again["attributes"]["delivery_partner_id"] == setup["dp2"].id
    assert len(setup["api"].get_ok(PATH)["data"]) == 1


def test_challenged_partnership_of_another_provider_does_not_block(setup):
    school = setup["world"].school()
    theirs = setup["other_api"].send_ok("POST", PATH, partnership_payload("2024", school.id, setup["other_dp"].id))
    partnership_service.challenge_partnership(
        theirs["data"]["id"], "another_provider", datetime(2024, 6, 2, tzinfo=UTC)
    )
    setup["api"].send_ok("POST", PATH, partnership_payload("2024", school.id, setup["dp"].id))


def test_no_ects_challenge_sets_the_school_cohort(setup):
    school = setup["world"].school()
    created = setup["api"].send_ok("POST", PATH, partnership_payload("2024", school.id, setup["dp"].id))
    partnership_service.challenge_partnership(created["data"]["id"], "no_ects", datetime(2024, 6, 2, tzinfo=UTC))
    listing = setup["api"].get_ok(f"/api/v3/schools/ecf/{school.id}?filter[cohort]=2024")["data"]["attributes"]
    assert listing["induction_programme_choice"] == "no_early_career_teachers"
    assert listing["in_partnership"] is False


# --------------------------------------------------------------------------- update


def test_update_changes_the_delivery_partner_of_the_same_row(setup):
    school = setup["world"].school()
    created = setup["api"].send_ok("POST", PATH, partnership_payload("2024", school.id, setup["dp"].id))["data"]
    updated = setup["api"].send_ok("PUT", f"{PATH}/{created['id']}", update_payload(setup["dp2"].id))["data"]
    assert updated["id"] == created["id"]
    assert updated["attributes"]["delivery_partner_id"] == setup["dp2"].id
    assert updated["attributes"]["delivery_partner_name"] == "Beta Partners"


def test_update_to_the_same_partner_changes_nothing(setup):
    school = setup["world"].school()
    created = setup["api"].send_ok("POST", PATH, partnership_payload("2024", school.id, setup["dp"].id))["data"]
    same = setup["api"].send_ok("PUT", f"{PATH}/{created['id']}", update_payload(setup["dp"].id))["data"]
    assert same == created


@pytest.mark.parametrize(
    ("dp_key", "message"),
    [
        (None, m.DELIVERY_PARTNER_BLANK),
        ("", m.DELIVERY_PARTNER_BLANK),
        ("random", m.DELIVERY_PARTNER_INVALID),
        ("other_dp", m.DELIVERY_PARTNER_NO_RELATIONSHIP),
    ],
)
def test_update_validation(setup, dp_key, message):
    school = setup["world"].school()
    created = setup["api"].send_ok("POST", PATH, partnership_payload("2024", school.id, setup["dp"].id))["data"]
    value = {None: None, "": "", "random": str(uuid.uuid4())}.get(dp_key)
    if dp_key == "other_dp":
        value = setup["other_dp"].id
    response = setup["api"].send("PUT", f"{PATH}/{created['id']}", update_payload(value))
    assert_422(response, [("delivery_partner_id", message)])


def test_update_of_a_challenged_partnership(setup):
    school = setup["world"].school()
    created = setup["api"].send_ok("POST", PATH, partnership_payload("2024", school.id, setup["dp"].id))["data"]
    partnership_service.challenge_partnership(created["id"], "mistake", datetime(2024, 6, 2, tzinfo=UTC))
    response = setup["api"].send("PUT", f"{PATH}/{created['id']}", update_payload(setup["dp2"].id))
    assert_422(response, [("partnership", m.PARTNERSHIP_CHALLENGED)])


# --------------------------------------------------------------------------- visibility


def test_another_providers_partnership_looks_missing(setup):
    school = setup["world"].school()
    theirs = setup["other_api"].send_ok("POST", PATH, partnership_payload("2024", school.id, setup["other_dp"].id))
    foreign = theirs["data"]["id"]
    missing = str(uuid.uuid4())
    for path in (f"{PATH}/{foreign}", f"{PATH}/{missing}", f"{PATH}/not-a-uuid"):
        response = setup["api"].get(path)
        assert response.status_code == 404
        assert json.loads(response.body) == {"error": "Resource not Found"}
    for pid in (foreign, missing):
        response = setup["api"].send("PUT", f"{PATH}/{pid}", update_payload(setup["dp"].id))
        assert response.status_code == 404
        assert json.loads(response.body) == {"error": "Resource not Found"}
    assert setup["api"].get_ok(PATH)["data"] == []


# --------------------------------------------------------------------------- request shape


@pytest.mark.parametrize(
    "raw",
    ["", "not json", "[]", '{"data": []}', '{"nodata": {}}', '{"data": {"attributes": []}}', '{"data": "x"}'],
)
def test_malformed_bodies_are_400(setup, raw):
    for method, path in (("POST", PATH), ("PUT", f"{PATH}/{uuid.uuid4()}")):
        response = setup["api"].send(method, path, raw)
        assert response.status_code == 400, (method, raw, response.body)
        assert json.loads(response.body) == error_body([("Bad request", m.DATA_REQUIRED)])


def test_json_content_type_is_accepted_too(setup):
    school = setup["world"].school()
    response = setup["api"].send(
        "POST",
        PATH,
        partnership_payload("2024", school.id, setup["dp"].id),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200
