"""The participants API, v1/v2 (flat) and v3 (nested): lists, shows, filters, pagination, visibility,
defer/resume/withdraw/change-schedule, transfers, and cross-provider isolation. Every documented response
is validated against the reference OpenAPI file of its version; undocumented statuses are asserted exactly."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import messages as m
from chalicelib.events.handlers import PARTNERSHIPS_STREAM_HANDLER
from chalicelib.models import Partnership, Schedule
from chalicelib.repositories import cohorts as cohort_repo
from chalicelib.services import induction
from chalicelib.services import partnerships as partnership_service
from chalicelib.services import schools as school_service
from tests.api_helpers import Api, error_body, partnership_payload
from tests.openapi import assert_valid
from tests.test_stream_handler import stream_event

NOW = datetime(2024, 6, 1, tzinfo=UTC)
V1, V2, V3 = "/api/v1/participants/ecf", "/api/v2/participants/ecf", "/api/v3/participants/ecf"
FLAT = (("v1", V1), ("v2", V2))
ACTIONS = ("defer", "resume", "withdraw", "change-schedule")

FLAT_ATTRIBUTES = {
    "email", "full_name", "mentor_id", "school_urn", "participant_type", "cohort", "status",
    "teacher_reference_number", "teacher_reference_number_validated", "eligible_for_funding",
    "pupil_premium_uplift", "sparsity_uplift", "training_status", "training_record_id", "schedule_identifier",
    "updated_at",
}  # fmt: skip
V3_ATTRIBUTES = {"full_name", "teacher_reference_number", "updated_at", "ecf_enrolments", "participant_id_changes"}
ENROLMENT_ATTRIBUTES = {
    "training_record_id", "email", "mentor_id", "school_urn", "participant_type", "cohort", "training_status",
    "participant_status", "teacher_reference_number_validated", "eligible_for_funding", "pupil_premium_uplift",
    "sparsity_uplift", "schedule_identifier", "delivery_partner_id", "withdrawal", "deferral", "created_at",
    "induction_end_date", "mentor_funding_end_date", "cohort_changed_after_payments_frozen",
    "mentor_ineligible_for_funding_reason",
}  # fmt: skip
NOT_FOUND = {"error": "Resource not Found"}
COURSE_TYPES = {"ecf-induction": "ect", "ecf-mentor": "mentor"}


# --------------------------------------------------------------------------- fixtures and helpers


def deliver(client, partnership_id, old=None):
    """What the partnerships stream delivers after a write (the handler migrates / re-projects)."""
    new = Partnership.get(partnership_id).serialize()
    client.lambda_.invoke(PARTNERSHIPS_STREAM_HANDLER, stream_event([("MODIFY" if old else "INSERT", old, new)]))


class Env:
    def __init__(self, world, client):
        from chalicelib.services.importers import import_cohort

        self.world, self.client = world, client
        self.lp = world.lead_provider("Ambition Institute")
        self.other = world.lead_provider("Capita")
        import_cohort("tests/data/cli/cohort", NOW)  # 2024 and 2025, ecf-standard-september
        self.dp = world.delivery_partner(self.lp, [2024, 2025], name="Alpha Partners")
        self.other_dp = world.delivery_partner(self.other, [2024], name="Gamma Partners")
        self.tokens = {"lp": world.token(self.lp), "other": world.token(self.other)}

    def api(self, version="v3", who="lp"):
        return Api(self.client, self.tokens[who], version)

    def school(self, *cohorts):
        school = self.world.school()
        for year in cohorts:
            school_service.set_programme_choice(school.urn, year, "provider_led", NOW)
        return school

    def onboard(self, school, cohort, name, *, kind="ect", trn="1234567", mentor_email=None, email=None):
        return induction.add_participant(
            urn=school.urn,
            cohort=cohort,
            full_name=name,
            email=email or f"{name.lower().replace(' ', '.')}@example.org",
            participant_type=kind,
            trn=trn,
            mentor_email=mentor_email,
            appropriate_body=None,
            partnership_id=None,
            now=self.world.later(),
        )

    def partner(self, school, cohort, who="lp"):
        lp, dp = (self.lp, self.dp) if who == "lp" else (self.other, self.other_dp)
        record = partnership_service.create_partnership(
            lp.id, {"cohort": str(cohort), "school_id": school.id, "delivery_partner_id": dp.id}, NOW
        )
        deliver(self.client, record.id)
        return record.id

    def challenge(self, partnership_id):
        before = Partnership.get(partnership_id).serialize()
        partnership_service.challenge_partnership(partnership_id, "mistake", NOW + timedelta(days=1))
        deliver(self.client, partnership_id, old=before)


@pytest.fixture
def env(world, client):
    return Env(world, client)


@pytest.fixture
def people(env):
    """One school partnered with the provider in 2024 and 2025: two ECTs (2024), a mentor who is also an ECT
    (2024), and an ECT in 2025, onboarded in that order (so users are created in that order)."""
    school = env.school(2024, 2025)
    mentor = env.onboard(school, 2024, "Mary Mentor", kind="mentor", trn="2000001")
    ect1 = env.onboard(school, 2024, "Eve One", mentor_email="mary.mentor@example.org", trn="2000002")
    ect2 = env.onboard(school, 2024, "Eve Two", trn="2000005")
    both = env.onboard(school, 2024, "Bo Both", trn="2000003")
    env.onboard(school, 2024, "Bo Both", kind="mentor", email="bo.both@example.org")
    late = env.onboard(school, 2025, "Lee Later", trn="2000004")
    partnership_2024 = env.partner(school, 2024)
    partnership_2025 = env.partner(school, 2025)
    return {
        "school": school, "mentor": mentor, "ect1": ect1, "ect2": ect2, "both": both, "late": late,
        "p2024": partnership_2024, "p2025": partnership_2025,
    }  # fmt: skip


def ids(body):
    return [item["id"] for item in body["data"]]


def action_payload(action, **attributes):
    return {"data": {"type": f"participant-{action}", "attributes": attributes}}


def assert_exact(response, status, expected):
    assert response.status_code == status, response.body
    assert json.loads(response.body) == expected
    assert response.headers["Content-Type"] == "application/vnd.api+json"


def assert_422(response, title, detail):
    assert_exact(response, 422, error_body([(title, detail)]))


def bad_request(detail, title="Bad request"):
    return error_body([(title, detail)])


# --------------------------------------------------------------------------- lists and shows


def test_v3_list_and_show_have_exact_attributes(env, people):
    api = env.api("v3")
    body = api.get_ok(V3)
    expected = [people[k].user_id for k in ("mentor", "ect1", "ect2", "both", "late")]
    assert ids(body) == expected  # users.created_at ascending
    for item in body["data"]:
        assert item["type"] == "participant"
        assert set(item["attributes"]) == V3_ATTRIBUTES
        assert item["attributes"]["participant_id_changes"] == []
        for enrolment in item["attributes"]["ecf_enrolments"]:
            assert set(enrolment) == ENROLMENT_ATTRIBUTES
    show = api.get_ok(f"{V3}/{people['ect1'].user_id}")
    assert show["data"] == body["data"][1]
    attrs = show["data"]["attributes"]
    assert attrs["full_name"] == "Eve One"
    assert attrs["teacher_reference_number"] == "2000002"
    (enrolment,) = attrs["ecf_enrolments"]
    assert enrolment == {
        **enrolment,
        "training_record_id": people["ect1"].profile_id,
        "email": "eve.one@example.org",
        "mentor_id": people["mentor"].user_id,
        "school_urn": people["school"].urn,
        "participant_type": "ect",
        "cohort": "2024",
        "training_status": "active",
        "participant_status": "active",
        "schedule_identifier": "ecf-standard-september",
        "delivery_partner_id": env.dp.id,
        "withdrawal": None,
        "deferral": None,
    }
    both = api.get_ok(f"{V3}/{people['both'].user_id}")["data"]["attributes"]["ecf_enrolments"]
    assert [e["participant_type"] for e in both] == ["ect", "mentor"]
    assert both[1]["mentor_id"] is None
    assert_exact(api.get(f"{V3}/{uuid.uuid4()}"), 404, NOT_FOUND)
    assert_exact(api.get(f"{V3}/not-a-uuid"), 404, NOT_FOUND)


def test_flat_lists_have_one_row_per_profile_and_show_prefers_the_ect(env, people):
    for version, base in FLAT:
        api = env.api(version)
        body = api.get_ok(base)
        rows = [(item["id"], item["attributes"]["participant_type"]) for item in body["data"]]
        assert rows == [
            (people["mentor"].user_id, "mentor"),
            (people["ect1"].user_id, "ect"),
            (people["ect2"].user_id, "ect"),
            (people["both"].user_id, "ect"),
            (people["both"].user_id, "mentor"),
            (people["late"].user_id, "ect"),
        ]
        for item in body["data"]:
            assert item["type"] == "participant"
            assert set(item["attributes"]) == FLAT_ATTRIBUTES
        attrs = body["data"][1]["attributes"]
        assert attrs == {
            **attrs,
            "email": "eve.one@example.org",
            "full_name": "Eve One",
            "mentor_id": people["mentor"].user_id,
            "school_urn": people["school"].urn,
            "participant_type": "ect",
            "cohort": "2024",
            "status": "active",
            "teacher_reference_number": "2000002",
            "training_status": "active",
            "training_record_id": people["ect1"].profile_id,
            "schedule_identifier": "ecf-standard-september",
        }
        show = api.get_ok(f"{base}/{people['both'].user_id}")
        assert show["data"] == body["data"][3]  # the ECT row
        assert_exact(api.get(f"{base}/{uuid.uuid4()}"), 404, NOT_FOUND)
    # The v1 legacy list (not in the reference document) is the v1 list.
    v1 = env.api("v1")
    legacy = v1.get("/api/v1/participants?page[per_page]=3")
    assert legacy.status_code == 200
    assert legacy.headers["Content-Type"] == "application/vnd.api+json"
    assert json.loads(legacy.body) == v1.get_ok(f"{V1}?page[per_page]=3")


def test_a_participant_without_trn(env):
    school = env.school(2024)
    uid = env.onboard(school, 2024, "Nora Notrn", trn=None).user_id
    env.partner(school, 2024)
    for version, base in FLAT:
        row = env.api(version).get_ok(f"{base}/{uid}")["data"]["attributes"]
        assert row["teacher_reference_number"] is None  # nullable in v1/v2
    # v3 sends null too (as the real API does), but the reference types it as a non-nullable string: exact check.
    response = env.api("v3").get(f"{V3}/{uid}")
    assert response.status_code == 200
    assert json.loads(response.body)["data"]["attributes"]["teacher_reference_number"] is None


def test_filters(env, people):
    v3 = env.api("v3")
    # cohort (a comma list; values that are not years match nothing)
    assert ids(v3.get_ok(f"{V3}?filter[cohort]=2025")) == [people["late"].user_id]
    assert len(ids(v3.get_ok(f"{V3}?filter[cohort]=2024"))) == 4
    assert len(ids(v3.get_ok(f"{V3}?filter[cohort]=2024,2025"))) == 5
    assert ids(v3.get_ok(f"{V3}?filter[cohort]=2023")) == []
    assert ids(v3.get_ok(f"{V3}?filter[cohort]=nonsense")) == []
    for version, base in FLAT:
        api = env.api(version)
        assert ids(api.get_ok(f"{base}?filter[cohort]=2025")) == [people["late"].user_id]
        assert {item["attributes"]["cohort"] for item in api.get_ok(f"{base}?filter[cohort]=2024")["data"]} == {"2024"}
    # updated_since: only what changed since
    changed = v3.send_ok(
        "PUT",
        f"{V3}/{people['ect1'].user_id}/withdraw",
        action_payload("withdraw", reason="moved-school", course_identifier="ecf-induction"),
    )
    stamp = changed["data"]["attributes"]["updated_at"]
    assert ids(v3.get_ok(f"{V3}?filter[updated_since]={stamp}")) == [people["ect1"].user_id]
    assert len(ids(v3.get_ok(f"{V3}?filter[updated_since]=2020-01-01T00:00:00Z"))) == 5
    assert ids(v3.get_ok(f"{V3}?filter[updated_since]=2999-01-01T00:00:00Z")) == []
    for version, base in FLAT:
        assert ids(env.api(version).get_ok(f"{base}?filter[updated_since]={stamp}")) == [people["ect1"].user_id]
    for base in (V1, V2, V3, "/api/v1/participants", f"{V3}/transfers"):
        assert_exact(v3.get(f"{base}?filter[updated_since]=yesterday"), 400, bad_request(m.UPDATED_SINCE_INVALID))
    # training_status (v3)
    assert ids(v3.get_ok(f"{V3}?filter[training_status]=withdrawn")) == [people["ect1"].user_id]
    assert ids(v3.get_ok(f"{V3}?filter[training_status]=deferred")) == []
    assert len(ids(v3.get_ok(f"{V3}?filter[training_status]=active"))) == 4
    assert len(ids(v3.get_ok(f"{V3}?filter[training_status]="))) == 5  # blank: ignored
    assert ids(v3.get_ok(f"{V3}?filter[cohort]=2025&filter[training_status]=withdrawn")) == []
    assert_exact(v3.get(f"{V3}?filter[training_status]=paused"), 400, bad_request(m.TRAINING_STATUS_FILTER_INVALID))
    # from_participant_id (v3): no participant id changes exist, so nothing matches
    assert ids(v3.get_ok(f"{V3}?filter[from_participant_id]={uuid.uuid4()}")) == []
    assert ids(v3.get_ok(f"{V3}?filter[from_participant_id]={people['ect2'].user_id}")) == []
    assert_exact(v3.get(f"{V3}?filter=x"), 400, bad_request(m.FILTER_NOT_A_HASH, m.BAD_PARAMETER))


def test_pagination_is_stable_and_sort_applies(env, people):
    v3 = env.api("v3")
    everyone = ids(v3.get_ok(V3))
    pages = [ids(v3.get_ok(f"{V3}?page[page]={n}&page[per_page]=2")) for n in (1, 2, 3, 4)]
    assert pages == [everyone[0:2], everyone[2:4], everyone[4:5], []]
    assert pages == [ids(v3.get_ok(f"{V3}?page[page]={n}&page[per_page]=2")) for n in (1, 2, 3, 4)]
    assert ids(v3.get_ok(f"{V3}?sort=-created_at")) == everyone[::-1]
    assert ids(v3.get_ok(f"{V3}?sort=bogus")) == everyone
    assert ids(v3.get_ok(f"{V3}?page[per_page]=5000")) == everyone  # clamped, not rejected
    # v1/v2 page over users: the page with the two-profile user holds three rows for per_page=2.
    for version, base in FLAT:
        page2 = env.api(version).get_ok(f"{base}?page[page]=2&page[per_page]=2")
        assert ids(page2) == [people["ect2"].user_id, people["both"].user_id, people["both"].user_id]
    for base in (V1, V2, V3, f"{V3}/transfers"):
        for query in ("page[per_page]=0", "page[page]=x", "page=1"):
            assert_exact(v3.get(f"{base}?{query}"), 400, bad_request(m.PAGINATION_INVALID))


def test_auth_is_required(client):
    anonymous, wrong = Api(client, None), Api(client, "nope")
    someone = str(uuid.uuid4())
    gets = [
        V1,
        V2,
        V3,
        f"{V1}/{someone}",
        f"{V2}/{someone}",
        f"{V3}/{someone}",
        f"{V3}/transfers",
        f"{V3}/{someone}/transfers",
    ]
    for api in (anonymous, wrong):
        for path in gets:
            response = api.get(path)
            assert_exact(response, 401, {"error": m.ACCESS_DENIED})
            assert response.headers["WWW-Authenticate"] == 'Token realm="Application"'
            assert_valid(path.split("/")[2], "GET", path, response)
        for base in (V1, "/api/v1/participants", V2, V3):
            for action in ACTIONS:
                response = api.send("PUT", f"{base}/{someone}/{action}", action_payload(action))
                assert_exact(response, 401, {"error": m.ACCESS_DENIED})


# --------------------------------------------------------------------------- visibility


def test_challenge_hides_participants_actions_still_work_and_reporting_again_restores_them(env, people):
    v3, v1 = env.api("v3"), env.api("v1")
    uid = people["ect1"].user_id
    env.challenge(people["p2024"])
    assert ids(v3.get_ok(V3)) == [people["late"].user_id]
    assert ids(v1.get_ok(V1)) == [people["late"].user_id]
    for base in (V1, V2, V3):
        assert_exact(v3.get(f"{base}/{uid}"), 404, NOT_FOUND)
    # Actions look for any record with the provider, challenged or not (ecf-domain.md 3.11 step 3).
    body = v3.send_ok(
        "PUT", f"{V3}/{uid}/defer", action_payload("defer", reason="bereavement", course_identifier="ecf-induction")
    )
    (enrolment,) = body["data"]["attributes"]["ecf_enrolments"]
    assert enrolment["training_status"] == "deferred"
    assert enrolment["deferral"]["reason"] == "bereavement"
    row = v1.send_ok(
        "PUT", f"{V1}/{uid}/withdraw", action_payload("withdraw", reason="other", course_identifier="ecf-induction")
    )
    assert row["data"]["attributes"]["training_status"] == "withdrawn"
    assert row["data"]["attributes"]["training_record_id"] == people["ect1"].profile_id
    assert_exact(v3.get(f"{V3}/{uid}"), 404, NOT_FOUND)  # still hidden from GET
    # The provider reports the partnership again: the challenged row is reused and un-challenged.
    before = Partnership.get(people["p2024"]).serialize()
    body = v3.send_ok("POST", "/api/v3/partnerships/ecf", partnership_payload("2024", people["school"].id, env.dp.id))
    assert body["data"]["id"] == people["p2024"]
    deliver(env.client, people["p2024"], old=before)
    assert len(ids(v3.get_ok(V3))) == 5
    (enrolment,) = v3.get_ok(f"{V3}/{uid}")["data"]["attributes"]["ecf_enrolments"]
    assert enrolment["training_status"] == "withdrawn"
    assert enrolment["withdrawal"]["reason"] == "other"


# --------------------------------------------------------------------------- defer / resume / withdraw


def test_defer_resume_withdraw_validation_order_and_state_machine(env, people):
    api = env.api("v3")
    uid = people["ect1"].user_id

    def put(action, participant_id=uid, **attributes):
        return api.send("PUT", f"{V3}/{participant_id}/{action}", action_payload(action, **attributes))

    def enrolment(action, **attributes):
        response = put(action, course_identifier="ecf-induction", **attributes)
        assert response.status_code == 200, response.body
        body = assert_valid("v3", "PUT", f"{V3}/{uid}/{action}", response)
        (only,) = body["data"]["attributes"]["ecf_enrolments"]
        return only

    # 1. participant_id, before anything else
    for bad in (str(uuid.uuid4()), "not-a-uuid"):
        for action in ("defer", "resume", "withdraw"):
            assert_422(put(action, bad), "participant_id", m.PARTICIPANT_NOT_RECOGNISED)
    # 2. course_identifier: blank, then not a course the participant has (checked before the reason)
    assert_422(put("defer"), "course_identifier", m.COURSE_IDENTIFIER_BLANK)
    assert_422(put("defer", reason="other", course_identifier="  "), "course_identifier", m.COURSE_IDENTIFIER_BLANK)
    for course in ("ecf-mentor", "npq-headship", "nonsense"):
        response = put("defer", reason="other", course_identifier=course)
        assert_422(response, "course_identifier", m.COURSE_IDENTIFIER_INVALID)
    # 4. reason: blank, then not in the action's list
    assert_422(put("defer", course_identifier="ecf-induction"), "reason", m.REASON_BLANK)
    assert_422(put("defer", course_identifier="ecf-induction", reason=""), "reason", m.REASON_BLANK)
    assert_422(put("defer", course_identifier="ecf-induction", reason="moved-school"), "reason", m.REASON_INVALID)
    assert_422(put("withdraw", course_identifier="ecf-induction"), "reason", m.REASON_BLANK)
    assert_422(put("withdraw", course_identifier="ecf-induction", reason="career-break"), "reason", m.REASON_INVALID)
    assert_422(put("resume", course_identifier="ecf-induction"), "participant_profile", m.ALREADY_ACTIVE)
    assert_exact(api.send("PUT", f"{V3}/{uid}/defer", {"nodata": True}), 400, bad_request(m.DATA_REQUIRED))
    assert_exact(api.send("PUT", f"{V3}/{uid}/defer", "not json"), 400, bad_request(m.DATA_REQUIRED))

    # The state machine: active → deferred → withdrawn → active, with the details in the enrolment.
    deferred = enrolment("defer", reason="career-break")
    assert deferred["training_status"] == "deferred"
    assert deferred["withdrawal"] is None
    assert deferred["deferral"]["reason"] == "career-break"
    assert deferred["deferral"]["date"]
    assert_422(
        put("defer", course_identifier="ecf-induction", reason="other"), "participant_profile", m.ALREADY_DEFERRED
    )
    withdrawn = enrolment("withdraw", reason="school-left-fip")  # deferred → withdrawn is allowed
    assert withdrawn["training_status"] == "withdrawn"
    assert withdrawn["deferral"] is None
    assert withdrawn["withdrawal"]["reason"] == "switched-to-school-led"  # the legacy value's new name
    assert_422(
        put("withdraw", course_identifier="ecf-induction", reason="other"), "participant_profile", m.ALREADY_WITHDRAWN
    )
    assert_422(
        put("defer", course_identifier="ecf-induction", reason="other"), "participant_profile", m.ALREADY_WITHDRAWN
    )
    resumed = enrolment("resume")  # withdrawn → active ("unwithdraw")
    assert resumed["training_status"] == "active"
    assert resumed["withdrawal"] is None
    assert resumed["deferral"] is None
    assert_422(put("resume", course_identifier="ecf-induction"), "participant_profile", m.ALREADY_ACTIVE)
    assert api.get_ok(f"{V3}/{uid}")["data"]["attributes"]["ecf_enrolments"][0] == resumed
    assert (
        enrolment("withdraw", reason="left-teaching-profession")["withdrawal"]["reason"] == "left-teaching-profession"
    )


def test_flat_actions_respond_with_the_row_acted_on(env, people):
    uid = people["both"].user_id
    for version, base in (("v1", V1), ("v1", "/api/v1/participants"), ("v2", V2)):
        api = env.api(version)
        body = api.send_ok(
            "PUT",
            f"{base}/{uid}/defer",
            action_payload("defer", reason="parental-leave", course_identifier="ecf-mentor"),
        )
        attrs = body["data"]["attributes"]
        assert body["data"]["id"] == uid
        assert set(attrs) == FLAT_ATTRIBUTES
        assert attrs["participant_type"] == "mentor"
        assert attrs["training_status"] == "deferred"
        body = api.send_ok(
            "PUT",
            f"{base}/{uid}/withdraw",
            action_payload("withdraw", reason="other", course_identifier="ecf-induction"),
        )
        assert body["data"]["attributes"]["participant_type"] == "ect"
        assert body["data"]["attributes"]["training_status"] == "withdrawn"
        for course in ("ecf-mentor", "ecf-induction"):
            body = api.send_ok("PUT", f"{base}/{uid}/resume", action_payload("resume", course_identifier=course))
            assert body["data"]["attributes"]["participant_type"] == COURSE_TYPES[course]
            assert body["data"]["attributes"]["training_status"] == "active"
        response = api.send("PUT", f"{base}/{uid}/resume", action_payload("resume", course_identifier="ecf-mentor"))
        assert_422(response, "participant_profile", m.ALREADY_ACTIVE)


def test_change_schedule(env, people):
    Schedule(
        pk=cohort_repo.cohort_pk(2024),
        sk="SCHEDULE#ecf-extended-september",
        schedule_identifier="ecf-extended-september",
        name="ECF Extended September",
        schedule_type="ecf_extended",
        cohort=2024,
        milestones=[],
        created_at=NOW,
        updated_at=NOW,
    ).save()
    uid = people["ect1"].user_id
    v3 = env.api("v3")

    def put(api, base, **attributes):
        payload = action_payload("change-schedule", **attributes)
        return api.send("PUT", f"{base}/{uid}/change-schedule", payload)

    assert_422(
        put(v3, V3, schedule_identifier="ecf-extended-september"), "course_identifier", m.COURSE_IDENTIFIER_BLANK
    )
    for identifier in ("ecf-extended-january", "ecf-nonsense"):  # not a schedule of the cohort / not a schedule
        response = put(v3, V3, course_identifier="ecf-induction", schedule_identifier=identifier)
        assert_422(response, "schedule_identifier", m.SCHEDULE_INVALID)
    assert_422(put(v3, V3, course_identifier="ecf-induction"), "schedule_identifier", m.SCHEDULE_BLANK)
    response = put(
        v3, V3, course_identifier="ecf-induction", schedule_identifier="ecf-extended-september", cohort="2024"
    )
    assert response.status_code == 200, response.body
    body = assert_valid("v3", "PUT", f"{V3}/{uid}/change-schedule", response)
    assert body["data"]["attributes"]["ecf_enrolments"][0]["schedule_identifier"] == "ecf-extended-september"
    assert v3.get_ok(f"{V3}/{uid}")["data"]["attributes"]["ecf_enrolments"][0]["schedule_identifier"] == (
        "ecf-extended-september"
    )
    for version, base in (("v2", V2), ("v1", "/api/v1/participants")):
        response = put(
            env.api(version), base, course_identifier="ecf-induction", schedule_identifier="ecf-standard-september"
        )
        assert response.status_code == 200, response.body
        row = assert_valid(version, "PUT", f"{base}/{uid}/change-schedule", response)["data"]["attributes"]
        assert row["schedule_identifier"] == "ecf-standard-september"


# --------------------------------------------------------------------------- cross-provider isolation


def test_another_providers_participant_is_a_random_id_on_every_route(env, people):
    school = env.school(2024)
    theirs = env.onboard(school, 2024, "Theo Theirs", trn="3000001").user_id
    env.partner(school, 2024, who="other")
    assert ids(env.api("v3", "other").get_ok(V3)) == [theirs]  # visible to its own provider
    random_id = str(uuid.uuid4())
    payload = {
        action: action_payload(
            action, course_identifier="ecf-induction", reason="other", schedule_identifier="ecf-standard-september"
        )
        for action in ACTIONS
    }
    for version, base in (("v1", V1), ("v2", V2), ("v3", V3)):
        api = env.api(version)
        assert theirs not in ids(api.get_ok(base))
        gets = [f"{base}/{{}}"] + ([f"{V3}/{{}}/transfers"] if version == "v3" else [])
        for template in gets:
            for participant_id in (theirs, random_id):
                assert_exact(api.get(template.format(participant_id)), 404, NOT_FOUND)
        for prefix in [base] + (["/api/v1/participants"] if version == "v1" else []):
            for action in ACTIONS:
                for participant_id in (theirs, random_id):
                    response = api.send("PUT", f"{prefix}/{participant_id}/{action}", payload[action])
                    assert_422(response, "participant_id", m.PARTICIPANT_NOT_RECOGNISED)
    assert ids(env.api("v3").get_ok(f"{V3}/transfers")) == []
    # ...and nothing happened to their participant.
    (enrolment,) = env.api("v3", "other").get_ok(f"{V3}/{theirs}")["data"]["attributes"]["ecf_enrolments"]
    assert enrolment["training_status"] == "active"
    assert enrolment["schedule_identifier"] == "ecf-standard-september"


# --------------------------------------------------------------------------- transfers


def test_transfer_keeping_the_provider(env, people):
    new_school = env.world.school()
    uid = people["ect2"].user_id
    induction.transfer_participant(
        uid,
        to_urn=new_school.urn,
        start_date=datetime(2024, 9, 1, tzinfo=UTC),
        keep_provider=True,
        now=env.world.later(),
    )
    api = env.api("v3")
    listed = api.get_ok(f"{V3}/transfers")
    assert ids(listed) == [uid]
    shown = api.get_ok(f"{V3}/{uid}/transfers")
    assert shown["data"] == listed["data"][0]
    assert shown["data"]["type"] == "participant-transfer"
    assert set(shown["data"]["attributes"]) == {"updated_at", "transfers"}
    (transfer,) = shown["data"]["attributes"]["transfers"]
    assert set(transfer) == {"training_record_id", "transfer_type", "status", "leaving", "joining", "created_at"}
    assert transfer == {
        **transfer,
        "training_record_id": people["ect2"].profile_id,
        "transfer_type": "new_school",
        "status": "complete",
        "leaving": {"school_urn": people["school"].urn, "provider": "Ambition Institute", "date": "2024-09-01"},
        "joining": {"school_urn": new_school.urn, "provider": "Ambition Institute", "date": "2024-09-01"},
    }
    # Still visible: the joining record is in a relationship partnership of the same provider.
    (enrolment,) = api.get_ok(f"{V3}/{uid}")["data"]["attributes"]["ecf_enrolments"]
    assert enrolment["school_urn"] == new_school.urn
    assert enrolment["delivery_partner_id"] == env.dp.id
    assert uid in ids(api.get_ok(V3))
    # A participant without a transfer has no transfers resource; the other provider sees none.
    assert_exact(api.get(f"{V3}/{people['ect1'].user_id}/transfers"), 404, NOT_FOUND)
    other = env.api("v3", "other")
    assert ids(other.get_ok(f"{V3}/transfers")) == []
    assert_exact(other.get(f"{V3}/{uid}/transfers"), 404, NOT_FOUND)
    assert ids(api.get_ok(f"{V3}/transfers?page[page]=2&page[per_page]=1")) == []
    assert ids(api.get_ok(f"{V3}/transfers?filter[updated_since]=2999-01-01T00:00:00Z")) == []


# --------------------------------------------------------------------------- cursor pages


@pytest.mark.parametrize(
    ("version", "path"),
    [("v1", V1), ("v2", V2), ("v3", V3), ("v3", f"{V3}?sort=-updated_at"),
     ("v3", f"{V3}?filter[cohort]=2024"), ("v3", f"{V3}?filter[training_status]=active&sort=updated_at"),
     ("v1", f"{V1}?filter[updated_since]=2000-01-01T00:00:00Z")],
)  # fmt: skip
@pytest.mark.parametrize("per_page", [1, 2])
def test_a_cursor_walk_is_the_page_walk(env, people, version, path, per_page):
    from tests.api_helpers import walk_cursor, walk_pages

    api = env.api(version)
    expected = [(row["id"], row["type"]) for row in walk_pages(api, path, 100)]
    assert len({uid for uid, _ in expected}) >= 3
    walked = walk_cursor(api, path, per_page, rows=2 if version != "v3" else 1)
    assert [(row["id"], row["type"]) for row in walked] == expected


def test_transfers_by_cursor(env, people):
    from tests.api_helpers import walk_cursor, walk_pages

    for name in ("ect1", "ect2", "late"):
        induction.transfer_participant(
            people[name].user_id, to_urn=env.world.school().urn, start_date=datetime(2024, 9, 1, tzinfo=UTC),
            keep_provider=True, now=env.world.later(),
        )  # fmt: skip
    api = env.api("v3")
    expected = [row["id"] for row in walk_pages(api, f"{V3}/transfers", 100)]
    assert len(expected) == 3
    assert [row["id"] for row in walk_cursor(api, f"{V3}/transfers", 1)] == expected
    since = f"{V3}/transfers?filter[updated_since]=2000-01-01T00:00:00Z"
    assert sorted(row["id"] for row in walk_cursor(api, since, 2)) == sorted(expected)


def test_the_participants_csv_by_cursor_links_to_the_next_page(env, people):
    api = env.api("v2")
    rows = []
    url = "/api/v2/participants/ecf.csv?page[per_page]=2&page[cursor]="
    for _ in range(10):
        response = api.get(url)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/csv"
        lines = response.body.decode().splitlines()
        rows += lines[1:]
        link = response.headers.get("Link")
        if link is None:
            break
        assert link.endswith('>; rel="next"')
        assert "page[cursor]=" in link
        from tests.api_helpers import relative

        url = relative(link[1 : link.index(">")])
    whole = api.get("/api/v2/participants/ecf.csv").body.decode().splitlines()[1:]
    assert rows == whole
    assert len(whole) >= 5
