"""Idempotency-Key on writes (docs/idempotency.md), through the API on moto: replay, fingerprint (422), per-provider
keys, the header's rule (400), what is kept (2xx, 4xx) and what is not (5xx, 409), every write route, requests.

Retries after a lost response, concurrent duplicates, expiry and crashed invocations: test_idempotency_retries.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib.domain import messages as m
from chalicelib.domain.errors import Conflict
from chalicelib.models import IdempotencyRecord
from chalicelib.repositories import partnerships as partnership_repo
from chalicelib.services import partnerships as partnership_service
from tests.api_helpers import Api, error_body, partnership_payload
from tests.idempotency_helpers import KEY, RequestRecorder, Spy
from tests.openapi import assert_valid, assert_valid_served

PATH = "/api/v3/partnerships/ecf"
JSONAPI = "application/vnd.api+json"
REUSED = error_body([(m.IDEMPOTENCY_KEY_TITLE, m.IDEMPOTENCY_KEY_REUSED)])
IN_PROGRESS = error_body([("Conflict", m.IDEMPOTENCY_KEY_IN_PROGRESS)])
INVALID = error_body([("Bad request", m.IDEMPOTENCY_KEY_INVALID)])


@pytest.fixture
def env(world, client, monkeypatch):  # type: ignore[no-untyped-def]
    world.cohort(2024)
    lp = world.lead_provider("Ambition Institute")
    other = world.lead_provider("Teach First")
    return SimpleNamespace(
        world=world,
        client=client,
        dp=world.delivery_partner(lp, [2024]),
        other_dp=world.delivery_partner(other, [2024]),
        api=Api(client, world.token(lp)),
        other_api=Api(client, world.token(other)),
        requests=RequestRecorder(monkeypatch),
        create=Spy(monkeypatch, partnership_service, "create_partnership"),
    )


def post(api: Api, school_id: str, dp_id: str, key: str | None = KEY) -> Any:
    headers = {"Idempotency-Key": key} if key is not None else None
    return api.send("POST", PATH, partnership_payload("2024", school_id, dp_id), headers=headers)


def records() -> list[IdempotencyRecord]:
    return list(IdempotencyRecord.scan())


# --------------------------------------------------------------------------- replay


def test_a_repeat_gets_the_stored_response_without_running_again(env: Any) -> None:
    school = env.world.school()
    with env.requests.during() as first_requests:
        first = post(env.api, school.id, env.dp.id)
    assert first.status_code == 200, first.body
    assert "Idempotent-Replayed" not in first.headers
    with env.requests.during() as repeat_requests:
        repeat = post(env.api, school.id, env.dp.id)

    assert (repeat.status_code, repeat.body) == (first.status_code, first.body)
    assert repeat.headers["Idempotent-Replayed"] == "true"
    assert repeat.headers["Content-Type"] == JSONAPI
    assert assert_valid("v3", "POST", PATH, repeat) == assert_valid_served("POST", PATH, repeat)
    assert env.create.calls == 1
    # The first claims the key and stores the response; the repeat is one conditional PutItem that fails and
    # returns the stored record. Nothing else is written but the request's rate-limit count (docs/rate-limits.md).
    assert first_requests.on("idempotency") == ["PutItem", "UpdateItem"]
    assert repeat_requests.made == [
        ("GetItem", "api-tokens"),
        ("UpdateItem", "rate-limits"),
        ("PutItem", "idempotency"),
    ]


def test_the_record_holds_hashes_the_response_and_a_24_hour_expiry(env: Any) -> None:
    school = env.world.school()
    started = time.time()
    first = post(env.api, school.id, env.dp.id)
    (record,) = records()
    assert record.status == "COMPLETED"
    assert record.id.startswith("write#")
    assert KEY not in record.id
    assert env.api.token not in record.id
    assert len(record.validation) == 64  # sha256 of method, route and body: the body itself is not stored
    assert json.loads(record.data) == {"status": 200, "body": first.body.decode(), "content_type": JSONAPI}
    expires = record.expiration.timestamp()
    assert started + 24 * 3600 - 1 <= expires <= time.time() + 24 * 3600


def test_a_json_body_matches_by_value_not_by_layout(env: Any) -> None:
    school = env.world.school()
    first = post(env.api, school.id, env.dp.id)
    attributes = {"delivery_partner_id": env.dp.id, "school_id": school.id, "cohort": "2024"}
    relaid = json.dumps({"data": {"attributes": attributes, "type": "ecf-partnership"}}, indent=4)
    repeat = env.api.send("POST", PATH, relaid, headers={"Idempotency-Key": KEY})
    assert (repeat.status_code, repeat.body, repeat.headers["Idempotent-Replayed"]) == (200, first.body, "true")


# --------------------------------------------------------------------------- the fingerprint and the scope


def test_the_same_key_with_another_body_is_a_422_and_runs_nothing(env: Any) -> None:
    school, other_school = env.world.school(), env.world.school()
    first = post(env.api, school.id, env.dp.id)
    reused = post(env.api, other_school.id, env.dp.id)
    assert reused.status_code == 422
    assert json.loads(reused.body) == REUSED
    assert "Idempotent-Replayed" not in reused.headers
    assert_valid("v3", "POST", PATH, reused)
    assert_valid_served("POST", PATH, reused)
    assert env.create.calls == 1
    assert [p.id for p in partnership_repo.rows_for_school_cohort(other_school.id, 2024)] == []
    # The mismatch changed nothing: the first body still replays.
    assert post(env.api, school.id, env.dp.id).body == first.body


def test_the_same_key_on_another_route_is_a_422(env: Any) -> None:
    school = env.world.school()
    created = json.loads(post(env.api, school.id, env.dp.id).body)["data"]["id"]
    update = {"data": {"type": "ecf-partnership-update", "attributes": {"delivery_partner_id": env.dp.id}}}
    response = env.api.send("PUT", f"{PATH}/{created}", update, headers={"Idempotency-Key": KEY})
    assert response.status_code == 422
    assert json.loads(response.body) == REUSED
    assert_valid_served("PUT", f"{PATH}/{created}", response)


def test_keys_are_per_provider(env: Any) -> None:
    school, other_school = env.world.school(), env.world.school()
    theirs = post(env.other_api, other_school.id, env.other_dp.id)
    # The same key with another body from another provider: its own request, not a 422 and not their replay.
    mine = post(env.api, school.id, env.dp.id)
    assert (theirs.status_code, mine.status_code) == (200, 200)
    assert "Idempotent-Replayed" not in mine.headers
    assert json.loads(theirs.body)["data"]["id"] != json.loads(mine.body)["data"]["id"]
    assert post(env.other_api, other_school.id, env.other_dp.id).body == theirs.body
    assert post(env.api, school.id, env.dp.id).body == mine.body
    # The same key and the same body from another provider run too: that provider's own answer, not a replay.
    fresh = env.world.school()
    first = post(env.api, fresh.id, env.dp.id, key="shared-key")
    copied = post(env.other_api, fresh.id, env.dp.id, key="shared-key")
    assert first.status_code == 200
    assert "Idempotent-Replayed" not in copied.headers
    assert copied.status_code == 422
    assert json.loads(copied.body) == error_body(
        [("school_id", m.RECRUITED_BY_OTHER_PROVIDER), ("delivery_partner_id", m.DELIVERY_PARTNER_NO_RELATIONSHIP)]
    )
    assert env.create.calls == 4
    assert len({r.id for r in records()}) == 4


# --------------------------------------------------------------------------- the header


@pytest.mark.parametrize(
    "key",
    ["", "k" * 256, "tab\there", "caf\u00e9", "del\x7f", "new\nline"],
    ids=["empty", "256", "tab", "e-acute", "del", "newline"],
)
def test_a_key_that_is_not_1_to_255_printable_ascii_characters_is_a_400(env: Any, key: str) -> None:
    school = env.world.school()
    with env.requests.during() as requests:
        response = post(env.api, school.id, env.dp.id, key=key)
    assert response.status_code == 400
    assert json.loads(response.body) == INVALID
    assert_valid_served("POST", PATH, response)
    assert env.create.calls == 0
    assert "idempotency" not in requests.tables()


@pytest.mark.parametrize("key", ["k", "k" * 255, "a key with spaces ~!@#$%^&*()"], ids=["1", "255", "punctuation"])
def test_keys_of_1_to_255_printable_ascii_characters_are_taken(env: Any, key: str) -> None:
    school = env.world.school()
    first = post(env.api, school.id, env.dp.id, key=key)
    repeat = post(env.api, school.id, env.dp.id, key=key)
    assert (first.status_code, repeat.headers.get("Idempotent-Replayed"), env.create.calls) == (200, "true", 1)


def _write_routes() -> list[tuple[str, str]]:
    import app as app_module

    return sorted(
        (method, path)
        for path, entries in app_module.app.routes.items()
        for method in entries
        if method in ("POST", "PUT")
    )


@pytest.mark.parametrize(("method", "route"), _write_routes(), ids=str)
def test_every_write_route_reads_the_header_after_auth(env: Any, method: str, route: str) -> None:
    """The guard runs on every POST and PUT (it is in ``authenticated``, not in each view): a bad key is its 400 on
    each of them, and only once the token is accepted (a 401 first, which is never stored)."""
    path = _with_ids(route)
    bad = {"Idempotency-Key": ""}
    response = env.api.send(method, path, {"data": {}}, headers=bad)
    assert (response.status_code, json.loads(response.body)) == (400, INVALID), path
    anonymous = Api(env.client, None).send(method, path, {"data": {}}, headers=bad)
    assert (anonymous.status_code, json.loads(anonymous.body)) == (401, {"error": m.ACCESS_DENIED}), path


def _with_ids(route: str) -> str:
    parts = [str(uuid.uuid4()) if part.startswith("{") else part for part in route.split("/")]
    return "/".join(parts)


def test_there_are_write_routes_in_every_version() -> None:
    versions = Counter(route.split("/")[2] for _, route in _write_routes())
    assert set(versions) == {"v1", "v2", "v3"}, versions


def test_reads_ignore_the_header(env: Any) -> None:
    with env.requests.during() as requests:
        response = env.api.get(PATH, headers={"Idempotency-Key": ""})
    assert response.status_code == 200
    assert "idempotency" not in requests.tables()


def test_without_the_header_a_write_is_unchanged(env: Any) -> None:
    """No record, no request to the table, no replay (a repeat runs again and meets the seed's rule); the keyed
    request makes the same requests plus the key's PutItem and UpdateItem."""
    school, keyed_school = env.world.school(), env.world.school()
    env.api.get(PATH)  # the token's first use records it (an hourly UpdateItem); not part of the comparison
    with env.requests.during() as plain:
        first = post(env.api, school.id, env.dp.id, key=None)
    with env.requests.during() as keyed:
        post(env.api, keyed_school.id, env.dp.id)
    again = post(env.api, school.id, env.dp.id, key=None)

    assert first.status_code == 200
    assert "idempotency" not in plain.tables()
    assert Counter(keyed.made) - Counter(plain.made) == Counter(
        {("PutItem", "idempotency"): 1, ("UpdateItem", "idempotency"): 1}
    )
    assert Counter(plain.made) - Counter(keyed.made) == Counter()
    assert again.status_code == 422
    assert json.loads(again.body) == error_body([("school_id", m.ALREADY_CONFIRMED)])
    assert env.create.calls == 3


def test_importing_the_app_loads_no_idempotency_utility() -> None:
    """Powertools' idempotency utility and boto3 load on the first keyed write, so a cold start without one pays
    nothing for them (Powertools' Logger and metrics load with the app: docs/observability.md)."""
    root = Path(__file__).resolve().parent.parent
    modules = ("aws_lambda_powertools.utilities.idempotency", "boto3")
    code = f"import sys, app; print(sorted(m for m in {modules!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", result.stderr


# --------------------------------------------------------------------------- what is kept


def test_client_errors_are_kept(env: Any) -> None:
    unknown = str(uuid.uuid4())
    first = post(env.api, unknown, env.dp.id)
    repeat = post(env.api, unknown, env.dp.id)
    assert first.status_code == 422
    assert json.loads(first.body) == error_body([("school_id", m.SCHOOL_INVALID)])
    assert (repeat.status_code, repeat.body, repeat.headers["Idempotent-Replayed"]) == (422, first.body, "true")
    assert_valid_served("POST", PATH, repeat)
    malformed = [env.api.send("POST", PATH, "not json", headers={"Idempotency-Key": "malformed"}) for _ in range(2)]
    assert [r.status_code for r in malformed] == [400, 400]
    assert json.loads(malformed[1].body) == error_body([("Bad request", m.DATA_REQUIRED)])
    assert malformed[1].headers["Idempotent-Replayed"] == "true"
    assert env.create.calls == 1  # the unknown school's 422 ran once; the malformed body never reaches the service


def test_server_errors_are_not_kept(env: Any) -> None:
    school = env.world.school()

    def fail_once(call: int) -> None:
        if call == 1:
            raise RuntimeError("DynamoDB was unreachable")

    env.create.before = fail_once
    failed = post(env.api, school.id, env.dp.id)
    assert failed.status_code == 500
    assert json.loads(failed.body) == {"error": m.INTERNAL_ERROR, "request_id": failed.headers["X-Request-Id"]}
    assert records() == []  # Powertools deleted the claim
    retried = post(env.api, school.id, env.dp.id)
    assert retried.status_code == 200, retried.body
    assert "Idempotent-Replayed" not in retried.headers
    assert post(env.api, school.id, env.dp.id).headers["Idempotent-Replayed"] == "true"
    assert env.create.calls == 2


def test_a_conflict_is_not_kept(env: Any) -> None:
    """Every 409 says "try again": replaying it for 24 hours would make the retry useless."""
    school = env.world.school()

    def lose_once(call: int) -> None:
        if call == 1:
            raise Conflict(m.PARTNERSHIP_CONCURRENT_CHANGES)

    env.create.before = lose_once
    lost = post(env.api, school.id, env.dp.id)
    assert (lost.status_code, json.loads(lost.body)) == (
        409,
        error_body([("Conflict", m.PARTNERSHIP_CONCURRENT_CHANGES)]),
    )
    retried = post(env.api, school.id, env.dp.id)
    assert (retried.status_code, "Idempotent-Replayed" in retried.headers, env.create.calls) == (200, False, 2)


def test_a_response_that_cannot_be_stored_is_still_sent(env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The write ran: its answer goes out rather than a 500. The key stays claimed until the invocation's time is up
    (a repeat meanwhile is a 409), as for an invocation that died."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    def refuse(self: Any, data_record: Any) -> None:
        raise RuntimeError("throttled")

    monkeypatch.setattr(DynamoDBPersistenceLayer, "_update_record", refuse)
    school = env.world.school()
    sent = post(env.api, school.id, env.dp.id)
    assert sent.status_code == 200, sent.body
    assert len(partnership_repo.rows_for_school_cohort(school.id, 2024)) == 1
    repeat = post(env.api, school.id, env.dp.id)
    assert (repeat.status_code, json.loads(repeat.body)) == (409, IN_PROGRESS)
    assert_valid_served("POST", PATH, repeat)
