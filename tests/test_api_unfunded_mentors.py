"""GET /api/v3/unfunded-mentors/ecf and /{id} (ecf-declarations-statements.md 3.1): the mentors of the
provider's ECTs whom the provider does not train, kept in step by re-projection (onboarding, partnership
migrations, challenges, new profiles). Documented responses are validated against the reference OpenAPI;
bodies are asserted exactly.

The reference types ``teacher_reference_number`` as a non-null string, so the mentors here have TRNs; a
mentor without one gets null (as the real API sends it), checked without the reference schema.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bench.counting import count_requests
from chalicelib import config
from chalicelib.domain import messages as m
from chalicelib.domain.clock import iso
from chalicelib.events.handlers import PARTNERSHIPS_STREAM_HANDLER
from chalicelib.models import Partnership
from chalicelib.models.mentors import Mentor, ProviderMentor
from chalicelib.repositories import participants as participant_repo
from chalicelib.services import induction, tokens
from chalicelib.services import partnerships as partnership_service
from chalicelib.services import schools as school_service
from tests.api_helpers import Api, error_body, partnership_payload
from tests.openapi import assert_valid
from tests.test_stream_handler import stream_event

NOW = datetime(2024, 6, 1, tzinfo=UTC)
BASE = "/api/v3/unfunded-mentors/ecf"
NOT_FOUND = {"error": "Resource not Found"}
SERVER_DATE = {"X-With-Server-Date": "2024-06-01T12:00:00Z"}

_apps: list = []


def _mentors_app(global_app):  # type: ignore[no-untyped-def]
    """The app serving the unfunded-mentors routes: app.py's once it registers the blueprint; until then an
    app with only this blueprint (registering it on app.py's app would add routes other tests compare)."""
    if BASE in global_app.routes:
        return global_app
    if not _apps:
        from chalice import Chalice

        from chalicelib.api import unfunded_mentors

        app = Chalice(app_name="ecf-lp-api")
        app.experimental_feature_flags.update({"BLUEPRINTS"})
        app.register_blueprint(unfunded_mentors.bp)
        _apps.append(app)
    return _apps[0]


@pytest.fixture
def mentors_client(client):  # type: ignore[no-untyped-def]
    from chalice.test import Client

    import app as app_module

    target = _mentors_app(app_module.app)
    if target is app_module.app:
        yield client
        return
    with Client(target, stage_name="test") as test_client:
        yield test_client


def deliver(client, partnership_id, old=None):
    new = Partnership.get(partnership_id).serialize()
    client.lambda_.invoke(PARTNERSHIPS_STREAM_HANDLER, stream_event([("MODIFY" if old else "INSERT", old, new)]))


class Env:
    def __init__(self, world, client, mentors_client):
        from chalicelib.services.importers import import_cohort

        self.world, self.client, self.mentors_client = world, client, mentors_client
        self.lp = world.lead_provider("Ambition Institute")
        self.other = world.lead_provider("Capita")
        import_cohort("tests/data/cli/cohort", NOW)
        self.dp = world.delivery_partner(self.lp, [2024], name="Alpha Partners")
        self.other_dp = world.delivery_partner(self.other, [2024], name="Gamma Partners")
        self.tokens = {"lp": world.token(self.lp), "other": world.token(self.other)}

    def api(self, who="lp"):
        return Api(self.mentors_client, self.tokens[who])

    def school(self):
        school = self.world.school()
        school_service.set_programme_choice(school.urn, 2024, "provider_led", NOW)
        return school

    def onboard(self, school, name, *, kind="ect", trn=None, mentor=None, email=None):
        return induction.add_participant(
            urn=school.urn,
            cohort=2024,
            full_name=name,
            email=email or self.email(name),
            participant_type=kind,
            trn=trn,
            mentor_email=self.email(mentor) if mentor else None,
            appropriate_body=None,
            partnership_id=None,
            now=self.world.later(),
        )

    @staticmethod
    def email(name):
        return f"{name.lower().replace(' ', '.')}@example.org"

    def partner(self, school, who="lp"):
        """Through the API (as the provider reports it), then what the partnerships stream delivers."""
        dp = self.dp if who == "lp" else self.other_dp
        api = Api(self.client, self.tokens[who])
        body = api.send_ok(
            "POST", "/api/v3/partnerships/ecf", partnership_payload("2024", school.id, dp.id), headers=SERVER_DATE
        )
        deliver(self.client, body["data"]["id"])
        return body["data"]["id"]

    def challenge(self, partnership_id):
        before = Partnership.get(partnership_id).serialize()
        partnership_service.challenge_partnership(partnership_id, "mistake", NOW + timedelta(hours=13))
        deliver(self.client, partnership_id, old=before)

    def body_of(self, user_id):
        """The expected resource, from the stored user (the user's timestamps, the mentor record's email)."""
        user = participant_repo.get_user(user_id)
        assert user is not None
        return {
            "id": user_id,
            "type": "unfunded-mentor",
            "attributes": {
                "full_name": user.full_name,
                "email": user.email,
                "teacher_reference_number": user.trn,
                "created_at": iso(user.created_at),
                "updated_at": iso(user.updated_at),
            },
        }


@pytest.fixture
def env(world, client, mentors_client):
    return Env(world, client, mentors_client)


@pytest.fixture
def people(env):
    """Schools A and D partnered with the provider, B with the other provider, C with nobody.

    M1 (mentor at A: the provider trains them) mentors E1 at A and E6 at D; M2 (mentor at B: the other
    provider trains them) mentors E2 at A and E5 at B; M3 (mentor at C: nobody trains them) mentors E3 at A
    and E4 at B. A and B are partnered before anyone is onboarded (onboarding projects), D after (a migration
    projects). So the provider's unfunded mentors are M2 and M3; the other provider's, M3.
    """
    a, b, c, d = env.school(), env.school(), env.school(), env.school()
    pa, pb = env.partner(a), env.partner(b, "other")
    m1 = env.onboard(a, "Mina One", kind="mentor", trn="3000001")
    m2 = env.onboard(b, "Mo Two", kind="mentor", trn="3000002")
    m3 = env.onboard(c, "Max Three", kind="mentor", trn="3000003")
    e1 = env.onboard(a, "Ed One", mentor="Mina One", trn="4000001")
    e2 = env.onboard(a, "Ed Two", mentor="Mo Two", trn="4000002")
    e3 = env.onboard(a, "Ed Three", mentor="Max Three", trn="4000003")
    e4 = env.onboard(b, "Ed Four", mentor="Max Three", trn="4000004")
    e5 = env.onboard(b, "Ed Five", mentor="Mo Two", trn="4000005")
    e6 = env.onboard(d, "Ed Six", mentor="Mina One", trn="4000006")
    pd = env.partner(d)
    return {
        "schools": (a, b, c, d), "pa": pa, "pb": pb, "pd": pd,
        "m1": m1.user_id, "m2": m2.user_id, "m3": m3.user_id,
        "ects": [e.user_id for e in (e1, e2, e3, e4, e5, e6)],
    }  # fmt: skip


def ids(body):
    return [item["id"] for item in body["data"]]


def assert_exact(response, status, expected):
    assert response.status_code == status, response.body
    assert json.loads(response.body) == expected
    assert response.headers["Content-Type"] == "application/vnd.api+json"


def bad_request(detail, title="Bad request"):
    return error_body([(title, detail)])


# --------------------------------------------------------------------------- list and show


def test_list_and_show_exact_bodies(env, people):
    api, other = env.api(), env.api("other")
    m2, m3 = env.body_of(people["m2"]), env.body_of(people["m3"])
    # M1 is trained by the provider (not listed); M2 by another provider (listed); M3 by nobody (listed).
    assert api.get_ok(BASE) == {"data": [m2, m3]}
    assert api.get_ok(f"{BASE}/{people['m2']}") == {"data": m2}
    assert api.get_ok(f"{BASE}/{people['m3']}") == {"data": m3}
    # M3 mentors ECTs of both providers: listed for both. M2 is trained by the other provider: not theirs.
    assert other.get_ok(BASE) == {"data": [m3]}
    assert other.get_ok(f"{BASE}/{people['m3']}") == {"data": m3}


def test_exact_attributes_are_the_users(env, people):
    user = participant_repo.get_user(people["m3"])
    body = env.api().get_ok(f"{BASE}/{people['m3']}")
    assert body == {
        "data": {
            "id": people["m3"],
            "type": "unfunded-mentor",
            "attributes": {
                "full_name": "Max Three",
                "email": "max.three@example.org",
                "teacher_reference_number": "3000003",
                "created_at": iso(user.created_at),
                "updated_at": iso(user.updated_at),
            },
        }
    }
    assert list(body["data"]["attributes"]) == ["full_name", "email", "teacher_reference_number", "created_at",
                                                "updated_at"]  # fmt: skip
    assert user.created_at > NOW


def test_not_found_for_foreign_trained_unknown_and_malformed_ids(env, people):
    api, other = env.api(), env.api("other")
    for path in (
        f"{BASE}/{people['m1']}",  # trained by the provider
        f"{BASE}/{people['ects'][1]}",  # an ECT, not a mentor
        f"{BASE}/{uuid.uuid4()}",
        f"{BASE}/not-a-uuid",
    ):
        response = api.get(path)
        assert_exact(response, 404, NOT_FOUND)
        assert_valid("v3", "GET", path, response)
    # M2 is the provider's unfunded mentor, and trained by the other provider: to them it is a random id.
    assert_exact(other.get(f"{BASE}/{people['m2']}"), 404, NOT_FOUND)
    assert_exact(other.get(f"{BASE}/{people['m1']}"), 404, NOT_FOUND)


def test_auth_is_required(env):
    someone = str(uuid.uuid4())
    for api in (Api(env.mentors_client, None), Api(env.mentors_client, "nope")):
        for path in (BASE, f"{BASE}/{someone}"):
            response = api.get(path)
            assert_exact(response, 401, {"error": m.ACCESS_DENIED})
            assert response.headers["WWW-Authenticate"] == 'Token realm="Application"'
            assert_valid("v3", "GET", path, response)


def test_a_mentor_without_trn_is_null(env):
    """The reference types the TRN as a string; the real API sends null when there is none (exact check)."""
    school, elsewhere = env.school(), env.school()
    env.partner(school)
    mentor = env.onboard(elsewhere, "Nia Notrn", kind="mentor", trn=None)
    env.onboard(school, "Ed Solo", mentor="Nia Notrn", trn="4000009")
    response = env.api().get(f"{BASE}/{mentor.user_id}")
    assert response.status_code == 200
    assert json.loads(response.body) == {"data": env.body_of(mentor.user_id)}
    assert json.loads(response.body)["data"]["attributes"]["teacher_reference_number"] is None


# --------------------------------------------------------------------------- keeping in step


def test_a_challenge_hides_and_flips_who_is_trained_and_reporting_again_restores(env, people):
    api, other = env.api(), env.api("other")
    env.challenge(people["pa"])
    # E2 and E3 (at A) are hidden, so M2 and M3 lose the provider's ECTs. M1's training (at A) is hidden too,
    # while E6 (at D) still shows: M1 is now a mentor the provider does not train.
    assert api.get_ok(BASE) == {"data": [env.body_of(people["m1"])]}
    for key in ("m2", "m3"):
        assert_exact(api.get(f"{BASE}/{people[key]}"), 404, NOT_FOUND)
    assert other.get_ok(BASE) == {"data": [env.body_of(people["m3"])]}  # the other provider is unaffected
    # Reported again: the challenged row is reused and un-challenged, everything is back.
    before = Partnership.get(people["pa"]).serialize()
    a = people["schools"][0]
    Api(env.client, env.tokens["lp"]).send_ok(
        "POST", "/api/v3/partnerships/ecf", partnership_payload("2024", a.id, env.dp.id), headers=SERVER_DATE
    )
    deliver(env.client, people["pa"], old=before)
    assert ids(api.get_ok(BASE)) == [people["m2"], people["m3"]]
    assert ProviderMentor.get(env.lp.id, people["m3"]).ect_ids == {people["ects"][2]}


def test_the_read_model_holds_each_providers_ects_and_the_mentors_directory(env, people):
    e = people["ects"]
    links = {(i.lead_provider_id, i.mentor_user_id): i for i in ProviderMentor.scan()}  # a test may scan
    assert {k: (v.ect_ids, v.trained, v.unfunded_for) for k, v in links.items()} == {
        (env.lp.id, people["m1"]): ({e[0], e[5]}, True, None),
        (env.lp.id, people["m2"]): ({e[1]}, False, env.lp.id),
        (env.lp.id, people["m3"]): ({e[2]}, False, env.lp.id),
        (env.other.id, people["m2"]): ({e[4]}, True, None),
        (env.other.id, people["m3"]): ({e[3]}, False, env.other.id),
    }
    assert Mentor.get(people["m2"]).providers == {env.lp.id, env.other.id}
    assert Mentor.get(people["m1"]).providers == {env.lp.id}
    # Re-projecting everyone again changes nothing (no write: versions stay).
    versions = {k: v.version for k, v in links.items()}
    from chalicelib.services import projection

    projection.reproject([people[k] for k in ("m1", "m2", "m3")] + e, NOW + timedelta(days=2))
    assert {(i.lead_provider_id, i.mentor_user_id): i.version for i in ProviderMentor.scan()} == versions


def test_a_mentor_joining_the_provider_is_no_longer_unfunded(env, people):
    """M3's ECTs stay; when M3 gets a mentor record under the provider (a transfer keeping A's provider would
    do it too), M3 leaves the list. Here M3's mentor profile moves to school A."""
    a = people["schools"][0]
    induction.transfer_participant(
        people["m3"], to_urn=a.urn, start_date=NOW, keep_provider=False, now=env.world.later()
    )
    assert ids(env.api().get_ok(BASE)) == [people["m2"]]
    assert_exact(env.api().get(f"{BASE}/{people['m3']}"), 404, NOT_FOUND)
    assert ids(env.api("other").get_ok(BASE)) == [people["m3"]]  # still not trained by the other provider


def test_a_concurrent_change_to_the_same_link_is_not_lost(env, monkeypatch):
    """Writes are conditional on the version read: a re-projection that loses the race re-reads and re-applies."""
    from chalicelib.repositories import unfunded_mentors as repo

    school, elsewhere = env.school(), env.school()
    env.partner(school)
    mentor = env.onboard(elsewhere, "Mentor X", kind="mentor", trn="3000009").user_id
    first = env.onboard(school, "Ed First", mentor="Mentor X", trn="4000011").user_id
    original, meanwhile, saves = repo.save, [], []

    def racing(*args):  # type: ignore[no-untyped-def]
        saves.append(1)
        if not meanwhile:  # between this re-projection's read and its write, another one writes the link
            meanwhile.append("racing")
            meanwhile.append(env.onboard(school, "Ed Second", mentor="Mentor X", trn="4000012").user_id)
        return original(*args)

    monkeypatch.setattr(repo, "save", racing)
    third = env.onboard(school, "Ed Third", mentor="Mentor X", trn="4000013").user_id
    assert ProviderMentor.get(env.lp.id, mentor).ect_ids == {first, meanwhile[1], third}
    assert len(saves) == 3  # Ed Third's first write failed on its condition and was applied on the retry
    assert ids(env.api().get_ok(BASE)) == [mentor]


# --------------------------------------------------------------------------- filters, sort, pagination


def test_updated_since_and_sort_follow_the_users_timestamps(env, people):
    api = env.api()
    m2, m3 = people["m2"], people["m3"]
    m3_created = participant_repo.get_user(m3).created_at
    assert ids(api.get_ok(f"{BASE}?filter[updated_since]={iso(m3_created)}")) == [m3]
    assert ids(api.get_ok(f"{BASE}?filter[updated_since]=2020-01-01T00:00:00Z")) == [m2, m3]
    assert ids(api.get_ok(f"{BASE}?filter[updated_since]=2999-01-01T00:00:00Z")) == []
    assert ids(api.get_ok(f"{BASE}?sort=-created_at")) == [m3, m2]
    assert ids(api.get_ok(f"{BASE}?sort=updated_at")) == [m2, m3]
    # M2 gets an ECT profile too (at school C): the user's updated_at moves, in both providers' orders.
    env.onboard(people["schools"][2], "Mo Two", email="mo.two@example.org", trn="3000002")
    m2_updated = participant_repo.get_user(m2).updated_at
    assert m2_updated > m3_created
    expected_m2 = env.body_of(m2)
    assert expected_m2["attributes"]["updated_at"] == iso(m2_updated)
    assert api.get_ok(f"{BASE}/{m2}") == {"data": expected_m2}
    assert ids(api.get_ok(f"{BASE}?filter[updated_since]={iso(m2_updated)}")) == [m2]
    assert ids(api.get_ok(f"{BASE}?filter[updated_since]={iso(m3_created)}")) == [m2, m3]  # created order
    assert ids(api.get_ok(f"{BASE}?filter[updated_since]={iso(m3_created)}&sort=-updated_at")) == [m2, m3]
    assert ids(api.get_ok(f"{BASE}?sort=updated_at")) == [m3, m2]
    assert ids(api.get_ok(f"{BASE}?sort=-updated_at")) == [m2, m3]
    assert ids(api.get_ok(f"{BASE}?sort=bogus,-created_at")) == [m3, m2]  # unknown fields are ignored
    assert ids(api.get_ok(f"{BASE}?sort=bogus")) == [m2, m3]  # default: created_at ascending
    assert ProviderMentor.get(env.other.id, m2).updated_key.startswith(iso(m2_updated))  # trained there: still moved
    assert_exact(api.get(f"{BASE}?filter[updated_since]=yesterday"), 400, bad_request(m.UPDATED_SINCE_INVALID))
    assert_exact(api.get(f"{BASE}?filter=x"), 400, bad_request(m.FILTER_NOT_A_HASH, m.BAD_PARAMETER))


def test_pagination(env, people):
    api = env.api()
    everyone = ids(api.get_ok(BASE))
    assert len(everyone) == 2
    pages = [ids(api.get_ok(f"{BASE}?page[page]={n}&page[per_page]=1")) for n in (1, 2, 3)]
    assert pages == [everyone[0:1], everyone[1:2], []]
    assert ids(api.get_ok(f"{BASE}?page[per_page]=5000")) == everyone  # clamped, not rejected
    for query in ("page[per_page]=0", "page[page]=x", "page=1"):
        assert_exact(api.get(f"{BASE}?{query}"), 400, bad_request(m.PAGINATION_INVALID))


# --------------------------------------------------------------------------- request budgets


@pytest.fixture
def warm_caches(monkeypatch):
    """Budgets are for warm caches (conftest turns them off), as in tests/test_request_budgets.py."""
    warm = replace(config.current(), auth_cache_seconds=3600, reference_cache_seconds=3600)
    monkeypatch.setattr(config, "_override", [warm])
    yield
    tokens.clear_cache()


def test_request_budgets(env, warm_caches):
    """First page: one keys-only index Query and one BatchGet, whatever the number of mentors; show: two
    GetItems. Onboarding without a mentor costs the read model nothing; with one, a few batched requests."""
    school, elsewhere = env.school(), env.school()
    env.partner(school)
    n = 30
    for i in range(n):
        env.onboard(elsewhere, f"Mentor {i}", kind="mentor", trn=f"50000{i:02d}")
    mentor_tables = {ProviderMentor.Meta.table_name, Mentor.Meta.table_name}
    with count_requests() as plain:
        env.onboard(school, "Ed Nomentor", trn="6000000")
    assert not [c for c in plain.calls if set(c.tables) & mentor_tables], plain.detail()
    with count_requests() as mentored:
        env.onboard(school, "Ed Mentored", mentor="Mentor 0", trn="6000001")
    assert len([c for c in mentored.calls if set(c.tables) & mentor_tables]) <= 3, mentored.detail()
    for i in range(1, n):
        env.onboard(school, f"Ed {i}", mentor=f"Mentor {i}", trn=f"600{i:04d}")

    api = env.api()
    api.get_ok(BASE)  # the token is cached from here on
    with count_requests() as first:
        body = api.get_ok(f"{BASE}?page[per_page]=10")
    assert len(body["data"]) == 10
    assert first.total <= 3, first.detail()
    assert dict(first.by_operation) == {"Query": 1, "BatchGetItem": 1}, first.detail()
    with count_requests() as since:
        body = api.get_ok(f"{BASE}?page[per_page]=10&filter[updated_since]=2020-01-01T00:00:00Z&sort=-updated_at")
    assert len(body["data"]) == 10
    assert since.total <= 3, since.detail()
    with count_requests() as show:
        api.get_ok(f"{BASE}/{body['data'][0]['id']}")
    assert dict(show.by_operation) == {"GetItem": 2}, show.detail()


# --------------------------------------------------------------------------- the email rule


def test_the_email_is_the_mentor_records_else_the_users():
    """The mentor profile's latest record's email (any provider), else the user's; ECT records don't count."""
    from chalicelib.domain.participants import Participant, Profile, Record
    from chalicelib.repositories.unfunded_mentors import person_of

    user = Participant(id="u", full_name="Mia Mentor", email="mia@home.example", trn="3000100", created_at=NOW,
                       updated_at=NOW + timedelta(days=1), has_declarations=False, profiles=(),
                       trainers={})  # fmt: skip

    def profile(kind, *emails):
        records = [
            Record(id=f"r{n}", programme_id="p", school_id="s", school_urn="1", start_date=NOW + timedelta(days=n),
                   end_date=None, training_status="active", induction_status="active", email=email,
                   mentor_profile_id=None, mentor_user_id=None, schedule_identifier="ecf-standard-september",
                   schedule_cohort=2024, school_transfer=False, appropriate_body=None, created_at=NOW, updated_at=NOW)
            for n, email in enumerate(emails)
        ]  # fmt: skip
        return Profile(id=f"p-{kind}", user_id="u", participant_type=kind, status="active", training_status="active",
                       school_id="s", cohort=2024, schedule_identifier="ecf-standard-september", schedule_cohort=2024,
                       mentor_profile_id=None, pupil_premium_uplift=False, sparsity_uplift=False,
                       records=tuple(records), created_at=NOW, updated_at=NOW)  # fmt: skip

    def of(*profiles):
        return replace(user, profiles=profiles)

    ect, mentor = profile("ect", "ect@school.example"), profile("mentor", "old@a.example", "new@b.example")
    person = person_of(of(ect, mentor))
    assert person is not None
    assert (person.email, person.created_at, person.updated_at) == ("new@b.example", user.created_at, user.updated_at)
    assert person_of(of(profile("mentor", None))).email == "mia@home.example"  # type: ignore[union-attr]
    assert person_of(of(profile("mentor"))).email == "mia@home.example"  # type: ignore[union-attr]
    assert person_of(of(profile("ect", "ect@school.example"))) is None  # not a mentor


@pytest.mark.parametrize(
    "path", [BASE, f"{BASE}?sort=-updated_at", f"{BASE}?filter[updated_since]=2000-01-01T00:00:00Z"]
)
def test_a_cursor_walk_is_the_page_walk(env, people, path):
    from tests.api_helpers import walk_cursor, walk_pages

    expected = ids({"data": walk_pages(env.api(), path, 100)})
    assert len(expected) == 2
    assert ids({"data": walk_cursor(env.api(), path, 1)}) == expected
