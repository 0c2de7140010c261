"""GET lists and shows: schools, delivery partners, partnerships. Filters, sort, pagination, auth, 400s."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from chalicelib.domain import messages as m
from chalicelib.services import partnerships as partnership_service
from chalicelib.services import schools as school_service
from tests.api_helpers import Api, error_body, partnership_payload

SCHOOLS = "/api/v3/schools/ecf"
DPS = "/api/v3/delivery-partners"
PARTNERSHIPS = "/api/v3/partnerships/ecf"
LIST_PATHS = [f"{SCHOOLS}?filter[cohort]=2024", DPS, PARTNERSHIPS]
RANDOM_ID = "0b5c2f4e-3f7a-4c1e-9d2b-6a8e1f0c7d3a"


@pytest.fixture
def setup(world, client):
    for year in (2021, 2023, 2024, 2025):
        world.cohort(year)
    lp = world.lead_provider("Ambition Institute")
    other = world.lead_provider("Teach First")
    return {"world": world, "lp": lp, "other": other, "client": client, "api": Api(client, world.token(lp))}


def ids(body):
    return [item["id"] for item in body["data"]]


# --------------------------------------------------------------------------- auth


@pytest.mark.parametrize("path", [*LIST_PATHS, f"{SCHOOLS}/{RANDOM_ID}?filter[cohort]=2024", f"{DPS}/{RANDOM_ID}"])
@pytest.mark.parametrize("header", [None, "Bearer nope", "Bearer ", "Basic abc", "garbage"])
def test_missing_or_bad_token_is_401(setup, path, header):
    headers = {} if header is None else {"Authorization": header}
    response = setup["client"].http.get(path, headers=headers)
    assert response.status_code == 401
    assert json.loads(response.body) == {"error": "HTTP Token: Access denied"}
    assert response.headers["WWW-Authenticate"] == 'Token realm="Application"'
    from tests.openapi import assert_valid

    assert_valid("v3", "GET", path, response)


def test_401_on_writes(setup):
    api = Api(setup["client"], "wrong")
    for method, path in (("POST", PARTNERSHIPS), ("PUT", f"{PARTNERSHIPS}/{uuid.uuid4()}")):
        response = api.send(method, path, partnership_payload("2024", "x", "y"))
        assert response.status_code == 401
        assert json.loads(response.body) == {"error": "HTTP Token: Access denied"}


def test_token_is_never_stored_in_clear(setup):
    from chalicelib.models import ApiToken

    token = setup["api"].token
    for item in ApiToken.by_lead_provider.query(setup["lp"].id):
        assert token not in json.dumps(item.to_simple_dict())
        assert len(item.hashed_token) == 64


# --------------------------------------------------------------------------- schools


def test_schools_list_shows_eligible_and_partnered_schools_only(setup):
    world, api = setup["world"], setup["api"]
    eligible = world.school("eligible")
    district = world.school("district_9999")
    world.school("cip_only")
    world.school("closed")
    world.school("welsh")
    s41 = world.school("section_41_independent")  # eligible, but in the CIP-only scope: not listed...
    dp = world.delivery_partner(setup["lp"], [2024])
    body = api.get_ok(f"{SCHOOLS}?filter[cohort]=2024")
    assert ids(body) == [eligible.id, district.id]
    api.send_ok("POST", PARTNERSHIPS, partnership_payload("2024", s41.id, dp.id))  # ...until partnered
    assert ids(api.get_ok(f"{SCHOOLS}?filter[cohort]=2024")) == [eligible.id, district.id, s41.id]
    assert ids(api.get_ok(f"{SCHOOLS}?filter[cohort]=2025")) == [eligible.id, district.id]


def test_closed_school_stays_listed_while_partnered(setup):
    from chalicelib.repositories import schools as school_repo

    world, api = setup["world"], setup["api"]
    school = world.school("eligible")
    dp = world.delivery_partner(setup["lp"], [2024])
    created = api.send_ok("POST", PARTNERSHIPS, partnership_payload("2024", school.id, dp.id))
    fields = {"school_status_code": 2, "school_status_name": "Closed", "listed_by_eligibility": 0}
    school_repo.update_gias_fields(school.id, fields, datetime(2024, 7, 1, tzinfo=UTC))
    assert ids(api.get_ok(f"{SCHOOLS}?filter[cohort]=2024")) == [school.id]
    assert ids(api.get_ok(f"{SCHOOLS}?filter[cohort]=2025")) == []
    partnership_service.challenge_partnership(created["data"]["id"], "mistake", datetime(2024, 7, 2, tzinfo=UTC))
    assert ids(api.get_ok(f"{SCHOOLS}?filter[cohort]=2024")) == []


def test_school_attributes(setup):
    world, api = setup["world"], setup["api"]
    school = world.school("eligible", name="Hilltop Primary")
    body = api.get_ok(f"{SCHOOLS}/{school.id}?filter[cohort]=2024")
    assert body["data"] == {
        "id": school.id,
        "type": "school",
        "attributes": {
            "name": "Hilltop Primary",
            "urn": school.urn,
            "cohort": "2024",
            "in_partnership": False,
            "induction_programme_choice": "not_yet_known",
            "created_at": f"2024-06-01T12:00:0{world._tick}.000Z",
            "updated_at": f"2024-06-01T12:00:0{world._tick}.000Z",
        },
    }
    school_service.set_programme_choice(school.urn, 2024, "school_led", datetime(2024, 7, 1, tzinfo=UTC))
    attrs = api.get_ok(f"{SCHOOLS}/{school.id}?filter[cohort]=2024")["data"]["attributes"]
    assert attrs["induction_programme_choice"] == "school_led"
    assert attrs["updated_at"] == "2024-07-01T00:00:00.000Z"


@pytest.mark.parametrize("path", [SCHOOLS, f"{SCHOOLS}?filter[urn]=1", f"{SCHOOLS}?filter[cohort]="])
def test_schools_need_a_cohort(setup, path):
    response = setup["api"].get(path)
    assert response.status_code == 400
    assert json.loads(response.body) == error_body([("Bad parameter", m.COHORT_FILTER_REQUIRED)])
    school = setup["world"].school()
    response = setup["api"].get(f"{SCHOOLS}/{school.id}")
    assert json.loads(response.body) == error_body([("Bad parameter", m.COHORT_FILTER_REQUIRED)])


def test_unknown_cohort_lists_nothing(setup):
    setup["world"].school()
    assert setup["api"].get_ok(f"{SCHOOLS}?filter[cohort]=2030")["data"] == []
    assert setup["api"].get_ok(f"{SCHOOLS}?filter[cohort]=abc")["data"] == []


def test_school_show_404s(setup):
    closed = setup["world"].school("closed")
    for path in (f"{SCHOOLS}/{uuid.uuid4()}", f"{SCHOOLS}/nope", f"{SCHOOLS}/{closed.id}"):
        response = setup["api"].get(path + "?filter[cohort]=2024")
        assert response.status_code == 404
        assert json.loads(response.body) == {"error": "Resource not Found"}


def test_schools_filter_by_urn(setup):
    world, api = setup["world"], setup["api"]
    world.school()
    target = world.school()
    closed = world.school("closed")
    assert ids(api.get_ok(f"{SCHOOLS}?filter[cohort]=2024&filter[urn]={target.urn}")) == [target.id]
    assert ids(api.get_ok(f"{SCHOOLS}?filter[cohort]=2024&filter[urn]={closed.urn}")) == []
    assert ids(api.get_ok(f"{SCHOOLS}?filter[cohort]=2024&filter[urn]=999999999")) == []


def test_schools_updated_since(setup):
    world, api = setup["world"], setup["api"]
    first = world.school()
    second = world.school()
    school_service.set_programme_choice(first.urn, 2023, "school_led", datetime(2024, 8, 1, tzinfo=UTC))
    since = "2024-07-01T00:00:00Z"
    assert ids(api.get_ok(f"{SCHOOLS}?filter[cohort]=2024&filter[updated_since]={since}")) == [first.id]
    encoded = "2024-07-01T00%3A00%3A00%2B00%3A00"
    assert ids(api.get_ok(f"{SCHOOLS}?filter[cohort]=2024&filter[updated_since]={encoded}")) == [first.id]
    everything = api.get_ok(f"{SCHOOLS}?filter[cohort]=2024&filter[updated_since]=2020-01-01T00:00:00Z")
    assert ids(everything) == [first.id, second.id]


@pytest.mark.parametrize("path", LIST_PATHS)
@pytest.mark.parametrize("value", ["yesterday", "2024-13-45T00:00:00Z", "12345"])
def test_bad_updated_since_is_400(setup, path, value):
    if path == DPS:
        pytest.skip("delivery partners take no updated_since filter")
    sep = "&" if "?" in path else "?"
    response = setup["api"].get(f"{path}{sep}filter[updated_since]={value}")
    assert response.status_code == 400
    assert json.loads(response.body) == error_body([("Bad request", m.UPDATED_SINCE_INVALID)])


@pytest.mark.parametrize("path", LIST_PATHS)
@pytest.mark.parametrize("query", ["page[page]=0", "page[per_page]=0", "page[page]=x", "page[per_page]=-1", "page=2"])
def test_bad_pagination_is_400(setup, path, query):
    sep = "&" if "?" in path else "?"
    response = setup["api"].get(f"{path}{sep}{query}")
    assert response.status_code == 400
    assert json.loads(response.body) == error_body([("Bad request", m.PAGINATION_INVALID)])


@pytest.mark.parametrize("path", [DPS, PARTNERSHIPS])
def test_filter_must_be_a_hash(setup, path):
    response = setup["api"].get(f"{path}?filter=2024")
    assert response.status_code == 400
    assert json.loads(response.body) == error_body([("Bad parameter", m.FILTER_NOT_A_HASH)])


def test_schools_pages_are_stable_and_complete(setup):
    world, api = setup["world"], setup["api"]
    schools = [world.school() for _ in range(7)]
    expected = [s.id for s in schools]
    seen = []
    for number in range(1, 5):
        seen += ids(api.get_ok(f"{SCHOOLS}?filter[cohort]=2024&page[per_page]=2&page[page]={number}"))
    assert seen == expected
    assert api.get_ok(f"{SCHOOLS}?filter[cohort]=2024&page[per_page]=2&page[page]=9")["data"] == []
    huge = api.get_ok(f"{SCHOOLS}?filter[cohort]=2024&page[per_page]=999999")
    assert ids(huge) == expected


def test_schools_sort(setup):
    world, api = setup["world"], setup["api"]
    a, b, c = world.school(), world.school(), world.school()
    school_service.set_programme_choice(a.urn, 2024, "school_led", datetime(2024, 9, 1, tzinfo=UTC))
    assert ids(api.get_ok(f"{SCHOOLS}?filter[cohort]=2024&sort=-created_at")) == [c.id, b.id, a.id]
    assert ids(api.get_ok(f"{SCHOOLS}?filter[cohort]=2024&sort=updated_at")) == [b.id, c.id, a.id]
    assert ids(api.get_ok(f"{SCHOOLS}?filter[cohort]=2024&sort=-updated_at,created_at")) == [a.id, c.id, b.id]
    assert ids(api.get_ok(f"{SCHOOLS}?filter[cohort]=2024&sort=name,bogus")) == [a.id, b.id, c.id]
    with_since = f"{SCHOOLS}?filter[cohort]=2024&filter[updated_since]=2020-01-01T00:00:00Z&sort=-created_at"
    assert ids(api.get_ok(with_since)) == [c.id, b.id, a.id]


# --------------------------------------------------------------------------- delivery partners


def test_delivery_partners_are_the_callers_related_partners(setup):
    world, api = setup["world"], setup["api"]
    mine = world.delivery_partner(setup["lp"], [2025, 2023], name="Mine")
    theirs = world.delivery_partner(setup["other"], [2024], name="Theirs")
    from chalicelib.services import providers

    providers.relate_delivery_partner(theirs.id, "Ambition Institute", [2024], world.later())
    body = api.get_ok(DPS)
    assert ids(body) == [mine.id, theirs.id]
    assert body["data"][0]["attributes"]["cohort"] == ["2023", "2025"]
    assert body["data"][1]["attributes"]["cohort"] == ["2024"]
    assert set(body["data"][0]["attributes"]) == {"name", "cohort", "created_at", "updated_at"}
    assert ids(api.get_ok(f"{DPS}?filter[cohort]=2024")) == [theirs.id]
    assert ids(api.get_ok(f"{DPS}?filter[cohort]=2023,2024")) == [mine.id, theirs.id]
    assert ids(api.get_ok(f"{DPS}?sort=-created_at")) == [theirs.id, mine.id]
    assert ids(api.get_ok(f"{DPS}?page[per_page]=1&page[page]=2")) == [theirs.id]
    assert api.get_ok(f"{DPS}/{mine.id}")["data"]["attributes"]["name"] == "Mine"


def test_unrelated_delivery_partner_looks_missing(setup):
    world, api = setup["world"], setup["api"]
    theirs = world.delivery_partner(setup["other"], [2024])
    for dp_id in (theirs.id, str(uuid.uuid4()), "x"):
        response = api.get(f"{DPS}/{dp_id}")
        assert response.status_code == 404
        assert json.loads(response.body) == {"error": "Resource not Found"}


# --------------------------------------------------------------------------- partnerships list


def test_partnerships_list_filters_sort_and_pages(setup):
    world, api = setup["world"], setup["api"]
    dp1 = world.delivery_partner(setup["lp"], [2024, 2025])
    dp2 = world.delivery_partner(setup["lp"], [2024])
    made = []
    for year, dp in ((2024, dp1), (2024, dp2), (2025, dp1), (2024, dp1)):
        school = world.school()
        made.append(api.send_ok("POST", PARTNERSHIPS, partnership_payload(str(year), school.id, dp.id),
                                headers={"X-With-Server-Date": world.later().isoformat()})["data"]["id"])  # fmt: skip
    assert ids(api.get_ok(PARTNERSHIPS)) == made
    assert ids(api.get_ok(f"{PARTNERSHIPS}?filter[cohort]=2025")) == [made[2]]
    assert ids(api.get_ok(f"{PARTNERSHIPS}?filter[cohort]=2024,2025&sort=-created_at")) == made[::-1]
    assert ids(api.get_ok(f"{PARTNERSHIPS}?filter[delivery_partner_id]={dp2.id}")) == [made[1]]
    both = f"{PARTNERSHIPS}?filter[delivery_partner_id]={dp1.id},{dp2.id}&filter[cohort]=2024"
    assert ids(api.get_ok(both)) == [made[0], made[1], made[3]]
    paged = [ids(api.get_ok(f"{PARTNERSHIPS}?page[per_page]=3&page[page]={n}")) for n in (1, 2, 3)]
    assert paged == [made[:3], made[3:], []]
    # A challenge bumps updated_at: incremental sync sees it.
    partnership_service.challenge_partnership(
        made[1], "mistake", datetime(2030, 1, 1, tzinfo=UTC), ignore_deadline=True
    )
    since = api.get_ok(f"{PARTNERSHIPS}?filter[updated_since]=2029-12-31T00:00:00Z")
    assert ids(since) == [made[1]]
    assert ids(api.get_ok(f"{PARTNERSHIPS}?sort=-updated_at"))[0] == made[1]
    # Other providers see none of them.
    other = Api(setup["client"], world.token(setup["other"]))
    assert other.get_ok(PARTNERSHIPS)["data"] == []
