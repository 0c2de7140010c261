"""Idempotency-Key when it matters (docs/idempotency.md): retries after a lost response (POST partnership, POST
declaration, a PUT participant action on a v1 legacy path), duplicates sent at once, keys expiring after 24 hours,
and an invocation that dies while it holds a key."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib.domain import messages as m
from chalicelib.models import IdempotencyRecord
from chalicelib.repositories import partnerships as partnership_repo
from chalicelib.services import partnerships as partnership_service
from localdev.motolock import serialise_dynamodb
from tests.api_helpers import Api, error_body, partnership_payload
from tests.finance_env import NOW, FinanceEnv, V, declaration_body
from tests.idempotency_helpers import KEY, Spy, shift_powertools_clock
from tests.openapi import assert_valid, assert_valid_served

PATH = "/api/v3/partnerships/ecf"
IN_PROGRESS = error_body([("Conflict", m.IDEMPOTENCY_KEY_IN_PROGRESS)])
REUSED = error_body([(m.IDEMPOTENCY_KEY_TITLE, m.IDEMPOTENCY_KEY_REUSED)])


@pytest.fixture
def env(world, client, monkeypatch):  # type: ignore[no-untyped-def]
    world.cohort(2024)
    lp = world.lead_provider("Ambition Institute")
    return SimpleNamespace(
        world=world,
        school=world.school(),
        dp=world.delivery_partner(lp, [2024]),
        api=Api(client, world.token(lp)),
        create=Spy(monkeypatch, partnership_service, "create_partnership"),
    )


def post(env: Any, key: str | None = KEY) -> Any:
    headers = {"Idempotency-Key": key} if key is not None else None
    return env.api.send("POST", PATH, partnership_payload("2024", env.school.id, env.dp.id), headers=headers)


def data_id(response: Any) -> str:
    return str(json.loads(response.body)["data"]["id"])


# --------------------------------------------------------------------------- a lost response


def test_a_partnership_whose_response_was_lost_is_made_once(env: Any) -> None:
    lost = post(env)  # the provider never sees this response (a timeout, a dropped connection)
    retried = post(env)
    assert retried.status_code == 200
    assert retried.headers["Idempotent-Replayed"] == "true"
    assert data_id(retried) == data_id(lost)
    assert_valid("v3", "POST", PATH, retried)
    assert_valid_served("POST", PATH, retried)
    assert [row.id for row in partnership_repo.rows_for_school_cohort(env.school.id, 2024)] == [data_id(retried)]
    assert env.create.calls == 1
    # Without the header the same retry runs again and meets the seed's rule.
    plain = post(env, key=None)
    assert json.loads(plain.body) == error_body([("school_id", m.ALREADY_CONFIRMED)])


def test_a_declaration_whose_response_was_lost_is_made_once(world: Any, client: Any) -> None:
    finance = FinanceEnv(world, client)
    participant = finance.trained(2024)
    body = declaration_body(participant)
    headers = {"Idempotency-Key": KEY, "X-With-Server-Date": NOW.isoformat()}
    api = finance.api("v3")

    lost = api.send("POST", V["v3"], body, headers=headers)
    retried = api.send("POST", V["v3"], body, headers=headers)
    assert lost.status_code == 200, lost.body
    assert (retried.status_code, retried.body, retried.headers["Idempotent-Replayed"]) == (200, lost.body, "true")
    assert_valid("v3", "POST", V["v3"], retried)
    listed = api.get_ok(f"{V['v3']}?filter[participant_id]={participant}")["data"]
    assert [d["id"] for d in listed] == [data_id(retried)]
    # Without the header the retry is the duplicate-declaration 422; the key on the v1 route is another request.
    plain = finance.post(body)
    assert json.loads(plain.body) == error_body([("base", m.DECLARATION_ALREADY_SUBMITTED)])
    on_v1 = finance.api("v1").send("POST", V["v1"], body, headers=headers)
    assert (on_v1.status_code, json.loads(on_v1.body)) == (422, REUSED)
    assert_valid("v1", "POST", V["v1"], on_v1)


def test_a_participant_action_on_a_v1_legacy_path_replays(world: Any, client: Any) -> None:
    finance = FinanceEnv(world, client)
    participant = finance.trained(2024)
    path = f"/api/v1/participants/{participant}/defer"
    body = {
        "data": {
            "type": "participant-defer",
            "attributes": {"reason": "career-break", "course_identifier": "ecf-induction"},
        }
    }
    api = finance.api("v1")

    deferred = api.send("PUT", path, body, headers={"Idempotency-Key": KEY})
    retried = api.send("PUT", path, body, headers={"Idempotency-Key": KEY})
    assert deferred.status_code == 200, deferred.body
    assert (retried.status_code, retried.body, retried.headers["Idempotent-Replayed"]) == (200, deferred.body, "true")
    assert assert_valid("v1", "PUT", path, retried)["data"]["attributes"]["training_status"] == "deferred"
    plain = api.send("PUT", path, body)
    assert json.loads(plain.body) == error_body([("participant_profile", m.ALREADY_DEFERRED)])


# --------------------------------------------------------------------------- duplicates at once


def test_duplicates_while_the_first_runs_get_409_and_it_runs_once(env: Any) -> None:
    serialise_dynamodb()
    running, finish = threading.Event(), threading.Event()

    def hold_the_first(call: int) -> None:
        if call == 1:
            running.set()
            assert finish.wait(20)

    env.create.before = hold_the_first
    with ThreadPoolExecutor(6) as pool:
        first = pool.submit(post, env)
        assert running.wait(20)
        duplicates = [pool.submit(post, env) for _ in range(5)]
        answers = [duplicate.result(timeout=30) for duplicate in duplicates]
        finish.set()
        original = first.result(timeout=30)

    assert original.status_code == 200, original.body
    for answer in answers:
        assert (answer.status_code, json.loads(answer.body)) == (409, IN_PROGRESS)
        assert "Idempotent-Replayed" not in answer.headers
        assert_valid_served("POST", PATH, answer)
    assert env.create.calls == 1
    after = post(env)
    assert (after.status_code, after.body, after.headers["Idempotent-Replayed"]) == (200, original.body, "true")


def test_simultaneous_duplicates_run_once(env: Any) -> None:
    serialise_dynamodb()
    start = threading.Barrier(8)

    def send() -> Any:
        start.wait(10)
        return post(env)

    with ThreadPoolExecutor(8) as pool:
        answers = [future.result(timeout=60) for future in [pool.submit(send) for _ in range(8)]]

    assert env.create.calls == 1
    ran = [a for a in answers if a.status_code == 200 and "Idempotent-Replayed" not in a.headers]
    assert len(ran) == 1
    kinds = Counter(
        "ran" if a in ran else "replayed" if a.headers.get("Idempotent-Replayed") == "true" else a.status_code
        for a in answers
    )
    assert set(kinds) <= {"ran", "replayed", 409}, kinds
    for answer in answers:
        assert answer.body == ran[0].body or json.loads(answer.body) == IN_PROGRESS
    assert len(partnership_repo.rows_for_school_cohort(env.school.id, 2024)) == 1


# --------------------------------------------------------------------------- 24 hours


def test_a_key_is_forgotten_after_24_hours(env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """moto never deletes expired items, so this checks what DynamoDB's TTL only tidies up: Powertools treats a
    record past its expiry as absent (the PutItem condition ``expiration < :now``)."""
    first = post(env)
    shift_powertools_clock(monkeypatch, timedelta(hours=24) - timedelta(minutes=1))
    assert post(env).headers["Idempotent-Replayed"] == "true"
    shift_powertools_clock(monkeypatch, timedelta(hours=24, seconds=1))
    again = post(env)
    assert first.status_code == 200
    assert "Idempotent-Replayed" not in again.headers  # it ran again: the partnership is there, so the seed's 422
    assert json.loads(again.body) == error_body([("school_id", m.ALREADY_CONFIRMED)])
    assert env.create.calls == 2
    assert (post(env).body, post(env).headers["Idempotent-Replayed"]) == (again.body, "true")


# --------------------------------------------------------------------------- an invocation that dies


class Crash(BaseException):
    """The invocation dies mid-write (a Lambda timeout or an out-of-memory kill): no code of ours runs after it."""


def test_a_dead_invocations_key_is_free_again_when_its_time_is_up(env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The in-progress record expires with the invocation (Powertools' ``register_lambda_context`` with Chalice's
    ``lambda_context``: 29 s here, the stage's ``lambda_timeout``), not after 24 hours."""

    def die_once(call: int) -> None:
        if call == 1:
            raise Crash

    env.create.before = die_once
    started_ms = time.time() * 1000
    with pytest.raises(Crash):
        post(env)
    (record,) = IdempotencyRecord.scan()
    assert record.status == "INPROGRESS"
    assert started_ms + 28_000 <= record.in_progress_expiration <= time.time() * 1000 + 29_000
    busy = post(env)
    assert (busy.status_code, json.loads(busy.body)) == (409, IN_PROGRESS)

    shift_powertools_clock(monkeypatch, timedelta(seconds=30))
    retried = post(env)
    assert retried.status_code == 200, retried.body
    assert "Idempotent-Replayed" not in retried.headers
    assert env.create.calls == 2
