"""Declarations after submission: void and clawback, statements open → payable → paid, the eligibility stream,
visibility across providers after a transfer, lists, statements, CSV, and the one-slot guard under concurrency."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

import pytest

from chalicelib.domain import messages as m
from chalicelib.events.handlers import ELIGIBILITY_STREAM_HANDLER
from chalicelib.models.finance import EligibilityItem
from chalicelib.repositories import declarations as declaration_repo
from chalicelib.services import declarations as service
from chalicelib.services import eligibility as eligibility_service
from chalicelib.services import induction
from chalicelib.services import statements as statement_service
from localdev.motolock import serialise_dynamodb
from tests.finance_env import NOW, FinanceEnv, V, declaration_body, errors_of
from tests.test_concurrency import run_concurrently
from tests.test_stream_handler import stream_event

NOT_FOUND = {"error": "Resource not Found"}
PAYABLE_DAY = NOW.replace(month=10, day=1).date()


@pytest.fixture
def env(world, client):
    return FinanceEnv(world, client)


@pytest.fixture
def ect(env):
    return env.trained(2024)


def state_of(env, declaration_id, who="lp"):
    return env.api(who=who).get_ok(f"{V['v3']}/{declaration_id}")["data"]["attributes"]


def pay(declaration_statement):
    statement_service.mark_payable(NOW + timedelta(days=16), as_of=PAYABLE_DAY)
    return statement_service.authorise(declaration_statement, NOW + timedelta(days=17), today=PAYABLE_DAY)


# --------------------------------------------------------------------------- void and clawback


def test_void_an_eligible_declaration_frees_the_slot_and_its_line(env, ect):
    data = env.declare(ect)
    response = env.void(data["id"])
    assert response.status_code == 200
    attributes = json.loads(response.body)["data"]["attributes"]
    assert (attributes["state"], attributes["statement_id"]) == ("voided", None)
    again = env.void(data["id"])
    assert again.status_code == 422
    assert errors_of(again) == [(m.INVALID_ACTION, m.ALREADY_VOIDED)]
    assert env.declare(ect)["attributes"]["state"] == "eligible"  # the slot is free again


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_void_through_v1_and_v2(env, ect, version):
    data = env.declare(ect, version=version)
    response = env.void(data["id"], version=version)
    assert json.loads(response.body)["data"]["attributes"]["state"] == "voided"


def test_only_the_owner_may_void_and_a_foreign_id_looks_random(env, ect):
    data = env.declare(ect)
    for declaration_id in (data["id"], "0b6f3c1e-5d2a-4c8e-9f47-2a1d3b4c5e6f", "nope"):
        response = env.void(declaration_id, who="other")
        assert response.status_code == 404
        assert json.loads(response.body) == NOT_FOUND
    assert state_of(env, data["id"])["state"] == "eligible"


def test_a_paid_declaration_is_clawed_back_onto_the_next_statement(env, ect):
    data = env.declare(ect)
    moved = pay(data["attributes"]["statement_id"])
    assert moved.declarations == 1
    assert state_of(env, data["id"])["state"] == "paid"
    response = env.void(data["id"], at=NOW + timedelta(days=20))
    attributes = json.loads(response.body)["data"]["attributes"]
    assert attributes["state"] == "awaiting-clawback"
    assert attributes["statement_id"] == data["attributes"]["statement_id"]  # the paid line stays
    january = next(
        s["id"]
        for s in env.api().get_ok("/api/v3/statements?filter[cohort]=2024")["data"]
        if s["attributes"]["month"] == "January"
    )
    assert attributes["clawback_statement_id"] == january
    again = env.void(data["id"], at=NOW + timedelta(days=21))
    assert errors_of(again) == [(m.INVALID_ACTION, m.CLAWED_BACK_VIEW_ONLY)]
    assert env.declare(ect, at=NOW + timedelta(days=22))["attributes"]["state"] == "eligible"  # re-post allowed


def test_a_clawback_needs_a_future_output_statement(env, ect):
    data = env.declare(ect)
    pay(data["attributes"]["statement_id"])
    response = env.void(data["id"], at=NOW.replace(year=2026, month=2, day=1))
    assert response.status_code == 422
    assert errors_of(response) == [(m.INVALID_ACTION, f"Participant declaration {m.funding_contract_ended(2024)}")]


# --------------------------------------------------------------------------- statements


def test_mark_payable_and_authorise_move_declarations_once_and_log_each_move(env, ect):
    data = env.declare(ect)
    statement_id = data["attributes"]["statement_id"]
    first = statement_service.mark_payable(NOW + timedelta(days=16), as_of=PAYABLE_DAY)
    assert [(r.statement_id, r.declarations) for r in first if r.declarations] == [(statement_id, 1)]
    assert state_of(env, data["id"])["state"] == "payable"
    again = statement_service.mark_payable(NOW + timedelta(days=16), as_of=PAYABLE_DAY, statement_id=statement_id)
    assert again[0].declarations == 0
    statement_service.authorise(statement_id, NOW + timedelta(days=17), today=PAYABLE_DAY)
    assert state_of(env, data["id"])["state"] == "paid"
    shown = env.api().get_ok(f"/api/v3/statements/{statement_id}")["data"]["attributes"]
    assert shown["paid"] is True
    history = [s.state for s in declaration_repo.states_of(data["id"])]
    assert history == ["submitted", "eligible", "payable", "paid"]


def test_authorise_refuses_an_open_statement_and_changes_nothing(env, ect):
    from chalicelib.domain.statements import StatementRefused

    data = env.declare(ect)
    with pytest.raises(StatementRefused, match="is not payable"):
        statement_service.authorise(data["attributes"]["statement_id"], NOW, today=NOW.date())
    assert state_of(env, data["id"])["state"] == "eligible"


def test_statements_list_show_and_filters(env):
    api = env.api()
    listed = api.get_ok("/api/v3/statements")["data"]
    assert [s["attributes"]["payment_date"] for s in listed] == sorted(s["attributes"]["payment_date"] for s in listed)
    assert {s["attributes"]["month"] for s in listed} == {"August", "October", "January"}  # output-fee only
    assert api.get_ok("/api/v3/statements?filter[type]=npq")["data"] == []
    only_2025 = api.get_ok("/api/v3/statements?filter[cohort]=2025")["data"]
    assert {s["attributes"]["cohort"] for s in only_2025} == {"2025"}
    foreign = env.api(who="other").get_ok("/api/v3/statements")["data"][0]["id"]
    response = api.get(f"/api/v3/statements/{foreign}")
    assert (response.status_code, json.loads(response.body)) == (404, NOT_FOUND)


# --------------------------------------------------------------------------- eligibility via the stream


def test_the_eligibility_stream_makes_submitted_declarations_eligible_once(env, client, monkeypatch):
    monkeypatch.setattr("chalicelib.events.handlers.utcnow", lambda: NOW)  # the handler's clock: the tests' date
    participant = env.trained(2024, eligible=False)
    data = env.declare(participant)
    assert data["attributes"]["state"] == "submitted"
    recorded = eligibility_service.record(participant, "eligible", None, NOW)
    new = EligibilityItem.get(recorded.eligibility.profile_id).serialize()
    event = stream_event([("INSERT", None, {**new, "id": new["profile_id"]})])
    for _ in range(3):  # redelivered: nothing more happens
        client.lambda_.invoke(ELIGIBILITY_STREAM_HANDLER, event)
    attributes = state_of(env, data["id"])
    assert attributes["state"] == "eligible"
    assert attributes["statement_id"] is not None
    assert [s.state for s in declaration_repo.states_of(data["id"])] == ["submitted", "eligible"]
    enrolment = env.api().get_ok(f"/api/v3/participants/ecf/{participant}")["data"]["attributes"]["ecf_enrolments"]
    assert enrolment[0]["eligible_for_funding"] is True
    assert EligibilityItem.get(recorded.eligibility.profile_id).pending is None


def test_a_poisoned_eligibility_record_fails_the_batch(env, client):
    """A record the handler cannot read raises, so Lambda retries, bisects and dead-letters the batch."""
    poisoned = stream_event([("INSERT", None, {"id": {"S": "x"}, "pe": {"S": "Y"}})])
    with pytest.raises(KeyError):
        client.lambda_.invoke(ELIGIBILITY_STREAM_HANDLER, poisoned)


def test_reconcile_applies_a_change_the_stream_missed(env):
    participant = env.trained(2024, eligible=False)
    data = env.declare(participant)
    eligibility_service.record(participant, "eligible", None, NOW)
    assert eligibility_service.reconcile(NOW) == []  # too recent
    done = eligibility_service.reconcile(NOW + timedelta(minutes=6))
    assert len(done) == 1
    assert state_of(env, data["id"])["state"] == "eligible"


# --------------------------------------------------------------------------- visibility across providers


def test_after_a_transfer_the_new_provider_sees_the_previous_providers_declarations(env, ect):
    data = env.declare(ect)
    new_school = env.school(2024)
    env.partner(new_school, 2024, who="other")
    assert env.api(who="other").get_ok(V["v3"])["data"] == []
    induction.transfer_participant(
        ect, to_urn=new_school.urn, start_date=NOW - timedelta(days=5), keep_provider=False, now=NOW - timedelta(days=5)
    )
    for version in ("v1", "v3"):
        seen = env.api(version, who="other").get_ok(V[version])["data"]
        assert [d["id"] for d in seen] == [data["id"]]
    assert state_of(env, data["id"], who="other")["lead_provider_name"] == "Ambition Institute"
    env.void(data["id"])  # a voided declaration is no longer shown to other providers
    assert env.api(who="other").get_ok(V["v3"])["data"] == []
    assert [d["id"] for d in env.api().get_ok(V["v3"])["data"]] == [data["id"]]


def test_list_filters(env, ect):
    first = env.declare(ect)
    later = env.trained(2025, name="Lee Later", trn="2000004")
    second = env.declare(later, date="2025-09-01T10:00:00Z", at=NOW + timedelta(seconds=5))
    api = env.api()
    assert [d["id"] for d in api.get_ok(f"{V['v3']}?filter[cohort]=2025")["data"]] == [second["id"]]
    assert [d["id"] for d in api.get_ok(f"{V['v3']}?filter[participant_id]={ect},{later}")["data"]] == [
        first["id"],
        second["id"],
    ]
    assert api.get_ok(f"{V['v3']}?filter[delivery_partner_id]={env.other_dp.id}")["data"] == []
    since = (NOW + timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert [d["id"] for d in api.get_ok(f"{V['v3']}?filter[updated_since]={since}")["data"]] == [second["id"]]
    assert env.api("v1").get_ok(f"{V['v1']}?filter[updated_since]={since}")["data"] == []  # strictly after
    assert [d["id"] for d in api.get_ok(f"{V['v3']}?page[per_page]=1&page[page]=2")["data"]] == [second["id"]]


def test_the_v1_declarations_csv(env, ect):
    data = env.declare(ect, version="v1")
    response = env.api("v1").get("/api/v1/participant-declarations.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv"
    lines = response.body.decode().splitlines()
    assert lines[0] == (
        "id,participant_id,declaration_type,course_identifier,eligible_for_payment,declaration_date,updated_at,"
        "voided,state,has_passed"
    )
    assert lines[1] == (
        f"{data['id']},{ect},started,ecf-induction,true,2024-10-01T10:00:00.000Z,2025-09-15T12:00:00.000Z,"
        "false,eligible,"
    )


def test_the_v2_participants_csv(env, ect):
    response = env.api("v2").get("/api/v2/participants/ecf.csv")
    lines = response.body.decode().splitlines()
    assert lines[0].startswith("id,type,email,full_name,mentor_id,school_urn,participant_type,cohort,status,")
    assert lines[1].startswith(f"{ect},participant,eve.one@example.org,Eve One,,")
    assert len(lines) == 2


# --------------------------------------------------------------------------- the one-slot guard


def test_twenty_simultaneous_identical_declarations_give_one_and_nineteen_base_errors(env, ect):
    serialise_dynamodb()
    body = declaration_body(ect)["data"]["attributes"]

    def call():
        return service.submit(env.lp.id, env.lp.name, body, NOW)

    outcomes = run_concurrently([call for _ in range(20)])
    kinds = Counter(kind for kind, _ in outcomes)
    assert kinds == Counter({"ok": 1, "invalid": 19}), outcomes
    assert all(detail == {"base": [m.DECLARATION_ALREADY_SUBMITTED]} for kind, detail in outcomes if kind == "invalid")
    assert len(env.api().get_ok(V["v3"])["data"]) == 1


# --------------------------------------------------------------------------- cursor pages


def test_declarations_and_statements_by_cursor(env):
    from tests.api_helpers import walk_cursor, walk_pages

    for i in range(3):
        participant = env.trained(2024, name=f"Eve {i}", trn=f"300000{i}")
        env.declare(participant, version="v1" if i == 0 else "v3")
    for version in ("v1", "v2", "v3"):
        api = env.api(version)
        for path in (V[version], f"{V[version]}?filter[updated_since]=2000-01-01T00:00:00Z"):
            expected = [d["id"] for d in walk_pages(api, path, 100)]
            assert len(expected) == 3, (version, path)
            assert [d["id"] for d in walk_cursor(api, path, 1)] == expected
    statements = [s["id"] for s in walk_pages(env.api(), "/api/v3/statements", 100)]
    assert len(statements) >= 2
    assert [s["id"] for s in walk_cursor(env.api(), "/api/v3/statements", 1)] == statements


def test_the_declarations_csv_by_cursor(env):
    from tests.api_helpers import relative

    for i in range(3):
        env.declare(env.trained(2024, name=f"Eve {i}", trn=f"300000{i}"), version="v1")
    api = env.api("v1")
    first = api.get("/api/v1/participant-declarations.csv?page[per_page]=2&page[cursor]=")
    link = first.headers["Link"]
    second = api.get(relative(link[1 : link.index(">")]))
    assert "Link" not in second.headers
    whole = api.get("/api/v1/participant-declarations.csv").body.decode().splitlines()
    parts = first.body.decode().splitlines() + second.body.decode().splitlines()[1:]
    assert parts == whole
    assert len(whole) == 4
