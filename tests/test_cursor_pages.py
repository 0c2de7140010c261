"""Cursor pages (``page[cursor]``): complete and in order, tamper-evident, bound to the caller and the request,
and stable while the list is written. Schools, delivery partners and partnerships here; the participant,
declaration, statement and unfunded-mentor lists in their own modules (``walk_cursor``)."""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.api import cursors
from chalicelib.domain import messages as m
from chalicelib.services import partnerships as partnership_service
from chalicelib.services import schools as school_service
from tests.api_helpers import Api, relative, walk_cursor, walk_pages, with_params
from tests.openapi import assert_valid_served

SCHOOLS = "/api/v3/schools/ecf?filter[cohort]=2024"
DPS = "/api/v3/delivery-partners"
PARTNERSHIPS = "/api/v3/partnerships/ecf"
NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)


@pytest.fixture
def env(world, client):
    for year in (2023, 2024, 2025):
        world.cohort(year)
    lp = world.lead_provider("Ambition Institute")
    other = world.lead_provider("Teach First")
    partners = [world.delivery_partner(lp, [2024, 2025], name=f"Partner {i}") for i in range(5)]
    schools = [world.school() for _ in range(9)]
    world.school("cip_only")  # not listed
    partnerships = []
    for i, school in enumerate(schools[:7]):
        cohort = 2024 if i % 2 else 2025
        school_service.set_programme_choice(school.urn, cohort, "provider_led", NOW)
        created = partnership_service.create_partnership(
            lp.id,
            {"cohort": str(cohort), "school_id": school.id, "delivery_partner_id": partners[i % 5].id},
            world.later(),
        )
        partnerships.append(created)
    return {
        "world": world,
        "lp": lp,
        "other": other,
        "partners": partners,
        "schools": schools,
        "partnerships": partnerships,
        "api": Api(client, world.token(lp)),
        "other_api": Api(client, world.token(other)),
    }


def ids(items):
    return [item["id"] for item in items]


def first_next(api, path, per_page=2):
    body = api.get_ok(with_params(path, **{"page[per_page]": str(per_page), "page[cursor]": ""}))
    return relative(body["links"]["next"])


def bad_cursor(response, detail=m.CURSOR_INVALID):
    assert response.status_code == 400, response.body
    assert json.loads(response.body) == {"errors": [{"title": "Bad request", "detail": detail}]}
    assert_valid_served("GET", "/api/v3/partnerships/ecf", response)


# --------------------------------------------------------------------------- complete and in order


@pytest.mark.parametrize("sort", ["", "created_at", "-created_at", "updated_at", "-updated_at"])
@pytest.mark.parametrize("path", [SCHOOLS, DPS, PARTNERSHIPS], ids=["schools", "delivery-partners", "partnerships"])
@pytest.mark.parametrize("per_page", [1, 2, 3])
def test_a_cursor_walk_is_the_page_walk(env, path, sort, per_page):
    api = env["api"]
    full = with_params(path, sort=sort) if sort else path
    expected = ids(walk_pages(api, full, 100))
    assert len(expected) >= 5, "the list must span several cursor pages"
    assert ids(walk_cursor(api, full, per_page)) == expected


@pytest.mark.parametrize("sort", ["created_at", "-created_at", "updated_at", "-updated_at"])
@pytest.mark.parametrize("path", [SCHOOLS, PARTNERSHIPS], ids=["schools", "partnerships"])
def test_updated_since_in_either_order(env, path, sort):
    api, world = env["api"], env["world"]
    since = world.later()
    # Change some: a later updated_at for two partnerships (and their schools), and one more school.
    for i in (2, 3):
        new_partner = env["partners"][(i + 1) % 5].id
        partnership_service.update_partnership(
            env["lp"].id, env["partnerships"][i].id, {"delivery_partner_id": new_partner}, world.later()
        )
    school_service.set_programme_choice(env["schools"][8].urn, 2024, "school_led", world.later())
    filtered = with_params(path, sort=sort, **{"filter[updated_since]": since.isoformat().replace("+00:00", "Z")})
    expected = ids(walk_pages(api, filtered, 100))
    assert ids(walk_cursor(api, filtered, 1)) == expected


def test_the_last_page_has_no_next_link_and_an_empty_list_has_one_empty_page(env):
    api = env["api"]
    body = api.get_ok(with_params(PARTNERSHIPS, **{"page[per_page]": "100", "page[cursor]": ""}))
    assert len(body["data"]) == 7
    assert body == {"data": body["data"]}
    empty = env["other_api"].get_ok(with_params(PARTNERSHIPS, **{"page[cursor]": ""}))
    assert empty == {"data": []}


def test_page_number_responses_are_unchanged(env):
    body = env["api"].get_ok(with_params(PARTNERSHIPS, **{"page[per_page]": "2", "page[page]": "2"}))
    assert set(body) == {"data"}
    assert len(body["data"]) == 2


def test_per_page_may_change_between_pages(env):
    api = env["api"]
    expected = ids(walk_pages(api, PARTNERSHIPS, 100))
    body = api.get_ok(with_params(PARTNERSHIPS, **{"page[per_page]": "2", "page[cursor]": ""}))
    following = relative(body["links"]["next"]).replace("page[per_page]=2", "page[per_page]=10")
    rest = api.get_ok(following)
    assert ids(body["data"]) + ids(rest["data"]) == expected
    assert "links" not in rest


def test_next_link_keeps_the_request_and_is_absolute_with_a_host(env):
    api = env["api"]
    response = api.get(
        with_params(PARTNERSHIPS, **{"filter[cohort]": "2024,2025", "page[per_page]": "1", "page[cursor]": ""}),
        headers={"Host": "lp-api.example.org", "X-Forwarded-Proto": "https"},
    )
    link = json.loads(response.body)["links"]["next"]
    assert link.startswith("https://lp-api.example.org/api/v3/partnerships/ecf?filter[cohort]=2024,2025&")
    assert "page[per_page]=1" in link
    assert "page[cursor]=" in link


# --------------------------------------------------------------------------- tamper-evident and bound


def test_a_changed_cursor_is_a_400(env):
    api = env["api"]
    url = first_next(api, PARTNERSHIPS)
    cursor = url.split("page[cursor]=")[1]
    payload, signature = cursor.split(".")
    flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    # Every other last character of the signature, including those that decode to the same bytes.
    respelled = [
        f"{payload}.{signature[:-1]}{c}"
        for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        if c != signature[-1]
    ]
    for bad in (
        f"{flipped}.{signature}",
        *respelled,
        payload,
        f"{payload}.",
        "nonsense",
        "a.b",
        f"{payload}.{signature}=",
    ):
        bad_cursor(api.get(url.replace(cursor, bad)))


def test_a_forged_cursor_with_a_valid_shape_is_a_400(env):
    """A cursor signed with another key (e.g. made by a client from a payload it decoded) is refused."""
    api = env["api"]
    url = first_next(api, PARTNERSHIPS)
    cursor = url.split("page[cursor]=")[1]
    payload = json.loads(cursors._unb64(cursor.split(".")[0]))
    forged_payload = cursors._b64(json.dumps(payload).encode())
    bad_cursor(api.get(url.replace(cursor, f"{forged_payload}.{cursors._b64(b'0' * 16)}")))


def test_another_providers_cursor_is_a_400_not_their_page(env):
    url = first_next(env["api"], PARTNERSHIPS)
    bad_cursor(env["other_api"].get(url))


@pytest.mark.parametrize(
    ("change", "replacement"),
    [("sort=updated_at", "sort=-updated_at"), ("sort=updated_at", "sort=updated_at&filter[cohort]=2025")],
    ids=["other-sort", "other-filter"],
)
def test_a_cursor_is_bound_to_its_filters_and_sort(env, change, replacement):
    url = first_next(env["api"], with_params(PARTNERSHIPS, sort="updated_at"))
    assert change in url
    bad_cursor(env["api"].get(url.replace(change, replacement)))


def test_a_cursor_is_bound_to_its_route(env):
    url = first_next(env["api"], PARTNERSHIPS)
    bad_cursor(env["api"].get(DPS + "?" + url.split("?", 1)[1]))


def test_page_number_and_cursor_together_is_a_400(env):
    response = env["api"].get(with_params(PARTNERSHIPS, **{"page[page]": "1", "page[cursor]": ""}))
    bad_cursor(response, m.CURSOR_WITH_PAGE_NUMBER)


@pytest.mark.parametrize("per_page", ["0", "-1", "abc", "1.5"])
def test_bad_per_page_with_a_cursor_is_the_pagination_400(env, per_page):
    response = env["api"].get(with_params(PARTNERSHIPS, **{"page[per_page]": per_page, "page[cursor]": ""}))
    bad_cursor(response, m.PAGINATION_INVALID)


def test_an_oversized_cursor_is_a_400(env):
    bad_cursor(env["api"].get(with_params(PARTNERSHIPS, **{"page[cursor]": "a" * 3000 + ".b"})))


# --------------------------------------------------------------------------- stable while written


class Writers:
    """Reports new partnerships and changes the delivery partner of existing ones, on two threads, with
    strictly increasing request times."""

    def __init__(self, world, lp, partners, base):
        self.lp, self.partners = lp, partners
        self.clock = iter(base + timedelta(seconds=i) for i in range(1, 10_000))
        self.lock = threading.Lock()
        self.changed: set[str] = set()
        self.start = [self.report(_new_school(world, base), base) for _ in range(40)]
        self.spare = [_new_school(world, base) for _ in range(15)]
        self.to_change = self.start[::3]
        self.threads = [threading.Thread(target=self.change_all), threading.Thread(target=self.report_spare)]

    def later(self):
        with self.lock:
            return next(self.clock)

    def report(self, school, at):
        body = {"cohort": "2024", "school_id": school.id, "delivery_partner_id": self.partners[0].id}
        return partnership_service.create_partnership(self.lp.id, body, at)

    def change_all(self):
        for round_ in range(2):
            for record in self.to_change:
                body = {"delivery_partner_id": self.partners[1 + round_ % 2].id}
                partnership_service.update_partnership(self.lp.id, record.id, body, self.later())
                self.changed.add(record.id)

    def report_spare(self):
        for school in self.spare:
            self.report(school, self.later())


def _new_school(world, at):
    school = world.school()
    school_service.set_programme_choice(school.urn, 2024, "provider_led", at)
    return school


def _walk_while(api, writers):
    seen: list[dict] = []
    url: str | None = with_params(PARTNERSHIPS, sort="updated_at", **{"page[per_page]": "3", "page[cursor]": ""})
    for thread in writers.threads:
        thread.start()
    while url is not None:
        body = api.get_ok(url)
        seen += body["data"]
        following = body.get("links", {}).get("next")
        url = relative(following) if following else None
    for thread in writers.threads:
        thread.join(60)
    return seen


def test_paging_while_the_list_is_written(world, client):
    """Writers report new partnerships and change the delivery partner of existing ones while a reader follows
    the cursor (``sort=updated_at``). Every partnership that existed when the walk began and was not changed
    appears exactly once; none appears twice unless it changed, and then its later appearance is after it
    moved (never an older ``updated_at`` after a newer one); nothing unchanged is ever skipped. (The same walk
    by page numbers skips unchanged partnerships: the changed ones move out from before them.)"""
    from localdev.motolock import serialise_dynamodb

    serialise_dynamodb()
    world.cohort(2024)
    lp = world.lead_provider("Ambition Institute")
    partners = [world.delivery_partner(lp, [2024], name=f"Partner {i}") for i in range(3)]
    writers = Writers(world, lp, partners, datetime(2024, 6, 1, tzinfo=UTC))
    api = Api(client, world.token(lp))
    seen = _walk_while(api, writers)

    counts = Counter(item["id"] for item in seen)
    unchanged = {record.id for record in writers.start} - writers.changed
    assert unchanged <= set(counts), "an unchanged partnership was skipped"
    assert all(counts[pid] == 1 for pid in unchanged), "an unchanged partnership was repeated"
    repeated = {pid for pid, n in counts.items() if n > 1}
    assert repeated <= writers.changed
    for pid in repeated:
        # Read at its old place, a changed item may already show its new version (the page's keys are read,
        # then its items): never an older version after a newer one.
        times = [item["attributes"]["updated_at"] for item in seen if item["id"] == pid]
        assert times == sorted(times), times
    # The writers did their work while the reader walked.
    assert len(walk_pages(api, PARTNERSHIPS, 100)) == 55
    assert writers.changed == {record.id for record in writers.to_change}
